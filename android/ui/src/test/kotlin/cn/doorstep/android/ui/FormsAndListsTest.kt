package cn.doorstep.android.ui

import androidx.compose.ui.test.ExperimentalTestApi
import androidx.compose.ui.test.hasClickAction
import androidx.compose.ui.test.hasSetTextAction
import androidx.compose.ui.test.hasText
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
        waitUntil("the new household", 30_000) { app.navigator.current.route is Route.Household }
        val householdId = (app.navigator.current.route as Route.Household).householdId
        waitForText("家庭成员（0）")

        // A member whose ID number fails its check digit is refused with the core's reason.
        onNodeWithText("添加成员").performClick()
        waitForText("与户主关系")
        field("姓名").performTextInput("王秀英")
        field("身份证号").performTextInput("110101199003071234")
        onNodeWithText("保存").performClick()
        waitForText("身份证号码无效", substring = true)
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
        waitUntil("the phone number stored", 30_000) {
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
        waitUntil("the job to hand up", 30_000) { onAllNodes(row).fetchSemanticsNodes().isNotEmpty() }
        screenshot("09-hand-up")
        onAllNodes(row)[0].performClick()
        waitForText("转办已勾选的 1 件")
        onNodeWithText("转办已勾选的 1 件").performClick()
        waitUntil("the job handed up", 30_000) { app.phone.store.job(job.jobId).progress.state == JobState.HANDED_UP }
        screenshot("09-hand-up-done")
    }

    @Test
    fun deliveriesFiguresAndFindingPeople() = uiTest(Route.Today) { app ->
        waitForText("送达")
        onNodeWithText("送达").performClick()
        val deliveries = runBlocking { app.repo.deliveries() }
        waitForText(if (deliveries.isEmpty()) "没有等待送达的办件。" else deliveries.first().itemName)
        screenshot("11-deliveries")
        onNodeWithContentDescription("返回").performClick()

        waitForText("本月统计")
        onNodeWithText("本月统计").performClick()
        waitUntil("the figures", 30_000) {
            // The holder is made when the screen is first composed.
            val holder = runCatching { app.navigator.current.holder<FiguresHolder> { error("not yet") } }.getOrNull()
            holder?.screen?.value?.state?.value?.figures != null
        }
        screenshot("12-figures")
        onNodeWithContentDescription("返回").performClick()

        // Someone of the village by name: the hit opens the household.
        val householdId = app.phone.store.householdIds().first()
        val member = app.phone.store.household(householdId).members.first()
        waitForText("找人")
        onNodeWithText("找人").performClick()
        field("姓名").performTextInput(member.name)
        val hit = hasText(member.name) and hasClickAction() and !hasSetTextAction()
        waitUntil("the hit", 30_000) { onAllNodes(hit).fetchSemanticsNodes().isNotEmpty() }
        screenshot("13-find-people")
        onAllNodes(hit)[0].performClick()
        waitUntil("the household", 30_000) { app.navigator.current.route is Route.Household }
    }
}
