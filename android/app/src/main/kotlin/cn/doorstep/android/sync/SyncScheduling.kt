package cn.doorstep.android.sync

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import java.time.Duration
import java.util.concurrent.atomic.AtomicBoolean

/**
 * Schedules background sync with WorkManager (no Play Services): a periodic run every
 * [INTERVAL] while there is a network, and a one-off run as soon as the network comes back
 * (or right after enrolling). Each run decides for itself whether to sync (see [SyncWorker]).
 */
object SyncScheduling {
    /** How often the phone checks in; the same as the core's `SyncPolicy` interval. */
    val INTERVAL: Duration = Duration.ofMinutes(30)

    private const val PERIODIC = "doorstep-sync-periodic"
    private const val SOON = "doorstep-sync-soon"
    private val FIRST_BACKOFF: Duration = Duration.ofSeconds(30)
    private val watching = AtomicBoolean(false)

    private val onlyWithNetwork: Constraints = Constraints.Builder()
        .setRequiredNetworkType(NetworkType.CONNECTED)
        .build()

    /** Enqueues the periodic sync (updated in place if already there) and watches for the network. */
    fun start(context: Context) {
        val request = PeriodicWorkRequestBuilder<SyncWorker>(INTERVAL)
            .setConstraints(onlyWithNetwork)
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, FIRST_BACKOFF)
            .build()
        WorkManager.getInstance(context)
            .enqueueUniquePeriodicWork(PERIODIC, ExistingPeriodicWorkPolicy.UPDATE, request)
        watchNetwork(context.applicationContext)
    }

    /**
     * Asks for a sync as soon as there is a network. A run already waiting or under way is
     * kept (replacing it would cancel a sync in the middle).
     */
    fun syncSoon(context: Context) {
        val request = OneTimeWorkRequestBuilder<SyncWorker>()
            .setConstraints(onlyWithNetwork)
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, FIRST_BACKOFF)
            .build()
        WorkManager.getInstance(context).enqueueUniqueWork(SOON, ExistingWorkPolicy.KEEP, request)
    }

    /** While the process lives, a returning default network triggers [syncSoon]. */
    private fun watchNetwork(context: Context) {
        if (!watching.compareAndSet(false, true)) return
        val manager = context.getSystemService(ConnectivityManager::class.java) ?: return
        manager.registerDefaultNetworkCallback(object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) {
                syncSoon(context)
            }
        })
    }
}
