@file:OptIn(ExperimentalMaterial3Api::class)

package cn.doorstep.android.ui

import androidx.compose.foundation.background
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.shape.CircleShape
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.compose.ui.draw.clip
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import cn.doorstep.core.Urgency
import java.time.LocalDate

/** The top bar of a screen, with a back arrow when [onBack] is given. */
@Composable
fun DoorstepTopBar(
    title: String,
    onBack: (() -> Unit)? = null,
    actions: @Composable () -> Unit = {},
) {
    TopAppBar(
        title = { Text(title) },
        navigationIcon = {
            if (onBack != null) {
                IconButton(onClick = onBack) {
                    Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = "返回")
                }
            }
        },
        actions = { actions() },
    )
}

/** A section heading inside a list. */
@Composable
fun SectionTitle(text: String, modifier: Modifier = Modifier) {
    Text(
        text,
        style = MaterialTheme.typography.titleMedium,
        fontWeight = FontWeight.Bold,
        modifier = modifier.fillMaxWidth().padding(top = 16.dp, bottom = 4.dp),
    )
}

/** An error sentence (from `userMessage()`), in the error colour; nothing when null. */
@Composable
fun ErrorText(message: String?, modifier: Modifier = Modifier) {
    if (message != null) {
        Text(message, color = MaterialTheme.colorScheme.error, modifier = modifier.padding(vertical = 4.dp))
    }
}

/** A short confirmation, such as "已记录完成"; nothing when null. */
@Composable
fun NoticeText(message: String?, modifier: Modifier = Modifier) {
    if (message != null) {
        Text(message, color = MaterialTheme.colorScheme.secondary, modifier = modifier.padding(vertical = 4.dp))
    }
}

/** A dot in the urgency's colour. */
@Composable
fun UrgencyDot(urgency: Urgency, modifier: Modifier = Modifier) {
    Box(modifier.size(12.dp).clip(CircleShape).background(urgencyColor(urgency)))
}

/**
 * The count of syncs ended so far (background or not): a screen that keys its loading on it
 * reads its data again when a sync may have brought changes (and whenever it comes back into
 * view).
 */
@Composable
fun rememberDataChanged(): Int {
    val changed by LocalDoorstep.current.repository.syncsEnded.collectAsState()
    return changed
}

/** Today's date in the town, as the core counts it (`repo.today()`), read once per screen. */
@Composable
fun rememberToday(): LocalDate {
    val repository = LocalDoorstep.current.repository
    return remember { repository.today() }
}
