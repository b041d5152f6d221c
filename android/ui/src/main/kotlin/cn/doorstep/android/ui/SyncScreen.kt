package cn.doorstep.android.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import cn.doorstep.app.SyncViewModel

/**
 * Sync on request: a progress bar while it runs (with a stop button), then where the phone
 * stands and the last error; a phone the server no longer knows can enroll again.
 */
@Composable
fun SyncScreen(model: SyncViewModel, onBack: () -> Unit, onEnrollAgain: () -> Unit) {
    val state by model.state.collectAsState()

    Scaffold(topBar = { DoorstepTopBar("同步", onBack) }) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            Text(state.statusLine, style = MaterialTheme.typography.titleMedium)
            state.lastSuccess?.let { Text("上次同步成功：${it.townTime()}") }
            if (state.rejectedHouseholds > 0u) {
                Text(
                    "服务器拒收了 ${state.rejectedHouseholds} 户的修改，请打开这些户查看原因",
                    color = MaterialTheme.colorScheme.error,
                )
            }

            if (state.running) {
                val fraction = state.fraction
                if (fraction != null) {
                    LinearProgressIndicator(progress = { fraction }, modifier = Modifier.fillMaxWidth())
                } else {
                    LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
                }
                Text(state.progressText)
                OutlinedButton(onClick = { model.cancel() }, modifier = Modifier.fillMaxWidth()) {
                    Text("停止同步")
                }
                Text(
                    "停止后，已传完的部分会保留，下次接着同步。",
                    style = MaterialTheme.typography.bodySmall,
                )
            } else {
                Button(onClick = { model.syncNow() }, modifier = Modifier.fillMaxWidth()) {
                    Text("立即同步")
                }
                if (state.blocked != null) {
                    OutlinedButton(onClick = onEnrollAgain, modifier = Modifier.fillMaxWidth()) {
                        Text("用新的登记码重新登记本机")
                    }
                }
            }

            NoticeText(state.result)
            state.lastError?.let { ErrorText("上次同步出错：$it") }
            Text(
                "离开本页时，未完成的同步会转到后台继续；有网络时手机也会定时自动同步。",
                style = MaterialTheme.typography.bodySmall,
                color = MaterialTheme.colorScheme.onSurfaceVariant,
            )
        }
    }
}
