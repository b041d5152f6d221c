package cn.doorstep.app

import cn.doorstep.core.SyncStatus
import java.time.Duration
import java.time.Instant
import kotlin.test.assertEquals
import org.junit.Test

class SyncSchedulerTest {
    private val scheduler = SyncScheduler()
    private val now = Instant.parse("2026-11-22T02:00:00Z")
    private val online = NetworkState(connected = true)

    private fun status(
        pending: ULong = 0u,
        lastSuccess: Instant? = now.minus(Duration.ofMinutes(5)),
        blocked: String? = null,
    ) = SyncStatus(lastSuccess, pending, if (pending > 0u) 1u else 0u, 0u, 0u, null, blocked)

    @Test
    fun pendingChangesGoUpAsSoonAsThereIsANetwork() {
        assertEquals(SyncDecision.Now, scheduler.decide(online, status(pending = 3u), 0, null, now))
        assertEquals(
            SyncDecision.WaitForNetwork,
            scheduler.decide(NetworkState(connected = false), status(pending = 3u), 0, null, now),
        )
    }

    @Test
    fun withNothingToSendThePhoneChecksEveryInterval() {
        val later = scheduler.decide(online, status(), 0, null, now)
        assertEquals(SyncDecision.Later::class, later::class)
        assertEquals(Duration.ofMinutes(25), (later as SyncDecision.Later).after)
        val stale = status(lastSuccess = now.minus(Duration.ofMinutes(31)))
        assertEquals(SyncDecision.Now, scheduler.decide(online, stale, 0, null, now))
        assertEquals(SyncDecision.Now, scheduler.decide(online, status(lastSuccess = null), 0, null, now))
    }

    @Test
    fun failuresBackOffByDoublingUpToTheLimit() {
        assertEquals(Duration.ofSeconds(30), scheduler.backoff(1))
        assertEquals(Duration.ofSeconds(60), scheduler.backoff(2))
        assertEquals(Duration.ofSeconds(240), scheduler.backoff(4))
        assertEquals(Duration.ofMinutes(30), scheduler.backoff(12))
        assertEquals(Duration.ofMinutes(30), scheduler.backoff(500))
        val justFailed = now.minus(Duration.ofSeconds(20))
        val wait = scheduler.decide(online, status(pending = 2u), 2, justFailed, now)
        assertEquals(SyncDecision.Later(Duration.ofSeconds(40), "上次同步失败，稍后重试"), wait)
        val longAgo = now.minus(Duration.ofMinutes(2))
        assertEquals(SyncDecision.Now, scheduler.decide(online, status(pending = 2u), 2, longAgo, now))
    }

    @Test
    fun aBlockedPhoneStopsUntilItEnrollsAgain() {
        val blocked = status(pending = 5u, blocked = "本设备已被注销")
        assertEquals(SyncDecision.Stopped("本设备已被注销"), scheduler.decide(online, blocked, 0, null, now))
        assertEquals(
            SyncDecision.Stopped("本设备已被注销"),
            scheduler.decide(NetworkState(connected = false), blocked, 3, now, now),
        )
    }
}
