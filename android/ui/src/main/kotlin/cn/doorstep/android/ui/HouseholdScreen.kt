@file:OptIn(ExperimentalMaterial3Api::class, ExperimentalLayoutApi::class)

package cn.doorstep.android.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
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
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.HorizontalDivider
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
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import cn.doorstep.app.HouseholdState
import cn.doorstep.app.HouseholdViewModel
import cn.doorstep.core.ConflictValue
import cn.doorstep.core.EntityKind
import cn.doorstep.core.FieldConflict
import cn.doorstep.core.JobRow
import cn.doorstep.core.JobStepKind
import cn.doorstep.core.LedgerRow
import cn.doorstep.core.Member
import cn.doorstep.core.NeedStatus
import cn.doorstep.core.Schedule
import cn.doorstep.core.Visit
import java.time.LocalDate

/**
 * A household's ledger (一户一档): conflicting edits to settle, members (tap one to edit, or
 * open a job for them from the catalogue), ledger lines with their due dates (a need's status
 * can be changed), jobs with their next steps, and visits.
 */
@Composable
fun HouseholdScreen(
    model: HouseholdViewModel,
    onBack: () -> Unit,
    onRecordVisit: (visitId: String?, purpose: String) -> Unit,
    onTakeStep: (jobId: String, step: JobStepKind) -> Unit,
    onEditHousehold: () -> Unit,
    onAddMember: () -> Unit,
    onEditMember: (memberId: String) -> Unit,
    onOpenCatalogue: (memberId: String) -> Unit,
    onAddLine: () -> Unit,
) {
    val state by model.state.collectAsState()
    val changed = rememberDataChanged()
    val today = rememberToday()

    // On arrival, on coming back from a visit or a job step, and after every background sync.
    LaunchedEffect(changed) { model.refresh() }

    Scaffold(topBar = { DoorstepTopBar(state.household?.address ?: "户档案", onBack) }) { padding ->
        LazyColumn(
            modifier = Modifier.fillMaxSize().padding(padding),
            contentPadding = PaddingValues(16.dp),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            item {
                Header(
                    state,
                    onRecordVisit = { onRecordVisit(null, "") },
                    onEditHousehold = onEditHousehold,
                    onAddMember = onAddMember,
                    onAddLine = onAddLine,
                )
            }

            if (state.conflicts.isNotEmpty()) {
                item { SectionTitle("两部手机改得不一样（${state.conflicts.size}）") }
                items(state.conflicts, key = { "conflict-${it.entity}-${it.entityId}-${it.field}" }) { conflict ->
                    ConflictCard(conflict, subject = subjectOf(conflict, state)) { value ->
                        model.chooseValue(conflict, value)
                    }
                }
            }

            item { SectionTitle("家庭成员（${state.members.size}）") }
            items(state.members, key = { "member-${it.id}" }) { member ->
                MemberRow(
                    member,
                    today,
                    onEdit = { onEditMember(member.id) },
                    onOpenCatalogue = { onOpenCatalogue(member.id) },
                )
            }

            item { SectionTitle("服务台账（${state.ledger.size}）") }
            items(state.ledger, key = { "line-${it.line.id}" }) { row ->
                LedgerCard(
                    row,
                    needStatusChoices = state.needStatusChoices,
                    onDone = { model.markReminderDone(row.line.id) },
                    onSetStatus = { status -> model.setNeedStatus(row.line.id, status) },
                )
            }

            item { SectionTitle("帮代办件（${state.jobs.size}）") }
            items(state.jobs, key = { "job-${it.details.job.id}" }) { row ->
                JobCard(row, onStep = { step -> onTakeStep(row.details.job.id, step) })
            }

            item { SectionTitle("走访记录（${state.visits.size}）") }
            items(state.visits, key = { "visit-${it.id}" }) { visit ->
                VisitCard(visit, onRecord = { onRecordVisit(visit.id, visit.purpose) })
            }
        }
    }
}

