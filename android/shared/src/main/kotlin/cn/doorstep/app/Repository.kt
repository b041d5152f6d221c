package cn.doorstep.app

import cn.doorstep.core.ConflictValue
import cn.doorstep.core.FieldConflict
import cn.doorstep.core.Figures
import cn.doorstep.core.HandUpGroup
import cn.doorstep.core.HouseholdPatch
import cn.doorstep.core.HouseholdScreen
import cn.doorstep.core.JobDetails
import cn.doorstep.core.JobProgress
import cn.doorstep.core.JobStepKind
import cn.doorstep.core.JobSummary
import cn.doorstep.core.Location
import cn.doorstep.core.MemberPatch
import cn.doorstep.core.NeedStatus
import cn.doorstep.core.NewHousehold
import cn.doorstep.core.NewJob
import cn.doorstep.core.NewLedgerLine
import cn.doorstep.core.NewMember
import cn.doorstep.core.RosterEntry
import cn.doorstep.core.SearchHit
import cn.doorstep.core.ServiceItem
import cn.doorstep.core.SpecialTag
import cn.doorstep.core.StepForm
import cn.doorstep.core.StepInput
import cn.doorstep.core.SyncDecision
import cn.doorstep.core.SyncReport
import cn.doorstep.core.SyncStatus
import cn.doorstep.core.User
import cn.doorstep.core.VisitRecord
import cn.doorstep.core.WorkItem
import cn.doorstep.ffi.DoorstepStoreInterface
import cn.doorstep.ffi.SyncCancel
import cn.doorstep.ffi.SyncListener
import cn.doorstep.ffi.SyncServer
import cn.doorstep.ffi.serviceCatalogue
import java.time.LocalDate
import java.time.ZoneId
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext

/** The rural town's time zone, for showing times (the core counts "today" in it too). */
val SHANGHAI: ZoneId = ZoneId.of("Asia/Shanghai")

/**
 * Where every screen reads and changes data: the Rust store, called off the caller's thread.
 * Errors arrive as the bindings' typed exceptions (CoreException, SyncException) whose
 * messages are Chinese and say what to do.
 */
