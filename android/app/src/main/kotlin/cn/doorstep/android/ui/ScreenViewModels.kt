package cn.doorstep.android.ui

import android.app.Application
import android.os.Build
import androidx.lifecycle.SavedStateHandle
import androidx.lifecycle.ViewModel
import androidx.lifecycle.ViewModelProvider
import androidx.lifecycle.ViewModelProvider.AndroidViewModelFactory.Companion.APPLICATION_KEY
import androidx.lifecycle.createSavedStateHandle
import androidx.lifecycle.viewModelScope
import androidx.lifecycle.viewmodel.CreationExtras
import androidx.lifecycle.viewmodel.initializer
import androidx.lifecycle.viewmodel.viewModelFactory
import cn.doorstep.android.DoorstepApplication
import cn.doorstep.android.sync.SyncScheduling
import cn.doorstep.app.CatalogueViewModel
import cn.doorstep.app.DeliveriesViewModel
import cn.doorstep.app.DoorstepRepository
import cn.doorstep.app.EnrollViewModel
import cn.doorstep.app.FiguresViewModel
import cn.doorstep.app.FindPeopleViewModel
import cn.doorstep.app.HandUpViewModel
import cn.doorstep.app.HouseholdFormViewModel
import cn.doorstep.app.HouseholdViewModel
import cn.doorstep.app.JobStepViewModel
import cn.doorstep.app.LedgerLineFormViewModel
import cn.doorstep.app.MemberFormViewModel
import cn.doorstep.app.SyncViewModel
import cn.doorstep.app.TodayViewModel
import cn.doorstep.app.VisitViewModel
import cn.doorstep.app.userMessage
import cn.doorstep.core.JobStepKind
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

// Android view models that own the shared state holders: each creates its holder with
// viewModelScope, so the holder lives as long as its screen's back-stack entry (surviving
// rotation) and its work stops when the screen is gone. Screen arguments come from the
// navigation route through SavedStateHandle.

/** Owns the enrollment screen's [EnrollViewModel]. */
class EnrollScreenViewModel(repo: DoorstepRepository, deviceName: String) : ViewModel() {
    /** The screen's state holder. */
    val screen = EnrollViewModel(repo, viewModelScope, deviceName)
}

/** Owns today's work's [TodayViewModel]. */
class TodayScreenViewModel(repo: DoorstepRepository) : ViewModel() {
    /** The screen's state holder. */
    val screen = TodayViewModel(repo, viewModelScope)
}

/** Owns the household ledger's [HouseholdViewModel]. */
class HouseholdScreenViewModel(repo: DoorstepRepository, householdId: String) : ViewModel() {
    /** The screen's state holder. */
    val screen = HouseholdViewModel(repo, viewModelScope, householdId)
}

/** Owns the record-a-visit form's [VisitViewModel]. */
class VisitScreenViewModel(
    repo: DoorstepRepository,
    householdId: String,
    plannedVisitId: String?,
    purpose: String,
) : ViewModel() {
    /** The screen's state holder. */
    val screen = VisitViewModel(repo, viewModelScope, householdId, plannedVisitId, purpose)
}

/** Owns a job's [JobStepViewModel]; loads the job, then opens the form of [firstStep] if given. */
class JobStepScreenViewModel(repo: DoorstepRepository, jobId: String, firstStep: JobStepKind?) : ViewModel() {
    /** The screen's state holder. */
    val screen = JobStepViewModel(repo, viewModelScope, jobId)

    init {
        viewModelScope.launch {
            screen.refresh().join()
            if (firstStep != null && screen.state.value.job != null) screen.choose(firstStep)
        }
    }
}

/**
 * Owns the sync screen's [SyncViewModel]; starts a sync at once when [startNow]. A sync still
 * running when the screen closes stops with it and is handed to the background worker.
 */
class SyncScreenViewModel(
    private val app: Application,
    repo: DoorstepRepository,
    startNow: Boolean,
) : ViewModel() {
    /** The screen's state holder. */
    val screen = SyncViewModel(repo, viewModelScope)

    init {
        // A sync shows the status when it ends; reading it alongside would hide the progress.
        if (startNow) screen.syncNow() else screen.refreshStatus()
    }

    override fun onCleared() {
        if (screen.state.value.running) SyncScheduling.syncSoon(app)
    }
}

/** Owns the household form's [HouseholdFormViewModel]: a new household, or editing [householdId]. */
class HouseholdFormScreenViewModel(repo: DoorstepRepository, householdId: String?) : ViewModel() {
    /** The screen's state holder. */
    val screen = HouseholdFormViewModel(repo, viewModelScope, householdId)

    init {
        screen.load()
    }
}

/** Owns the member form's [MemberFormViewModel]: a new member of [householdId], or editing [memberId]. */
class MemberFormScreenViewModel(repo: DoorstepRepository, householdId: String, memberId: String?) : ViewModel() {
    /** The screen's state holder. */
    val screen = MemberFormViewModel(repo, viewModelScope, householdId, memberId)

    init {
        screen.load()
    }
}

/** Owns the add-a-need-or-reminder form's [LedgerLineFormViewModel]. */
class LedgerLineFormScreenViewModel(repo: DoorstepRepository, householdId: String) : ViewModel() {
    /** The screen's state holder. */
    val screen = LedgerLineFormViewModel(repo, viewModelScope, householdId)

