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
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Checkbox
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilterChip
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import cn.doorstep.app.JobStepState
import cn.doorstep.app.JobStepViewModel
import cn.doorstep.core.Rating
import cn.doorstep.core.StepFieldKind

/** Takes a job's next step: pick the step, fill in what it asks for, confirm. */
@Composable
fun JobStepScreen(model: JobStepViewModel, onBack: () -> Unit) {
    val state by model.state.collectAsState()
    val platform = LocalDoorstep.current.platform

    Scaffold(topBar = { DoorstepTopBar(state.itemName.ifEmpty { "办件" }, onBack) }) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            if (state.loading) LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
            if (state.stateLabel.isNotEmpty()) Text("当前状态：${state.stateLabel}", style = MaterialTheme.typography.titleMedium)
            state.taken?.let { NoticeText("已记录“${it.label()}”，有网络时自动同步") }

            if (state.job != null && state.steps.isEmpty()) {
                Text("这件事目前没有您可以办理的步骤。")
            }
            if (state.steps.isNotEmpty()) {
                Text("下一步")
                FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    state.steps.forEach { step ->
                        FilterChip(
                            selected = state.chosen == step,
                            onClick = { model.choose(step) },
                            label = { Text(step.label()) },
                        )
                    }
                }
            }

            state.chosen?.let { kind ->
                HorizontalDivider()
                StepForm(state, model)
                Button(
                    onClick = { model.submit(platform.lastKnownLocation()) },
                    enabled = !state.working,
                    modifier = Modifier.fillMaxWidth(),
                ) {
                    Text(if (state.working) "正在记录…" else "确认：${kind.label()}")
                }
            }
            ErrorText(state.error)
        }
    }
}

/** The inputs of the chosen step's form, as the core describes them (labels, choices). */
@Composable
private fun StepForm(state: JobStepState, model: JobStepViewModel) {
    val input = state.input
    state.form?.fields?.forEach { field ->
        val label = if (field.required) field.label else "${field.label}（可不填）"
        when (field.kind) {
            StepFieldKind.TEXT -> OutlinedTextField(
                value = input.text,
                onValueChange = { text -> model.edit { it.copy(text = text) } },
                label = { Text(label) },
                minLines = 2,
                modifier = Modifier.fillMaxWidth(),
            )
            StepFieldKind.MATERIALS -> Column {
                Text(label)
                if (field.choices.isEmpty()) {
                    Text("没有可勾选的材料", style = MaterialTheme.typography.bodySmall)
                }
                field.choices.forEach { material ->
                    val checked = material in input.materials
                    Row(verticalAlignment = Alignment.CenterVertically) {
                        Checkbox(
                            checked = checked,
                            onCheckedChange = { on ->
                                model.edit {
                                    it.copy(materials = if (on) it.materials + material else it.materials - material)
                                }
                            },
                        )
                        Text(material)
                    }
                }
            }
            StepFieldKind.DATE -> DateField(
                label = label,
                date = input.date,
                onPick = { date -> model.edit { it.copy(date = date) } },
            )
            StepFieldKind.RATING -> Column {
                Text(label)
                FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    Rating.entries.forEach { rating ->
                        FilterChip(
                            selected = input.rating == rating,
                            onClick = { model.edit { it.copy(rating = rating) } },
                            label = { Text(rating.label()) },
                        )
                    }
                }
            }
        }
    }
}
