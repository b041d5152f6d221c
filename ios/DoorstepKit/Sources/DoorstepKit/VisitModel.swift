import Doorstep
import Observation

/// The record-a-visit form.
public struct VisitForm: Equatable, Sendable {
    public var purpose = ""
    public var outcome: VisitOutcome = .met
    public var notes = ""
}

/// The record-a-visit screen.
public struct VisitState: Equatable, Sendable {
    public var form = VisitForm()
    public var saving = false
    public var savedVisitId: String?
    public var error: String?

    /// The outcomes to offer, with their labels (`label()`).
    public var outcomes: [VisitOutcome] { VisitOutcome.allCases }
}

/// Records a visit to a household: a planned one (`plannedVisitId`) or one made on the way.
/// The store checks the form (an empty purpose is refused with a message).
@MainActor @Observable
public final class VisitModel {
    public private(set) var state: VisitState
    private let repo: DoorstepRepository
    private let householdId: String
    private let plannedVisitId: String?

    public init(repo: DoorstepRepository, householdId: String, plannedVisitId: String? = nil, purpose: String = "") {
        self.repo = repo
        self.householdId = householdId
        self.plannedVisitId = plannedVisitId
        state = VisitState(form: VisitForm(purpose: purpose))
    }

    /// Changes the form.
    public func edit(_ change: (inout VisitForm) -> Void) {
        change(&state.form)
        state.error = nil
    }

    /// Saves the visit, with where the phone was if it knows.
    public func save(location: Location? = nil) async {
        let f = state.form
        state.saving = true
        state.error = nil
        do {
            state.savedVisitId = try await repo.recordVisit(
                householdId: householdId, visitId: plannedVisitId,
                VisitRecord(purpose: f.purpose, outcome: f.outcome, notes: f.notes, location: location))
        } catch {
            state.error = error.userMessage
        }
        state.saving = false
    }
}
