package cn.doorstep.app

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/**
 * The state holder behind one screen: a [StateFlow] the UI draws, and actions that run in
 * [scope] (the Android view model's scope in the app, a test scope in tests). Every action
 * returns its [Job], so callers can wait for it.
 */
abstract class ScreenModel<S>(initial: S, private val scope: CoroutineScope) {
    private val mutable = MutableStateFlow(initial)

    /** What the screen shows now. */
    val state: StateFlow<S> = mutable.asStateFlow()

    /** Changes the state atomically. */
    protected fun update(change: (S) -> S) = mutable.update(change)

    /** Runs `work`; a failure is shown through `showError` with the user's message. */
    protected fun act(showError: (S, String) -> S, work: suspend () -> Unit): Job = scope.launch {
        try {
            work()
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            update { showError(it, e.userMessage()) }
        }
    }
}

/** A screen's `showError` with its message given: the state change that shows `message`. */
fun <S> ((S, String) -> S).curried(message: String): (S) -> S = { state -> this(state, message) }
