import Doorstep
import Observation

/// The search screen: members by name, phone tail or identity-number tail.
public struct SearchState: Equatable, Sendable {
    public var text = ""
    public var hits: [SearchHit] = []
    public var error: String?
}

/// Finds members in the phone's villages (the core's `search`).
@MainActor @Observable
public final class SearchModel {
    public private(set) var state = SearchState()
    private let repo: DoorstepRepository

    public init(repo: DoorstepRepository) { self.repo = repo }

    /// Shows the members matching `text`.
    public func search(_ text: String) async {
        state.text = text
        do {
            state.hits = try await repo.search(text)
            state.error = nil
        } catch {
            state.error = error.userMessage
        }
    }
}
