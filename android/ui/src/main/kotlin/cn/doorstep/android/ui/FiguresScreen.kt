@file:OptIn(ExperimentalMaterial3Api::class)

package cn.doorstep.android.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import cn.doorstep.app.DoorstepRepository
import cn.doorstep.app.FiguresState
import cn.doorstep.app.FiguresViewModel
import cn.doorstep.app.userMessage
import cn.doorstep.core.Figures
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

/** This month's figures for the user's village, counted by the core as the hub's console counts them. */
@Composable
fun FiguresScreen(holder: FiguresHolder, onBack: () -> Unit) {
    val model by holder.screen.collectAsState()
    val problem by holder.error.collectAsState()

    Scaffold(
        topBar = {
            DoorstepTopBar("本月统计", onBack) {
                TextButton(onClick = { model?.refresh() }) { Text("刷新") }
            }
        },
    ) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(4.dp),
        ) {
            ErrorText(problem)
            val current = model
            if (current != null) {
                FiguresContent(current)
            } else if (problem == null) {
                LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
            }
        }
    }
}

@Composable
private fun FiguresContent(model: FiguresViewModel) {
    val state: FiguresState by model.state.collectAsState()
    val changed = rememberDataChanged()

    // On arrival and after every background sync.
    LaunchedEffect(model, changed) { model.refresh() }

    ErrorText(state.error)
    if (state.from != null && state.to != null) {
        Text("${state.from} 至 ${state.to}", style = MaterialTheme.typography.titleMedium)
    }
    val figures = state.figures
    if (figures == null) {
        if (state.error == null) LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
    } else {
        FigureLines(figures)
    }
}

@Composable
private fun FigureLines(f: Figures) {
    // The names are the core's (figures::DEFINITIONS), as on the hub's console.
    SectionTitle("办件")
    Figure("告知建件", "${f.jobsOpened} 件")
    Figure("特殊群体需求响应率", "${f.specialNeedsResponded} / ${f.specialNeeds}（${percent(f.responseRate)}）")
    Figure("承诺办结率", "${f.completedOnTime} / ${f.jobsCompleted}（${percent(f.onTimeRate)}）")
    Figure("平均办理时长", f.averageHandlingHours?.let { "%.1f 小时".format(it) } ?: "—")

    SectionTitle("群众满意度")
    Figure("满意度", "${percent(f.satisfactionRate)}（已评价 ${f.jobsRated} 件）")
    Figure("好评 / 中评 / 差评", "${f.ratedGood} / ${f.ratedAverage} / ${f.ratedBad}")

    SectionTitle("走访与需求")
    Figure("走访次数", "${f.visitsDone} 次")
    Figure("需求登记 / 销号", "${f.needsRaised} / ${f.needsClosed} 项")

    if (f.jobsByItem.isNotEmpty()) {
        SectionTitle("按事项")
        f.jobsByItem.forEach { Figure(it.itemName, "${it.jobs} 件") }
    }
    if (f.jobsByMode.isNotEmpty()) {
        SectionTitle("按办理方式")
        f.jobsByMode.forEach { Figure(it.mode.label(), "${it.jobs} 件") }
    }
}

/** One figure: what it counts on the left, the count on the right. */
@Composable
private fun Figure(label: String, value: String) {
    Row(Modifier.fillMaxWidth().padding(vertical = 2.dp)) {
        Text(label, modifier = Modifier.weight(1f))
        Text(value)
    }
}

/** A rate as a percentage, or a dash when there was nothing to count. */
private fun percent(rate: Double?): String = rate?.let { "%.0f%%".format(it * 100) } ?: "—"

/**
 * Makes the figures screen's [FiguresViewModel] once the signed-in user's village is read (the
 * holder needs it up front), in [scope].
 */
class FiguresHolder(repo: DoorstepRepository, scope: CoroutineScope) {
    private val holder = MutableStateFlow<FiguresViewModel?>(null)
    private val problem = MutableStateFlow<String?>(null)

    /** The screen's state holder, null until the user's village is known. */
    val screen: StateFlow<FiguresViewModel?> = holder.asStateFlow()

    /** Why there is no state holder (no user or village, or the store failed). */
    val error: StateFlow<String?> = problem.asStateFlow()

    init {
        scope.launch {
            try {
                val village = repo.currentUser()?.regionIds?.firstOrNull()
                if (village == null) {
                    problem.value = "本机还没有登记所在的村，请先同步"
                } else {
                    holder.value = FiguresViewModel(repo, scope, village)
                }
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                problem.value = e.userMessage()
            }
        }
    }
}
