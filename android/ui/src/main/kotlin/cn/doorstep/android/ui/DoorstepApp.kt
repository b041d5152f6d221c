package cn.doorstep.android.ui

import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveableStateHolder
import cn.doorstep.app.CatalogueViewModel
import cn.doorstep.app.DeliveriesViewModel
import cn.doorstep.app.EnrollViewModel
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
import cn.doorstep.core.JobStepKind
import kotlinx.coroutines.launch

/**
 * The app's screens: enrollment (until the phone enrolls), then today's work, a household's
 * ledger, recording a visit, a job's next step, sync, the household, member and ledger-line
 * forms, the service catalogue, hand-up (转办), deliveries (送达) and this month's figures.
 * Shows [navigator]'s current screen, with the state holder its entry owns.
 */
@Composable
fun DoorstepApp(navigator: Navigator) {
    val saved = rememberSaveableStateHolder()
    val entry = navigator.current
    saved.SaveableStateProvider(entry.id) { Screen(entry, navigator) }

    // The saved UI state of screens that left the stack is dropped with them.
    val seen = remember { HashSet<Long>() }
    val live = navigator.ids
    LaunchedEffect(live) {
        (seen - live).forEach { saved.removeState(it) }
        seen.retainAll(live)
        seen.addAll(live)
    }
}

@Composable
private fun Screen(entry: Navigator.Entry, navigator: Navigator) {
    val env = LocalDoorstep.current
    val repo = env.repository
    val back: () -> Unit = { navigator.back() }
    when (val route = entry.route) {
        Route.Enroll -> EnrollScreen(
            entry.holder { EnrollViewModel(repo, it, env.platform.deviceName) },
            onEnrolled = {
                // Nothing before enrolling is worth going back to; the first sync brings the
                // villages' households down: show it happening.
                navigator.resetTo(Route.Today)
                navigator.navigate(Route.Sync(start = true))
            },
        )
        Route.Today -> TodayScreen(
            entry.holder { TodayViewModel(repo, it) },
            onOpenHousehold = { navigator.navigate(Route.Household(it)) },
            onSync = { navigator.navigate(Route.Sync()) },
            onNewHousehold = { navigator.navigate(Route.HouseholdForm()) },
            onHandUp = { navigator.navigate(Route.HandUp) },
            onDeliveries = { navigator.navigate(Route.Deliveries) },
            onFigures = { navigator.navigate(Route.Figures) },
            onFindPeople = { navigator.navigate(Route.FindPeople) },
        )
        is Route.Household -> HouseholdScreen(
            entry.holder { HouseholdViewModel(repo, it, route.householdId) },
            onBack = back,
            onRecordVisit = { visitId, purpose -> navigator.navigate(Route.Visit(route.householdId, visitId, purpose)) },
            onTakeStep = { jobId, step -> navigator.navigate(Route.Job(jobId, step)) },
            onEditHousehold = { navigator.navigate(Route.HouseholdForm(route.householdId)) },
            onAddMember = { navigator.navigate(Route.MemberForm(route.householdId)) },
            onEditMember = { navigator.navigate(Route.MemberForm(route.householdId, it)) },
            onOpenCatalogue = { navigator.navigate(Route.Catalogue(it)) },
            onAddLine = { navigator.navigate(Route.LedgerLineForm(route.householdId)) },
        )
        is Route.Visit -> VisitScreen(
            entry.holder { VisitViewModel(repo, it, route.householdId, route.visitId, route.purpose) },
            onBack = back,
            onSaved = back,
        )
        is Route.Job -> JobStepScreen(
            entry.holder { scope ->
                JobStepViewModel(repo, scope, route.jobId).also { model ->
                    // Loads the job, then opens the form of the step asked for.
                    scope.launch {
                        model.refresh().join()
                        if (route.step != null && model.state.value.job != null) model.choose(route.step)
                    }
                }
            },
            onBack = back,
        )
        is Route.Sync -> SyncScreen(
            entry.holder { scope ->
                SyncViewModel(repo, scope).also { model ->
                    // A sync shows the status when it ends; reading it alongside would hide the
                    // progress. One still running when the screen closes stops with it and is
                    // handed to the background.
                    if (route.start) model.syncNow() else model.refreshStatus()
                    entry.onClose { if (model.state.value.running) env.platform.syncLeftRunning() }
                }
            },
            onBack = back,
            onEnrollAgain = { navigator.navigate(Route.Enroll) },
        )
        is Route.HouseholdForm -> HouseholdFormScreen(
            entry.holder { HouseholdFormViewModel(repo, it, route.householdId).also { model -> model.load() } },
            editing = route.householdId != null,
            onBack = back,
            onSaved = { householdId ->
                // A new household's ledger opens in place of the form.
                if (route.householdId != null) back() else navigator.replace(Route.Household(householdId))
            },
        )
        is Route.MemberForm -> MemberFormScreen(
            entry.holder { MemberFormViewModel(repo, it, route.householdId, route.memberId).also { model -> model.load() } },
            editing = route.memberId != null,
            onBack = back,
            // A new member goes back to the household; an edited one stays, to be marked if need be.
            onSaved = { if (route.memberId == null) back() },
        )
        is Route.LedgerLineForm -> LedgerLineFormScreen(
            entry.holder { LedgerLineFormViewModel(repo, it, route.householdId).also { model -> model.load() } },
            onBack = back,
            onSaved = back,
        )
        is Route.Catalogue -> CatalogueScreen(
            entry.holder { CatalogueViewModel(repo, it, route.memberId).also { model -> model.search("") } },
            onBack = back,
            // Straight on to acceptance (受理), in place of the catalogue.
            onOpened = { jobId -> navigator.replace(Route.Job(jobId, JobStepKind.ACCEPT)) },
        )
        // Read once here rather than on every return to the screen: reading again clears the ticks.
        Route.HandUp -> HandUpScreen(entry.holder { HandUpViewModel(repo, it).also { model -> model.refresh() } }, onBack = back)
        Route.Deliveries -> DeliveriesScreen(
            entry.holder { DeliveriesViewModel(repo, it) },
            onBack = back,
            onOpenJob = { navigator.navigate(Route.Job(it)) },
        )
        Route.Figures -> FiguresScreen(entry.holder { FiguresHolder(repo, it) }, onBack = back)
        Route.FindPeople -> FindPeopleScreen(
            entry.holder { FindPeopleViewModel(repo, it) },
            onBack = back,
            onOpenHousehold = { navigator.navigate(Route.Household(it)) },
        )
    }
}
