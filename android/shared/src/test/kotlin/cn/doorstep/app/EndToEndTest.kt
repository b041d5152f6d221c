package cn.doorstep.app

import cn.doorstep.core.CoreException
import cn.doorstep.core.HouseholdPatch
import cn.doorstep.core.ItemTier
import cn.doorstep.core.JobState
import cn.doorstep.core.JobStep
import cn.doorstep.core.JobStepKind
import cn.doorstep.core.Location
import cn.doorstep.core.NewJob
import cn.doorstep.core.NewMember
import cn.doorstep.core.Role
import cn.doorstep.core.SyncException
import cn.doorstep.core.SyncProgress
import cn.doorstep.core.Urgency
import cn.doorstep.core.VisitOutcome
import cn.doorstep.core.VisitRecord
import cn.doorstep.ffi.DatabaseKey
import cn.doorstep.ffi.DoorstepStore
import cn.doorstep.ffi.KeyException
import cn.doorstep.ffi.SyncCancel
import cn.doorstep.ffi.SyncListener
import cn.doorstep.ffi.SyncServer
import cn.doorstep.ffi.serviceCatalogue
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.Test

/** Two phones and a real sync server on 127.0.0.1, driven through the app's own layers. */
class EndToEndTest {
    private class Recorder : SyncListener {
        val reports = CopyOnWriteArrayList<SyncProgress>()
        override fun onProgress(progress: SyncProgress) {
            reports.add(progress)
        }
    }

    @Test
    fun anAgentsDayRoundTripsThroughTheServer() = TestServer().use { server ->
        TestPhone().use { phoneA ->
            TestPhone().use { phoneB ->
                runBlocking {
                    val agent = phoneA.repository(server.url)
                    val head = phoneB.repository(server.url)

                    // Enrol with a one-time code, then the first sync downloads the village.
                    val user = agent.enroll(server.issueCode(TestServer.AGENT), "测试手机甲")
                    assertEquals(Role.AGENT, user.role)
                    assertEquals(listOf(TestServer.VILLAGE), user.regionIds)
                    val recorder = Recorder()
                    val first = agent.sync(recorder, SyncCancel())
                    assertTrue(recorder.reports.isNotEmpty(), "progress reports arrive")
                    assertEquals(first.progress, recorder.reports.last())
                    assertEquals(60, phoneA.store.householdIds().size)
                    assertEquals(60uL, first.progress.documentsReceived)

                    // Today's work.
                    val today = TodayViewModel(agent, this)
                    today.refresh().join()
                    val work = today.state.value
                    assertNull(work.error)
                    assertTrue(work.overdue.size + work.dueToday.size > 0, work.headline)
                    val householdId = (work.overdue + work.dueToday).first().householdId

                    // Record a visit, then open a job and take its steps.
                    val visit = VisitViewModel(agent, this, householdId)
                    visit.edit { it.copy(purpose = "季度走访", notes = "老人身体尚可") }
                    visit.save(Location(34.75, 113.62)).join()
                    val visitId = assertNotNull(visit.state.value.savedVisitId, visit.state.value.error)

                    val memberId = phoneA.store.household(householdId).members.first().id
                    val item = serviceCatalogue().first { it.tier == ItemTier.VILLAGE }
                    val jobId = phoneA.store.openJob(
                        NewJob(memberId, item.code, item.modes.first(), Urgency.AMBER, "上门代办", visitId),
                    )
                    val steps = JobStepViewModel(agent, this, jobId)
                    steps.refresh().join()
                    assertContains(steps.state.value.steps, JobStepKind.ACCEPT)
                    steps.choose(JobStepKind.ACCEPT).join()
                    steps.submit().join()
                    assertEquals(JobState.ACCEPTED, steps.state.value.job?.progress?.state, steps.state.value.error)
                    steps.choose(JobStepKind.COMPLETE).join()
                    steps.edit { it.copy(text = "${item.name}已办结") }
                    steps.submit().join()
                    assertEquals(JobState.COMPLETED, steps.state.value.job?.progress?.state, steps.state.value.error)

                    // Bad input is refused with typed exceptions and a message to act on.
                    val forbidden = assertFailsWith<CoreException.RoleNotAllowed> {
                        phoneA.store.takeStep(jobId, JobStep.Approve, null)
                    }
                    assertContains(forbidden.message!!, "批准")
                    val badId = assertFailsWith<CoreException.InvalidIdNumber> {
                        phoneA.store.addMember(
                            householdId,
                            NewMember("王小明", "110101199003071234", null, null, null, "孙子", emptyList()),
                        )
                    }
                    assertContains(badId.message!!, "身份证号码无效")

                    // Up to the server; the village head's phone enrols and sees the work.
                    agent.sync(null, SyncCancel())
                    assertEquals(0uL, agent.syncStatus().pendingChanges)
                    head.enroll(server.issueCode(TestServer.HEAD), "测试手机乙")
                    head.sync(null, SyncCancel())
                    val seenByHead = phoneB.store.household(householdId)
                    assertTrue(seenByHead.visits.any { it.id == visitId && it.outcome == VisitOutcome.MET })
                    assertEquals(JobState.COMPLETED, seenByHead.jobs.single { it.job.id == jobId }.progress.state)

                    // The head's own visit arrives on the agent's phone; both change the phone
                    // number offline, which the agent sees as a conflict and settles.
                    val headVisit = phoneB.store.recordVisit(
                        householdId, null, VisitRecord("送达结果", VisitOutcome.MET_FAMILY, "", null),
                    )
                    phoneB.store.updateHousehold(householdId, HouseholdPatch(null, null, "13900000001"))
                    phoneA.store.updateHousehold(householdId, HouseholdPatch(null, null, "13700000002"))
                    head.sync(null, SyncCancel())
                    agent.sync(null, SyncCancel())

                    val household = HouseholdViewModel(agent, this, householdId)
                    household.refresh().join()
                    val before = household.state.value
                    assertNull(before.error)
                    assertTrue(before.visits.any { it.id == headVisit }, "the head's visit arrived")
                    val conflict = before.conflicts.single { it.field == "phone" }
                    assertEquals("电话", conflict.fieldLabel)
                    assertEquals(setOf("13900000001", "13700000002"), conflict.values.map { it.value }.toSet())
                    household.chooseValue(conflict, conflict.values.single { it.value == "13900000001" }).join()
                    val after = household.state.value
                    assertNull(after.error)
                    assertTrue(after.conflicts.none { it.field == "phone" })
                    assertEquals("13900000001", after.household?.phone)

                    // The choice syncs like any edit.
                    val sync = SyncViewModel(agent, this)
                    sync.syncNow().join()
                    assertNull(sync.state.value.lastError)
                    assertTrue(sync.state.value.progressText.startsWith("第"), sync.state.value.progressText)
                    assertEquals("已全部同步", sync.state.value.statusLine)
                    head.sync(null, SyncCancel())
                    assertTrue(phoneB.store.conflicts(householdId).none { it.field == "phone" })
                    assertEquals("13900000001", phoneB.store.household(householdId).household.phone)
                }
            }
        }
    }

