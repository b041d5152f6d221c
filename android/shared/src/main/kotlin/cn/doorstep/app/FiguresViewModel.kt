package cn.doorstep.app

import cn.doorstep.core.Figures
import java.time.LocalDate
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The village's figures for this month (counted by the core, as the hub's console counts them). */
data class FiguresState(
    val from: LocalDate? = null,
    val to: LocalDate? = null,
    val figures: Figures? = null,
    val error: String? = null,
)

/** Reads a village's figures from the first of this month to today. */
class FiguresViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val villageId: String,
) : ScreenModel<FiguresState>(FiguresState(), scope) {

    /** Reads the figures again. */
    fun refresh(): Job = act({ s, message -> s.copy(error = message) }) {
        val today = repo.today()
        val from = repo.monthStart()
        val figures = repo.figures(villageId, from, today)
        update { FiguresState(from = from, to = today, figures = figures) }
    }
}
