package cn.doorstep.app

import cn.doorstep.core.CoreException
import cn.doorstep.core.SyncException

/**
 * The sentence a screen shows for a failure. The core's errors already say, in Chinese, what
 * is wrong and what to do (a key the app could not supply arrives as
 * `CoreException.KeyUnavailable`); anything else is an app fault to report.
 */
fun Throwable.userMessage(): String = when (this) {
    is CoreException, is SyncException -> message ?: "操作失败，请重试"
    else -> "应用出错：${message ?: javaClass.simpleName}。数据未丢失，请重试；如反复出现请联系镇便民服务中心"
}
