import Doorstep
import Observation

/// The rotating village head's duty-day screen (转办): jobs to carry to the town, by village group.
public struct HandUpState: Equatable, Sendable {
    public var loading = false
    public var groups: [HandUpGroup] = []
    public var selected: Set<String> = []
    /// Who carries them (the village head on duty).
    public var carrier = ""
    public var notice: String?
    public var error: String?
}

/// Lists the village's jobs waiting to be handed up and hands up the chosen ones at once.
@MainActor @Observable
public final class HandUpModel {
    public private(set) var state = HandUpState()
    private let repo: DoorstepRepository
    private let villageId: String?

    public init(repo: DoorstepRepository, villageId: String? = nil) {
        self.repo = repo
        self.villageId = villageId
    }

    /// Reads the list again; the carrier defaults to the signed-in user.
    public func refresh() async {
        state.loading = true
        state.error = nil
        await reload(notice: nil, error: nil)
    }

    /// Ticks or unticks one job.
    public func toggle(_ jobId: String) {
        if state.selected.remove(jobId) == nil { state.selected.insert(jobId) }
    }

    /// Ticks every job of one village group.
    public func selectGroup(_ groupName: String) {
        for group in state.groups where group.groupName == groupName {
            state.selected.formUnion(group.jobs.map(\.jobId))
        }
    }

    /// Changes who carries the jobs.
    public func editCarrier(_ name: String) {
        state.carrier = name
        state.error = nil
    }

    /// Hands up the ticked jobs; says how many went and why any did not.
    public func handUp() async {
        let ids = state.groups.flatMap { $0.jobs.map(\.jobId) }.filter(state.selected.contains)
        guard !ids.isEmpty else {
            state.error = "请先勾选要转办的办件"
            return
        }
        let carrier = state.carrier
        let failed = await repo.handUp(ids, carrier: carrier).compactMap { $0 }
        let done = ids.count - failed.count
        var reasons: [String] = []
        for reason in failed where !reasons.contains(reason) { reasons.append(reason) }
        await reload(
            notice: done > 0 ? "已转办 \(done) 件，由 \(carrier.trimmingCharacters(in: .whitespaces)) 带到镇便民服务中心" : nil,
            error: failed.isEmpty ? nil : "\(failed.count) 件未能转办：\(reasons.joined(separator: "；"))")
    }

    private func reload(notice: String?, error: String?) async {
        do {
            let groups = try await repo.handUpGroups(villageId: villageId)
            var carrier = state.carrier
            if carrier.trimmingCharacters(in: .whitespaces).isEmpty {
                carrier = await repo.currentUser()?.name ?? ""
            }
            state = HandUpState(groups: groups, carrier: carrier, notice: notice, error: error)
        } catch {
            state.loading = false
            state.error = error.userMessage
        }
    }
}
