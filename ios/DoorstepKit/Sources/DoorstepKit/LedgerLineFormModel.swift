import Doorstep
import Observation

/// The add-a-ledger-line form's fields.
public struct LedgerLineForm: Equatable, Sendable {
    public var memberId = ""
    public var title = ""
    /// What kind of line and when it is due; a new kind starts as the core's `starting(today:)`.
    public var schedule: Schedule = .oneOff(status: .open, due: nil)
    public var urgency: Urgency = .green
    public var note = ""
}

/// The add-a-need-or-reminder screen of one household's ledger.
public struct LedgerLineFormState: Equatable, Sendable {
    /// The household's members the line can be about (those still on the register).
    public var members: [Member] = []
    public var form = LedgerLineForm()
    public var saving = false
    public var savedLineId: String?
    public var error: String?

    /// The kinds of line to offer, with their labels (`label()`).
    public var kindChoices: [ScheduleKind] { ScheduleKind.allCases }

    /// The urgencies to offer, with their labels (`label()`).
    public var urgencyChoices: [Urgency] { Urgency.allCases }
}

/// Adds a one-off need (with urgency) or a reminder (every N days, yearly) to the ledger.
@MainActor @Observable
public final class LedgerLineFormModel {
    public private(set) var state = LedgerLineFormState()
    private let repo: DoorstepRepository
    private let householdId: String

    public init(repo: DoorstepRepository, householdId: String) {
        self.repo = repo
        self.householdId = householdId
    }

    /// Reads the household's members.
    public func load() async {
        do {
            let members = try await repo.householdScreen(householdId).members.filter { $0.status == .present }
            state.members = members
            state.form.memberId = members.first?.id ?? ""
            state.error = nil
        } catch {
            state.error = error.userMessage
        }
    }

    /// Chooses the kind of line: its schedule starts as the core describes it for today.
    public func chooseKind(_ kind: ScheduleKind) {
        let schedule = kind.starting(today: repo.today())
        edit { $0.schedule = schedule }
    }

    /// Changes the form.
    public func edit(_ change: (inout LedgerLineForm) -> Void) {
        change(&state.form)
        state.error = nil
    }

    /// Saves the line (the core checks the title, the interval and the dates).
    public func save() async {
        let f = state.form
        state.saving = true
        state.error = nil
        do {
            state.savedLineId = try await repo.addLedgerLine(NewLedgerLine(
                memberId: f.memberId, title: f.title, schedule: f.schedule, urgency: f.urgency,
                note: f.note, visitId: nil))
        } catch {
            state.error = error.userMessage
        }
        state.saving = false
    }
}
