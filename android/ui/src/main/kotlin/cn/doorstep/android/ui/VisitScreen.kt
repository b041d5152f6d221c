@file:OptIn(ExperimentalMaterial3Api::class, ExperimentalLayoutApi::class)

package cn.doorstep.android.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ExperimentalLayoutApi
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilterChip
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import cn.doorstep.app.VisitViewModel

/** Records a visit to the household: purpose, outcome, notes. */
@Composable
fun VisitScreen(model: VisitViewModel, onBack: () -> Unit, onSaved: () -> Unit) {
    val state by model.state.collectAsState()
    val platform = LocalDoorstep.current.platform

    LaunchedEffect(state.savedVisitId) {
        if (state.savedVisitId != null) onSaved()
    }

    Scaffold(topBar = { DoorstepTopBar("记录走访", onBack) }) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            OutlinedTextField(
                value = state.form.purpose,
                onValueChange = { text -> model.edit { it.copy(purpose = text) } },
                label = { Text("走访事由") },
                placeholder = { Text("例如 季度走访、送药提醒") },
                singleLine = true,
                modifier = Modifier.fillMaxWidth(),
            )
            Text("走访结果")
            FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                state.outcomes.forEach { outcome ->
                    FilterChip(
                        selected = state.form.outcome == outcome,
                        onClick = { model.edit { it.copy(outcome = outcome) } },
                        label = { Text(outcome.label()) },
                    )
                }
            }
            OutlinedTextField(
                value = state.form.notes,
                onValueChange = { text -> model.edit { it.copy(notes = text) } },
                label = { Text("走访情况（发现的需求、群众意见等）") },
                minLines = 4,
                modifier = Modifier.fillMaxWidth(),
            )
            ErrorText(state.error)
            Button(
                onClick = { model.save(platform.lastKnownLocation()) },
                enabled = !state.saving,
                modifier = Modifier.fillMaxWidth(),
            ) {
                Text(if (state.saving) "正在保存…" else "保存")
            }
            Text("保存在本机，有网络时自动同步。")
        }
    }
}
