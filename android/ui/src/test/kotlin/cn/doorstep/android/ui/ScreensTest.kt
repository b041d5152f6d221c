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
import cn.doorstep.app.EnrollViewModel
import cn.doorstep.app.TestServer
import cn.doorstep.core.ItemTier
import cn.doorstep.core.JobState
import cn.doorstep.core.JobStepKind
import cn.doorstep.ffi.serviceCatalogue
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.Test

/**
 * The app's screens driven as an agent would, over a real store and a real sync server on
 * 127.0.0.1, with a screenshot of each.
 */
@OptIn(ExperimentalTestApi::class)
class ScreensTest {
    @Test
    fun enrolRefusesABadCodeThenSyncsTheVillageAndShowsTodaysWork() = uiTest(Route.Enroll, user = null, unhurried = true) { app ->
        waitForText("登记本机")
        screenshot("01-enrol")

        // A code the server never issued: its refusal is shown under the form.
        onNode(hasSetTextAction()).performTextInput("ZZZZ-9999")
        onNodeWithText("登记").performClick()
        val enrol = app.navigator.current.holder<EnrollViewModel> { error("the enrol screen has no holder") }
        waitUntil("the refusal", 90_000) { enrol.state.value.error != null }
        val refusal = assertNotNull(enrol.state.value.error)
        waitForText(refusal)
        screenshot("01-enrol-refused")

        // The right code: enrolled, today's work with the first sync above it, its progress shown.
        onNode(hasSetTextAction()).performTextClearance()
        onNode(hasSetTextAction()).performTextInput(app.server.issueCode(TestServer.AGENT))
        onNodeWithText("登记").performClick()
        waitUntil("the sync screen", 90_000) { app.navigator.routes == listOf(Route.Today, Route.Sync(start = true)) }
        var progressSeen = false
        waitUntil("the end of the first sync", 60_000) {
            if (!progressSeen && shows("已接收", substring = true)) {
                progressSeen = true
                screenshot("05-sync-progress", now = true)
            }
            shows("同步完成", substring = true)
        }
        assertTrue(progressSeen, "a progress line was shown while syncing")
        waitForText("已全部同步")
        screenshot("05-sync-done")
        assertEquals(60, app.phone.store.householdIds().size)

        onNodeWithContentDescription("返回").performClick()
        waitForText("逾期", substring = true)
        val work = runBlocking { app.repo.todayWork() }
        assertTrue(work.isNotEmpty())
        waitForText(work.first().title)
        screenshot("02-today")
        assertEquals(1, app.platform.locationAsks.get(), "today asks for the location once")
    }

    @Test
    fun aHouseholdOpensAJobWhoseStepIsRefusedUntilTheFormIsFilledIn() = uiTest(Route.Today) { app ->
        val work = runBlocking { app.repo.todayWork() }
        val first = work.first()
        waitForText(first.title)
        onAllNodesWithText(first.title)[0].performClick()
        waitForText("家庭成员", substring = true)
        waitForText(first.memberName)
        screenshot("03-household")

        // The catalogue for the first member, one village-level item, and the job opened from it.
        scrollTo("办理事项").performClick()
        val item = serviceCatalogue().first { it.tier == ItemTier.VILLAGE }
        field("搜索事项").performTextInput(item.name)
        val card = hasText(item.name) and hasClickAction() and !hasSetTextAction()
        waitUntil("the item in the results", 90_000) { onAllNodes(card).fetchSemanticsNodes().isNotEmpty() }
        screenshot("10-catalogue")
        onAllNodes(card)[0].performClick()
        scrollTo("告知并建件").performClick()
        waitUntil("the job's acceptance form", 90_000) { app.navigator.current.route is Route.Job }
        val jobId = (app.navigator.current.route as Route.Job).jobId

        val accept = JobStepKind.ACCEPT.label()
        waitForText("确认：$accept")
        onNodeWithText("确认：$accept").performClick()
        waitForText("已记录“$accept”", substring = true)
        assertEquals(JobState.ACCEPTED, app.phone.store.job(jobId).progress.state)

        // Completing without the result: the core's refusal (a typed error) is shown, nothing recorded.
        val complete = JobStepKind.COMPLETE.label()
        onNodeWithText(complete).performClick()
        waitForText("确认：$complete")
        onNodeWithText("确认：$complete").performClick()
        waitForText("不能为空", substring = true)
        scrollTo("不能为空", substring = true)
        screenshot("04-job-step-refused")
        assertEquals(JobState.ACCEPTED, app.phone.store.job(jobId).progress.state)

        field("办理结果").performTextInput("${item.name}已办结")
        onNodeWithText("确认：$complete").performClick()
        waitForText("已记录“$complete”", substring = true)
        screenshot("04-job-step-done")
        assertEquals(JobState.COMPLETED, app.phone.store.job(jobId).progress.state)
    }

    @Test
    fun aSyncThatCannotReachTheServerSaysSo() = uiTest(Route.Sync()) { app ->
        waitForText("已全部同步")
        app.server.close()
        onNodeWithText("立即同步").performClick()
        waitForText("上次同步出错", substring = true)
        screenshot("05-sync-failed")
        assertTrue(runBlocking { app.repo.syncStatus() }.lastError != null)
    }
}
