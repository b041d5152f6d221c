package cn.doorstep.app

import cn.doorstep.core.HouseholdPatch
import cn.doorstep.core.NewHousehold
import cn.doorstep.ffi.checkMobile
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The household form's fields. */
data class HouseholdForm(
    val villageId: String = "",
    val groupName: String = "",
    val address: String = "",
    val phone: String = "",
)

/** The register-a-household (or edit it) screen. */
data class HouseholdFormState(
    /** The villages the user may register in (their own). */
    val villages: List<String> = emptyList(),
    val form: HouseholdForm = HouseholdForm(),
    /** Why the phone number is not valid yet (the core's words), if it is not. */
    val phoneError: String? = null,
    val saving: Boolean = false,
    val savedHouseholdId: String? = null,
    val error: String? = null,
)

/**
 * Registers a household, or edits the one given: only changed fields are written, so an edit
 * on this phone does not overwrite what another phone changed in the other fields.
 */
class HouseholdFormViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val householdId: String? = null,
) : ScreenModel<HouseholdFormState>(HouseholdFormState(), scope) {
    private var saved = HouseholdForm()
    private val showError = { s: HouseholdFormState, message: String -> s.copy(saving = false, error = message) }

    /** Reads the user's villages and, when editing, the household. */
    fun load(): Job = act(showError) {
        val villages = repo.currentUser()?.regionIds ?: emptyList()
        saved = householdId?.let { id ->
            val h = repo.householdScreen(id).household
            HouseholdForm(h.villageId, h.groupName, h.address, h.phone ?: "")
        } ?: HouseholdForm(villageId = villages.firstOrNull() ?: "")
        update { it.copy(villages = villages, form = saved, error = null) }
    }

    /** Changes the form and checks the phone number typed so far. */
    fun edit(change: (HouseholdForm) -> HouseholdForm) = update {
        val form = change(it.form)
        it.copy(form = form, phoneError = problem(form.phone) { text -> checkMobile(text) }, error = null)
    }

    /** Saves: a new household, or the changed fields of the one being edited. */
    fun save(): Job {
        update { it.copy(saving = true, error = null) }
        return act(showError) {
            val f = state.value.form
            val id = if (householdId == null) {
                repo.createHousehold(NewHousehold(f.villageId, f.groupName, f.address, f.phone.ifBlank { null }))
            } else {
                repo.updateHousehold(
                    householdId,
                    HouseholdPatch(
                        groupName = f.groupName.takeIf { it != saved.groupName },
                        address = f.address.takeIf { it != saved.address },
                        phone = f.phone.takeIf { it != saved.phone },
                    ),
                )
                householdId
            }
            saved = f
            update { it.copy(saving = false, savedHouseholdId = id) }
        }
    }
}
