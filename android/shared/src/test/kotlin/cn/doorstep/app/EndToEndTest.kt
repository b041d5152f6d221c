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
import cn.doorstep.core.Rating
import cn.doorstep.core.Role
import cn.doorstep.core.SpecialTag
import cn.doorstep.core.SyncDecision
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
                    assertContains(forbidden.userMessage(), "批准")
                    assertEquals("批准", forbidden.step)
                    val badId = assertFailsWith<CoreException.InvalidIdNumber> {
                        phoneA.store.addMember(
                            householdId,
                            NewMember("王小明", "110101199003071234", null, null, null, "孙子", emptyList()),
                        )
                    }
                    assertContains(badId.userMessage(), "身份证号码无效")
                    assertContains(badId.reason, "校验位")

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

    /**
     * A whole town-tier case through the app's screens on three phones and the server: the
     * agent registers a household and a member, opens a town-tier job accepted with a non-key
     * material missing and supplements it; the village head hands it up; town hub staff
     * (enrolled like any phone, their steps going through the server) accept, approve and
     * complete it; the head signs out the result; the agent finds nobody home, then has it
     * signed for, records the rating and closes it; the village's figures count it.
     */
    @Test
    fun aTownTierCaseFromRegistrationToClosing() = TestServer().use { server ->
        TestPhone().use { agentPhone ->
            TestPhone().use { headPhone ->
                TestPhone().use { townPhone ->
                    runBlocking {
                        val agent = agentPhone.repository(server.url)
                        val head = headPhone.repository(server.url)
                        val town = townPhone.repository(server.url)
                        agent.enroll(server.issueCode(TestServer.AGENT), "代办员手机")
                        head.enroll(server.issueCode(TestServer.HEAD), "村长手机")
                        assertEquals(Role.TOWN_STAFF, town.enroll(server.issueCode(TestServer.TOWN_STAFF), "镇中心手机").role)
                        agent.sync(null, SyncCancel())

                        // Register the household and its member.
                        val householdForm = HouseholdFormViewModel(agent, this)
                        householdForm.load().join()
                        householdForm.edit { it.copy(groupName = "九组", address = "三张村九组1号", phone = "13800138000") }
                        householdForm.save().join()
                        val householdId = assertNotNull(householdForm.state.value.savedHouseholdId, householdForm.state.value.error)
                        val memberForm = MemberFormViewModel(agent, this, householdId)
                        memberForm.edit {
                            it.copy(name = "赵桂芳", idNumber = "11010519491231002X", tags = listOf(SpecialTag.ELDERLY_ALONE))
                        }
                        memberForm.save().join()
                        val memberId = assertNotNull(memberForm.state.value.savedMemberId, memberForm.state.value.error)

                        // Open a town-tier job from the catalogue; accept it with a non-key
                        // material missing (容缺) and a supplement deadline; supplement it.
                        val item = serviceCatalogue().first { it.tier == ItemTier.TOWN && it.materials.any { m -> !m.key } }
                        val catalogue = CatalogueViewModel(agent, this, memberId)
                        catalogue.search(item.name).join()
                        catalogue.choose(catalogue.state.value.results.first { it.code == item.code })
                        catalogue.open().join()
                        val jobId = assertNotNull(catalogue.state.value.openedJobId, catalogue.state.value.error)
                        val steps = JobStepViewModel(agent, this, jobId)
                        steps.refresh().join()
                        steps.choose(JobStepKind.ACCEPT).join()
                        val missing = steps.state.value.materialChoices.first()
                        assertTrue(item.materials.single { it.name == missing }.key.not(), "only non-key materials may be missing")
                        steps.edit { it.copy(materials = listOf(missing), date = agent.today().plusDays(5)) }
                        steps.submit().join()
                        assertEquals(listOf(missing), steps.state.value.job?.progress?.missingMaterials, steps.state.value.error)
                        steps.choose(JobStepKind.SUPPLEMENT).join()
                        assertEquals(listOf(missing), steps.state.value.materialChoices)
                        steps.edit { it.copy(materials = listOf(missing)) }
                        steps.submit().join()
                        assertEquals(emptyList(), steps.state.value.job?.progress?.missingMaterials, steps.state.value.error)
                        agent.sync(null, SyncCancel())

                        // The village head hands it up with the group's other jobs.
                        head.sync(null, SyncCancel())
                        val handUp = HandUpViewModel(head, this)
                        handUp.refresh().join()
                        assertTrue(handUp.state.value.groups.any { g -> g.groupName == "九组" && g.jobs.any { it.jobId == jobId } })
                        handUp.selectGroup("九组")
                        handUp.handUp().join()
                        assertNull(handUp.state.value.error)
                        head.sync(null, SyncCancel())

                        // Town hub staff take the town's steps; they reach the phones through the server.
                        town.sync(null, SyncCancel())
                        val townSteps = JobStepViewModel(town, this, jobId)
                        townSteps.refresh().join()
                        assertEquals(JobState.HANDED_UP, townSteps.state.value.job?.progress?.state)
                        for (kind in listOf(JobStepKind.TOWN_ACCEPT, JobStepKind.APPROVE, JobStepKind.COMPLETE)) {
                            townSteps.choose(kind).join()
                            townSteps.edit { it.copy(text = "已办结，证件已制好") }
                            townSteps.submit().join()
                            assertEquals(kind, townSteps.state.value.taken, townSteps.state.value.error)
                        }
                        town.sync(null, SyncCancel())

                        // The head signs out the result at the hub (政务包裹); the agent delivers.
                        head.sync(null, SyncCancel())
                        val parcel = JobStepViewModel(head, this, jobId)
                        parcel.refresh().join()
                        parcel.choose(JobStepKind.SIGN_OUT_PARCEL).join()
                        parcel.submit().join()
                        assertEquals(JobState.PARCEL_SIGNED_OUT, parcel.state.value.job?.progress?.state, parcel.state.value.error)
                        head.sync(null, SyncCancel())
                        agent.sync(null, SyncCancel())
                        val deliveries = DeliveriesViewModel(agent, this)
                        deliveries.refresh().join()
                        assertTrue(deliveries.state.value.jobs.any { it.jobId == jobId })
                        deliveries.nobodyHome(jobId, agent.today().plusDays(1)).join()
                        assertTrue(deliveries.state.value.jobs.any { it.jobId == jobId }, "still to deliver")
                        deliveries.delivered(jobId, "赵桂芳").join()
                        assertNull(deliveries.state.value.error)
                        assertTrue(deliveries.state.value.jobs.none { it.jobId == jobId })

                        // The resident's rating, then 销号.
                        steps.refresh().join()
                        steps.choose(JobStepKind.RATE).join()
                        steps.edit { it.copy(rating = Rating.GOOD, text = "上门送证，很方便") }
                        steps.submit().join()
                        steps.choose(JobStepKind.CLOSE).join()
                        steps.submit().join()
                        assertEquals(JobState.CLOSED, steps.state.value.job?.progress?.state, steps.state.value.error)
                        agent.sync(null, SyncCancel())
                        assertEquals(0uL, agent.syncStatus().pendingChanges)

                        // The village's figures for this month count it.
                        val figures = FiguresViewModel(agent, this, TestServer.VILLAGE)
                        figures.refresh().join()
                        val counted = assertNotNull(figures.state.value.figures, figures.state.value.error)
                        assertTrue(counted.jobsOpened >= 1 && counted.jobsCompleted >= 1)
                        assertTrue(counted.ratedGood >= 1)
                        assertTrue(counted.jobsByItem.any { it.itemCode == item.code })

                        // The town's phone sees the whole case.
                        town.sync(null, SyncCancel())
                        assertEquals(JobState.CLOSED, townPhone.store.job(jobId).progress.state)
                    }
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
                assertEquals("网络连接失败，数据都保存在本机，有信号后会再同步", failed.userMessage())
                assertTrue(failed.detail.isNotEmpty(), "the network library's words are kept for support")
                assertEquals(failed.userMessage(), repo.syncStatus().lastError)
                val status = repo.syncStatus()
                assertEquals(1u, status.failuresInARow, "a cancelled sync is not counted, a failed one is")
                assertTrue(repo.nextSync(connected = true) is SyncDecision.Later, "the core backs off after a failure")
                assertEquals(SyncDecision.WaitForNetwork, repo.nextSync(connected = false))

                repo.sync(null, SyncCancel())
                assertNull(repo.syncStatus().lastError)
                assertEquals(0u, repo.syncStatus().failuresInARow)
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
        assertContains(wrong.userMessage(), "密钥不对")
        val locked = object : DatabaseKey {
            override fun databaseKey(): ByteArray = throw KeyException.Unavailable("钥匙串已锁定")
        }
        val unavailable = assertFailsWith<CoreException.KeyUnavailable> { DoorstepStore.open(path, locked) }
        assertEquals("钥匙串已锁定", unavailable.reason)
        assertContains(unavailable.userMessage(), "钥匙串已锁定")
        DoorstepStore.open(path, FixedKey(phone.key)).use { reopened ->
            assertEquals(0, reopened.householdIds().size)
        }
        java.io.File(path).parentFile.deleteRecursively()
    }
}