    @Test
    fun theEnrollmentScreenTakesACodeOnce() = TestServer().use { server ->
        TestPhone().use { phone ->
            runBlocking {
                val vm = EnrollViewModel(phone.repository(server.url), this, "测试手机")
                vm.enroll().join()
                assertEquals("请输入镇便民服务中心给您的登记码", vm.state.value.error)
                vm.editCode("zzzz-zzzz")
                assertEquals("ZZZZ-ZZZZ", vm.state.value.code)
                vm.enroll().join()
                assertContains(vm.state.value.error!!, "登记失败")
                assertNull(vm.state.value.enrolledAs)

                val code = server.issueCode(TestServer.HEAD)
                vm.editCode(code.lowercase())
                vm.enroll().join()
                assertNull(vm.state.value.error)
                assertEquals(Role.VILLAGE_HEAD, vm.state.value.enrolledAs?.role)
                assertEquals(false, vm.state.value.working)
                assertEquals(vm.state.value.enrolledAs, phone.store.currentUser())

                val again = EnrollViewModel(phone.repository(server.url), this, "测试手机")
                again.editCode(code)
                again.enroll().join()
                assertContains(again.state.value.error!!, "登记失败", message = "a code works only once")
            }
        }
    }

    @Test
    fun syncFailuresAreTypedAndKeptInTheStatus() = TestServer().use { server ->
        TestPhone().use { phone ->
            runBlocking {
                val repo = phone.repository(server.url)
                assertEquals(0, repo.syncsEnded.value)
                assertFailsWith<SyncException.NotEnrolled> { repo.sync(null, SyncCancel()) }
                assertEquals(1, repo.syncsEnded.value, "a failed sync also tells the screens")
                assertFailsWith<SyncException.EnrollmentRefused> { repo.enroll("AAAA-BBBB", "测试手机") }
                repo.enroll(server.issueCode(TestServer.AGENT), "测试手机")

                val cancel = SyncCancel()
                cancel.cancel()
                assertFailsWith<SyncException.Cancelled> { repo.sync(null, cancel) }

                val offline = DoorstepRepository(phone.store, SyncServer("http://127.0.0.1:9"))
                val failed = assertFailsWith<SyncException.Network> { offline.sync(null, SyncCancel()) }
                assertContains(failed.message!!, "数据都保存在本机")
                assertEquals(failed.message, repo.syncStatus().lastError)

                repo.sync(null, SyncCancel())
                assertNull(repo.syncStatus().lastError)
                assertEquals(3, repo.syncsEnded.value)
            }
        }
    }

    @Test
    fun theStoreOpensOnlyWithItsKey() {
        val phone = TestPhone()
        val path = phone.path
        phone.store.close()
        val wrong = assertFailsWith<CoreException.WrongKey> {
            DoorstepStore.open(path, FixedKey(ByteArray(32) { 7 }))
        }
        assertContains(wrong.message!!, "密钥不对")
        val locked = object : DatabaseKey {
            override fun databaseKey(): ByteArray = throw KeyException.Unavailable("钥匙串已锁定")
        }
        val unavailable = assertFailsWith<CoreException.KeyUnavailable> { DoorstepStore.open(path, locked) }
        assertContains(unavailable.message!!, "钥匙串已锁定")
        DoorstepStore.open(path, FixedKey(phone.key)).use { reopened ->
            assertEquals(0, reopened.householdIds().size)
        }
        java.io.File(path).parentFile.deleteRecursively()
    }
}
