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
import cn.doorstep.app.DoorstepRepository
import cn.doorstep.app.EnrollViewModel
import cn.doorstep.app.HouseholdViewModel
import cn.doorstep.app.JobStepViewModel
import cn.doorstep.app.SyncViewModel
import cn.doorstep.app.TodayViewModel
import cn.doorstep.app.VisitViewModel
import cn.doorstep.core.JobStepKind
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
    }

    private fun CreationExtras.application(): DoorstepApplication =
        checkNotNull(this[APPLICATION_KEY]) as DoorstepApplication

    private fun CreationExtras.repository(): DoorstepRepository = application().repository

    private fun SavedStateHandle.required(key: String): String =
        checkNotNull(get<String>(key)) { "route argument $key is missing" }
}
