@file:OptIn(ExperimentalMaterial3Api::class, ExperimentalLayoutApi::class)

package cn.doorstep.android.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ExperimentalLayoutApi
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Card
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import cn.doorstep.app.TodayViewModel
import cn.doorstep.core.WorkItem
import cn.doorstep.core.WorkKind

/**
 * Today's work: what is overdue and what is due today, most urgent first; tap for the household.
 * Above it, the day's other work: registering a household, handing up (转办), deliveries (送达)
 * and this month's figures.
 */
@Composable
fun TodayScreen(
    model: TodayViewModel,
    onOpenHousehold: (String) -> Unit,
    onSync: () -> Unit,
    onNewHousehold: () -> Unit,
    onHandUp: () -> Unit,
    onDeliveries: () -> Unit,
    onFigures: () -> Unit,
    onFindPeople: () -> Unit,
) {
    val state by model.state.collectAsState()
    val changed = rememberDataChanged()

    // On arrival, on coming back from a household, and after every background sync.
    LaunchedEffect(changed) { model.refresh() }
    // Visits and job steps record where they happened, if the agent allows it.
    val platform = LocalDoorstep.current.platform
    LaunchedEffect(Unit) { platform.askForLocationOnce() }

    Scaffold(
        topBar = {
            DoorstepTopBar("今日工作") {
                TextButton(onClick = { model.refresh() }) { Text("刷新") }
                TextButton(onClick = onSync) { Text("同步") }
            }
        },
    ) { padding ->
        LazyColumn(
            modifier = Modifier.fillMaxSize().padding(padding),
            contentPadding = PaddingValues(16.dp),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            item {
                Column {
                    Text(state.headline, style = MaterialTheme.typography.titleMedium)
                    if (state.loading) LinearProgressIndicator(modifier = Modifier.fillMaxWidth().padding(top = 8.dp))
                    ErrorText(state.error)
                    if (state.allDone) Text("今天没有逾期或到期的事项。新的台账和办件会在同步后出现。")
                    FlowRow(
                        horizontalArrangement = Arrangement.spacedBy(8.dp),
                        modifier = Modifier.padding(top = 8.dp),
                    ) {
                        OutlinedButton(onClick = onNewHousehold) { Text("登记新户") }
                        OutlinedButton(onClick = onHandUp) { Text("转办") }
                        OutlinedButton(onClick = onDeliveries) { Text("送达") }
                        OutlinedButton(onClick = onFigures) { Text("本月统计") }
                        OutlinedButton(onClick = onFindPeople) { Text("找人") }
                    }
                }
            }
            if (state.overdue.isNotEmpty()) {
                item { SectionTitle("逾期（${state.overdue.size}）") }
                items(state.overdue, key = { "overdue-${it.kind}-${it.id}" }) { item ->
                    WorkItemCard(item, onClick = { onOpenHousehold(item.householdId) })
                }
            }
            if (state.dueToday.isNotEmpty()) {
                item { SectionTitle("今日（${state.dueToday.size}）") }
                items(state.dueToday, key = { "today-${it.kind}-${it.id}" }) { item ->
                    WorkItemCard(item, onClick = { onOpenHousehold(item.householdId) })
                }
            }
        }
    }
}

/** One job or ledger line due: urgency colour, what, who, where, when. */
@Composable
private fun WorkItemCard(item: WorkItem, onClick: () -> Unit) {
    Card(onClick = onClick, modifier = Modifier.fillMaxWidth()) {
        Row(Modifier.padding(12.dp), verticalAlignment = Alignment.Top) {
            UrgencyDot(item.urgency, Modifier.padding(top = 6.dp))
            Column(Modifier.padding(start = 12.dp).weight(1f)) {
                Row {
                    Text(item.title, fontWeight = FontWeight.Bold, modifier = Modifier.weight(1f))
                    Text(item.urgency.label(), color = urgencyColor(item.urgency))
                }
                Text("${item.memberName} · ${item.address}")
                Text("${kindLabel(item.kind)} · ${item.status}")
                // On a line of its own: beside the kind, "逾期 328 天（应于 2026-01-09）" left the
                // kind one character wide on a phone (seen in the 360 dp screenshot).
                Text(
                    item.dueText(),
                    color = if (item.daysOverdue > 0) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurface,
                )
            }
        }
    }
}

private fun kindLabel(kind: WorkKind): String = when (kind) {
    WorkKind.JOB -> "办件"
    WorkKind.REMINDER -> "提醒"
    WorkKind.NEED -> "需求"
}
