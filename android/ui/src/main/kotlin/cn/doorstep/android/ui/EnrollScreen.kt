package cn.doorstep.android.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardActions
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.ImeAction
import androidx.compose.ui.text.input.KeyboardCapitalization
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import cn.doorstep.app.EnrollViewModel

/** Enrolls the phone with the one-time code from the town's service centre. */
@Composable
fun EnrollScreen(model: EnrollViewModel, onEnrolled: () -> Unit) {
    val state by model.state.collectAsState()

    LaunchedEffect(state.enrolledAs) {
        if (state.enrolledAs != null) onEnrolled()
    }

    Scaffold(topBar = { DoorstepTopBar("登记本机") }) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            Text("请输入镇便民服务中心给您的一次性登记码（8 位，24 小时内有效，只能用一次）。登记后，本机会下载您所负责村的台账。")
            OutlinedTextField(
                value = state.code,
                onValueChange = model::editCode,
                label = { Text("登记码") },
                placeholder = { Text("例如 AB12-CD34") },
                singleLine = true,
                enabled = !state.working,
                keyboardOptions = KeyboardOptions(
                    capitalization = KeyboardCapitalization.Characters,
                    keyboardType = KeyboardType.Ascii,
                    imeAction = ImeAction.Done,
                ),
                keyboardActions = KeyboardActions(onDone = { model.enroll() }),
                modifier = Modifier.fillMaxWidth(),
            )
            Button(onClick = { model.enroll() }, enabled = !state.working, modifier = Modifier.fillMaxWidth()) {
                Text(if (state.working) "正在登记…" else "登记")
            }
            if (state.working) LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
            ErrorText(state.error)
            Text(
                "服务器：${model.serverUrl}",
                style = MaterialTheme.typography.bodySmall,
                color = MaterialTheme.colorScheme.onSurfaceVariant,
            )
        }
    }
}
