@file:OptIn(ExperimentalMaterial3Api::class)

package cn.doorstep.android.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.Checkbox
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import cn.doorstep.app.HandUpViewModel
import cn.doorstep.core.JobSummary

/**
 * The duty day's hand-up (转办): the village's jobs waiting to go to the town, by village
 * group; tick them (or a whole group), say who carries them, hand them up at once.
 */
@Composable
fun HandUpScreen(model: HandUpViewModel, onBack: () -> Unit) {
    val state by model.state.collectAsState()

    Scaffold(
        topBar = {
            DoorstepTopBar("转办", onBack) {
                TextButton(onClick = { model.refresh() }) { Text("刷新") }
            }
        },
    ) { padding ->
        LazyColumn(
            modifier = Modifier.fillMaxSize().padding(padding),
            contentPadding = PaddingValues(16.dp),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            item {
                Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
                    if (state.loading) LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
                    OutlinedTextField(
                        value = state.carrier,
                        onValueChange = { model.editCarrier(it) },
                        label = { Text("带件人") },
                        singleLine = true,
                        modifier = Modifier.fillMaxWidth(),
                    )
                    Button(onClick = { model.handUp() }, modifier = Modifier.fillMaxWidth()) {
                        Text("转办已勾选的 ${state.selected.size} 件")
                    }
                    NoticeText(state.notice)
                    ErrorText(state.error)
                    if (!state.loading && state.groups.isEmpty()) Text("没有等待转办的办件。")
                }
            }
            // Group names may repeat across villages: the key is the position.
            state.groups.forEachIndexed { index, group ->
                item(key = "group-$index") {
                    // On one baseline: centred, the button stood higher than the title (screenshot).
                    Row {
                        SectionTitle("${group.groupName}（${group.jobs.size}）", Modifier.weight(1f).alignByBaseline())
                        TextButton(onClick = { model.selectGroup(group.groupName) }, modifier = Modifier.alignByBaseline()) {
                            Text("全选本组")
                        }
                    }
                }
                items(group.jobs, key = { "job-${it.jobId}" }) { job ->
                    HandUpRow(job, checked = job.jobId in state.selected, onToggle = { model.toggle(job.jobId) })
                }
            }
        }
    }
}

@Composable
private fun HandUpRow(job: JobSummary, checked: Boolean, onToggle: () -> Unit) {
    Row(Modifier.fillMaxWidth().clickable(onClick = onToggle), verticalAlignment = Alignment.CenterVertically) {
        Checkbox(checked = checked, onCheckedChange = { onToggle() })
        UrgencyDot(job.urgency)
        Column(Modifier.padding(start = 12.dp).weight(1f)) {
            Text(job.itemName, fontWeight = FontWeight.Bold)
            Text(
                "${job.memberName} · ${job.state.label()}" + (job.promisedDue?.let { " · 承诺办结 $it" } ?: ""),
                style = MaterialTheme.typography.bodySmall,
            )
        }
    }
}
