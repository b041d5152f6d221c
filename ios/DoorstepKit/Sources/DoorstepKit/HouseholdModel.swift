import Doorstep
import Observation

/// The household ledger screen (一户一档), as the core describes it (`householdScreen`):
/// the household, its members, the ledger lines, jobs, visits and conflicting edits.
public struct HouseholdState: Equatable, Sendable {
    public var loading = false
    public var screen: HouseholdScreen?
    public var notice: String?
    public var error: String?

    /// A line about the household's sync state, for the top of the screen.
    public var syncLine: String {
        switch screen?.syncState {
        case nil: ""
        case .synced: "已同步"
        case let .pending(localChanges): "有 \(localChanges) 条修改待同步"
        case let .rejected(reason): reason
        case let .setAside(reason): "本户暂停同步：\(reason)"
        }
    }
}

/// Loads one household's ledger and carries out what the agent does on it.
@MainActor @Observable
public final class HouseholdModel {
    public private(set) var state = HouseholdState()
    private let repo: DoorstepRepository
    private let householdId: String

    public init(repo: DoorstepRepository, householdId: String) {
        self.repo = repo
        self.householdId = householdId
    }

    /// Reads the household again.
    public func refresh() async {
        state.loading = true
        state.error = nil
        await act(notice: nil) { _ in }
    }

    /// Marks a recurring reminder (medication cycle, birthday) as done today.
    public func markReminderDone(lineId: String) async {
        await act(notice: "已记录完成") { try await $0.markReminderDone(lineId: lineId) }
    }

    /// Sets a one-off need's status (in progress, done: 销号, withdrawn).
    public func setNeedStatus(lineId: String, _ status: NeedStatus) async {
        await act(notice: "已改为“\(status.label())”") { try await $0.setNeedStatus(lineId: lineId, status) }
    }

    /// Settles a conflicting field with the value the agent chose.
    public func choose(_ value: ConflictValue, for conflict: FieldConflict) async {
        let householdId = householdId
        await act(notice: "已采用“\(value.value)”") {
            try await $0.choose(value, for: conflict, householdId: householdId)
        }
    }

    /// Runs `change`, then reads the household again and shows `notice`; or shows the error.
    private func act(notice: String?, _ change: (DoorstepRepository) async throws -> Void) async {
        do {
            try await change(repo)
            state = HouseholdState(screen: try await repo.householdScreen(householdId), notice: notice)
        } catch {
            state.loading = false
            state.error = error.userMessage
        }
    }
}
