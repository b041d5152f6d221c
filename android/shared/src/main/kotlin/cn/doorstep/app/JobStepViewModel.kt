package cn.doorstep.app

import cn.doorstep.core.JobDetails
import cn.doorstep.core.JobStepKind
import cn.doorstep.core.Location
import cn.doorstep.core.StepFieldKind
import cn.doorstep.core.StepForm
import cn.doorstep.core.StepInput
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** An empty step form's input. */
val emptyStepInput = StepInput(text = "", materials = emptyList(), date = null, rating = null)

/** The take-the-next-step screen of one job. */
data class JobStepState(
    val loading: Boolean = false,
    val job: JobDetails? = null,
    val itemName: String = "",
    val steps: List<JobStepKind> = emptyList(),
    val chosen: JobStepKind? = null,
    /** The chosen step's form, as the core describes it (fields, labels, choices). */
    val form: StepForm? = null,
    val input: StepInput = emptyStepInput,
    val working: Boolean = false,
    val taken: JobStepKind? = null,
    val error: String? = null,
) {
    /** The job's state in words, for example "已受理". */
    val stateLabel: String get() = job?.progress?.state?.label() ?: ""

    /** The materials the form lets the agent tick. */
    val materialChoices: List<String>
        get() = form?.fields?.firstOrNull { it.kind == StepFieldKind.MATERIALS }?.choices ?: emptyList()
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
    fun choose(kind: JobStepKind): Job = act(showError) {
        val form = repo.stepForm(jobId, kind)
        update { it.copy(chosen = kind, form = form, input = emptyStepInput, error = null) }
    }

    /** Changes the open form. */
    fun edit(change: (StepInput) -> StepInput) = update { it.copy(input = change(it.input), error = null) }

    /** Records the chosen step from its form, with where the phone was if it knows. */
    fun submit(location: Location? = null): Job {
        update { it.copy(working = true, error = null) }
        return act(showError) {
            val s = state.value
            val kind = s.chosen
            if (kind == null) {
                update { it.copy(working = false, error = "请先选择要办理的步骤") }
            } else {
                repo.takeStepFromForm(jobId, kind, s.input, location)
                reload(taken = kind)
            }
        }
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
