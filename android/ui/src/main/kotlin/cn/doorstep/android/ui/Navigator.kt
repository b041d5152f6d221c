package cn.doorstep.android.ui

import androidx.compose.runtime.mutableStateListOf
import cn.doorstep.core.JobStepKind
import kotlin.coroutines.CoroutineContext
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel

/** A screen of the app and its arguments. */
sealed interface Route {
    /** Enrolling the phone (until it has enrolled). */
    data object Enroll : Route

    /** Today's work. */
    data object Today : Route

    /** A household's ledger. */
    data class Household(val householdId: String) : Route

    /** Recording a visit: a planned one when [visitId] is given, with its purpose filled in. */
    data class Visit(val householdId: String, val visitId: String? = null, val purpose: String = "") : Route

    /** A job's next step, with the form of [step] opened if given. */
    data class Job(val jobId: String, val step: JobStepKind? = null) : Route

    /** Sync; [start] starts one on arrival (after enrolling). */
    data class Sync(val start: Boolean = false) : Route

    /** Registering a household, or editing [householdId] when given. */
    data class HouseholdForm(val householdId: String? = null) : Route

    /** Adding a member to a household, or editing [memberId] when given. */
    data class MemberForm(val householdId: String, val memberId: String? = null) : Route

    /** Adding a need or a reminder to a household's ledger. */
    data class LedgerLineForm(val householdId: String) : Route

    /** The service catalogue, opening jobs for [memberId] when given. */
    data class Catalogue(val memberId: String? = null) : Route

    /** Handing jobs up to the town (转办). */
    data object HandUp : Route

    /** Results to deliver (送达). */
    data object Deliveries : Route

    /** This month's figures. */
    data object Figures : Route

    /** Finding people by name, ID or tags. */
    data object FindPeople : Route
}

/**
 * The app's back stack: a list of [Entry], the last one shown. Each entry owns a coroutine scope,
 * a child of [parent], in which its screen's state holder works; the scope ends when the entry
 * leaves the stack. Whoever keeps the navigator keeps the holders: the Android app keeps it in a
 * view model, so that screens and their work survive the activity being recreated.
 */
class Navigator(start: Route, private val parent: CoroutineContext) {
    /** One screen on the stack: its route, its scope and its state holder once made. */
    class Entry internal constructor(val route: Route, val id: Long, parent: CoroutineContext) {
        /** Where the screen's state holder works; cancelled when the entry leaves the stack. */
        val scope: CoroutineScope = CoroutineScope(parent + SupervisorJob(parent[Job]))
        private var holder: Any? = null
        private var onClose: (() -> Unit)? = null

        /** The entry's state holder, made by [create] the first time it is asked for. */
        @Suppress("UNCHECKED_CAST")
        fun <T : Any> holder(create: (CoroutineScope) -> T): T =
            (holder ?: create(scope).also { holder = it }) as T

        /** Runs [action] when the entry leaves the stack (before its scope ends). */
        fun onClose(action: () -> Unit) {
            onClose = action
        }

        internal fun close() {
            onClose?.invoke()
            scope.cancel()
        }
    }

    private var nextId = 0L
    private val stack = mutableStateListOf(entry(start))

    /** The screen shown. */
    val current: Entry get() = stack.last()

    /** The routes on the stack, the shown one last. */
    val routes: List<Route> get() = stack.map { it.route }

    /** The ids of the entries on the stack. */
    val ids: Set<Long> get() = stack.mapTo(HashSet()) { it.id }

    /** Opens [route] above the current screen. */
    fun navigate(route: Route) {
        stack.add(entry(route))
    }

    /** Opens [route] in place of the current screen. */
    fun replace(route: Route) {
        val top = stack.removeAt(stack.lastIndex)
        stack.add(entry(route))
        top.close()
    }

    /** Leaves only [route] on the stack. */
    fun resetTo(route: Route) {
        val old = stack.toList()
        stack.clear()
        stack.add(entry(route))
        old.forEach { it.close() }
    }

    /** Goes back one screen; false when there is none to go back to. */
    fun back(): Boolean {
        if (stack.size <= 1) return false
        stack.removeAt(stack.lastIndex).close()
        return true
    }

    /** Closes every entry (the app is gone). */
    fun close() {
        stack.forEach { it.close() }
    }

    private fun entry(route: Route) = Entry(route, nextId++, parent)
}
