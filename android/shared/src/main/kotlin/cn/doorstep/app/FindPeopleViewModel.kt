package cn.doorstep.app

import cn.doorstep.core.RosterEntry
import cn.doorstep.core.SearchHit
import cn.doorstep.core.SpecialTag
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The find-people screen: search by name or number tail, or the roster by special-group tag. */
data class FindPeopleState(
    val query: String = "",
    val hits: List<SearchHit> = emptyList(),
    /** The tags the roster is filtered by (members with every one of them). */
    val tags: List<SpecialTag> = emptyList(),
    val roster: List<RosterEntry> = emptyList(),
    val error: String? = null,
) {
    /** The special-group tags to offer, with their labels. */
    val tagChoices: List<SpecialTag> get() = SpecialTag.entries
}

/**
 * Finds people in the user's villages: by Chinese name, identity-number tail or phone tail
 * (the core's `search`), and the roster of a village by special-group tag (`roster`).
 */
class FindPeopleViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    /** The village of the roster; the user's first village when not given. */
    private val villageId: String? = null,
) : ScreenModel<FindPeopleState>(FindPeopleState(), scope) {
    private val showError = { s: FindPeopleState, message: String -> s.copy(error = message) }

    /** Shows the members matching `query`, best first. */
    fun search(query: String): Job = act(showError) {
        val hits = repo.search(query)
        update { it.copy(query = query, hits = hits, error = null) }
    }

    /** Adds or removes a tag from the roster's filter and reads the roster again. */
    fun toggleTag(tag: SpecialTag): Job = act(showError) {
        val tags = state.value.tags.let { if (tag in it) it - tag else it + tag }
        val village = villageId ?: repo.currentUser()?.regionIds?.firstOrNull() ?: ""
        val roster = repo.roster(village, tags)
        update { it.copy(tags = tags, roster = roster, error = null) }
    }
}
