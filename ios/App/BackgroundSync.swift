import BackgroundTasks
import Doorstep
import DoorstepKit
import Network

/// Background sync with BGTaskScheduler. When to run is the core's decision (`nextSync`: local
/// changes go up as soon as there is a network, otherwise a periodic check, back-off after
/// failures, stop when the phone is no longer enrolled); this file only carries it out.
/// Info.plist lists the task id under BGTaskSchedulerPermittedIdentifiers.
enum BackgroundSync {
    static let taskId = "cn.doorstep.app.sync"
    private nonisolated(unsafe) static var repo: DoorstepRepository?

    /// Registers the task handler; called once at launch.
    static func register(_ repository: DoorstepRepository) {
        repo = repository
        BGTaskScheduler.shared.register(forTaskWithIdentifier: taskId, using: nil) { task in
            run(task as! BGProcessingTask)
        }
    }

    /// Asks iOS for the next run, as the core decides from the network and the sync status.
    static func schedule() {
        guard let repo else { return }
        Task {
            let connected = await isConnected()
            // A store that cannot be read now is tried again at the next launch.
            guard let decision = try? await repo.nextSync(connected: connected) else { return }
            let request = BGProcessingTaskRequest(identifier: taskId)
            request.requiresNetworkConnectivity = true
            switch decision {
            case .stopped: return
            case .now, .waitForNetwork: request.earliestBeginDate = nil
            case let .later(afterSeconds, _): request.earliestBeginDate = Date(timeIntervalSinceNow: TimeInterval(afterSeconds))
            }
            try? BGTaskScheduler.shared.submit(request)
        }
    }

    private static func run(_ task: BGProcessingTask) {
        guard let repo else { return task.setTaskCompleted(success: false) }
        let cancel = SyncCancel()
        task.expirationHandler = { cancel.cancel() }
        Task {
            let done = (try? await repo.sync(cancel: cancel)) != nil
            schedule()
            task.setTaskCompleted(success: done)
        }
    }

    /// Whether the phone has a usable network path now.
    private static func isConnected() async -> Bool {
        await withCheckedContinuation { answer in
            let monitor = NWPathMonitor()
            var answered = false
            // Updates come one at a time on this serial queue; only the first is used.
            monitor.pathUpdateHandler = { path in
                guard !answered else { return }
                answered = true
                monitor.cancel()
                answer.resume(returning: path.status == .satisfied)
            }
            monitor.start(queue: DispatchQueue(label: "cn.doorstep.app.network"))
        }
    }
}
