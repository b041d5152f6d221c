package cn.doorstep.app

import cn.doorstep.core.ConflictValue
import cn.doorstep.core.FieldConflict
import cn.doorstep.core.Household
import cn.doorstep.core.HouseholdSyncState
import cn.doorstep.core.JobRow
import cn.doorstep.core.LedgerRow
import cn.doorstep.core.Member
import cn.doorstep.core.NeedStatus
import cn.doorstep.core.Visit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The household ledger screen (一户一档), as the core describes it (`householdScreen`). */
data class HouseholdState(
    val loading: Boolean = false,
    val household: Household? = null,
    val members: List<Member> = emptyList(),
    val ledger: List<LedgerRow> = emptyList(),
    val jobs: List<JobRow> = emptyList(),
    val visits: List<Visit> = emptyList(),
    val conflicts: List<FieldConflict> = emptyList(),
    val syncState: HouseholdSyncState? = null,
    val notice: String? = null,
    val error: String? = null,
) {
    /** The statuses a one-off need can be set to, with their labels. */
    val needStatusChoices: List<NeedStatus> get() = NeedStatus.entries

    /** A line about the household's sync state, for the top of the screen. */
    val syncLine: String
        get() = when (val s = syncState) {
            null -> ""
            is HouseholdSyncState.Synced -> "已同步"
            is HouseholdSyncState.Pending -> "有 ${s.localChanges} 条修改待同步"
            is HouseholdSyncState.Rejected -> s.reason
            is HouseholdSyncState.SetAside -> "本户暂停同步：${s.reason}"
        }
}

/** Loads one household's ledger and carries out what the agent does on it. */
class HouseholdViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val householdId: String,
) : ScreenModel<HouseholdState>(HouseholdState(), scope) {

    private val showError = { s: HouseholdState, message: String -> s.copy(loading = false, error = message) }

    /** Reads the household again. */
    fun refresh(): Job {
        update { it.copy(loading = true, error = null) }
        return act(showError) { reload(notice = null) }
    }

    /** Marks a recurring reminder (medication cycle, birthday) as done today. */
    fun markReminderDone(lineId: String): Job = act(showError) {
        repo.markReminderDone(lineId)
        reload(notice = "已记录完成")
    }

    /** Changes a one-off need's status; done closes the line (销号). */
    fun setNeedStatus(lineId: String, status: NeedStatus): Job = act(showError) {
        repo.setNeedStatus(lineId, status)
        reload(notice = "已改为“${status.label()}”")
    }

    /** Settles a conflicting field with the value the agent chose. */
    fun chooseValue(conflict: FieldConflict, value: ConflictValue): Job = act(showError) {
        repo.chooseValue(householdId, conflict, value)
        reload(notice = "已采用“${value.value}”")
    }

    private suspend fun reload(notice: String?) {
        val screen = repo.householdScreen(householdId)
        update {
            HouseholdState(
                household = screen.household,
                members = screen.members,
                ledger = screen.ledger,
                jobs = screen.jobs,
                visits = screen.visits,
                conflicts = screen.conflicts,
                syncState = screen.syncState,
                notice = notice,
            )
        }
    }
}
