package cn.doorstep.app

import cn.doorstep.core.JobProgress
import cn.doorstep.core.JobStep
import cn.doorstep.core.JobStepKind
import cn.doorstep.core.Rating
import cn.doorstep.core.ServiceItem
import java.time.LocalDate

/** What the agent fills in for a step; each step uses the parts [StepForms.fields] names. */
data class StepInput(
    val text: String = "",
    val materials: List<String> = emptyList(),
    val date: LocalDate? = null,
    val rating: Rating = Rating.GOOD,
)

/** A part of a step's form. */
enum class StepField { TEXT, MATERIALS, DATE, RATING }

/** Which inputs each step asks for, their labels, and how they become a [JobStep]. */
object StepForms {
    /** The inputs a step's form shows. */
    fun fields(kind: JobStepKind): List<StepField> = when (kind) {
        JobStepKind.ACCEPT -> listOf(StepField.MATERIALS, StepField.DATE)
        JobStepKind.SUPPLEMENT -> listOf(StepField.MATERIALS)
        JobStepKind.NOBODY_HOME -> listOf(StepField.DATE)
        JobStepKind.RATE -> listOf(StepField.RATING, StepField.TEXT)
        JobStepKind.TOWN_ACCEPT, JobStepKind.APPROVE, JobStepKind.SIGN_OUT_PARCEL, JobStepKind.CLOSE,
        JobStepKind.RECONCILE -> emptyList()
        JobStepKind.INFORM, JobStepKind.HAND_UP, JobStepKind.RETURN, JobStepKind.REJECT,
        JobStepKind.COMPLETE, JobStepKind.DELIVER, JobStepKind.CANCEL -> listOf(StepField.TEXT)
    }

    /** The label of the text input of a step, if it has one. */
    fun textLabel(kind: JobStepKind): String? = when (kind) {
        JobStepKind.INFORM -> "告知内容"
        JobStepKind.HAND_UP -> "带件的轮值村长"
        JobStepKind.RETURN -> "退回原因"
        JobStepKind.REJECT -> "不予办理的原因"
        JobStepKind.COMPLETE -> "办理结果"
        JobStepKind.DELIVER -> "签收人"
        JobStepKind.RATE -> "群众意见（可不填）"
        JobStepKind.CANCEL -> "撤销原因"
        else -> null
    }

    /** The label of the date input of a step, if it has one. */
    fun dateLabel(kind: JobStepKind): String? = when (kind) {
        JobStepKind.ACCEPT -> "容缺材料补齐期限"
        JobStepKind.NOBODY_HOME -> "改约上门日期"
        else -> null
    }

    /**
     * The materials the agent may tick: for Accept, the item's non-key materials (容缺受理 is
     * only for those); for Supplement, the ones still missing.
     */
    fun materialChoices(kind: JobStepKind, item: ServiceItem?, progress: JobProgress): List<String> =
        when (kind) {
            JobStepKind.ACCEPT -> item?.materials?.filter { !it.key }?.map { it.name } ?: emptyList()
            JobStepKind.SUPPLEMENT -> progress.missingMaterials
            else -> emptyList()
        }

    /** The step to record, or null for steps the phone does not take (the hub's reconcile). */
    fun build(kind: JobStepKind, input: StepInput): JobStep? {
        val text = input.text.trim()
        return when (kind) {
            JobStepKind.INFORM -> JobStep.Inform(text)
            JobStepKind.ACCEPT -> JobStep.Accept(input.materials, input.date.takeIf { input.materials.isNotEmpty() })
            JobStepKind.SUPPLEMENT -> JobStep.Supplement(input.materials)
            JobStepKind.HAND_UP -> JobStep.HandUp(text)
            JobStepKind.TOWN_ACCEPT -> JobStep.TownAccept
            JobStepKind.APPROVE -> JobStep.Approve
            JobStepKind.RETURN -> JobStep.Return(text)
            JobStepKind.REJECT -> JobStep.Reject(text)
            JobStepKind.COMPLETE -> JobStep.Complete(text)
            JobStepKind.SIGN_OUT_PARCEL -> JobStep.SignOutParcel
            JobStepKind.DELIVER -> JobStep.Deliver(text)
            JobStepKind.NOBODY_HOME -> input.date?.let { JobStep.NobodyHome(it) }
            JobStepKind.RATE -> JobStep.Rate(input.rating, text)
            JobStepKind.CLOSE -> JobStep.Close
            JobStepKind.CANCEL -> JobStep.Cancel(text)
            JobStepKind.RECONCILE -> null
        }
    }
}
