package cn.doorstep.android.ui

import androidx.compose.ui.test.ExperimentalTestApi
import androidx.compose.ui.test.hasClickAction
import androidx.compose.ui.test.hasSetTextAction
import androidx.compose.ui.test.hasText
import androidx.compose.ui.test.onAllNodesWithText
import androidx.compose.ui.test.onNodeWithContentDescription
import androidx.compose.ui.test.onNodeWithText
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.performTextClearance
import androidx.compose.ui.test.performTextInput
import cn.doorstep.app.TestServer
import cn.doorstep.app.emptyStepInput
import cn.doorstep.core.ItemTier
import cn.doorstep.core.JobState
import cn.doorstep.core.JobStepKind
import cn.doorstep.core.NewJob
import cn.doorstep.core.Urgency
import cn.doorstep.core.VisitOutcome
import cn.doorstep.ffi.serviceCatalogue
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.Test

/**
 * The forms (a household, its people, a ledger line) and the lists (hand-up, deliveries,
 * figures, finding people), driven over a real store and a real sync server on 127.0.0.1.
 */
@OptIn(ExperimentalTestApi::class)
class FormsAndListsTest {
    @Test
    fun registersAHouseholdItsPeopleAndANeed() = uiTest(Route.Today) { app ->
        waitForText("登记新户")
        onNodeWithText("登记新户").performClick()
        waitForText("所在村")
        field("组").performTextInput("三组")
        field("住址").performTextInput("三张村三组 18 号")
        screenshot("06-household-form")
        onNodeWithText("保存").performClick()
        waitUntil("the new household", 90_000) { app.navigator.current.route is Route.Household }
        val householdId = (app.navigator.current.route as Route.Household).householdId
        waitForText("家庭成员（0）")

        // A member whose ID number fails its check digit is refused with the core's reason.
        onNodeWithText("添加成员").performClick()
        waitForText("与户主关系")
        field("姓名").performTextInput("王秀英")
        field("身份证号").performTextInput("110101199003071234")
        onNodeWithText("保存").performClick()
        // Under the field as it is typed, and under the form once the save is refused.
        waitUntil("the refusal under the field and the form", 90_000) {
            onAllNodesWithText("身份证号码无效", substring = true).fetchSemanticsNodes().size == 2
        }
        screenshot("07-member-form-refused")
        field("身份证号").performTextClearance()
        onNodeWithText("保存").performClick()
        waitForText("家庭成员（1）")
        waitForText("王秀英")
        assertEquals(listOf("王秀英"), app.phone.store.household(householdId).members.map { it.name })

        // Editing her: a phone number, saved on the form.
        onNodeWithText("王秀英").performClick()
        waitForText("手机号", substring = true)
        field("手机号").performTextInput("13800138000")
        onNodeWithText("保存").performClick()
        waitUntil("the phone number stored", 90_000) {
            app.phone.store.household(householdId).members.single().phone == "13800138000"
        }
        screenshot("07-member-form-edit")
        onNodeWithContentDescription("返回").performClick()

        // A need on the ledger.
        waitForText("添加需求或提醒")
        onNodeWithText("添加需求或提醒").performClick()
        waitForText("哪位成员")
        onNodeWithText("王秀英").performClick()
        field("事项").performTextInput("轮椅申领")
        screenshot("08-ledger-line-form")
        scrollTo("保存").performClick()
        waitForText("服务台账（1）")
        scrollTo("轮椅申领")
        screenshot("03-household-new")
        assertEquals(listOf("轮椅申领"), app.phone.store.household(householdId).ledger.map { it.title })

        // A visit, recorded where the phone is.
        scrollTo("记录走访").performClick()
        waitForText("走访结果")
        field("走访事由").performTextInput("登记后首次走访")
        onNodeWithText(VisitOutcome.MET.label()).performClick()
        field("走访情况").performTextInput("老人腿脚不便，需要轮椅")
        screenshot("14-visit")
        scrollTo("保存").performClick()
        waitForText("走访记录（1）")
        val visit = app.phone.store.household(householdId).visits.single()
        assertEquals("登记后首次走访", visit.purpose)
        assertEquals(VisitOutcome.MET, visit.outcome)
    }

