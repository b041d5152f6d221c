package cn.doorstep.app

import cn.doorstep.core.Location
import cn.doorstep.core.VisitOutcome
import cn.doorstep.core.VisitRecord
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The record-a-visit form. */
data class VisitForm(
    val purpose: String = "",
    val outcome: VisitOutcome = VisitOutcome.MET,
    val notes: String = "",
)

/** The record-a-visit screen. */
data class VisitState(
    val form: VisitForm = VisitForm(),
    val saving: Boolean = false,
    val savedVisitId: String? = null,
    val error: String? = null,
) {
    /** The outcomes to offer, with their labels. */
    val outcomes: List<VisitOutcome> get() = VisitOutcome.entries
}

/**
 * Records a visit to a household: a planned one (`plannedVisitId`) or one made on the way.
 * The store checks the form (an empty purpose is refused with a message).
 */
class VisitViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val householdId: String,
    private val plannedVisitId: String? = null,
    purpose: String = "",
) : ScreenModel<VisitState>(VisitState(form = VisitForm(purpose = purpose)), scope) {

    /** Changes the form. */
    fun edit(change: (VisitForm) -> VisitForm) = update { it.copy(form = change(it.form), error = null) }

    /** Saves the visit, with where the phone was if it knows. */
    fun save(location: Location? = null): Job {
        update { it.copy(saving = true, error = null) }
        return act({ s, message -> s.copy(saving = false, error = message) }) {
            val form = state.value.form
            val record = VisitRecord(form.purpose, form.outcome, form.notes, location)
            val id = repo.recordVisit(householdId, plannedVisitId, record)
            update { it.copy(saving = false, savedVisitId = id) }
        }
    }
}
