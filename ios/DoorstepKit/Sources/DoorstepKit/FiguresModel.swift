import Doorstep
import Observation

/// The village's figures for this month (counted by the core, as the hub's console counts them).
public struct FiguresState: Equatable, Sendable {
    public var from: CalendarDate?
    public var to: CalendarDate?
    public var figures: Figures?
    public var error: String?
}

/// Reads a village's figures from the first of this month to today.
@MainActor @Observable
public final class FiguresModel {
    public private(set) var state = FiguresState()
    private let repo: DoorstepRepository
    private let villageId: String

    public init(repo: DoorstepRepository, villageId: String) {
        self.repo = repo
        self.villageId = villageId
    }

    /// Reads the figures again.
    public func refresh() async {
        let today = repo.today()
        let from = repo.monthStart()
        do {
            let figures = try await repo.figures(villageId: villageId, from: from, to: today)
            state = FiguresState(from: from, to: today, figures: figures)
        } catch {
            state.error = error.userMessage
        }
    }
}
