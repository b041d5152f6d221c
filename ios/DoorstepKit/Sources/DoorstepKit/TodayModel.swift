import Doorstep
import Observation

/// The "today's work" screen: what is overdue and what is due today, most urgent first.
public struct TodayState: Equatable, Sendable {
    public var date: CalendarDate?
    public var loading = false
    public var overdue: [WorkItem] = []
    public var dueToday: [WorkItem] = []
    public var error: String?

    /// Nothing to do today (after loading).
    public var allDone: Bool { date != nil && !loading && overdue.isEmpty && dueToday.isEmpty }

    /// The screen's headline, for example "今天 2026-11-22：逾期 3 项，今日 5 项".
    public var headline: String {
        guard let date else { return "正在读取今天的工作…" }
        if allDone { return "今天 \(date)：没有待办事项" }
        return "今天 \(date)：逾期 \(overdue.count) 项，今日 \(dueToday.count) 项"
    }
}

/// Loads today's work from the store; refreshed on opening and after every sync or edit.
@MainActor @Observable
public final class TodayModel {
    public private(set) var state = TodayState()
    private let repo: DoorstepRepository

    public init(repo: DoorstepRepository) { self.repo = repo }

    /// Reads today's work again.
    public func refresh() async {
        state.loading = true
        state.error = nil
        do {
            let items = try await repo.todayWork()
            state = TodayState(date: repo.today(), overdue: items.filter { $0.daysOverdue > 0 },
                               dueToday: items.filter { $0.daysOverdue <= 0 })
        } catch {
            state.loading = false
            state.error = error.userMessage
        }
    }
}
