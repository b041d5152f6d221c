import Doorstep
import Foundation

/// Where every screen reads and changes data: the Rust store, called on this actor (off the
/// main thread). Store calls are quick; sync and enrolment are awaited on the core's runtime.
/// Failures arrive as the bindings' typed errors (`CoreError`, `SyncError`); `userMessage`
/// turns any of them into the sentence a screen shows.
public actor DoorstepRepository {
    /// The store, for the few calls a screen does not need (and for tests).
    public nonisolated let store: DoorstepStore
    /// The sync server: its address and the certificates to trust for it.
    public nonisolated let server: SyncServer
    /// How many syncs have ended (done, failed or cancelled: each may have brought changes).
    /// Screens showing stored data read it again when this moves.
    public private(set) var syncsEnded = 0
    private nonisolated let catalogue: [String: ServiceItem]

    public init(store: DoorstepStore, server: SyncServer) {
        self.store = store
        self.server = server
        catalogue = Dictionary(serviceCatalogue().map { ($0.code, $0) }) { first, _ in first }
    }

    /// Today's date in the town, as the core counts it (Beijing time, `YYYY-MM-DD`).
    public nonisolated func today() -> CalendarDate { store.today() }

    /// The first day of this month in the town, as the core counts it.
    public nonisolated func monthStart() -> CalendarDate { store.monthStart() }

    /// The catalogue item of a job's item code, if the app knows it.
    public nonisolated func item(code: String) -> ServiceItem? { catalogue[code] }

    /// The signed-in user, or nil before the phone enrols.
    public func currentUser() -> User? { store.currentUser() }

    /// Today's work in every village of the user, most urgent first.
    public func todayWork(limit: UInt32 = 500) throws -> [WorkItem] {
        try store.todayWork(today: today(), villageId: nil, limit: limit)
    }

    /// A village's members with every one of `tags`.
    public func roster(villageId: String, tags: [SpecialTag]) throws -> [RosterEntry] {
        try store.roster(villageId: villageId, tags: tags)
    }

    /// Members found by name, phone tail or identity-number tail.
    public func search(_ text: String, limit: UInt32 = 50) throws -> [SearchHit] {
        try store.search(text: text, limit: limit)
    }

    /// Adds a household and returns its id.
    public func createHousehold(_ input: NewHousehold) throws -> String {
        try store.createHousehold(input: input)
    }

    /// Changes a household's group, address or phone (only the fields given).
    public func updateHousehold(_ householdId: String, _ patch: HouseholdPatch) throws {
        try store.updateHousehold(householdId: householdId, patch: patch)
    }

    /// Adds a member to a household and returns the member's id.
    public func addMember(householdId: String, _ member: NewMember) throws -> String {
        try store.addMember(householdId: householdId, input: member)
    }

    /// Changes a member's fields, status or tags (only those given).
    public func updateMember(_ memberId: String, _ patch: MemberPatch) throws {
        try store.updateMember(memberId: memberId, patch: patch)
    }

    /// Adds a ledger line (a need or a reminder) and returns its id.
    public func addLedgerLine(_ input: NewLedgerLine) throws -> String {
        try store.addLedgerLine(input: input)
    }

    /// Marks a recurring reminder as done today.
    public func markReminderDone(lineId: String) throws {
        try store.markReminderDone(lineId: lineId, date: today())
    }

    /// Sets the status of a one-off need.
    public func setNeedStatus(lineId: String, _ status: NeedStatus) throws {
        try store.setNeedStatus(lineId: lineId, status: status)
    }

    /// Everything the household screen shows, in one call.
    public func householdScreen(_ householdId: String) throws -> HouseholdScreen {
        try store.householdScreen(householdId: householdId)
    }

    /// Settles a conflict with the chosen value.
    public func choose(_ value: ConflictValue, for conflict: FieldConflict, householdId: String) throws {
        try store.resolveConflict(
            householdId: householdId, entity: conflict.entity, entityId: conflict.entityId,
            field: conflict.field, valueId: value.valueId)
    }

    /// Opens a job for a member and returns its id.
    public func openJob(_ input: NewJob) throws -> String { try store.openJob(input: input) }

    /// A job with its events and progress.
    public func job(_ jobId: String) throws -> JobDetails { try store.job(jobId: jobId) }

    /// The steps the user may take next on a job.
    public func possibleSteps(_ jobId: String) throws -> [JobStepKind] {
        try store.possibleSteps(jobId: jobId)
    }

    /// The form of a step on a job (fields, labels, choices), as the core describes it.
    public func stepForm(_ jobId: String, _ kind: JobStepKind) throws -> StepForm {
        try store.stepForm(jobId: jobId, kind: kind)
    }

    /// Takes a job's next step from its filled-in form.
    @discardableResult
    public func takeStep(_ jobId: String, _ kind: JobStepKind, _ input: StepInput,
                         location: Location? = nil) throws -> JobProgress {
        try store.takeStepFromForm(jobId: jobId, kind: kind, input: input, location: location)
    }

    /// Jobs waiting to be handed up, by village group.
    public func handUpGroups(villageId: String?) throws -> [HandUpGroup] {
        try store.handUpGroups(villageId: villageId)
    }

    /// Hands up several jobs at once; for each, why it could not be handed up, or nil.
    public func handUp(_ jobIds: [String], carrier: String) -> [String?] {
        store.handUpJobs(jobIds: jobIds, carrier: carrier)
    }

    /// Results to take to the residents' doors, most urgent first.
    public func deliveries() throws -> [JobSummary] { try store.deliveries(villageId: nil) }

    /// A village's figures between two dates (inclusive).
    public func figures(villageId: String, from: CalendarDate, to: CalendarDate) throws -> Figures {
        try store.figures(villageId: villageId, from: from, to: to)
    }

    /// Records a visit (a planned one when `visitId` is given) and returns its id.
    public func recordVisit(householdId: String, visitId: String?, _ record: VisitRecord) throws -> String {
        try store.recordVisit(householdId: householdId, visitId: visitId, record: record)
    }

    /// The sync status: last success, pending changes, last error.
    public func syncStatus() throws -> SyncStatus { try store.syncStatus() }

    /// What the background sync should do now, by the core's one retry policy.
    public func nextSync(connected: Bool) throws -> SyncDecision { try store.nextSync(connected: connected) }

    /// Enrols the phone with a one-time code from hub staff and signs the user in.
    public func enroll(code: String, deviceName: String) async throws -> User {
        try await store.enroll(server: server, code: code.trimmingCharacters(in: .whitespaces),
                               deviceName: deviceName)
    }

    /// Syncs with the server, reporting progress to `progress` (on a Rust thread) after every
    /// round; `cancel` stops it.
    public func sync(cancel: SyncCancel = SyncCancel(),
                     progress: (@Sendable (SyncProgress) -> Void)? = nil) async throws -> SyncReport {
        defer { syncsEnded += 1 }
        return try await store.sync(server: server, listener: progress.map(ProgressRelay.init), cancel: cancel)
    }
}

/// Hands the core's progress reports to a closure.
private final class ProgressRelay: SyncListener {
    private let relay: @Sendable (SyncProgress) -> Void

    init(_ relay: @escaping @Sendable (SyncProgress) -> Void) { self.relay = relay }

    func onProgress(progress: SyncProgress) { relay(progress) }
}
