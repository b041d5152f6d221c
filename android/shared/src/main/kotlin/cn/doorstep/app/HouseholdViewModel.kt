package cn.doorstep.app

import cn.doorstep.core.ConflictValue
import cn.doorstep.core.FieldConflict
import cn.doorstep.core.Household
import cn.doorstep.core.HouseholdSyncState
import cn.doorstep.core.JobDetails
import cn.doorstep.core.JobStepKind
import cn.doorstep.core.LedgerLine
import cn.doorstep.core.Member
import cn.doorstep.core.Visit
import java.time.LocalDate
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** One line of a household's ledger as the screen lists it. */
data class LedgerRow(val line: LedgerLine, val memberName: String, val nextDue: LocalDate?) {
    /** Whether the line is due on or before `today` (shown in red). */
    fun isDue(today: LocalDate): Boolean = nextDue?.let { !it.isAfter(today) } ?: false
}

/** One job as the screen lists it, with the steps the user may take next. */
data class JobRow(
    val details: JobDetails,
    val itemName: String,
    val memberName: String,
    val nextSteps: List<JobStepKind>,
)

/** The household ledger screen (一户一档). */
data class HouseholdState(
    val loading: Boolean = false,
    val household: Household? = null,
    val members: List<Member> = emptyList(),
    val ledger: List<LedgerRow> = emptyList(),
    val jobs: List<JobRow> = emptyList(),
    val visits: List<Visit> = emptyList(),
    val conflicts: List<FieldConflict> = emptyList(),
    val syncState: HouseholdSyncState? = null,
    val notice: String? = null,
    val error: String? = null,
) {
    /** A line about the household's sync state, for the top of the screen. */
    val syncLine: String
        get() = when (val s = syncState) {
            null -> ""
            is HouseholdSyncState.Synced -> "已同步"
            is HouseholdSyncState.Pending -> "有 ${s.localChanges} 条修改待同步"
            is HouseholdSyncState.Rejected -> "服务器拒收了本户的修改：${s.reason}"
            is HouseholdSyncState.SetAside -> "本户暂停同步：${s.reason}"
        }
}

/** Loads one household's ledger and carries out what the agent does on it. */
class HouseholdViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val householdId: String,
) : ScreenModel<HouseholdState>(HouseholdState(), scope) {

    private val showError = { s: HouseholdState, message: String -> s.copy(loading = false, error = message) }

    /** Reads the household again. */
    fun refresh(): Job {
        update { it.copy(loading = true, error = null) }
        return act(showError) { reload(notice = null) }
    }

    /** Marks a recurring reminder (medication cycle, birthday) as done today. */
    fun markReminderDone(lineId: String): Job = act(showError) {
        repo.markReminderDone(lineId)
        reload(notice = "已记录完成")
    }

    /** Settles a conflicting field with the value the agent chose. */
    fun chooseValue(conflict: FieldConflict, value: ConflictValue): Job = act(showError) {
        repo.chooseValue(householdId, conflict, value)
        reload(notice = "已采用“${value.value}”")
    }

    private suspend fun reload(notice: String?) {
        val data = repo.household(householdId)
        val names = data.members.associate { it.id to it.name }
        val ledger = data.ledger
            .map { LedgerRow(it, names[it.memberId] ?: "", it.nextDue()) }
            .sortedWith(compareBy(nullsLast()) { it.nextDue })
        val jobs = data.jobs.map { details ->
            val job = details.job
            JobRow(
                details = details,
                itemName = repo.item(job.itemCode)?.name ?: job.itemCode,
                memberName = names[job.memberId] ?: "",
                nextSteps = repo.possibleSteps(job.id),
            )
        }
        val conflicts = repo.conflicts(householdId)
        val syncState = repo.householdSyncState(householdId)
        update {
            HouseholdState(
                household = data.household,
                members = data.members,
                ledger = ledger,
                jobs = jobs,
                visits = data.visits.sortedByDescending { it.doneAt },
                conflicts = conflicts,
                syncState = syncState,
                notice = notice,
            )
        }
    }
}
