package cn.doorstep.android.ui

import android.net.Uri
import cn.doorstep.core.JobStepKind

/** The app's navigation routes, their arguments, and how to build each route. */
object Routes {
    const val ARG_HOUSEHOLD = "householdId"
    const val ARG_VISIT = "visitId"
    const val ARG_PURPOSE = "purpose"
    const val ARG_JOB = "jobId"
    const val ARG_STEP = "step"
    const val ARG_START = "start"
    const val ARG_MEMBER = "memberId"

    const val ENROLL = "enroll"
    const val TODAY = "today"
    const val HOUSEHOLD = "household/{$ARG_HOUSEHOLD}"
    const val VISIT = "visit/{$ARG_HOUSEHOLD}?$ARG_VISIT={$ARG_VISIT}&$ARG_PURPOSE={$ARG_PURPOSE}"
    const val JOB = "job/{$ARG_JOB}?$ARG_STEP={$ARG_STEP}"
    const val SYNC = "sync?$ARG_START={$ARG_START}"
    const val HOUSEHOLD_FORM = "household-form?$ARG_HOUSEHOLD={$ARG_HOUSEHOLD}"
    const val MEMBER_FORM = "member-form/{$ARG_HOUSEHOLD}?$ARG_MEMBER={$ARG_MEMBER}"
    const val LEDGER_LINE_FORM = "ledger-line/{$ARG_HOUSEHOLD}"
    const val CATALOGUE = "catalogue?$ARG_MEMBER={$ARG_MEMBER}"
    const val HAND_UP = "hand-up"
    const val DELIVERIES = "deliveries"
    const val FIGURES = "figures"
    const val FIND_PEOPLE = "find-people"

    /** A household's ledger. */
    fun household(householdId: String) = "household/${Uri.encode(householdId)}"

    /** Recording a visit: a planned one when [visitId] is given, with its purpose filled in. */
    fun visit(householdId: String, visitId: String? = null, purpose: String = ""): String = buildString {
        append("visit/").append(Uri.encode(householdId))
        append("?$ARG_PURPOSE=").append(Uri.encode(purpose))
        if (visitId != null) append("&$ARG_VISIT=").append(Uri.encode(visitId))
    }

    /** A job's next step, with the form of [step] opened if given. */
    fun job(jobId: String, step: JobStepKind? = null): String =
        "job/${Uri.encode(jobId)}" + (step?.let { "?$ARG_STEP=${it.name}" } ?: "")

    /** The sync screen; [start] starts a sync on arrival (after enrolling). */
    fun sync(start: Boolean = false) = "sync?$ARG_START=$start"

    /** Registering a household, or editing [householdId] when given. */
    fun householdForm(householdId: String? = null): String =
        "household-form" + (householdId?.let { "?$ARG_HOUSEHOLD=${Uri.encode(it)}" } ?: "")

    /** Adding a member to a household, or editing [memberId] when given. */
    fun memberForm(householdId: String, memberId: String? = null): String =
        "member-form/${Uri.encode(householdId)}" + (memberId?.let { "?$ARG_MEMBER=${Uri.encode(it)}" } ?: "")

    /** Adding a need or a reminder to a household's ledger. */
    fun ledgerLineForm(householdId: String) = "ledger-line/${Uri.encode(householdId)}"

    /** The service catalogue, opening jobs for [memberId] when given. */
    fun catalogue(memberId: String? = null): String =
        "catalogue" + (memberId?.let { "?$ARG_MEMBER=${Uri.encode(it)}" } ?: "")
}
