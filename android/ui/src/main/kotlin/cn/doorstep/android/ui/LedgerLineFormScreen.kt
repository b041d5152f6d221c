@file:OptIn(ExperimentalMaterial3Api::class, ExperimentalLayoutApi::class)

package cn.doorstep.android.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ExperimentalLayoutApi
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilterChip
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import cn.doorstep.app.LedgerLineFormViewModel
import cn.doorstep.core.Schedule
import cn.doorstep.core.ScheduleKind

/**
 * Adds a need (一次性需求, with an optional due date) or a reminder (every N days, yearly) to a
 * household's ledger; [onSaved] once it is saved.
 */
@Composable
fun LedgerLineFormScreen(model: LedgerLineFormViewModel, onBack: () -> Unit, onSaved: () -> Unit) {
    val state by model.state.collectAsState()
    val form = state.form

    LaunchedEffect(state.savedLineId) {
        if (state.savedLineId != null) onSaved()
    }

    Scaffold(topBar = { DoorstepTopBar("添加需求或提醒", onBack) }) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            Text("哪位成员")
            if (state.members.isEmpty()) Text("本户没有在册成员，请先添加成员")
            FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                state.members.forEach { member ->
                    FilterChip(
                        selected = form.memberId == member.id,
                        onClick = { model.edit { it.copy(memberId = member.id) } },
                        label = { Text(member.name) },
                    )
                }
            }
            OutlinedTextField(
                value = form.title,
                onValueChange = { text -> model.edit { it.copy(title = text) } },
                label = { Text("事项") },
                placeholder = { Text("例如 轮椅申领、降压药更换") },
                singleLine = true,
                modifier = Modifier.fillMaxWidth(),
            )
            Text("类型")
            FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                state.kindChoices.forEach { kind ->
                    FilterChip(
                        selected = form.schedule.kind() == kind,
                        onClick = { model.chooseKind(kind) },
                        label = { Text(kind.label()) },
                    )
                }
            }
            ScheduleFields(form.schedule, model)
            UrgencyChips(
                form.urgency,
                onSelect = { urgency -> model.edit { it.copy(urgency = urgency) } },
                choices = state.urgencyChoices,
            )
            NoteField(form.note, onValueChange = { text -> model.edit { it.copy(note = text) } })
            ErrorText(state.error)
            SubmitButton(state.saving, onClick = { model.save() })
            Text("保存在本机，有网络时自动同步。")
        }
    }
}

/** The inputs of the chosen kind: a due date, an interval and first date, or a day of the year. */
@Composable
private fun ScheduleFields(schedule: Schedule, model: LedgerLineFormViewModel) {
    when (schedule) {
        is Schedule.OneOff -> Row {
            DateField(
                label = "期限（可不填）",
                date = schedule.due,
                onPick = { date -> model.editSchedule<Schedule.OneOff> { it.copy(due = date) } },
                modifier = Modifier.weight(1f),
            )
            if (schedule.due != null) {
                TextButton(onClick = { model.editSchedule<Schedule.OneOff> { it.copy(due = null) } }) { Text("不设期限") }
            }
        }
        is Schedule.EveryNDays -> Column(verticalArrangement = Arrangement.spacedBy(12.dp)) {
            NumberField("每隔几天", schedule.days) { n -> model.editSchedule<Schedule.EveryNDays> { it.copy(days = n) } }
            DateField(
                label = "第一次",
                date = schedule.firstDue,
                onPick = { date -> model.editSchedule<Schedule.EveryNDays> { it.copy(firstDue = date) } },
            )
        }
        is Schedule.Yearly -> Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
            NumberField("月", schedule.month, Modifier.weight(1f)) { n ->
                model.editSchedule<Schedule.Yearly> { it.copy(month = n) }
            }
            NumberField("日", schedule.day, Modifier.weight(1f)) { n ->
                model.editSchedule<Schedule.Yearly> { it.copy(day = n) }
            }
        }
    }
}

/** A field for a small whole number; empty shows as 0 to the core, which then says what is wrong. */
@Composable
private fun NumberField(label: String, value: UInt, modifier: Modifier = Modifier, onChange: (UInt) -> Unit) {
    OutlinedTextField(
        value = if (value == 0u) "" else value.toString(),
        onValueChange = { text -> onChange(text.filter { it.isDigit() }.take(4).toUIntOrNull() ?: 0u) },
        label = { Text(label) },
        keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Number),
        singleLine = true,
        modifier = modifier.fillMaxWidth(),
    )
}

/** Changes the form's schedule when it is still of kind [T] (the kind may have changed meanwhile). */
private inline fun <reified T : Schedule> LedgerLineFormViewModel.editSchedule(crossinline change: (T) -> Schedule) =
    edit { form -> (form.schedule as? T)?.let { form.copy(schedule = change(it)) } ?: form }

/** The kind of a schedule, to show which kind chip is selected. */
private fun Schedule.kind(): ScheduleKind = when (this) {
    is Schedule.OneOff -> ScheduleKind.ONE_OFF
    is Schedule.EveryNDays -> ScheduleKind.EVERY_N_DAYS
    is Schedule.Yearly -> ScheduleKind.YEARLY
}