@Composable
private fun Header(
    state: HouseholdState,
    onRecordVisit: () -> Unit,
    onEditHousehold: () -> Unit,
    onAddMember: () -> Unit,
    onAddLine: () -> Unit,
) {
    Column(verticalArrangement = Arrangement.spacedBy(4.dp)) {
        state.household?.let { household ->
            Text(household.groupName, style = MaterialTheme.typography.titleMedium)
            household.phone?.let { Text("电话：$it") }
        }
        if (state.syncLine.isNotEmpty()) {
            Text(
                state.syncLine,
                style = MaterialTheme.typography.bodySmall,
                color = MaterialTheme.colorScheme.onSurfaceVariant,
            )
        }
        if (state.loading) LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
        NoticeText(state.notice)
        ErrorText(state.error)
        Button(onClick = onRecordVisit, modifier = Modifier.fillMaxWidth()) { Text("记录走访") }
        FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedButton(onClick = onAddMember) { Text("添加成员") }
            OutlinedButton(onClick = onAddLine) { Text("添加需求或提醒") }
            OutlinedButton(onClick = onEditHousehold, enabled = state.household != null) { Text("修改户信息") }
        }
    }
}

/** What a conflicting field belongs to, in words: "成员 张桂英", "办件 养老认证"… */
private fun subjectOf(conflict: FieldConflict, state: HouseholdState): String {
    val name = when (conflict.entity) {
        EntityKind.HOUSEHOLD -> state.household?.address
        EntityKind.MEMBER -> state.members.firstOrNull { it.id == conflict.entityId }?.name
        EntityKind.LEDGER_LINE -> state.ledger.firstOrNull { it.line.id == conflict.entityId }?.line?.title
        EntityKind.JOB -> state.jobs.firstOrNull { it.details.job.id == conflict.entityId }?.itemName
        EntityKind.VISIT -> state.visits.firstOrNull { it.id == conflict.entityId }?.purpose
    }
    return listOfNotNull(conflict.entity.label(), name).joinToString(" ")
}

@Composable
private fun ConflictCard(conflict: FieldConflict, subject: String, onChoose: (ConflictValue) -> Unit) {
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
            Text("$subject：${conflict.fieldLabel}", fontWeight = FontWeight.Bold)
            Text("请核实后选定一个值：", style = MaterialTheme.typography.bodySmall)
            conflict.values.forEachIndexed { index, value ->
                if (index > 0) HorizontalDivider()
                Row(verticalAlignment = Alignment.CenterVertically) {
                    Column(Modifier.weight(1f)) {
                        Text(value.value.ifEmpty { "（空）" })
                        val author = listOfNotNull(value.authorName, value.authorRole?.label()).joinToString("，")
                        val by = if (author.isEmpty()) "" else "由 $author 修改"
                        val current = if (value.current) "（当前显示）" else ""
                        if (by.isNotEmpty() || current.isNotEmpty()) {
                            Text(
                                by + current,
                                style = MaterialTheme.typography.bodySmall,
                                color = MaterialTheme.colorScheme.onSurfaceVariant,
                            )
                        }
                    }
                    TextButton(onClick = { onChoose(value) }) { Text("采用此值") }
                }
            }
        }
    }
}

@Composable
private fun MemberRow(member: Member, today: LocalDate, onEdit: () -> Unit, onOpenCatalogue: () -> Unit) {
    Row(Modifier.fillMaxWidth(), verticalAlignment = Alignment.CenterVertically) {
        Column(Modifier.weight(1f).clickable(onClick = onEdit).padding(vertical = 4.dp)) {
            Text(member.name, fontWeight = FontWeight.Bold)
            Text(member.describe(today), style = MaterialTheme.typography.bodySmall)
            member.phone?.let { Text("电话：$it", style = MaterialTheme.typography.bodySmall) }
        }
        TextButton(onClick = onOpenCatalogue) { Text("办理事项") }
    }
}

