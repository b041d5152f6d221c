package cn.doorstep.app

import cn.doorstep.core.Member
import cn.doorstep.core.MemberStatus
import cn.doorstep.core.NeedStatus
import cn.doorstep.core.NewLedgerLine
import cn.doorstep.core.Schedule
import cn.doorstep.core.ScheduleKind
import cn.doorstep.core.Urgency
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The add-a-ledger-line form's fields. */
data class LedgerLineForm(
    val memberId: String = "",
    val title: String = "",
    /** What kind of line and when it is due; a new kind starts as the core's `starting(today)`. */
    val schedule: Schedule = Schedule.OneOff(NeedStatus.OPEN, null),
    val urgency: Urgency = Urgency.GREEN,
    val note: String = "",
)

/** The add-a-need-or-reminder screen of one household's ledger. */
data class LedgerLineFormState(
    /** The household's members the line can be about (those still on the register). */
    val members: List<Member> = emptyList(),
    val form: LedgerLineForm = LedgerLineForm(),
    val saving: Boolean = false,
    val savedLineId: String? = null,
    val error: String? = null,
) {
    /** The kinds of line to offer, with their labels. */
    val kindChoices: List<ScheduleKind> get() = ScheduleKind.entries

    /** The urgencies to offer, with their labels. */
    val urgencyChoices: List<Urgency> get() = Urgency.entries
}

/** Adds a one-off need (with urgency) or a reminder (every N days, yearly) to the ledger. */
class LedgerLineFormViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val householdId: String,
) : ScreenModel<LedgerLineFormState>(LedgerLineFormState(), scope) {
    private val showError = { s: LedgerLineFormState, message: String -> s.copy(saving = false, error = message) }

    /** Reads the household's members. */
    fun load(): Job = act(showError) {
        val members = repo.householdScreen(householdId).members.filter { it.status == MemberStatus.PRESENT }
        update { it.copy(members = members, form = it.form.copy(memberId = members.firstOrNull()?.id ?: ""), error = null) }
    }

    /** Chooses the kind of line: its schedule starts as the core describes it for today. */
    fun chooseKind(kind: ScheduleKind) = edit { it.copy(schedule = kind.starting(repo.today())) }

    /** Changes the form. */
    fun edit(change: (LedgerLineForm) -> LedgerLineForm) = update { it.copy(form = change(it.form), error = null) }

    /** Saves the line (the core checks the title, the interval and the dates). */
    fun save(): Job {
        update { it.copy(saving = true, error = null) }
        return act(showError) {
            val f = state.value.form
            val id = repo.addLedgerLine(NewLedgerLine(f.memberId, f.title, f.schedule, f.urgency, f.note, null))
            update { it.copy(saving = false, savedLineId = id) }
        }
    }
}
