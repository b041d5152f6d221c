package cn.doorstep.android

import cn.doorstep.core.SyncReport
import cn.doorstep.core.User
import cn.doorstep.ffi.DoorstepStoreInterface
import cn.doorstep.ffi.SyncCancel
import cn.doorstep.ffi.SyncListener
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/**
 * The store with its network exchanges taken one at a time: the background worker and the
 * sync screen both sync through the same repository, and a second sync waits for the first
 * instead of sending the same changes twice. Everything else goes straight to [store].
 */
class OneSyncAtATime(private val store: DoorstepStoreInterface) : DoorstepStoreInterface by store {
    private val exchange = Mutex()

    /** Syncs once the exchange under way, if any, has finished. */
    override suspend fun sync(serverUrl: String, listener: SyncListener?, cancel: SyncCancel): SyncReport =
        exchange.withLock { store.sync(serverUrl, listener, cancel) }

    /** Enrolls once the exchange under way, if any, has finished. */
    override suspend fun enroll(serverUrl: String, code: String, deviceName: String): User =
        exchange.withLock { store.enroll(serverUrl, code, deviceName) }
}