@Composable
private fun LedgerCard(
    row: LedgerRow,
    needStatusChoices: List<NeedStatus>,
    onDone: () -> Unit,
    onSetStatus: (NeedStatus) -> Unit,
) {
    val line = row.line
    val isReminder = remember(line) { line.isReminder() }
    val need = line.schedule as? Schedule.OneOff
    Card(Modifier.fillMaxWidth()) {
        Row(Modifier.padding(12.dp), verticalAlignment = Alignment.Top) {
            UrgencyDot(line.urgency, Modifier.padding(top = 6.dp))
            Column(Modifier.padding(start = 12.dp).weight(1f), verticalArrangement = Arrangement.spacedBy(2.dp)) {
                Text(line.title, fontWeight = FontWeight.Bold)
                Text("${row.memberName} · ${line.schedule.describe()} · ${line.urgency.label()}")
                row.nextDue?.let { due ->
                    Text(
                        if (row.dueNow) "已到期：$due" else "下次：$due",
                        color = if (row.dueNow) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurface,
                    )
                }
                line.lastDone?.let { Text("上次完成：$it", style = MaterialTheme.typography.bodySmall) }
                if (line.note.isNotBlank()) Text(line.note, style = MaterialTheme.typography.bodySmall)
                if (isReminder && row.nextDue != null) {
                    OutlinedButton(onClick = onDone) { Text("今天已完成") }
                }
                if (need != null) NeedStatusMenu(need.status, needStatusChoices, onSetStatus)
            }
        }
    }
}

/** A need's status with a menu of the others to change it to (已办结 closes it: 销号). */
@Composable
private fun NeedStatusMenu(current: NeedStatus, choices: List<NeedStatus>, onChoose: (NeedStatus) -> Unit) {
    var open by remember { mutableStateOf(false) }
    Box {
        OutlinedButton(onClick = { open = true }) { Text("改状态（现为${current.label()}）") }
        DropdownMenu(expanded = open, onDismissRequest = { open = false }) {
            choices.filter { it != current }.forEach { status ->
                DropdownMenuItem(
                    text = { Text(status.label()) },
                    onClick = {
                        open = false
                        onChoose(status)
                    },
                )
            }
        }
    }
}

@Composable
private fun JobCard(row: JobRow, onStep: (JobStepKind) -> Unit) {
    val job = row.details.job
    val progress = row.details.progress
    Card(Modifier.fillMaxWidth()) {
        Row(Modifier.padding(12.dp), verticalAlignment = Alignment.Top) {
            UrgencyDot(job.urgency, Modifier.padding(top = 6.dp))
            Column(Modifier.padding(start = 12.dp).weight(1f), verticalArrangement = Arrangement.spacedBy(2.dp)) {
                Row {
                    Text(row.itemName, fontWeight = FontWeight.Bold, modifier = Modifier.weight(1f))
                    Text(progress.state.label(), color = MaterialTheme.colorScheme.primary)
                }
                Text("${row.memberName} · ${job.mode.label()}")
                progress.promisedDue?.let { Text("承诺办结：$it") }
                if (progress.missingMaterials.isNotEmpty()) {
                    val deadline = progress.supplementDeadline?.let { "，$it 前补齐" } ?: ""
                    Text("待补材料：${progress.missingMaterials.joinToString("、")}$deadline")
                }
                progress.rescheduleTo?.let { Text("改约上门：$it") }
                progress.carrier?.let { Text("带件人：$it") }
                progress.rating?.let { Text("评价：${it.label()}") }
                progress.reason?.let { Text("原因：$it") }
                if (job.note.isNotBlank()) Text(job.note, style = MaterialTheme.typography.bodySmall)
                progress.conflicts.forEach { Text(it.message, color = MaterialTheme.colorScheme.error) }
                if (row.nextSteps.isNotEmpty()) {
                    FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                        row.nextSteps.forEach { step ->
                            OutlinedButton(onClick = { onStep(step) }) { Text(step.label()) }
                        }
                    }
                }
            }
        }
    }
}

@Composable
private fun VisitCard(visit: Visit, onRecord: () -> Unit) {
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(2.dp)) {
            val doneAt = visit.doneAt
            if (doneAt != null) {
                val outcome = visit.outcome?.label()?.let { " · $it" } ?: ""
                Text("${doneAt.townTime()}$outcome", fontWeight = FontWeight.Bold)
            } else {
                Text("计划走访" + (visit.plannedFor?.let { "：$it" } ?: ""), fontWeight = FontWeight.Bold)
            }
            Text(visit.purpose)
            if (visit.notes.isNotBlank()) Text(visit.notes, style = MaterialTheme.typography.bodySmall)
            visit.visitor?.let { Text("走访人：$it", style = MaterialTheme.typography.bodySmall) }
            if (doneAt == null) {
                OutlinedButton(onClick = onRecord) { Text("记录这次走访") }
            }
        }
    }
}
