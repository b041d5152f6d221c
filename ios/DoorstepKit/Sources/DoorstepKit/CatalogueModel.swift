import Doorstep
import Observation

/// The service catalogue screen (事项清单): search, then one item's materials, time limit and
/// modes, and open a job of it for a member.
public struct CatalogueState: Equatable, Sendable {
    public var query = ""
    public var results: [ServiceItem] = []
    public var chosen: ServiceItem?
    public var openedJobId: String?
    public var error: String?
}

/// Searches the catalogue by name or pinyin initials (the core's `searchCatalogue`) and opens
/// a job of the chosen item.
@MainActor @Observable
public final class CatalogueModel {
    public private(set) var state = CatalogueState()
    private let repo: DoorstepRepository

    public init(repo: DoorstepRepository) { self.repo = repo }

    /// Shows the items matching `query`, best first (all of them for an empty query).
    public func search(_ query: String) {
        state.query = query
        state.results = searchCatalogue(query: query)
        state.error = nil
    }

    /// Opens one item.
    public func choose(_ item: ServiceItem) {
        state.chosen = item
        state.openedJobId = nil
    }

    /// Opens a job of the chosen item for a member (its first step, Inform, is recorded);
    /// the job's screen then takes it on (accepting with missing non-key materials: 容缺受理).
    public func openJob(memberId: String, mode: ServiceMode, urgency: Urgency, note: String = "") async {
        guard let item = state.chosen else {
            state.error = "请先选择事项"
            return
        }
        let job = NewJob(memberId: memberId, itemCode: item.code, mode: mode, urgency: urgency,
                         note: note, visitId: nil)
        do {
            state.openedJobId = try await repo.openJob(job)
            state.error = nil
        } catch {
            state.error = error.userMessage
        }
    }
}
