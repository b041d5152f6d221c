package cn.doorstep.android.ui

import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.ui.graphics.Color
import cn.doorstep.core.Urgency

private val colors = lightColorScheme(
    primary = Color(0xFF1565C0),
    onPrimary = Color.White,
    secondary = Color(0xFF00796B),
    onSecondary = Color.White,
    error = Color(0xFFC62828),
)

/** The app's Material 3 theme: plain, high-contrast colours that read well outdoors. */
@Composable
fun DoorstepTheme(content: @Composable () -> Unit) {
    MaterialTheme(colorScheme = colors, content = content)
}

/** The colour of an urgency: red (紧急), amber (较急), green (常规). */
fun urgencyColor(urgency: Urgency): Color = when (urgency) {
    Urgency.RED -> Color(0xFFC62828)
    Urgency.AMBER -> Color(0xFFEF8F00)
    Urgency.GREEN -> Color(0xFF2E7D32)
}
