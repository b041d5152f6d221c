package cn.doorstep.app

import cn.doorstep.core.WorkItem
import java.time.LocalDate
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The "today's work" screen: what is overdue and what is due today, most urgent first. */
data class TodayState(
    val date: LocalDate? = null,
    val loading: Boolean = false,
    val overdue: List<WorkItem> = emptyList(),
    val dueToday: List<WorkItem> = emptyList(),
    val error: String? = null,
) {
    /** Nothing to do today (after loading). */
    val allDone: Boolean get() = date != null && !loading && overdue.isEmpty() && dueToday.isEmpty()

    /** The screen's headline, for example "今天 2026-11-22：逾期 3 项，今日 5 项". */
    val headline: String
        get() = when {
            date == null -> "正在读取今天的工作…"
            allDone -> "今天 $date：没有待办事项"
            else -> "今天 $date：逾期 ${overdue.size} 项，今日 ${dueToday.size} 项"
        }
}

/** Loads today's work from the store; refreshed on opening and after every sync or edit. */
class TodayViewModel(private val repo: DoorstepRepository, scope: CoroutineScope) :
    ScreenModel<TodayState>(TodayState(), scope) {

    /** Reads today's work again. */
    fun refresh(): Job {
        update { it.copy(loading = true, error = null) }
        return act({ s, message -> s.copy(loading = false, error = message) }) {
            val items = repo.todayWork()
            val (overdue, today) = items.partition { it.daysOverdue > 0 }
            update {
                TodayState(date = repo.today(), loading = false, overdue = overdue, dueToday = today)
            }
        }
    }
}
