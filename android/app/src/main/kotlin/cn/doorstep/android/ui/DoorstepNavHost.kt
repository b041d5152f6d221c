package cn.doorstep.android.ui

import androidx.compose.runtime.Composable
import androidx.navigation.NavHostController
import androidx.navigation.NavType
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.rememberNavController
import androidx.navigation.navArgument
import cn.doorstep.core.JobStepKind

/**
 * The app's screens: enrollment (until the phone enrolls), then today's work, a household's
 * ledger, recording a visit, a job's next step, sync, the household, member and ledger-line
 * forms, the service catalogue, hand-up (转办), deliveries (送达) and this month's figures.
 */
@Composable
fun DoorstepNavHost(signedIn: Boolean, navController: NavHostController = rememberNavController()) {
    val back: () -> Unit = { navController.popBackStack() }
    NavHost(navController = navController, startDestination = if (signedIn) Routes.TODAY else Routes.ENROLL) {
        composable(Routes.ENROLL) {
            EnrollScreen(onEnrolled = {
                // Nothing before enrolling is worth going back to.
                navController.navigate(Routes.TODAY) {
                    popUpTo(navController.graph.id) { inclusive = true }
                }
                // The first sync brings the villages' households down; show it happening.
                navController.navigate(Routes.sync(start = true))
            })
        }
        composable(Routes.TODAY) {
            TodayScreen(
                onOpenHousehold = { navController.navigate(Routes.household(it)) },
                onSync = { navController.navigate(Routes.sync()) },
                onNewHousehold = { navController.navigate(Routes.householdForm()) },
                onHandUp = { navController.navigate(Routes.HAND_UP) },
                onDeliveries = { navController.navigate(Routes.DELIVERIES) },
                onFigures = { navController.navigate(Routes.FIGURES) },
                onFindPeople = { navController.navigate(Routes.FIND_PEOPLE) },
            )
        }
        composable(
            Routes.HOUSEHOLD,
            arguments = listOf(navArgument(Routes.ARG_HOUSEHOLD) { type = NavType.StringType }),
        ) { entry ->
            val householdId = entry.arguments?.getString(Routes.ARG_HOUSEHOLD).orEmpty()
            HouseholdScreen(
                onBack = back,
                onRecordVisit = { visitId, purpose ->
                    navController.navigate(Routes.visit(householdId, visitId, purpose))
                },
                onTakeStep = { jobId, step -> navController.navigate(Routes.job(jobId, step)) },
                onEditHousehold = { navController.navigate(Routes.householdForm(householdId)) },
                onAddMember = { navController.navigate(Routes.memberForm(householdId)) },
                onEditMember = { navController.navigate(Routes.memberForm(householdId, it)) },
                onOpenCatalogue = { navController.navigate(Routes.catalogue(it)) },
                onAddLine = { navController.navigate(Routes.ledgerLineForm(householdId)) },
            )
        }
        composable(
            Routes.VISIT,
            arguments = listOf(
                navArgument(Routes.ARG_HOUSEHOLD) { type = NavType.StringType },
                optionalText(Routes.ARG_VISIT),
                navArgument(Routes.ARG_PURPOSE) {
                    type = NavType.StringType
                    defaultValue = ""
                },
            ),
        ) {
            VisitScreen(onBack = back, onSaved = back)
        }
        composable(
            Routes.JOB,
            arguments = listOf(
                navArgument(Routes.ARG_JOB) { type = NavType.StringType },
                optionalText(Routes.ARG_STEP),
            ),
        ) {
            JobStepScreen(onBack = back)
        }
        composable(
            Routes.SYNC,
            arguments = listOf(
                navArgument(Routes.ARG_START) {
                    type = NavType.BoolType
                    defaultValue = false
                },
            ),
        ) {
            SyncScreen(onBack = back, onEnrollAgain = { navController.navigate(Routes.ENROLL) })
        }
        composable(Routes.HOUSEHOLD_FORM, arguments = listOf(optionalText(Routes.ARG_HOUSEHOLD))) { entry ->
            val editing = entry.arguments?.getString(Routes.ARG_HOUSEHOLD) != null
            HouseholdFormScreen(
                editing = editing,
                onBack = back,
                onSaved = { householdId ->
                    if (editing) {
                        back()
                    } else {
                        // The new household's ledger, in place of the form.
                        navController.navigate(Routes.household(householdId)) {
                            popUpTo(Routes.HOUSEHOLD_FORM) { inclusive = true }
                        }
                    }
                },
            )
        }
        composable(
            Routes.MEMBER_FORM,
            arguments = listOf(
                navArgument(Routes.ARG_HOUSEHOLD) { type = NavType.StringType },
                optionalText(Routes.ARG_MEMBER),
            ),
        ) { entry ->
            val editing = entry.arguments?.getString(Routes.ARG_MEMBER) != null
            // A new member goes back to the household; an edited one stays, to be marked if need be.
            MemberFormScreen(editing = editing, onBack = back, onSaved = { if (!editing) back() })
        }
        composable(
            Routes.LEDGER_LINE_FORM,
            arguments = listOf(navArgument(Routes.ARG_HOUSEHOLD) { type = NavType.StringType }),
        ) {
            LedgerLineFormScreen(onBack = back, onSaved = back)
        }
        composable(Routes.CATALOGUE, arguments = listOf(optionalText(Routes.ARG_MEMBER))) {
            CatalogueScreen(
                onBack = back,
                onOpened = { jobId ->
                    // Straight on to acceptance (受理), in place of the catalogue.
                    navController.navigate(Routes.job(jobId, JobStepKind.ACCEPT)) {
                        popUpTo(Routes.CATALOGUE) { inclusive = true }
                    }
                },
            )
        }
        composable(Routes.HAND_UP) {
            HandUpScreen(onBack = back)
        }
        composable(Routes.DELIVERIES) {
            DeliveriesScreen(onBack = back, onOpenJob = { navController.navigate(Routes.job(it)) })
        }
        composable(Routes.FIGURES) {
            FiguresScreen(onBack = back)
        }
        composable(Routes.FIND_PEOPLE) {
            FindPeopleScreen(onBack = back, onOpenHousehold = { navController.navigate(Routes.household(it)) })
        }
    }
}

/** An optional text argument of a route (null when the route leaves it out). */
private fun optionalText(name: String) = navArgument(name) {
    type = NavType.StringType
    nullable = true
    defaultValue = null
}
