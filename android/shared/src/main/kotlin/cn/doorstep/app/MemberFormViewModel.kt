package cn.doorstep.app

import cn.doorstep.core.NewMember
import cn.doorstep.core.SpecialTag
import cn.doorstep.ffi.checkIdNumber
import cn.doorstep.ffi.checkMobile
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The add-a-member form. */
data class MemberForm(
    val name: String = "",
    val idNumber: String = "",
    val phone: String = "",
    val relation: String = "户主",
    val tags: List<SpecialTag> = emptyList(),
)

/** The add-a-member screen: identity and mobile numbers are checked as they are typed. */
data class MemberFormState(
    val form: MemberForm = MemberForm(),
    /** Why the identity number is not valid yet (the core's words), if it is not. */
    val idNumberError: String? = null,
    /** Why the mobile number is not valid yet, if it is not. */
    val phoneError: String? = null,
    val saving: Boolean = false,
    val savedMemberId: String? = null,
    val error: String? = null,
) {
    /** The special-group tags to offer, with their labels. */
    val tagChoices: List<SpecialTag> get() = SpecialTag.entries
}

/** Adds a member to a household; the checks are the core's, the same the store runs on save. */
class MemberFormViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val householdId: String,
) : ScreenModel<MemberFormState>(MemberFormState(), scope) {

    /** Changes the form and checks the numbers typed so far. */
    fun edit(change: (MemberForm) -> MemberForm) = update {
        val form = change(it.form)
        it.copy(
            form = form,
            idNumberError = problem(form.idNumber) { text -> checkIdNumber(text) },
            phoneError = problem(form.phone) { text -> checkMobile(text) },
            error = null,
        )
    }

    /** Saves the member. */
    fun save(): Job {
        update { it.copy(saving = true, error = null) }
        return act({ s, message -> s.copy(saving = false, error = message) }) {
            val f = state.value.form
            val member = NewMember(
                name = f.name,
                idNumber = f.idNumber.takeIf { it.isNotBlank() },
                phone = f.phone.takeIf { it.isNotBlank() },
                gender = null,
                birthDate = null,
                relation = f.relation,
                tags = f.tags,
            )
            val id = repo.addMember(householdId, member)
            update { it.copy(saving = false, savedMemberId = id) }
        }
    }

    private fun problem(text: String, check: (String) -> String): String? =
        if (text.isBlank()) null else runCatching { check(text) }.exceptionOrNull()?.userMessage()
}