    @Test
    fun theHeadHandsUpAnAcceptedJob() = uiTest(Route.Today, user = TestServer.HEAD, prepare = {
        // A town-level job for someone in the village, accepted with every material.
        runBlocking {
            val householdId = phone.store.householdIds().first()
            val memberId = phone.store.household(householdId).members.first().id
            val item = serviceCatalogue().first { it.tier == ItemTier.TOWN }
            val jobId = phone.store.openJob(NewJob(memberId, item.code, item.modes.first(), Urgency.AMBER, "", null))
            repo.takeStepFromForm(jobId, JobStepKind.ACCEPT, emptyStepInput, null)
        }
    }) { app ->
        val waiting = runBlocking { app.repo.handUpGroups(null) }.flatMap { it.jobs }
        assertTrue(waiting.isNotEmpty())
        waitForText("转办")
        onNodeWithText("转办").performClick()
        val job = waiting.first()
        val row = hasText(job.itemName) and hasText(job.memberName, substring = true)
        waitUntil("the job to hand up", 90_000) { onAllNodes(row).fetchSemanticsNodes().isNotEmpty() }
        screenshot("09-hand-up")
        onAllNodes(row)[0].performClick()
        waitForText("转办已勾选的 1 件")
        onNodeWithText("转办已勾选的 1 件").performClick()
        waitUntil("the job handed up", 90_000) { app.phone.store.job(job.jobId).progress.state == JobState.HANDED_UP }
        screenshot("09-hand-up-done")
    }

    @Test
    fun deliveriesFiguresAndFindingPeople() = uiTest(Route.Today) { app ->
        waitForText("送达")
        onNodeWithText("送达").performClick()
        val deliveries = runBlocking { app.repo.deliveries() }
        waitForText(if (deliveries.isEmpty()) "没有等待送达的办件。" else deliveries.first().itemName)
        screenshot("11-deliveries")

        // The result signed out at the hub (待送达) is signed for at the door by the member.
        val parcel = deliveries.indexOfFirst { it.state == JobState.PARCEL_SIGNED_OUT }
        assertTrue(parcel >= 0, "the demo village has a result to deliver")
        val job = deliveries[parcel]
        onAllNodesWithText("已签收")[parcel].performClick()
        waitForText("${job.itemName}：已签收")
        screenshot("11-deliveries-signed-for")
        onNodeWithText("确定").performClick()
        waitUntil("the job delivered", 90_000) { app.phone.store.job(job.jobId).progress.state == JobState.DELIVERED }
        onNodeWithContentDescription("返回").performClick()

        waitForText("本月统计")
        onNodeWithText("本月统计").performClick()
        // The holder is made when the screen is first composed; the figures are the core's.
        fun figures() = runCatching { app.navigator.current.holder<FiguresHolder> { error("not yet") } }
            .getOrNull()?.screen?.value?.state?.value?.figures
        waitUntil("the figures", 90_000) { figures() != null }
        val f = figures()!!
        waitForText("${f.completedOnTime} / ${f.jobsCompleted}", substring = true)
        waitForText("${f.visitsDone} 次")
        screenshot("12-figures")
        onNodeWithContentDescription("返回").performClick()

        // Someone of the village by name: the hit opens the household.
        val householdId = app.phone.store.householdIds().first()
        val member = app.phone.store.household(householdId).members.first()
        waitForText("找人")
        onNodeWithText("找人").performClick()
        field("姓名").performTextInput(member.name)
        val hit = hasText(member.name) and hasClickAction() and !hasSetTextAction()
        waitUntil("the hit", 90_000) { onAllNodes(hit).fetchSemanticsNodes().isNotEmpty() }
        screenshot("13-find-people")
        onAllNodes(hit)[0].performClick()
        waitUntil("the household", 90_000) { app.navigator.current.route is Route.Household }
    }
}
