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
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import cn.doorstep.app.HouseholdFormViewModel

/**
 * Registers a household (village, 组, address, phone) or, when [editing], changes one (the
 * village stays). [onSaved] gets the household's id once it is saved.
 */
@Composable
fun HouseholdFormScreen(model: HouseholdFormViewModel, editing: Boolean, onBack: () -> Unit, onSaved: (householdId: String) -> Unit) {
    val state by model.state.collectAsState()

    LaunchedEffect(state.savedHouseholdId) {
        state.savedHouseholdId?.let(onSaved)
    }

    Scaffold(topBar = { DoorstepTopBar(if (editing) "修改户信息" else "登记新户", onBack) }) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            if (!editing) {
                Text("所在村")
                if (state.villages.isEmpty()) Text("本机还没有登记所在的村，请先同步")
                FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    state.villages.forEach { village ->
                        FilterChip(
                            selected = state.form.villageId == village,
                            onClick = { model.edit { it.copy(villageId = village) } },
                            label = { Text(village) },
                        )
                    }
                }
            }
            OutlinedTextField(
                value = state.form.groupName,
                onValueChange = { text -> model.edit { it.copy(groupName = text) } },
                label = { Text("组") },
                placeholder = { Text("例如 三组") },
                singleLine = true,
                modifier = Modifier.fillMaxWidth(),
            )
            OutlinedTextField(
                value = state.form.address,
                onValueChange = { text -> model.edit { it.copy(address = text) } },
                label = { Text("住址") },
                singleLine = true,
                modifier = Modifier.fillMaxWidth(),
            )
            CheckedTextField(
                state.form.phone,
                onValueChange = { text -> model.edit { it.copy(phone = text) } },
                label = "联系电话（可不填）",
                error = state.phoneError,
                keyboardType = KeyboardType.Phone,
            )
            ErrorText(state.error)
            SubmitButton(state.saving, onClick = { model.save() })
            Text("保存在本机，有网络时自动同步。")
        }
    }
}
