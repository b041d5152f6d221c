package cn.doorstep.android

import android.Manifest
import android.annotation.SuppressLint
import android.content.Context
import android.content.pm.PackageManager
import android.location.LocationManager
import android.os.SystemClock
import androidx.core.content.ContextCompat
import cn.doorstep.core.Location
import java.time.Duration

/**
 * Where the phone is, for the record of a visit or a job step: the freshest fix the system
 * already has (GPS or network, through [LocationManager]; no Play Services), never a wait for
 * a new one. Optional: without permission or a recent fix the step is recorded without it.
 */
object PhoneLocation {
    /** A fix older than this says little about where the agent is now. */
    private val maxAge: Duration = Duration.ofMinutes(15)

    /** The permissions to ask for (fine includes coarse; Android 12+ wants both asked). */
    val permissions = arrayOf(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION)

    /** Whether the agent allowed the app to read the location. */
    fun allowed(context: Context): Boolean = permissions.any {
        ContextCompat.checkSelfPermission(context, it) == PackageManager.PERMISSION_GRANTED
    }

    /** The last known location if it is recent, else null. */
    @SuppressLint("MissingPermission") // checked by allowed()
    fun lastKnown(context: Context): Location? {
        if (!allowed(context)) return null
        val manager = context.getSystemService(LocationManager::class.java) ?: return null
        val fixes = manager.getProviders(true).mapNotNull { provider ->
            try {
                manager.getLastKnownLocation(provider)
            } catch (e: SecurityException) {
                null
            } catch (e: IllegalArgumentException) {
                null
            }
        }
        // Ages come from the monotonic clock: the wall clock of a rural phone is often wrong.
        val now = SystemClock.elapsedRealtimeNanos()
        val freshest = fixes.maxByOrNull { it.elapsedRealtimeNanos } ?: return null
        if (Duration.ofNanos(now - freshest.elapsedRealtimeNanos) > maxAge) return null
        return Location(freshest.latitude, freshest.longitude)
    }
}
