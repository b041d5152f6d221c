package cn.doorstep.android.ui

import cn.doorstep.app.SHANGHAI
import cn.doorstep.core.Member
import cn.doorstep.core.Schedule
import cn.doorstep.core.WorkItem
import java.time.Instant
import java.time.LocalDate
import java.time.Period
import java.time.format.DateTimeFormatter

private val dateTime: DateTimeFormatter = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(SHANGHAI)

/** A moment as the town reads it, for example "2026-11-22 09:30" (phone clocks may be off). */
fun Instant.townTime(): String = dateTime.format(this)

/** When a work item is due, in words. */
fun WorkItem.dueText(): String =
    if (daysOverdue > 0) "逾期 $daysOverdue 天（应于 $due）" else "今天到期"

/** How a ledger line recurs, in words. */
fun Schedule.describe(): String = when (this) {
    is Schedule.OneOff -> "一次性 · ${status.label()}" + (due?.let { " · 期限 $it" } ?: "")
    is Schedule.EveryNDays -> "每 $days 天一次"
    is Schedule.Yearly -> "每年 $month 月 $day 日"
}

/** A member's line under the name: relation, age, special-group tags, status. */
fun Member.describe(today: LocalDate): String = buildList {
    if (relation.isNotBlank()) add(relation)
    gender?.let { add(it.label()) }
    birthDate?.let { add("${Period.between(it, today).years} 岁") }
    addAll(tags.map { it.label() })
    add(status.label())
}.joinToString(" · ")
