import Doorstep
import Foundation
import Observation

/// The sync screen: a progress bar while syncing, then the status and the last error.
public struct SyncState: Equatable, Sendable {
    public var running = false
    /// 0...1 while syncing, once the total is known.
    public var fraction: Double?
    /// The last progress report in words; it stays after the sync ends.
    public var progressText = ""
    public var status: SyncStatus?
    /// What the last sync did, when it finished.
    public var result: String?
    /// Why the last sync failed (also kept by the store in `status.lastError`).
    public var error: String?

    /// One line about where the phone stands.
    public var statusLine: String {
        guard let status else { return "" }
        if let blocked = status.blocked { return "已停止同步：\(blocked)" }
        if status.setAsideHouseholds > 0 {
            return "有 \(status.setAsideHouseholds) 户暂停同步：服务器发来的数据两次都无法保存，请联系镇便民服务中心"
        }
        if status.pendingChanges > 0 { return "有 \(status.pendingChanges) 条修改待同步" }
        return status.lastSuccess == nil ? "还没有同步过" : "已全部同步"
    }
}

/// Runs a sync on request, shows its progress, and lets the agent cancel it.
@MainActor @Observable
public final class SyncModel {
    public private(set) var state = SyncState()
    private let repo: DoorstepRepository
    private var cancel: SyncCancel?

    public init(repo: DoorstepRepository) { self.repo = repo }

    /// Reads the sync status again.
    public func refreshStatus() async {
        do {
            state.status = try await repo.syncStatus()
        } catch {
            state.error = error.userMessage
        }
    }

    /// Syncs unless a sync is running; progress arrives as the rounds finish.
    public func syncNow() async {
        guard cancel == nil else { return }
        let handle = SyncCancel()
        cancel = handle
        state.running = true
        state.fraction = nil
        state.progressText = "正在连接服务器…"
        state.result = nil
        state.error = nil
        // Progress comes on a Rust thread; it is shown in order, on the main actor.
        let (reports, sink) = AsyncStream.makeStream(of: SyncProgress.self)
        let shown = Task { for await progress in reports { show(progress) } }
        do {
            let report = try await repo.sync(cancel: handle) { sink.yield($0) }
            let refused = report.rejected.isEmpty ? "" : "，服务器拒收 \(report.rejected.count) 户"
            state.result = "同步完成：上传 \(report.progress.documentsSent) 户，收到 \(report.progress.documentsReceived) 户\(refused)"
        } catch {
            state.error = error.userMessage
        }
        sink.finish()
        await shown.value
        cancel = nil
        state.running = false
        state.fraction = nil
        await refreshStatus()
    }

    /// Stops the running sync after its current step; what was done is kept.
    public func cancelSync() { cancel?.cancel() }

    private func show(_ progress: SyncProgress) {
        let done = progress.documentsSent + progress.documentsReceived
        let total = progress.documentsTotal
        state.fraction = total > 0 ? min(1, Double(done) / Double(total)) : nil
        state.progressText = "第 \(progress.rounds) 轮：已上传 \(progress.documentsSent) 户，已接收 \(progress.documentsReceived) 户（共约 \(total) 户）"
    }
}
