package cn.doorstep.app

import cn.doorstep.core.CoreException
import cn.doorstep.core.SyncException
import cn.doorstep.ffi.KeyException

/**
 * The sentence a screen shows for a failure. The core's errors carry their fields (which
 * input, which rule) and say in Chinese, as their text (the Rust `Display` the bindings
 * export as `toString`), what is wrong and what to do; anything else is an app fault to report.
 */
fun Throwable.userMessage(): String = when (this) {
    is CoreException, is SyncException, is KeyException -> toString()
    else -> "应用出错：${message ?: javaClass.simpleName}。数据未丢失，请重试；如反复出现请联系镇便民服务中心"
}

/** The core's reason why `text` fails `check`, or null when it passes or is still empty. */
internal fun problem(text: String, check: (String) -> String): String? =
    if (text.isBlank()) null else runCatching { check(text) }.exceptionOrNull()?.userMessage()
