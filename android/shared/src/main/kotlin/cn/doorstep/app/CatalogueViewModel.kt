package cn.doorstep.app

import cn.doorstep.core.ServiceItem
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The service catalogue screen (事项清单): search, then one item's materials, time limit and modes. */
data class CatalogueState(
    val query: String = "",
    val results: List<ServiceItem> = emptyList(),
    val chosen: ServiceItem? = null,
    val error: String? = null,
)

/** Searches the catalogue by name or pinyin initials (the core's `searchCatalogue`). */
class CatalogueViewModel(private val repo: DoorstepRepository, scope: CoroutineScope) :
    ScreenModel<CatalogueState>(CatalogueState(), scope) {

    /** Shows the items matching `query`, best first (all of them for an empty query). */
    fun search(query: String): Job = act({ s, message -> s.copy(error = message) }) {
        val found = repo.searchCatalogue(query)
        update { it.copy(query = query, results = found, error = null) }
    }

    /** Opens one item. */
    fun choose(item: ServiceItem) = update { it.copy(chosen = item) }
}
