package cn.doorstep.android.ui

import androidx.compose.runtime.Composable
import androidx.navigation.NavHostController
import androidx.navigation.NavType
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.rememberNavController
import androidx.navigation.navArgument

/**
 * The app's screens: enrollment (until the phone enrolls), then today's work, a household's
 * ledger, recording a visit, a job's next step, and sync.
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
    }
}

/** An optional text argument of a route (null when the route leaves it out). */
private fun optionalText(name: String) = navArgument(name) {
    type = NavType.StringType
    nullable = true
    defaultValue = null
}
