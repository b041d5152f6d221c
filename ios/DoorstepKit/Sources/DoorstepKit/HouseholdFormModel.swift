import Doorstep
import Observation

/// The household form's fields.
public struct HouseholdForm: Equatable, Sendable {
    public var villageId = ""
    public var groupName = ""
    public var address = ""
    public var phone = ""
}

/// The register-a-household (or edit it) screen. The store checks the form (the village and
/// the address are required) and says what is wrong.
public struct HouseholdFormState: Equatable, Sendable {
    /// The villages the user may register in (their own).
    public var villages: [String] = []
    public var form = HouseholdForm()
    /// Why the phone number is not valid yet (the core's words), if it is not.
    public var phoneError: String?
    public var saving = false
    public var savedHouseholdId: String?
    public var error: String?
}

/// Registers a household, or edits the one given: only changed fields are written, so an edit
/// on this phone does not overwrite what another phone changed in the other fields.
@MainActor @Observable
public final class HouseholdFormModel {
    public private(set) var state = HouseholdFormState()
    private let repo: DoorstepRepository
    private let householdId: String?
    private var saved = HouseholdForm()

    public init(repo: DoorstepRepository, householdId: String? = nil) {
        self.repo = repo
        self.householdId = householdId
    }

    /// Reads the user's villages and, when editing, the household.
    public func load() async {
        do {
            let villages = await repo.currentUser()?.regionIds ?? []
            if let householdId {
                let h = try await repo.householdScreen(householdId).household
                saved = HouseholdForm(villageId: h.villageId, groupName: h.groupName, address: h.address, phone: h.phone ?? "")
            } else {
                saved = HouseholdForm(villageId: villages.first ?? "")
            }
            state = HouseholdFormState(villages: villages, form: saved)
        } catch {
            state.error = error.userMessage
        }
    }

    /// Changes the form and checks the phone number typed so far.
    public func edit(_ change: (inout HouseholdForm) -> Void) {
        change(&state.form)
        state.phoneError = problem(state.form.phone, checkMobile)
        state.error = nil
    }

    /// Saves: a new household, or the changed fields of the one being edited.
    public func save() async {
        let form = state.form
        state.saving = true
        state.error = nil
        do {
            if let householdId {
                try await repo.updateHousehold(householdId, HouseholdPatch(
                    groupName: form.groupName == saved.groupName ? nil : form.groupName,
                    address: form.address == saved.address ? nil : form.address,
                    phone: form.phone == saved.phone ? nil : form.phone))
                state.savedHouseholdId = householdId
            } else {
                state.savedHouseholdId = try await repo.createHousehold(NewHousehold(
                    villageId: form.villageId, groupName: form.groupName, address: form.address,
                    phone: form.phone.isEmpty ? nil : form.phone))
            }
            saved = form
        } catch {
            state.error = error.userMessage
        }
        state.saving = false
    }
}
