@file:OptIn(ExperimentalMaterial3Api::class, ExperimentalLayoutApi::class)

package cn.doorstep.android.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ExperimentalLayoutApi
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import cn.doorstep.app.FindPeopleViewModel

/**
 * Finding people: by Chinese name, identity-number tail or phone tail, or the village's
 * roster by special-group tag; tapping a person opens their household.
 */
@Composable
fun FindPeopleScreen(model: FindPeopleViewModel, onBack: () -> Unit, onOpenHousehold: (String) -> Unit) {
    val state by model.state.collectAsState()
    var typed by remember { mutableStateOf(state.query) }

    Scaffold(topBar = { DoorstepTopBar("找人", onBack) }) { padding ->
        LazyColumn(
            modifier = Modifier.fillMaxSize().padding(padding),
            contentPadding = PaddingValues(16.dp),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            item {
                Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
                    OutlinedTextField(
                        value = typed,
                        onValueChange = { text ->
                            typed = text
                            model.search(text)
                        },
                        label = { Text("姓名、身份证号或手机号后几位") },
                        singleLine = true,
                        modifier = Modifier.fillMaxWidth(),
                    )
                    ErrorText(state.error)
                }
            }
            items(state.hits, key = { "hit-${it.memberId}" }) { hit ->
                PersonRow(
                    name = hit.name,
                    line = listOfNotNull(hit.idNumberMasked, hit.phone, hit.address).joinToString(" · "),
                    onClick = { onOpenHousehold(hit.householdId) },
                )
            }
            item {
                Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
                    SectionTitle("按特殊群体查看花名册")
                    FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                        state.tagChoices.forEach { tag ->
                            FilterChip(
                                selected = tag in state.tags,
                                onClick = { model.toggleTag(tag) },
                                label = { Text(tag.label()) },
                            )
                        }
                    }
                }
            }
            items(state.roster, key = { "roster-${it.memberId}" }) { entry ->
                PersonRow(
                    name = entry.name,
                    line = listOf(entry.groupName, entry.address, entry.tags.joinToString("、") { it.label() })
                        .filter { it.isNotBlank() }
                        .joinToString(" · "),
                    onClick = { onOpenHousehold(entry.householdId) },
                )
            }
        }
    }
}

@Composable
private fun PersonRow(name: String, line: String, onClick: () -> Unit) {
    Column(Modifier.fillMaxWidth().clickable(onClick = onClick).padding(vertical = 4.dp)) {
        Text(name, fontWeight = FontWeight.Bold)
        Text(line, style = MaterialTheme.typography.bodySmall)
    }
}
