package cn.doorstep.app

import cn.doorstep.core.HandUpGroup
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The rotating village head's duty-day screen (转办): jobs to carry to the town, by village group. */
data class HandUpState(
    val loading: Boolean = false,
    val groups: List<HandUpGroup> = emptyList(),
    val selected: Set<String> = emptySet(),
    /** Who carries them (the village head on duty). */
    val carrier: String = "",
    val notice: String? = null,
    val error: String? = null,
)

/** Lists the village's jobs waiting to be handed up and hands up the chosen ones at once. */
class HandUpViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val villageId: String? = null,
) : ScreenModel<HandUpState>(HandUpState(), scope) {

    private val showError = { s: HandUpState, message: String -> s.copy(loading = false, error = message) }

    /** Reads the list again; the carrier defaults to the signed-in user. */
    fun refresh(): Job {
        update { it.copy(loading = true, error = null) }
        return act(showError) { reload(notice = null, error = null) }
    }

    /** Ticks or unticks one job. */
    fun toggle(jobId: String) = update {
        it.copy(selected = if (jobId in it.selected) it.selected - jobId else it.selected + jobId)
    }

    /** Ticks every job of one village group. */
    fun selectGroup(groupName: String) = update { s ->
        s.copy(selected = s.selected + s.groups.filter { it.groupName == groupName }.flatMap { g -> g.jobs.map { it.jobId } })
    }

    /** Changes who carries the jobs. */
    fun editCarrier(name: String) = update { it.copy(carrier = name, error = null) }

    /** Hands up the ticked jobs; says how many went and why any did not. */
    fun handUp(): Job = act(showError) {
        val s = state.value
        val ids = s.groups.flatMap { g -> g.jobs.map { it.jobId } }.filter { it in s.selected }
        if (ids.isEmpty()) {
            update { it.copy(error = "请先勾选要转办的办件") }
            return@act
        }
        val outcomes = repo.handUpJobs(ids, s.carrier)
        val failed = outcomes.filterNotNull()
        val done = outcomes.size - failed.size
        reload(
            notice = if (done > 0) "已转办 $done 件，由 ${s.carrier.trim()} 带到镇便民服务中心" else null,
            error = failed.takeIf { it.isNotEmpty() }?.let { "${it.size} 件未能转办：${it.distinct().joinToString("；")}" },
        )
    }

    private suspend fun reload(notice: String?, error: String?) {
        val groups = repo.handUpGroups(villageId)
        val carrier = state.value.carrier.ifBlank { repo.currentUser()?.name ?: "" }
        update { HandUpState(groups = groups, carrier = carrier, notice = notice, error = error) }
    }
}
