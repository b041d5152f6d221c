@file:OptIn(ExperimentalMaterial3Api::class)

package cn.doorstep.android.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Card
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import cn.doorstep.app.DeliveriesViewModel
import cn.doorstep.core.JobSummary
import java.time.LocalDate

/**
 * Results to take to the residents' doors (送达): record each as signed for or nobody home;
 * tap a job for its other steps (评价, 销号).
 */
@Composable
fun DeliveriesScreen(model: DeliveriesViewModel, onBack: () -> Unit, onOpenJob: (jobId: String) -> Unit) {
    val state by model.state.collectAsState()
    val changed = rememberDataChanged()
    var signing by remember { mutableStateOf<JobSummary?>(null) }
    var postponing by remember { mutableStateOf<JobSummary?>(null) }

    // On arrival, on coming back from a job, and after every background sync.
    LaunchedEffect(changed) { model.refresh() }

    Scaffold(
        topBar = {
            DoorstepTopBar("送达", onBack) {
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
                Column {
                    if (state.loading) LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
                    NoticeText(state.notice)
                    ErrorText(state.error)
                    if (!state.loading && state.jobs.isEmpty()) Text("没有等待送达的办件。")
                }
            }
            items(state.jobs, key = { it.jobId }) { job ->
                DeliveryCard(
                    job,
                    onOpen = { onOpenJob(job.jobId) },
                    onSigned = { signing = job },
                    onNobodyHome = { postponing = job },
                )
            }
        }
    }

    signing?.let { job -> SignedDialog(job, onDismiss = { signing = null }) { name -> model.delivered(job.jobId, name) } }
    postponing?.let { job ->
        NobodyHomeDialog(job, onDismiss = { postponing = null }) { date -> model.nobodyHome(job.jobId, date) }
    }
}

@Composable
private fun DeliveryCard(job: JobSummary, onOpen: () -> Unit, onSigned: () -> Unit, onNobodyHome: () -> Unit) {
    Card(onClick = onOpen, modifier = Modifier.fillMaxWidth()) {
        Row(Modifier.padding(12.dp), verticalAlignment = Alignment.Top) {
            UrgencyDot(job.urgency, Modifier.padding(top = 6.dp))
            Column(Modifier.padding(start = 12.dp).weight(1f), verticalArrangement = Arrangement.spacedBy(2.dp)) {
                Row {
                    Text(job.itemName, fontWeight = FontWeight.Bold, modifier = Modifier.weight(1f))
                    Text(job.state.label(), color = MaterialTheme.colorScheme.primary)
                }
                Text("${job.memberName} · ${job.groupName}")
                job.promisedDue?.let { Text("承诺办结：$it", style = MaterialTheme.typography.bodySmall) }
                Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    OutlinedButton(onClick = onSigned) { Text("已签收") }
                    OutlinedButton(onClick = onNobodyHome) { Text("无人在家") }
                }
            }
        }
    }
}

/** Asks who signed for the result. */
@Composable
private fun SignedDialog(job: JobSummary, onDismiss: () -> Unit, onConfirm: (String) -> Unit) {
    var name by remember { mutableStateOf(job.memberName) }
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text("${job.itemName}：已签收") },
        text = {
            OutlinedTextField(
                value = name,
                onValueChange = { name = it },
                label = { Text("签收人") },
                singleLine = true,
            )
        },
        confirmButton = {
            TextButton(onClick = {
                onConfirm(name)
                onDismiss()
            }) { Text("确定") }
        },
        dismissButton = { TextButton(onClick = onDismiss) { Text("取消") } },
    )
}

/** Asks when to come again. */
@Composable
private fun NobodyHomeDialog(job: JobSummary, onDismiss: () -> Unit, onConfirm: (LocalDate) -> Unit) {
    var date by remember { mutableStateOf<LocalDate?>(null) }
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text("${job.itemName}：无人在家") },
        text = { DateField("改约日期", date, onPick = { date = it }) },
        confirmButton = {
            TextButton(
                onClick = {
                    date?.let(onConfirm)
                    onDismiss()
                },
                enabled = date != null,
            ) { Text("确定") }
        },
        dismissButton = { TextButton(onClick = onDismiss) { Text("取消") } },
    )
}
