import Doorstep
import Observation

/// The member form's fields.
public struct MemberForm: Equatable, Sendable {
    public var name = ""
    public var idNumber = ""
    public var phone = ""
    public var relation = "户主"
    public var tags: [SpecialTag] = []

    public init() {}

    /// The form filled in with a member's current values.
    public init(_ member: Member) {
        name = member.name
        idNumber = member.idNumber ?? ""
        phone = member.phone ?? ""
        relation = member.relation
        tags = member.tags
    }
}

/// The add-a-member (or edit one) screen: identity and mobile numbers are checked as they are typed.
public struct MemberFormState: Equatable, Sendable {
    public var form = MemberForm()
    /// The member's status when editing (在册, 已迁出, 已故).
    public var status: MemberStatus?
    /// Why the identity number is not valid yet (the core's words), if it is not.
    public var idNumberError: String?
    /// Why the mobile number is not valid yet, if it is not.
    public var phoneError: String?
    public var saving = false
    public var savedMemberId: String?
    public var notice: String?
    public var error: String?

    /// The special-group tags to offer, with their labels (`label()`).
    public var tagChoices: [SpecialTag] { SpecialTag.allCases }

    /// The statuses a member can be marked with, with their labels (`label()`).
    public var statusChoices: [MemberStatus] { MemberStatus.allCases }
}

/// Adds a member to a household, or edits the member given (only changed fields and tags are
/// written) and marks them moved away or deceased. The checks are the core's, the same the
/// store runs on save.
@MainActor @Observable
public final class MemberFormModel {
    public private(set) var state = MemberFormState()
    private let repo: DoorstepRepository
    private let householdId: String
    private let memberId: String?
    private var saved = MemberForm()

    public init(repo: DoorstepRepository, householdId: String, memberId: String? = nil) {
        self.repo = repo
        self.householdId = householdId
        self.memberId = memberId
    }

    /// Reads the member being edited (nothing to read for a new one).
    public func load() async {
        do {
            var member: Member?
            if let memberId {
                let members = try await repo.householdScreen(householdId).members.filter { $0.id == memberId }
                guard members.count == 1 else { throw MemberNotInHousehold(memberId: memberId) }
                member = members[0]
            }
            saved = member.map(MemberForm.init) ?? MemberForm()
            state.form = saved
            state.status = member?.status
            state.error = nil
        } catch {
            state.saving = false
            state.error = error.userMessage
        }
    }

    /// Changes the form and checks the numbers typed so far.
    public func edit(_ change: (inout MemberForm) -> Void) {
        change(&state.form)
        state.idNumberError = problem(state.form.idNumber, checkIdNumber)
        state.phoneError = problem(state.form.phone, checkMobile)
        state.error = nil
    }

    /// Saves: a new member, or the changed fields of the one being edited.
    public func save() async {
        let form = state.form
        state.saving = true
        state.error = nil
        do {
            if let memberId {
                try await repo.updateMember(memberId, patch(from: saved, to: form, status: nil))
                state.savedMemberId = memberId
            } else {
                state.savedMemberId = try await repo.addMember(householdId: householdId, NewMember(
                    name: form.name, idNumber: form.idNumber.isEmpty ? nil : form.idNumber,
                    phone: form.phone.isEmpty ? nil : form.phone, gender: nil, birthDate: nil,
                    relation: form.relation, tags: form.tags))
            }
            saved = form
            state.notice = "已保存"
        } catch {
            state.error = error.userMessage
        }
        state.saving = false
    }

    /// Marks the member being edited with `status` (for example moved away or deceased).
    public func markStatus(_ status: MemberStatus) async {
        guard let memberId else {
            state.saving = false
            state.error = "请先保存成员"
            return
        }
        do {
            try await repo.updateMember(memberId, patch(from: saved, to: saved, status: status))
            state.status = status
            state.notice = "已标记为\(status.label())"
        } catch {
            state.saving = false
            state.error = error.userMessage
        }
    }

    /// The fields and tags that differ between `before` and `after`, and the status to set.
    private func patch(from before: MemberForm, to after: MemberForm, status: MemberStatus?) -> MemberPatch {
        MemberPatch(
            name: after.name == before.name ? nil : after.name,
            idNumber: after.idNumber == before.idNumber ? nil : after.idNumber,
            phone: after.phone == before.phone ? nil : after.phone,
            relation: after.relation == before.relation ? nil : after.relation,
            status: status,
            addTags: after.tags.filter { !before.tags.contains($0) },
            removeTags: before.tags.filter { !after.tags.contains($0) })
    }
}

/// The member to edit is not in the household (an app fault: the screen was opened with a wrong id).
private struct MemberNotInHousehold: Error {
    let memberId: String
}
