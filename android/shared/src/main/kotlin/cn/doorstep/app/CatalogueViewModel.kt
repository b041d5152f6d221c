package cn.doorstep.app

import cn.doorstep.core.NewJob
import cn.doorstep.core.ServiceItem
import cn.doorstep.core.ServiceMode
import cn.doorstep.core.Urgency
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The service catalogue screen (事项清单): search, then one item's materials, time limit and modes. */
data class CatalogueState(
    val query: String = "",
    val results: List<ServiceItem> = emptyList(),
    val chosen: ServiceItem? = null,
    /** The mode chosen for the job (one of the item's allowed modes, 远程办 among them). */
    val mode: ServiceMode? = null,
    val urgency: Urgency = Urgency.GREEN,
    val note: String = "",
    val opening: Boolean = false,
    /** The job just opened (告知), to take its next step (受理, with materials missing or not). */
    val openedJobId: String? = null,
    val error: String? = null,
)

/**
 * Searches the catalogue by name or pinyin initials (the core's `searchCatalogue`) and opens a
 * job (告知) for a member from the item chosen.
 */
class CatalogueViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    /** The member a job is opened for, when the screen was reached from a household. */
    private val memberId: String? = null,
) : ScreenModel<CatalogueState>(CatalogueState(), scope) {
    private val showError = { s: CatalogueState, message: String -> s.copy(opening = false, error = message) }

    /** Shows the items matching `query`, best first (all of them for an empty query). */
    fun search(query: String): Job = act(showError) {
        val found = repo.searchCatalogue(query)
        update { it.copy(query = query, results = found, error = null) }
    }

    /** Opens one item; its first allowed mode is chosen. */
    fun choose(item: ServiceItem) = update { it.copy(chosen = item, mode = item.modes.firstOrNull(), error = null) }

    /** Changes the job's mode, urgency or note. */
    fun edit(change: (CatalogueState) -> CatalogueState) = update { change(it).copy(error = null) }

    /** Opens the job for the member (the core checks the mode against the item). */
    fun open(): Job {
        update { it.copy(opening = true, error = null) }
        return act(showError) {
            val s = state.value
            val item = s.chosen
            when {
                item == null -> update(showError.curried("请先选择事项"))
                memberId == null -> update(showError.curried("请从户档案中选择办事的成员"))
                else -> {
                    val id = repo.openJob(NewJob(memberId, item.code, s.mode ?: item.modes.first(), s.urgency, s.note, null))
                    update { it.copy(opening = false, openedJobId = id) }
                }
            }
        }
    }
}
