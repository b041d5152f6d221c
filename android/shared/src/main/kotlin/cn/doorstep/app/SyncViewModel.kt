package cn.doorstep.app

import cn.doorstep.core.SyncProgress
import cn.doorstep.core.SyncStatus
import cn.doorstep.ffi.SyncCancel
import cn.doorstep.ffi.SyncListener
import java.time.Instant
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The sync screen: a progress bar while syncing, then the status and the last error. */
data class SyncUiState(
    val running: Boolean = false,
    /** 0..1 while syncing, once the total is known. */
    val fraction: Float? = null,
    /** The last progress report in words; it stays after the sync ends. */
    val progressText: String = "",
    val lastSuccess: Instant? = null,
    val pendingChanges: ULong = 0u,
    val rejectedHouseholds: ULong = 0u,
    /** Households whose server data could not be stored twice; they sync no more until retried. */
    val setAsideHouseholds: ULong = 0u,
    val lastError: String? = null,
    val blocked: String? = null,
    val result: String? = null,
) {
    /** One line about where the phone stands. */
    val statusLine: String
        get() = when {
            blocked != null -> "已停止同步：$blocked"
            setAsideHouseholds > 0u -> "有 $setAsideHouseholds 户暂停同步：服务器发来的数据两次都无法保存，请联系镇便民服务中心"
            pendingChanges > 0u -> "有 $pendingChanges 条修改待同步"
            lastSuccess != null -> "已全部同步"
            else -> "还没有同步过"
        }
}

/** Runs a sync on request, shows its progress, and lets the agent cancel it. */
class SyncViewModel(private val repo: DoorstepRepository, scope: CoroutineScope) :
    ScreenModel<SyncUiState>(SyncUiState(), scope) {

    @Volatile private var cancel: SyncCancel? = null

    private val showError = { s: SyncUiState, message: String -> s.copy(running = false, lastError = message) }

    /** Reads the sync status again. */
    fun refreshStatus(): Job = act(showError) { showStatus(repo.syncStatus()) }

    /** Starts a sync unless one is running; progress arrives as the rounds finish. */
    fun syncNow(): Job {
        val handle = synchronized(this) { if (cancel != null) null else SyncCancel().also { cancel = it } }
            ?: return act(showError) {} // one is running already
        update { it.copy(running = true, fraction = null, progressText = "正在连接服务器…", result = null) }
        return act(showError) {
            try {
                val report = repo.sync(ProgressToState(), handle)
                val refused = if (report.rejected.isEmpty()) "" else "，服务器拒收 ${report.rejected.size} 户"
                update {
                    it.copy(
                        result = "同步完成：上传 ${report.progress.documentsSent} 户，收到 ${report.progress.documentsReceived} 户$refused",
                    )
                }
            } finally {
                synchronized(this) {
                    cancel = null
                    handle.close()
                }
                showStatus(repo.syncStatus())
            }
        }
    }

    /** Stops the running sync after its current step; what was done is kept. */
    fun cancel() {
        synchronized(this) { cancel?.cancel() }
    }

    private fun showStatus(status: SyncStatus) = update {
        val running = cancel != null
        it.copy(
            running = running,
            fraction = it.fraction.takeIf { running },
            lastSuccess = status.lastSuccess,
            pendingChanges = status.pendingChanges,
            rejectedHouseholds = status.rejectedHouseholds,
            setAsideHouseholds = status.setAsideHouseholds,
            lastError = status.lastError,
            blocked = status.blocked,
        )
    }

    /** Turns the core's progress reports (on a Rust thread) into screen state. */
    private inner class ProgressToState : SyncListener {
        override fun onProgress(progress: SyncProgress) {
            val done = progress.documentsSent + progress.documentsReceived
            val total = progress.documentsTotal
            update {
                it.copy(
                    fraction = if (total > 0u) (done.toDouble() / total.toDouble()).toFloat().coerceIn(0f, 1f) else null,
                    progressText = "第 ${progress.rounds} 轮：已上传 ${progress.documentsSent} 户，已接收 ${progress.documentsReceived} 户（共约 $total 户）",
                )
            }
        }
    }
}