    init {
        screen.load()
    }
}

/** Owns the catalogue's [CatalogueViewModel]; lists every item at first. */
class CatalogueScreenViewModel(repo: DoorstepRepository, memberId: String?) : ViewModel() {
    /** The screen's state holder. */
    val screen = CatalogueViewModel(repo, viewModelScope, memberId)

    init {
        screen.search("")
    }
}

/** Owns the find-people screen's [FindPeopleViewModel]. */
class FindPeopleScreenViewModel(repo: DoorstepRepository) : ViewModel() {
    /** The screen's state holder. */
    val screen = FindPeopleViewModel(repo, viewModelScope)
}

/**
 * Owns the hand-up list's [HandUpViewModel]; reads it once here rather than on every return to
 * the screen, since reading it again clears the ticks.
 */
class HandUpScreenViewModel(repo: DoorstepRepository) : ViewModel() {
    /** The screen's state holder. */
    val screen = HandUpViewModel(repo, viewModelScope)

    init {
        screen.refresh()
    }
}

/** Owns the deliveries list's [DeliveriesViewModel]. */
class DeliveriesScreenViewModel(repo: DoorstepRepository) : ViewModel() {
    /** The screen's state holder. */
    val screen = DeliveriesViewModel(repo, viewModelScope)
}

/**
 * Owns the figures screen's [FiguresViewModel], created once the signed-in user's village is
 * read (the holder needs it up front).
 */
class FiguresScreenViewModel(repo: DoorstepRepository) : ViewModel() {
    private val holder = MutableStateFlow<FiguresViewModel?>(null)
    private val problem = MutableStateFlow<String?>(null)

    /** The screen's state holder, null until the user's village is known. */
    val screen: StateFlow<FiguresViewModel?> = holder.asStateFlow()

    /** Why there is no state holder (no user or village, or the store failed). */
    val error: StateFlow<String?> = problem.asStateFlow()

    init {
        viewModelScope.launch {
            try {
                val village = repo.currentUser()?.regionIds?.firstOrNull()
                if (village == null) {
                    problem.value = "本机还没有登记所在的村，请先同步"
                } else {
                    holder.value = FiguresViewModel(repo, viewModelScope, village)
                }
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                problem.value = e.userMessage()
            }
        }
    }
}

/** Creates the screen view models from the application's repository and the route's arguments. */
object ScreenViewModels {
    /** The factory every screen passes to `viewModel(factory = …)`. */
    val Factory: ViewModelProvider.Factory = viewModelFactory {
        initializer { EnrollScreenViewModel(repository(), "${Build.MANUFACTURER} ${Build.MODEL}") }
        initializer { TodayScreenViewModel(repository()) }
        initializer {
            val args = createSavedStateHandle()
            HouseholdScreenViewModel(repository(), args.required(Routes.ARG_HOUSEHOLD))
        }
        initializer {
            val args = createSavedStateHandle()
            VisitScreenViewModel(
                repository(),
                householdId = args.required(Routes.ARG_HOUSEHOLD),
                plannedVisitId = args.get<String>(Routes.ARG_VISIT),
                purpose = args.get<String>(Routes.ARG_PURPOSE).orEmpty(),
            )
        }
        initializer {
            val args = createSavedStateHandle()
            JobStepScreenViewModel(
                repository(),
                jobId = args.required(Routes.ARG_JOB),
                firstStep = args.get<String>(Routes.ARG_STEP)?.let { name ->
                    JobStepKind.entries.firstOrNull { it.name == name }
                },
            )
        }
        initializer {
            val args = createSavedStateHandle()
            SyncScreenViewModel(application(), repository(), startNow = args.get<Boolean>(Routes.ARG_START) ?: false)
        }
        initializer {
            val args = createSavedStateHandle()
            HouseholdFormScreenViewModel(repository(), householdId = args.get<String>(Routes.ARG_HOUSEHOLD))
        }
        initializer {
            val args = createSavedStateHandle()
            MemberFormScreenViewModel(
                repository(),
                householdId = args.required(Routes.ARG_HOUSEHOLD),
                memberId = args.get<String>(Routes.ARG_MEMBER),
            )
        }
        initializer {
            val args = createSavedStateHandle()
            LedgerLineFormScreenViewModel(repository(), args.required(Routes.ARG_HOUSEHOLD))
        }
        initializer {
            val args = createSavedStateHandle()
            CatalogueScreenViewModel(repository(), memberId = args.get<String>(Routes.ARG_MEMBER))
        }
        initializer { HandUpScreenViewModel(repository()) }
        initializer { DeliveriesScreenViewModel(repository()) }
        initializer { FiguresScreenViewModel(repository()) }
        initializer { FindPeopleScreenViewModel(repository()) }
    }

    private fun CreationExtras.application(): DoorstepApplication =
        checkNotNull(this[APPLICATION_KEY]) as DoorstepApplication

    private fun CreationExtras.repository(): DoorstepRepository = application().repository

    private fun SavedStateHandle.required(key: String): String =
        checkNotNull(get<String>(key)) { "route argument $key is missing" }
}
