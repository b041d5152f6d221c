package cn.doorstep.android.ui

import androidx.compose.runtime.staticCompositionLocalOf
import cn.doorstep.app.DoorstepRepository
import cn.doorstep.core.Location

/**
 * What the screens need from the device they run on. The Android app implements it over the
 * system (location manager, permission request, WorkManager); the JVM tests over nothing.
 */
interface DoorstepPlatform {
    /** The name the phone enrolls under, such as "Xiaomi Redmi 9A". */
    val deviceName: String

    /** Where the phone is, if the agent allowed it and a recent fix exists; else null. */
    fun lastKnownLocation(): Location?

    /** Asks once for leave to read the location (visits and steps record where they happened). */
    fun askForLocationOnce()

    /** A sync was still running when its screen closed: the background takes it over. */
    fun syncLeftRunning()
}

/** The repository over the phone's store and the platform, for every screen. */
class DoorstepEnvironment(val repository: DoorstepRepository, val platform: DoorstepPlatform)

/** The environment the screens run in, provided by the app (or a test) around [DoorstepApp]. */
val LocalDoorstep = staticCompositionLocalOf<DoorstepEnvironment> {
    error("no DoorstepEnvironment: provide LocalDoorstep around DoorstepApp")
}
