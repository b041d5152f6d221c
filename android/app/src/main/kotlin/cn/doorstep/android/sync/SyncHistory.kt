package cn.doorstep.android.sync

import android.content.Context
import androidx.core.content.edit
import java.time.Instant

/**
 * What the background sync remembers between runs, in app-private preferences: how many
 * attempts in a row failed and when the last one started (for the back-off).
 */
class SyncHistory(context: Context) {
    private val prefs = context.getSharedPreferences("doorstep-sync", Context.MODE_PRIVATE)

    /** Failed attempts since the last success. */
    val failuresInARow: Int get() = prefs.getInt(FAILURES, 0)

    /**
     * When the last attempt started, or null. A time after [now] means the clock was set back
     * since; it is ignored so a wrong clock cannot hold the sync off.
     */
    fun lastAttempt(now: Instant): Instant? =
        prefs.getLong(LAST_ATTEMPT, -1L)
            .takeIf { it >= 0 }
            ?.let(Instant::ofEpochMilli)
            ?.takeIf { !it.isAfter(now) }

    /** Notes that an attempt starts now. */
    fun started(at: Instant) = prefs.edit { putLong(LAST_ATTEMPT, at.toEpochMilli()) }

    /** Notes a successful sync. */
    fun succeeded() = prefs.edit { putInt(FAILURES, 0) }

    /** Notes a failed sync. */
    fun failed() = prefs.edit { putInt(FAILURES, failuresInARow + 1) }

    private companion object {
        const val FAILURES = "failures_in_a_row"
        const val LAST_ATTEMPT = "last_attempt_ms"
    }
}
