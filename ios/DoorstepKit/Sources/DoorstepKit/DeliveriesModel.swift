import Doorstep
import Observation

/// The deliveries screen (送达): results to take to the residents' doors (政务包裹).
public struct DeliveriesState: Equatable, Sendable {
    public var loading = false
    public var jobs: [JobSummary] = []
    public var notice: String?
    public var error: String?
}

/// Lists what waits to be delivered and records each door: signed for, or nobody home.
@MainActor @Observable
public final class DeliveriesModel {
    public private(set) var state = DeliveriesState()
    private let repo: DoorstepRepository

    public init(repo: DoorstepRepository) { self.repo = repo }

    /// Reads the list again.
    public func refresh() async {
        state.loading = true
        state.error = nil
        await act(notice: nil) { _ in }
    }

    /// The result was handed over and signed for by `signedBy`.
    public func delivered(_ jobId: String, signedBy: String) async {
        var input = StepInput.empty
        input.text = signedBy
        await act(notice: "已送达，签收人：\(signedBy.trimmingCharacters(in: .whitespaces))") {
            try await $0.takeStep(jobId, .deliver, input)
        }
    }

    /// Nobody was home: come again on `newDate`.
    public func nobodyHome(_ jobId: String, newDate: CalendarDate?) async {
        var input = StepInput.empty
        input.date = newDate
        await act(notice: "无人在家，已改约 \(newDate ?? "")") {
            try await $0.takeStep(jobId, .nobodyHome, input)
        }
    }

    private func act(notice: String?, _ change: (DoorstepRepository) async throws -> Void) async {
        do {
            try await change(repo)
            state = DeliveriesState(jobs: try await repo.deliveries(), notice: notice)
        } catch {
            state.loading = false
            state.error = error.userMessage
        }
    }
}
