package cn.doorstep.app

import cn.doorstep.core.JobDetails
import cn.doorstep.core.JobStepKind
import cn.doorstep.core.Location
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The take-the-next-step screen of one job. */
data class JobStepState(
    val loading: Boolean = false,
    val job: JobDetails? = null,
    val itemName: String = "",
    val steps: List<JobStepKind> = emptyList(),
    val chosen: JobStepKind? = null,
    val input: StepInput = StepInput(),
    val materialChoices: List<String> = emptyList(),
    val working: Boolean = false,
    val taken: JobStepKind? = null,
    val error: String? = null,
) {
    /** The job's state in words, for example "已受理". */
    val stateLabel: String get() = job?.progress?.state?.label() ?: ""
}

/** Shows what may be done next on a job and records the step the agent takes. */
class JobStepViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val jobId: String,
) : ScreenModel<JobStepState>(JobStepState(), scope) {

    private val showError = { s: JobStepState, message: String -> s.copy(loading = false, working = false, error = message) }

    /** Reads the job and its possible steps again. */
    fun refresh(): Job {
        update { it.copy(loading = true, error = null) }
        return act(showError) { reload(taken = null) }
    }

    /** Opens the form of a step (any step: the store says why one is not possible now). */
    fun choose(kind: JobStepKind) = update { s ->
        val progress = s.job?.progress
        val item = s.job?.let { repo.item(it.job.itemCode) }
        s.copy(
            chosen = kind,
            input = StepInput(),
            materialChoices = progress?.let { StepForms.materialChoices(kind, item, it) } ?: emptyList(),
            error = null,
        )
    }

    /** Changes the open form. */
    fun edit(change: (StepInput) -> StepInput) = update { it.copy(input = change(it.input), error = null) }

    /** Records the chosen step, with where the phone was if it knows. */
    fun submit(location: Location? = null): Job {
        update { it.copy(working = true, error = null) }
        return act(showError) {
            val s = state.value
            val kind = s.chosen
            val step = kind?.let { StepForms.build(it, s.input) }
            if (step == null) {
                update { it.copy(working = false, error = cannotBuild(kind)) }
            } else {
                repo.takeStep(jobId, step, location)
                reload(taken = kind)
            }
        }
    }

    private fun cannotBuild(kind: JobStepKind?): String = when (kind) {
        null -> "请先选择要办理的步骤"
        JobStepKind.NOBODY_HOME -> "请选择改约上门日期"
        else -> "“${kind.label()}”由镇便民服务中心处理，手机上不能办理"
    }

    private suspend fun reload(taken: JobStepKind?) {
        val job = repo.job(jobId)
        val steps = repo.possibleSteps(jobId)
        update {
            JobStepState(
                job = job,
                itemName = repo.item(job.job.itemCode)?.name ?: job.job.itemCode,
                steps = steps,
                taken = taken,
            )
        }
    }
}
