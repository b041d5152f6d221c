import Doorstep
import Observation

/// The search screen: members by name, phone tail or identity-number tail, or the village's
/// roster by special-group tag.
public struct SearchState: Equatable, Sendable {
    public var text = ""
    public var hits: [SearchHit] = []
    /// The tags the roster is filtered by (members with every one of them).
    public var tags: [SpecialTag] = []
    public var roster: [RosterEntry] = []
    public var error: String?

    /// The special-group tags to offer, with their labels.
    public var tagChoices: [SpecialTag] { SpecialTag.allCases }
}

/// Finds members in the phone's villages (the core's `search`) and the roster of the user's
/// first village by tag (`roster`).
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

    /// Adds or removes a tag from the roster's filter and reads the roster again.
    public func toggleTag(_ tag: SpecialTag) async {
        var tags = state.tags
        if let at = tags.firstIndex(of: tag) { tags.remove(at: at) } else { tags.append(tag) }
        do {
            let village = await repo.currentUser()?.regionIds.first ?? ""
            state.roster = try await repo.roster(villageId: village, tags: tags)
            state.tags = tags
            state.error = nil
        } catch {
            state.error = error.userMessage
        }
    }
}
