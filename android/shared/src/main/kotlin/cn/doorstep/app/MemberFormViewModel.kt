package cn.doorstep.app

import cn.doorstep.core.Member
import cn.doorstep.core.MemberPatch
import cn.doorstep.core.MemberStatus
import cn.doorstep.core.NewMember
import cn.doorstep.core.SpecialTag
import cn.doorstep.ffi.checkIdNumber
import cn.doorstep.ffi.checkMobile
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The member form's fields. */
data class MemberForm(
    val name: String = "",
    val idNumber: String = "",
    val phone: String = "",
    val relation: String = "户主",
    val tags: List<SpecialTag> = emptyList(),
) {
    companion object {
        /** The form filled in with a member's current values. */
        fun of(member: Member) = MemberForm(
            name = member.name,
            idNumber = member.idNumber ?: "",
            phone = member.phone ?: "",
            relation = member.relation,
            tags = member.tags,
        )
    }
}

/** The add-a-member (or edit one) screen: identity and mobile numbers are checked as they are typed. */
data class MemberFormState(
    val form: MemberForm = MemberForm(),
    /** The member's status when editing (在册, 已迁出, 已故). */
    val status: MemberStatus? = null,
    /** Why the identity number is not valid yet (the core's words), if it is not. */
    val idNumberError: String? = null,
    /** Why the mobile number is not valid yet, if it is not. */
    val phoneError: String? = null,
    val saving: Boolean = false,
    val savedMemberId: String? = null,
    val notice: String? = null,
    val error: String? = null,
) {
    /** The special-group tags to offer, with their labels. */
    val tagChoices: List<SpecialTag> get() = SpecialTag.entries

    /** The statuses a member can be marked with, with their labels. */
    val statusChoices: List<MemberStatus> get() = MemberStatus.entries
}

/**
 * Adds a member to a household, or edits the member given (only changed fields and tags are
 * written) and marks them moved away or deceased. The checks are the core's, the same the
 * store runs on save.
 */
class MemberFormViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val householdId: String,
    private val memberId: String? = null,
) : ScreenModel<MemberFormState>(MemberFormState(), scope) {
    private var saved = MemberForm()
    private val showError = { s: MemberFormState, message: String -> s.copy(saving = false, error = message) }

    /** Reads the member being edited (nothing to read for a new one). */
    fun load(): Job = act(showError) {
        val member = memberId?.let { id -> repo.householdScreen(householdId).members.single { it.id == id } }
        saved = member?.let(MemberForm::of) ?: MemberForm()
        update { it.copy(form = saved, status = member?.status, error = null) }
    }

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

    /** Saves: a new member, or the changed fields of the one being edited. */
    fun save(): Job {
        update { it.copy(saving = true, error = null) }
        return act(showError) {
            val f = state.value.form
            val id = if (memberId == null) {
                repo.addMember(
                    householdId,
                    NewMember(
                        name = f.name,
                        idNumber = f.idNumber.ifBlank { null },
                        phone = f.phone.ifBlank { null },
                        gender = null,
                        birthDate = null,
                        relation = f.relation,
                        tags = f.tags,
                    ),
                )
            } else {
                repo.updateMember(memberId, patch(saved, f, status = null))
                memberId
            }
            saved = f
            update { it.copy(saving = false, savedMemberId = id, notice = "已保存") }
        }
    }

    /** Marks the member being edited with `status` (for example moved away or deceased). */
    fun markStatus(status: MemberStatus): Job = act(showError) {
        if (memberId == null) {
            update(showError.curried("请先保存成员"))
        } else {
            repo.updateMember(memberId, patch(saved, saved, status))
            update { it.copy(status = status, notice = "已标记为${status.label()}") }
        }
    }

    private fun patch(before: MemberForm, after: MemberForm, status: MemberStatus?) = MemberPatch(
        name = after.name.takeIf { it != before.name },
        idNumber = after.idNumber.takeIf { it != before.idNumber },
        phone = after.phone.takeIf { it != before.phone },
        relation = after.relation.takeIf { it != before.relation },
        status = status,
        addTags = after.tags - before.tags.toSet(),
        removeTags = before.tags - after.tags.toSet(),
    )
}
