package cn.doorstep.android.sync

import android.content.Context
import android.util.Log
import androidx.work.CoroutineWorker
import androidx.work.WorkerParameters
import cn.doorstep.android.DoorstepApplication
import cn.doorstep.app.DoorstepRepository
import cn.doorstep.core.SyncDecision
import cn.doorstep.ffi.SyncCancel
import kotlinx.coroutines.CancellationException

/**
 * One background sync run. It asks the core (`nextSync`, the one retry policy every shell
 * follows; the store counts failures) whether to sync now, syncs when told to, and leaves the
 * rest to WorkManager: a retry (with its back-off and the network constraint) while a failure
 * is being backed off or the network is gone, success otherwise, the next periodic run coming
 * anyway.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {

    override suspend fun doWork(): Result {
        val app = applicationContext as DoorstepApplication
        // A store that cannot open (lost key) is the failure screen's business, not a retry's.
        val repository = app.awaitRepository() ?: return Result.success()
        return try {
            if (repository.currentUser() == null) return Result.success() // not enrolled yet
            when (val decision = repository.nextSync(isConnected(applicationContext))) {
                SyncDecision.Now -> sync(repository)
                SyncDecision.WaitForNetwork -> Result.retry()
                is SyncDecision.Later ->
                    if (repository.syncStatus().failuresInARow > 0u) retryOrGiveUp() else Result.success()
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

    private suspend fun sync(repository: DoorstepRepository): Result = SyncCancel().use { cancel ->
        try {
            val report = repository.sync(null, cancel)
            Log.i(TAG, "background sync: sent ${report.progress.documentsSent}, received ${report.progress.documentsReceived}")
            Result.success()
        } catch (e: CancellationException) {
            // WorkManager stopped the work (constraint lost, quota): stop the exchange too;
            // the rounds already committed are kept.
            cancel.cancel()
            throw e
        } catch (e: Exception) {
            // The store has counted the failure for the core's back-off.
            Log.w(TAG, "background sync failed", e)
            retryOrGiveUp()
        }
    }

    /** Retries through WorkManager's back-off a few times, then waits for the next period. */
    private fun retryOrGiveUp(): Result = if (runAttemptCount < MAX_RETRIES) Result.retry() else Result.success()

    private companion object {
        const val TAG = "DoorstepSync"
        const val MAX_RETRIES = 8
    }
}
