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
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilterChip
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
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import cn.doorstep.app.MemberFormViewModel
import cn.doorstep.core.MemberStatus

/**
 * Adds a member to a household or, when [editing], changes one and can mark them with another
 * status (已迁出, 已故…) after a confirmation. [onSaved] is called after each save.
 */
@Composable
fun MemberFormScreen(model: MemberFormViewModel, editing: Boolean, onBack: () -> Unit, onSaved: () -> Unit) {
    val state by model.state.collectAsState()
    var confirming by remember { mutableStateOf<MemberStatus?>(null) }

    LaunchedEffect(state.savedMemberId) {
        if (state.savedMemberId != null) onSaved()
    }

    Scaffold(topBar = { DoorstepTopBar(if (editing) "修改成员信息" else "添加成员", onBack) }) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            OutlinedTextField(
                value = state.form.name,
                onValueChange = { text -> model.edit { it.copy(name = text) } },
                label = { Text("姓名") },
                singleLine = true,
                modifier = Modifier.fillMaxWidth(),
            )
            CheckedTextField(
                state.form.idNumber,
                onValueChange = { text -> model.edit { it.copy(idNumber = text) } },
                label = "身份证号（可不填）",
                error = state.idNumberError,
            )
            CheckedTextField(
                state.form.phone,
                onValueChange = { text -> model.edit { it.copy(phone = text) } },
                label = "手机号（可不填）",
                error = state.phoneError,
                keyboardType = KeyboardType.Phone,
            )
            OutlinedTextField(
                value = state.form.relation,
                onValueChange = { text -> model.edit { it.copy(relation = text) } },
                label = { Text("与户主关系") },
                placeholder = { Text("例如 户主、配偶、孙子") },
                singleLine = true,
                modifier = Modifier.fillMaxWidth(),
            )
            Text("特殊群体")
            FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                state.tagChoices.forEach { tag ->
                    FilterChip(
                        selected = tag in state.form.tags,
                        onClick = {
                            model.edit { it.copy(tags = if (tag in it.tags) it.tags - tag else it.tags + tag) }
                        },
                        label = { Text(tag.label()) },
                    )
                }
            }
            NoticeText(state.notice)
            ErrorText(state.error)
            Button(
                onClick = { model.save() },
                enabled = !state.saving,
                modifier = Modifier.fillMaxWidth(),
            ) {
                Text(if (state.saving) "正在保存…" else "保存")
            }

            // Only a member already saved has a status to change.
            state.status?.let { current ->
                SectionTitle("成员状态：${current.label()}")
                FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    state.statusChoices.filter { it != current }.forEach { status ->
                        OutlinedButton(onClick = { confirming = status }) { Text("标记为${status.label()}") }
                    }
                }
            }
        }
    }

    confirming?.let { status ->
        AlertDialog(
            onDismissRequest = { confirming = null },
            title = { Text("标记为${status.label()}？") },
            text = { Text("${state.form.name.ifBlank { "该成员" }}将标记为“${status.label()}”，请核实后再确认。") },
            confirmButton = {
                TextButton(onClick = {
                    model.markStatus(status)
                    confirming = null
                }) { Text("确认") }
            },
            dismissButton = {
                TextButton(onClick = { confirming = null }) { Text("取消") }
            },
        )
    }
}