class DoorstepRepository(
    private val store: DoorstepStoreInterface,
    /** The sync server: its address and the certificates to trust for it. */
    val server: SyncServer,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) {
    private val finishedSyncs = MutableStateFlow(0)

    /**
     * How many syncs have ended (done, failed or cancelled: each may have brought changes).
     * Screens showing stored data read it again when this moves.
     */
    val syncsEnded: StateFlow<Int> = finishedSyncs.asStateFlow()

    private val catalogue: Map<String, ServiceItem> by lazy {
        serviceCatalogue().associateBy { it.code }
    }

    /** Today's date in the town, as the core counts it (Beijing time). */
    fun today(): LocalDate = store.today()

    /** The first day of this month in the town, as the core counts it. */
    fun monthStart(): LocalDate = store.monthStart()

    /** The catalogue item of a job's item code, if the app knows it. */
    fun item(code: String): ServiceItem? = catalogue[code]

    /** The signed-in user, or null before the phone enrolls. */
    suspend fun currentUser(): User? = onStore { store.currentUser() }

    /** Today's work in every village of the user, most urgent first. */
    suspend fun todayWork(limit: UInt = 500u): List<WorkItem> =
        onStore { store.todayWork(today(), null, limit) }

    /** Members found by Chinese name, identity-number tail or phone tail, best first. */
    suspend fun search(text: String, limit: UInt = 50u): List<SearchHit> = onStore { store.search(text, limit) }

    /** A village's members with any of `tags` (all members for no tags). */
    suspend fun roster(villageId: String, tags: List<SpecialTag>): List<RosterEntry> =
        onStore { store.roster(villageId, tags) }

    /** Registers a household and returns its id. */
    suspend fun createHousehold(household: NewHousehold): String = onStore { store.createHousehold(household) }

    /** Changes a household's group, address or phone. */
    suspend fun updateHousehold(householdId: String, patch: HouseholdPatch) =
        onStore { store.updateHousehold(householdId, patch) }

    /** Adds a member to a household and returns the member's id. */
    suspend fun addMember(householdId: String, member: NewMember): String =
        onStore { store.addMember(householdId, member) }

    /** Changes a member (fields, status, special-group tags). */
    suspend fun updateMember(memberId: String, patch: MemberPatch) = onStore { store.updateMember(memberId, patch) }

    /** Adds a need or a reminder to the ledger and returns its id. */
    suspend fun addLedgerLine(line: NewLedgerLine): String = onStore { store.addLedgerLine(line) }

    /** Changes a one-off need's status (done is 销号). */
    suspend fun setNeedStatus(lineId: String, status: NeedStatus) = onStore { store.setNeedStatus(lineId, status) }

    /** Opens a job (告知) for a member from a catalogue item and returns its id. */
    suspend fun openJob(job: NewJob): String = onStore { store.openJob(job) }

    /** A village's figures between two dates (inclusive). */
    suspend fun figures(villageId: String, from: LocalDate, to: LocalDate): Figures =
        onStore { store.figures(villageId, from, to) }

    /** Jobs waiting to be handed up, by village group. */
    suspend fun handUpGroups(villageId: String?): List<HandUpGroup> = onStore { store.handUpGroups(villageId) }

    /** Hands up several jobs at once; for each, why it could not be handed up, or null. */
    suspend fun handUpJobs(jobIds: List<String>, carrier: String): List<String?> =
        onStore { store.handUpJobs(jobIds, carrier) }

    /** Results to take to the residents' doors, most urgent first. */
    suspend fun deliveries(): List<JobSummary> = onStore { store.deliveries(null) }

    /** Catalogue items by name or pinyin initials, best matches first. */
    suspend fun searchCatalogue(query: String): List<ServiceItem> = onStore { cn.doorstep.ffi.searchCatalogue(query) }

    /** Everything the household screen shows, in one call. */
    suspend fun householdScreen(householdId: String): HouseholdScreen =
        onStore { store.householdScreen(householdId) }

    /** A job with its events and progress. */
    suspend fun job(jobId: String): JobDetails = onStore { store.job(jobId) }

    /** The steps the user may take next on a job. */
    suspend fun possibleSteps(jobId: String): List<JobStepKind> = onStore { store.possibleSteps(jobId) }

    /** The form of a step on a job (fields, labels, choices), as the core describes it. */
    suspend fun stepForm(jobId: String, kind: JobStepKind): StepForm = onStore { store.stepForm(jobId, kind) }

    /** Takes a job's next step from its filled-in form. */
    suspend fun takeStepFromForm(jobId: String, kind: JobStepKind, input: StepInput, location: Location?): JobProgress =
        onStore { store.takeStepFromForm(jobId, kind, input, location) }

    /** Records a visit (a planned one when `visitId` is given) and returns its id. */
    suspend fun recordVisit(householdId: String, visitId: String?, record: VisitRecord): String =
        onStore { store.recordVisit(householdId, visitId, record) }

    /** Marks a recurring reminder as done today. */
    suspend fun markReminderDone(lineId: String) = onStore { store.markReminderDone(lineId, today()) }

    /** Settles a conflict with the chosen value. */
    suspend fun chooseValue(householdId: String, conflict: FieldConflict, value: ConflictValue) =
        onStore {
            store.resolveConflict(householdId, conflict.entity, conflict.entityId, conflict.field, value.valueId)
        }

    /** The sync status: last success, pending changes, last error. */
    suspend fun syncStatus(): SyncStatus = onStore { store.syncStatus() }

    /** What the background sync should do now, by the core's retry policy. */
    suspend fun nextSync(connected: Boolean): SyncDecision = onStore { store.nextSync(connected) }

    // The two network calls are async in Rust, but the bindings poll their futures on the
    // caller's thread, so what runs between awaits, the progress listener among it, ran on the
    // main thread (the store's work itself is on tokio's blocking threads). A listener that
    // takes its time held the UI (the Compose UI tests' slowed sync showed no progress until
    // the end). So these too run on the IO dispatcher.

    /** Enrolls the phone with a one-time code from hub staff and signs the user in. */
    suspend fun enroll(code: String, deviceName: String): User =
        withContext(io) { store.enroll(server, code.trim(), deviceName) }

    /** Syncs with the server, reporting progress to `listener`; `cancel` stops it. */
    suspend fun sync(listener: SyncListener?, cancel: SyncCancel): SyncReport =
        try {
            withContext(io) { store.sync(server, listener, cancel) }
        } finally {
            finishedSyncs.update { it + 1 }
        }

    private suspend fun <T> onStore(call: () -> T): T = withContext(io) { call() }
}
