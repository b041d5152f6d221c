package cn.doorstep.android

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.addCallback
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.activity.viewModels
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.getValue
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import cn.doorstep.android.ui.DoorstepApp
import cn.doorstep.android.ui.DoorstepEnvironment
import cn.doorstep.android.ui.DoorstepTheme
import cn.doorstep.android.ui.LocalDoorstep
import cn.doorstep.android.ui.OpeningScreen
import cn.doorstep.android.ui.StartupFailedScreen

/**
 * The one activity: shows the store opening, its failure, or the app's screens (android/ui,
 * shared with the JVM tests); the system back button goes back through the app's own stack.
 */
class MainActivity : ComponentActivity() {
    private val screens: NavigatorViewModel by viewModels()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        enableEdgeToEdge()
        val app = application as DoorstepApplication
        val platform = AndroidPlatform(this)
        onBackPressedDispatcher.addCallback(this) {
            val ready = app.startup.value as? Startup.Ready
            if (ready == null || !screens.navigator(ready.signedIn).back()) {
                isEnabled = false
                onBackPressedDispatcher.onBackPressed()
                isEnabled = true
            }
        }
        setContent {
            DoorstepTheme {
                val startup by app.startup.collectAsStateWithLifecycle()
                when (val state = startup) {
                    Startup.Opening -> OpeningScreen()
                    is Startup.Failed -> StartupFailedScreen(
                        message = state.message,
                        onRetry = { app.openStore(eraseFirst = false) },
                        onErase = { app.openStore(eraseFirst = true) },
                    )
                    is Startup.Ready -> CompositionLocalProvider(
                        LocalDoorstep provides DoorstepEnvironment(state.repository, platform),
                    ) {
                        DoorstepApp(screens.navigator(state.signedIn))
                    }
                }
            }
        }
    }
}
