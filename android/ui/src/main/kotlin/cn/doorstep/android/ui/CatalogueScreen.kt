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
import androidx.compose.material3.Card
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import cn.doorstep.app.CatalogueState
import cn.doorstep.app.CatalogueViewModel
import cn.doorstep.core.ServiceItem

/**
 * The service catalogue (事项清单): search by name or pinyin initials, read an item's materials,
 * time limit and modes, then tell the resident and open the job (告知并建件). [onOpened] gets
 * the new job's id.
 */
@Composable
fun CatalogueScreen(model: CatalogueViewModel, onBack: () -> Unit, onOpened: (jobId: String) -> Unit) {
    val state by model.state.collectAsState()
    // The text typed, shown at once; the holder's query follows when its search returns.
    var query by rememberSaveable { mutableStateOf("") }

    LaunchedEffect(state.openedJobId) {
        state.openedJobId?.let(onOpened)
    }

    Scaffold(topBar = { DoorstepTopBar("办理事项", onBack) }) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            val chosen = state.chosen
            if (chosen != null) {
                ItemDetails(chosen, state, model)
            } else {
                OutlinedTextField(
                    value = query,
                    onValueChange = { text ->
                        query = text
                        model.search(text)
                    },
                    label = { Text("搜索事项（名称或拼音首字母，如 ylrz）") },
                    singleLine = true,
                    modifier = Modifier.fillMaxWidth(),
                )
                ErrorText(state.error)
                if (state.results.isEmpty() && state.query.isNotEmpty()) Text("没有找到相符的事项")
                state.results.forEach { item ->
                    Card(onClick = { model.choose(item) }, modifier = Modifier.fillMaxWidth()) {
                        Column(Modifier.padding(12.dp)) {
                            Text(item.name, fontWeight = FontWeight.Bold)
                            Text(
                                "${item.category} · ${item.tier.label()} · ${item.timeLimitDays} 个工作日",
                                style = MaterialTheme.typography.bodySmall,
                            )
                        }
                    }
                }
            }
        }
    }
}

/** One item: what to bring, how long it takes, how it can be done; then the job's choices. */
@Composable
private fun ItemDetails(item: ServiceItem, state: CatalogueState, model: CatalogueViewModel) {
    Text(item.name, style = MaterialTheme.typography.titleLarge)
    Text("${item.category} · ${item.tier.label()}", style = MaterialTheme.typography.bodySmall)
    if (item.policyBasis.isNotBlank()) Text("依据：${item.policyBasis}", style = MaterialTheme.typography.bodySmall)
    TextButton(onClick = { model.edit { it.copy(chosen = null, mode = null) } }) { Text("换一个事项") }

    SectionTitle("所需材料")
    if (item.materials.isEmpty()) Text("无需材料")
    item.materials.forEach { material ->
        Text("· ${material.name}（${if (material.key) "要件" else "非要件"}）")
    }
    SectionTitle("办理时限")
    Text("${item.timeLimitDays} 个工作日")

    SectionTitle("办理方式")
    FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        item.modes.forEach { m ->
            FilterChip(
                selected = state.mode == m,
                onClick = { model.edit { it.copy(mode = m) } },
                label = { Text(m.label()) },
            )
        }
    }
    UrgencyChips(state.urgency, onSelect = { urgency -> model.edit { it.copy(urgency = urgency) } })
    NoteField(state.note, onValueChange = { text -> model.edit { it.copy(note = text) } })
    ErrorText(state.error)
    SubmitButton(state.opening, onClick = { model.open() }, label = "告知并建件", workingLabel = "正在建件…")
    Text("建件后接着受理：清点带来的材料，缺非要件可容缺受理。", style = MaterialTheme.typography.bodySmall)
}
