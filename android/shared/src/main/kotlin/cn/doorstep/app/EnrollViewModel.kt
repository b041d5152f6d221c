package cn.doorstep.app

import cn.doorstep.core.User
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The enrollment screen: the one-time code being typed and how enrolling went. */
data class EnrollState(
    val code: String = "",
    val working: Boolean = false,
    val enrolledAs: User? = null,
    val error: String? = null,
)

/**
 * Enrolls the phone with the one-time code hub staff gave the agent (8 characters, valid for
 * 24 hours, single use); the store then signs the agent in.
 */
class EnrollViewModel(
    private val repo: DoorstepRepository,
    scope: CoroutineScope,
    private val deviceName: String,
) : ScreenModel<EnrollState>(EnrollState(), scope) {

    /** The server the phone enrolls with, shown small on the screen. */
    val serverUrl: String get() = repo.server.url

    /** Changes the code being typed (codes are upper-case letters and digits). */
    fun editCode(text: String) = update { it.copy(code = text.uppercase(), error = null) }

    /** Sends the code; on success [EnrollState.enrolledAs] is the signed-in agent. */
    fun enroll(): Job {
        update { it.copy(working = true, error = null) }
        return act({ s, message -> s.copy(working = false, error = message) }) {
            val code = state.value.code
            if (code.isBlank()) {
                update { it.copy(working = false, error = "请输入镇便民服务中心给您的登记码") }
            } else {
                val user = repo.enroll(code, deviceName)
                update { it.copy(working = false, enrolledAs = user) }
            }
        }
    }
}
