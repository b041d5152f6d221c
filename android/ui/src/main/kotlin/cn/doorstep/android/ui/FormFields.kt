@file:OptIn(ExperimentalLayoutApi::class)

package cn.doorstep.android.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.ExperimentalLayoutApi
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import cn.doorstep.core.Urgency

/** A one-line text field checked as it is typed, with the core's reason shown under it. */
@Composable
fun CheckedTextField(
    value: String,
    onValueChange: (String) -> Unit,
    label: String,
    error: String?,
    keyboardType: KeyboardType = KeyboardType.Text,
) {
    Column {
        OutlinedTextField(
            value = value,
            onValueChange = onValueChange,
            label = { Text(label) },
            isError = error != null,
            keyboardOptions = KeyboardOptions(keyboardType = keyboardType),
            singleLine = true,
            modifier = Modifier.fillMaxWidth(),
        )
        ErrorText(error)
    }
}

/** The urgency chips (紧急程度), each with its heat-map colour. */
@Composable
fun UrgencyChips(selected: Urgency, onSelect: (Urgency) -> Unit, choices: List<Urgency> = Urgency.entries) {
    Text("紧急程度")
    FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        choices.forEach { urgency ->
            FilterChip(
                selected = selected == urgency,
                onClick = { onSelect(urgency) },
                label = { Text(urgency.label()) },
                leadingIcon = { UrgencyDot(urgency) },
            )
        }
    }
}

/** An optional note field (备注). */
@Composable
fun NoteField(value: String, onValueChange: (String) -> Unit) {
    OutlinedTextField(
        value = value,
        onValueChange = onValueChange,
        label = { Text("备注（可不填）") },
        minLines = 2,
        modifier = Modifier.fillMaxWidth(),
    )
}

/** A form's full-width submit button, disabled and saying `workingLabel` while it works. */
@Composable
fun SubmitButton(working: Boolean, onClick: () -> Unit, label: String = "保存", workingLabel: String = "正在保存…") {
    Button(onClick = onClick, enabled = !working, modifier = Modifier.fillMaxWidth()) {
        Text(if (working) workingLabel else label)
    }
}
