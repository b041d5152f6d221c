package cn.doorstep.android

import android.app.Application
import android.os.Build
import androidx.activity.ComponentActivity
import androidx.activity.result.contract.ActivityResultContracts
import androidx.lifecycle.ViewModel
import androidx.lifecycle.viewModelScope
import cn.doorstep.android.sync.SyncScheduling
import cn.doorstep.android.ui.DoorstepPlatform
import cn.doorstep.android.ui.Navigator
import cn.doorstep.android.ui.Route
import cn.doorstep.core.Location

/**
 * Keeps the app's [Navigator] (its back stack and the screens' state holders) across the
 * activity being recreated, as on rotation; the holders work in this view model's scope and
 * stop when the activity finishes for good.
 */
class NavigatorViewModel : ViewModel() {
    private var navigator: Navigator? = null

    /** The navigator, made on first use: enrollment first unless the phone is [signedIn]. */
    fun navigator(signedIn: Boolean): Navigator =
        navigator ?: Navigator(if (signedIn) Route.Today else Route.Enroll, viewModelScope.coroutineContext)
            .also { navigator = it }

    override fun onCleared() {
        navigator?.close()
    }
}

/** The screens' view of the phone: its name, its location, and background sync. */
class AndroidPlatform(private val activity: ComponentActivity) : DoorstepPlatform {
    private val app: Application = activity.application
    private var asked = false

    // Registered before the activity starts, as the system requires. Either answer is fine:
    // without leave, visits are recorded without a place.
    private val permission = activity.registerForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) {}

    override val deviceName: String = "${Build.MANUFACTURER} ${Build.MODEL}"

    override fun lastKnownLocation(): Location? = PhoneLocation.lastKnown(app)

    override fun askForLocationOnce() {
        if (asked || PhoneLocation.allowed(app)) return
        asked = true
        permission.launch(PhoneLocation.permissions)
    }

    override fun syncLeftRunning() {
        SyncScheduling.syncSoon(app)
    }
}

