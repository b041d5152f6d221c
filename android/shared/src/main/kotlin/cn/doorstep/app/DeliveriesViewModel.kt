package cn.doorstep.app

import cn.doorstep.core.JobStepKind
import cn.doorstep.core.JobSummary
import java.time.LocalDate
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The deliveries screen (送达): results to take to the residents' doors (政务包裹). */
data class DeliveriesState(
    val loading: Boolean = false,
    val jobs: List<JobSummary> = emptyList(),
    val notice: String? = null,
    val error: String? = null,
)

/** Lists what waits to be delivered and records each door: signed for, or nobody home. */
class DeliveriesViewModel(private val repo: DoorstepRepository, scope: CoroutineScope) :
    ScreenModel<DeliveriesState>(DeliveriesState(), scope) {

    private val showError = { s: DeliveriesState, message: String -> s.copy(loading = false, error = message) }

    /** Reads the list again. */
    fun refresh(): Job {
        update { it.copy(loading = true, error = null) }
        return act(showError) { reload(notice = null) }
    }

    /** The result was handed over and signed for by `signedBy`. */
    fun delivered(jobId: String, signedBy: String): Job = act(showError) {
        repo.takeStepFromForm(jobId, JobStepKind.DELIVER, emptyStepInput.copy(text = signedBy), null)
        reload(notice = "已送达，签收人：${signedBy.trim()}")
    }

    /** Nobody was home: come again on `newDate`. */
    fun nobodyHome(jobId: String, newDate: LocalDate?): Job = act(showError) {
        repo.takeStepFromForm(jobId, JobStepKind.NOBODY_HOME, emptyStepInput.copy(date = newDate), null)
        reload(notice = "无人在家，已改约 $newDate")
    }

    private suspend fun reload(notice: String?) {
        val jobs = repo.deliveries()
        update { DeliveriesState(jobs = jobs, notice = notice) }
    }
}
