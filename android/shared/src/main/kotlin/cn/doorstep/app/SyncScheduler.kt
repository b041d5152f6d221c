package cn.doorstep.app

import cn.doorstep.core.SyncStatus
import java.time.Duration
import java.time.Instant

/** What the phone knows about its connection. */
data class NetworkState(val connected: Boolean)

/** What the background sync should do now. */
sealed class SyncDecision {
    /** Sync now. */
    data object Now : SyncDecision()

    /** Wait until the network returns (the worker's network constraint). */
    data object WaitForNetwork : SyncDecision()

    /** Try again after `after`. */
    data class Later(val after: Duration, val why: String) : SyncDecision()

    /** Do not sync until the phone enrolls again. */
    data class Stopped(val why: String) : SyncDecision()
}

/**
 * When to sync in the background. Local changes go up as soon as there is a network; with
 * nothing to send, the phone checks for others' changes every [interval]; after failures it
 * backs off (doubling from [firstBackoff] up to [maxBackoff]) so a weak link is not drained;
 * a revoked or unknown phone stops until it enrolls again.
 */
class SyncScheduler(
    private val interval: Duration = Duration.ofMinutes(30),
    private val firstBackoff: Duration = Duration.ofSeconds(30),
    private val maxBackoff: Duration = Duration.ofMinutes(30),
) {
    /**
     * Decides from the network, the store's sync status, how many attempts in a row failed,
     * and when the last attempt was.
     */
    fun decide(
        network: NetworkState,
        status: SyncStatus,
        failuresInARow: Int,
        lastAttempt: Instant?,
        now: Instant,
    ): SyncDecision {
        status.blocked?.let { return SyncDecision.Stopped(it) }
        if (!network.connected) return SyncDecision.WaitForNetwork
        if (failuresInARow > 0 && lastAttempt != null) {
            val retryAt = lastAttempt.plus(backoff(failuresInARow))
            if (retryAt.isAfter(now)) {
                return SyncDecision.Later(Duration.between(now, retryAt), "上次同步失败，稍后重试")
            }
            return SyncDecision.Now
        }
        if (status.pendingChanges > 0u) return SyncDecision.Now
        val last = status.lastSuccess ?: return SyncDecision.Now
        val next = last.plus(interval)
        return if (next.isAfter(now)) {
            SyncDecision.Later(Duration.between(now, next), "没有待上传的修改，到时再取别人的修改")
        } else {
            SyncDecision.Now
        }
    }

    /** The wait after `failures` failed attempts in a row. */
    fun backoff(failures: Int): Duration {
        val doublings = (failures - 1).coerceIn(0, 20)
        val wait = firstBackoff.multipliedBy(1L shl doublings)
        return if (wait > maxBackoff) maxBackoff else wait
    }
}
