package cn.doorstep.android.sync

import android.content.Context
import android.util.Log
import androidx.work.CoroutineWorker
import androidx.work.WorkerParameters
import cn.doorstep.android.DoorstepApplication
import cn.doorstep.app.DoorstepRepository
import cn.doorstep.app.SyncDecision
import cn.doorstep.app.SyncScheduler
import cn.doorstep.ffi.SyncCancel
import java.time.Instant
import kotlinx.coroutines.CancellationException

/**
 * One background sync run. It asks [SyncScheduler] whether to sync now (local changes waiting,
 * the regular check for others' changes due, the back-off after failures over), syncs when
 * told to, and leaves the rest to WorkManager: a retry (with its exponential back-off and the
 * network constraint) while a failure is being backed off or the network is gone, success
 * otherwise, the next periodic run coming anyway.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {

    override suspend fun doWork(): Result {
        val app = applicationContext as DoorstepApplication
        // A store that cannot open (lost key) is the failure screen's business, not a retry's.
        val repository = app.awaitRepository() ?: return Result.success()
        val history = SyncHistory(applicationContext)
        return try {
            if (repository.currentUser() == null) return Result.success() // not enrolled yet
            val now = Instant.now()
            val decision = scheduler.decide(
                network = networkState(applicationContext),
                status = repository.syncStatus(),
                failuresInARow = history.failuresInARow,
                lastAttempt = history.lastAttempt(now),
                now = now,
            )
            when (decision) {
                SyncDecision.Now -> sync(repository, history)
                SyncDecision.WaitForNetwork -> Result.retry()
                is SyncDecision.Later -> if (history.failuresInARow > 0) retryOrGiveUp() else Result.success()
                is SyncDecision.Stopped -> {
                    Log.i(TAG, "background sync stopped: ${decision.why}")
                    Result.success()
                }
            }
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            // Reading the store failed; the next run tries again.
            Log.w(TAG, "background sync could not start", e)
            retryOrGiveUp()
        }
    }

    private suspend fun sync(repository: DoorstepRepository, history: SyncHistory): Result {
        history.started(Instant.now())
        return SyncCancel().use { cancel ->
            try {
                val report = repository.sync(null, cancel)
                history.succeeded()
                Log.i(TAG, "background sync: sent ${report.progress.documentsSent}, received ${report.progress.documentsReceived}")
                Result.success()
            } catch (e: CancellationException) {
                // WorkManager stopped the work (constraint lost, quota): stop the exchange too;
                // the rounds already committed are kept.
                cancel.cancel()
                throw e
            } catch (e: Exception) {
                history.failed()
                Log.w(TAG, "background sync failed", e)
                retryOrGiveUp()
            }
        }
    }

    /** Retries through WorkManager's back-off a few times, then waits for the next period. */
    private fun retryOrGiveUp(): Result = if (runAttemptCount < MAX_RETRIES) Result.retry() else Result.success()

    private companion object {
        const val TAG = "DoorstepSync"
        const val MAX_RETRIES = 8
        val scheduler = SyncScheduler()
    }
}
