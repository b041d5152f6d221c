import Doorstep
import Observation

/// The add-a-member form.
public struct MemberForm: Equatable, Sendable {
    public var name = ""
    public var idNumber = ""
    public var phone = ""
    public var relation = "户主"
    public var tags: [SpecialTag] = []
}

/// The add-a-member screen: identity and mobile numbers are checked as they are typed.
public struct MemberFormState: Equatable, Sendable {
    public var form = MemberForm()
    /// Why the identity number is not valid yet (the core's words), if it is not.
    public var idNumberError: String?
    /// Why the mobile number is not valid yet, if it is not.
    public var phoneError: String?
    public var saving = false
    public var savedMemberId: String?
    public var error: String?

    /// The special-group tags to offer, with their labels (`label()`).
    public var tagChoices: [SpecialTag] { SpecialTag.allCases }
}

/// Adds a member to a household; the checks are the core's, the same the store runs on save.
@MainActor @Observable
public final class MemberFormModel {
    public private(set) var state = MemberFormState()
    private let repo: DoorstepRepository
    private let householdId: String

    public init(repo: DoorstepRepository, householdId: String) {
        self.repo = repo
        self.householdId = householdId
    }

    /// Changes the form and checks the numbers typed so far.
    public func edit(_ change: (inout MemberForm) -> Void) {
        change(&state.form)
        state.idNumberError = problem(state.form.idNumber, checkIdNumber)
        state.phoneError = problem(state.form.phone, checkMobile)
        state.error = nil
    }

    /// Saves the member.
    public func save() async {
        let form = state.form
        let member = NewMember(
            name: form.name, idNumber: form.idNumber.isEmpty ? nil : form.idNumber,
            phone: form.phone.isEmpty ? nil : form.phone, gender: nil, birthDate: nil,
            relation: form.relation, tags: form.tags)
        state.saving = true
        state.error = nil
        do {
            state.savedMemberId = try await repo.addMember(householdId: householdId, member)
        } catch {
            state.error = error.userMessage
        }
        state.saving = false
    }
}
