package cn.doorstep.android

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.compose.runtime.getValue
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import cn.doorstep.android.ui.DoorstepNavHost
import cn.doorstep.android.ui.DoorstepTheme
import cn.doorstep.android.ui.OpeningScreen
import cn.doorstep.android.ui.StartupFailedScreen

/** The one activity: shows the store opening, its failure, or the app's screens. */
class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        enableEdgeToEdge()
        val app = application as DoorstepApplication
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
                    is Startup.Ready -> DoorstepNavHost(signedIn = state.signedIn)
                }
            }
        }
    }
}
