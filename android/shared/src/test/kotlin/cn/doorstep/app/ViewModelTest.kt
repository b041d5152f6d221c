package cn.doorstep.app

import cn.doorstep.core.ItemTier
import cn.doorstep.core.JobState
import cn.doorstep.core.JobStepKind
import cn.doorstep.core.MemberStatus
import cn.doorstep.core.NeedStatus
import cn.doorstep.core.NewHousehold
import cn.doorstep.core.NewJob
import cn.doorstep.core.NewLedgerLine
import cn.doorstep.core.NewMember
import cn.doorstep.core.Role
import cn.doorstep.core.Schedule
import cn.doorstep.core.ScheduleKind
import cn.doorstep.core.StepFieldKind
import cn.doorstep.core.SpecialTag
import cn.doorstep.core.Urgency
import cn.doorstep.core.User
import cn.doorstep.core.VisitOutcome
import cn.doorstep.ffi.serviceCatalogue
import java.time.LocalDate
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Test

/** Each screen's state after each action, on a real store with one household (no server). */
class ViewModelTest {
    private val phone = TestPhone()
    private val repo = phone.repository("http://127.0.0.1:9")
    private val store = phone.store
    private val today: LocalDate = repo.today()
    private val householdId: String
    private val memberId: String
    private val reminderId: String

    init {
        store.signIn(User("t-agent", "测试代办员", Role.AGENT, listOf("t-village")))
        householdId = store.createHousehold(NewHousehold("t-village", "一组", "测试村一组8号", null))
        memberId = store.addMember(
            householdId,
            NewMember("张桂兰", "11010519491231002X", null, null, null, "户主", listOf(SpecialTag.ELDERLY_ALONE)),
        )
        reminderId = store.addLedgerLine(
            NewLedgerLine(memberId, "降压药更换", Schedule.EveryNDays(30u, today.minusDays(3)), Urgency.AMBER, "", null),
        )
        store.addLedgerLine(
            NewLedgerLine(memberId, "办理残疾人证", Schedule.OneOff(NeedStatus.OPEN, today), Urgency.RED, "", null),
        )
        val birthday = today.plusDays(100)
        store.addLedgerLine(
            NewLedgerLine(
                memberId, "生日", Schedule.Yearly(birthday.monthValue.toUInt(), birthday.dayOfMonth.toUInt()),
                Urgency.GREEN, "", null,
            ),
        )
    }

    @After
    fun close() = phone.close()

    private fun villageItem(withNonKeyMaterial: Boolean = false) = serviceCatalogue().first {
        it.tier == ItemTier.VILLAGE && (!withNonKeyMaterial || it.materials.any { m -> !m.key })
    }

    private fun openJob(withNonKeyMaterial: Boolean = false): String {
        val item = villageItem(withNonKeyMaterial)
        return store.openJob(NewJob(memberId, item.code, item.modes.first(), Urgency.AMBER, "", null))
    }

    private fun screens(test: suspend CoroutineScope.() -> Unit) = runBlocking { test() }

    @Test
    fun todayListsOverdueAndDueWorkAndEmptiesWhenDone() = screens {
        val vm = TodayViewModel(repo, this)
        assertEquals("正在读取今天的工作…", vm.state.value.headline)
        vm.refresh().join()
        val s = vm.state.value
        assertNull(s.error)
        assertEquals(listOf("降压药更换"), s.overdue.map { it.title })
        assertEquals(3L, s.overdue.single().daysOverdue)
        assertEquals(listOf("办理残疾人证"), s.dueToday.map { it.title })
        assertEquals("今天 $today：逾期 1 项，今日 1 项", s.headline)

        val household = HouseholdViewModel(repo, this, householdId)
        household.markReminderDone(reminderId).join()
        assertEquals("已记录完成", household.state.value.notice)
        vm.refresh().join()
        assertTrue(vm.state.value.overdue.isEmpty())
        assertEquals(1, vm.state.value.dueToday.size)
    }

    @Test
    fun householdShowsLedgerJobsAndSyncState() = screens {
        val jobId = openJob()
        val vm = HouseholdViewModel(repo, this, householdId)
        vm.refresh().join()
        val s = vm.state.value
        assertNull(s.error)
        assertEquals("测试村一组8号", s.household?.address)
        assertEquals(listOf("降压药更换", "办理残疾人证", "生日"), s.ledger.map { it.line.title })
        assertEquals(listOf(true, true, false), s.ledger.map { it.dueNow })
        assertTrue(s.ledger.all { it.memberName == "张桂兰" })
        val job = s.jobs.single()
        assertEquals(jobId, job.details.job.id)
        assertEquals(villageItem().name, job.itemName)
        assertEquals(listOf(JobStepKind.ACCEPT, JobStepKind.CANCEL), job.nextSteps)
        assertTrue(s.conflicts.isEmpty())
        assertTrue(s.syncLine.startsWith("有 ") && s.syncLine.endsWith(" 条修改待同步"), s.syncLine)

        val missing = HouseholdViewModel(repo, this, "no-such-household")
        missing.refresh().join()
        assertContains(missing.state.value.error!!, "找不到户")
        assertEquals(false, missing.state.value.loading)
    }

    @Test
    fun visitFormIsCheckedThenSaved() = screens {
        val vm = VisitViewModel(repo, this, householdId)
        assertEquals(VisitOutcome.entries, vm.state.value.outcomes)
        vm.save().join()
        assertContains(vm.state.value.error!!, "走访事由")
        assertNull(vm.state.value.savedVisitId)
        assertEquals(false, vm.state.value.saving)

        vm.edit { it.copy(purpose = "节前走访", outcome = VisitOutcome.NOBODY_HOME, notes = "邻居说去女儿家了") }
        assertNull(vm.state.value.error)
        vm.save().join()
        val id = assertNotNull(vm.state.value.savedVisitId)
        val visit = store.household(householdId).visits.single { it.id == id }
        assertEquals(VisitOutcome.NOBODY_HOME, visit.outcome)
        assertEquals("测试代办员", visit.visitor)
    }

    @Test
    fun jobStepFormsFollowTheJobsLife() = screens {
        val item = villageItem(withNonKeyMaterial = true)
        val jobId = openJob(withNonKeyMaterial = true)
        val vm = JobStepViewModel(repo, this, jobId)
        vm.refresh().join()
        assertEquals("已告知", vm.state.value.stateLabel)
        assertEquals(item.name, vm.state.value.itemName)

        vm.submit().join()
        assertEquals("请先选择要办理的步骤", vm.state.value.error)

        vm.choose(JobStepKind.APPROVE).join()
        vm.submit().join()
        assertContains(vm.state.value.error!!, "无权执行“批准”")
        assertEquals(JobState.INFORMED, store.job(jobId).progress.state)

        vm.choose(JobStepKind.ACCEPT).join()
        assertEquals(listOf(StepFieldKind.MATERIALS, StepFieldKind.DATE), vm.state.value.form?.fields?.map { it.kind })
        val nonKey = item.materials.filter { !it.key }.map { it.name }
        assertEquals(nonKey, vm.state.value.materialChoices)
        vm.edit { it.copy(materials = listOf(nonKey.first())) }
        vm.submit().join()
        assertContains(vm.state.value.error!!, "容缺材料补齐期限")
        vm.edit { it.copy(date = today.plusDays(7)) }
        vm.submit().join()
        assertNull(vm.state.value.error)
        assertEquals(JobStepKind.ACCEPT, vm.state.value.taken)
        assertEquals(JobState.ACCEPTED, vm.state.value.job?.progress?.state)
        assertEquals(listOf(nonKey.first()), vm.state.value.job?.progress?.missingMaterials)
        assertContains(vm.state.value.steps, JobStepKind.SUPPLEMENT)
        assertTrue(JobStepKind.COMPLETE !in vm.state.value.steps, "cannot complete with materials missing")

        vm.choose(JobStepKind.SUPPLEMENT).join()
        assertEquals(listOf(nonKey.first()), vm.state.value.materialChoices)
        vm.edit { it.copy(materials = vm.state.value.materialChoices) }
        vm.submit().join()
        assertEquals(emptyList(), vm.state.value.job?.progress?.missingMaterials)
        assertContains(vm.state.value.steps, JobStepKind.COMPLETE)

        vm.choose(JobStepKind.COMPLETE).join()
        assertEquals("办理结果", vm.state.value.form?.fields?.single()?.label)
        vm.edit { it.copy(text = "已办结") }
        vm.submit().join()
        assertEquals(JobState.COMPLETED, vm.state.value.job?.progress?.state)
        vm.choose(JobStepKind.NOBODY_HOME).join()
        vm.submit().join()
        assertEquals("“改约上门日期”不能为空，请填写后再保存", vm.state.value.error)
    }

    @Test
    fun deliveriesAreSignedForOrComeAgain() = screens {
        val jobId = openJob()
        store.takeStepFromForm(jobId, JobStepKind.ACCEPT, emptyStepInput, null)
        val vm = DeliveriesViewModel(repo, this)
        vm.refresh().join()
        assertTrue(vm.state.value.jobs.isEmpty())
        store.takeStepFromForm(jobId, JobStepKind.COMPLETE, emptyStepInput.copy(text = "已办结"), null)
        vm.refresh().join()
        assertEquals(listOf(jobId), vm.state.value.jobs.map { it.jobId })

        vm.nobodyHome(jobId, null).join()
        assertEquals("“改约上门日期”不能为空，请填写后再保存", vm.state.value.error)
        vm.nobodyHome(jobId, today.plusDays(2)).join()
        assertEquals("无人在家，已改约 ${today.plusDays(2)}", vm.state.value.notice)
        assertEquals(1, vm.state.value.jobs.size)
        vm.delivered(jobId, " ").join()
        assertContains(vm.state.value.error!!, "签收人")
        vm.delivered(jobId, "张桂兰").join()
        assertNull(vm.state.value.error)
        assertTrue(vm.state.value.jobs.isEmpty())
        assertEquals(JobState.DELIVERED, store.job(jobId).progress.state)
    }

    @Test
    fun memberFormChecksNumbersAsTypedThenSaves() = screens {
        val vm = MemberFormViewModel(repo, this, householdId)
        vm.edit { it.copy(name = "张明", idNumber = "110105194912310021") }
        assertContains(vm.state.value.idNumberError!!, "身份证号码无效")
        vm.edit { it.copy(idNumber = "11010519491231002X", phone = "1380013800") }
        assertNull(vm.state.value.idNumberError)
        assertContains(vm.state.value.phoneError!!, "手机号码无效")
        vm.save().join()
        assertContains(vm.state.value.error!!, "手机号码无效")
        assertNull(vm.state.value.savedMemberId)
        vm.edit { it.copy(phone = "13800138000", tags = listOf(SpecialTag.DISABLED)) }
        assertNull(vm.state.value.phoneError)
        vm.save().join()
        val id = assertNotNull(vm.state.value.savedMemberId, vm.state.value.error)
        val saved = store.household(householdId).members.single { it.id == id }
        assertEquals(listOf(SpecialTag.DISABLED), saved.tags)
        assertEquals("13800138000", saved.phone)
    }

    @Test
    fun memberFormEditsOnlyWhatChangedAndMarksStatus() = screens {
        val vm = MemberFormViewModel(repo, this, householdId, memberId)
        vm.load().join()
        assertEquals("张桂兰", vm.state.value.form.name)
        assertEquals(MemberStatus.PRESENT, vm.state.value.status)
        vm.edit { it.copy(phone = "13912345678", tags = it.tags - SpecialTag.ELDERLY_ALONE + SpecialTag.DISABLED) }
        vm.save().join()
        assertNull(vm.state.value.error)
        val edited = store.household(householdId).members.single { it.id == memberId }
        assertEquals("13912345678", edited.phone)
        assertEquals(listOf(SpecialTag.DISABLED), edited.tags)
        assertEquals("11010519491231002X", edited.idNumber, "an unchanged field is not written again")

        vm.markStatus(MemberStatus.DECEASED).join()
        assertEquals("已标记为已故", vm.state.value.notice)
        assertEquals(MemberStatus.DECEASED, store.household(householdId).members.single().status)
        assertEquals(MemberStatus.entries, vm.state.value.statusChoices)

        val fresh = MemberFormViewModel(repo, this, householdId)
        fresh.markStatus(MemberStatus.MOVED_OUT).join()
        assertEquals("请先保存成员", fresh.state.value.error)
    }

    @Test
    fun householdFormRegistersThenEditsWithThePhoneChecked() = screens {
        val vm = HouseholdFormViewModel(repo, this)
        vm.load().join()
        assertEquals(listOf("t-village"), vm.state.value.villages)
        assertEquals("t-village", vm.state.value.form.villageId)
        vm.edit { it.copy(groupName = "二组", phone = "12345") }
        assertContains(vm.state.value.phoneError!!, "手机号码无效")
        vm.save().join()
        assertEquals("“住址”不能为空，请填写后再保存", vm.state.value.error, "the core names the empty field")
        vm.edit { it.copy(address = "测试村二组3号") }
        vm.save().join()
        assertContains(vm.state.value.error!!, "手机号码无效")
        assertNull(vm.state.value.savedHouseholdId)
        vm.edit { it.copy(phone = "13800138000") }
        vm.save().join()
        val id = assertNotNull(vm.state.value.savedHouseholdId, vm.state.value.error)
        assertEquals("二组", store.household(id).household.groupName)

        val edit = HouseholdFormViewModel(repo, this, id)
        edit.load().join()
        assertEquals("测试村二组3号", edit.state.value.form.address)
        edit.edit { it.copy(address = "测试村二组5号") }
        edit.save().join()
        assertNull(edit.state.value.error)
        val h = store.household(id).household
        assertEquals("测试村二组5号", h.address)
        assertEquals("13800138000", h.phone)
    }

    @Test
    fun ledgerLinesAreAddedAndNeedsClosed() = screens {
        val vm = LedgerLineFormViewModel(repo, this, householdId)
        vm.load().join()
        assertEquals(memberId, vm.state.value.form.memberId)
        vm.save().join()
        assertContains(vm.state.value.error!!, "不能为空")
        vm.chooseKind(ScheduleKind.EVERY_N_DAYS)
        assertEquals(Schedule.EveryNDays(30u, today), vm.state.value.form.schedule)
        vm.edit { it.copy(title = "换药", schedule = Schedule.EveryNDays(0u, today)) }
        vm.save().join()
        assertNotNull(vm.state.value.error, "an interval of 0 days is refused by the core")
        vm.edit { it.copy(schedule = Schedule.EveryNDays(7u, today), urgency = Urgency.AMBER) }
        vm.save().join()
        val reminder = assertNotNull(vm.state.value.savedLineId, vm.state.value.error)

        val need = LedgerLineFormViewModel(repo, this, householdId)
        need.load().join()
        need.chooseKind(ScheduleKind.ONE_OFF)
        need.edit { it.copy(title = "申请轮椅", urgency = Urgency.RED) }
        need.save().join()
        val needId = assertNotNull(need.state.value.savedLineId, need.state.value.error)

        val household = HouseholdViewModel(repo, this, householdId)
        household.refresh().join()
        val rows = household.state.value.ledger
        assertTrue(rows.single { it.line.id == reminder }.dueNow, "a reminder first due today is due now")
        household.setNeedStatus(needId, NeedStatus.DONE).join()
        assertEquals("已改为“已办结”", household.state.value.notice)
        assertEquals(
            Schedule.OneOff(NeedStatus.DONE, null),
            household.state.value.ledger.single { it.line.id == needId }.line.schedule,
        )
        household.setNeedStatus(reminder, NeedStatus.DONE).join()
        assertNotNull(household.state.value.error, "a reminder has no need status")
    }

    @Test
    fun aJobIsOpenedFromTheCatalogueForAMember() = screens {
        val vm = CatalogueViewModel(repo, this, memberId)
        vm.open().join()
        assertEquals("请先选择事项", vm.state.value.error)
        vm.search("社保卡").join()
        val item = vm.state.value.results.first()
        vm.choose(item)
        assertEquals(item.modes.first(), vm.state.value.mode)
        vm.edit { it.copy(urgency = Urgency.AMBER, note = "老人行动不便") }
        vm.open().join()
        val jobId = assertNotNull(vm.state.value.openedJobId, vm.state.value.error)
        val job = store.job(jobId)
        assertEquals(item.code, job.job.itemCode)
        assertEquals(JobState.INFORMED, job.progress.state)
    }

    @Test
    fun peopleAreFoundByNameNumberTailOrTag() = screens {
        val vm = FindPeopleViewModel(repo, this)
        vm.search("张桂").join()
        assertEquals(listOf(memberId), vm.state.value.hits.map { it.memberId })
        vm.search("002X").join()
        assertEquals(listOf(memberId), vm.state.value.hits.map { it.memberId }, "identity-number tail")
        assertEquals("110105********002X", vm.state.value.hits.single().idNumberMasked)
        vm.search("李").join()
        assertTrue(vm.state.value.hits.isEmpty())
        vm.toggleTag(SpecialTag.ELDERLY_ALONE).join()
        assertEquals(listOf("张桂兰"), vm.state.value.roster.map { it.name })
        vm.toggleTag(SpecialTag.DISABLED).join()
        assertEquals(listOf(SpecialTag.ELDERLY_ALONE, SpecialTag.DISABLED), vm.state.value.tags)
        assertTrue(vm.state.value.roster.isEmpty(), "members with every tag chosen")
        vm.toggleTag(SpecialTag.DISABLED).join()
        assertEquals(listOf("张桂兰"), vm.state.value.roster.map { it.name })
        assertNull(vm.state.value.error)
    }

    @Test
    fun figuresCountThisMonthsJobs() = screens {
        openJob()
        val vm = FiguresViewModel(repo, this, "t-village")
        vm.refresh().join()
        val s = vm.state.value
        assertNull(s.error)
        assertEquals(today.withDayOfMonth(1), s.from)
        assertEquals(1L, s.figures?.jobsOpened)
        assertEquals(1L, s.figures?.specialNeeds, "张桂兰 lives alone")
        assertEquals(0L, s.figures?.specialNeedsResponded)
    }

    @Test
    fun theVillageHeadHandsUpAGroupsJobs() = screens {
        val item = serviceCatalogue().first { it.tier == ItemTier.TOWN }
        val jobId = store.openJob(NewJob(memberId, item.code, item.modes.first(), Urgency.AMBER, "", null))
        store.takeStepFromForm(jobId, JobStepKind.ACCEPT, emptyStepInput, null)
        store.signIn(User("t-head", "权兴旺", Role.VILLAGE_HEAD, listOf("t-village")))
        val vm = HandUpViewModel(repo, this, "t-village")
        vm.refresh().join()
        assertEquals(listOf("一组"), vm.state.value.groups.map { it.groupName })
        assertEquals("权兴旺", vm.state.value.carrier)
        vm.handUp().join()
        assertEquals("请先勾选要转办的办件", vm.state.value.error)
        vm.selectGroup("一组")
        assertEquals(setOf(jobId), vm.state.value.selected)
        vm.editCarrier(" ")
        vm.handUp().join()
        assertContains(vm.state.value.error!!, "带件的轮值村长")
        vm.selectGroup("一组")
        vm.editCarrier("权兴旺")
        vm.handUp().join()
        assertNull(vm.state.value.error)
        assertEquals("已转办 1 件，由 权兴旺 带到镇便民服务中心", vm.state.value.notice)
        assertTrue(vm.state.value.groups.isEmpty())
        assertEquals(JobState.HANDED_UP, store.job(jobId).progress.state)
    }

    @Test
    fun catalogueIsSearchedByNameOrInitials() = screens {
        val vm = CatalogueViewModel(repo, this)
        vm.search("ylrz").join()
        assertEquals(listOf("养老认证"), vm.state.value.results.map { it.name })
        vm.search("社保卡").join()
        val first = vm.state.value.results.first()
        assertEquals("社保卡申领", first.name)
        vm.choose(first)
        assertEquals(15u, vm.state.value.chosen?.timeLimitDays)
        vm.search("没有这个事项").join()
        assertTrue(vm.state.value.results.isEmpty())
        assertNull(vm.state.value.error)
    }

    @Test
    fun syncScreenShowsWhyItCannotSync() = screens {
        val vm = SyncViewModel(repo, this)
        vm.refreshStatus().join()
        assertTrue(vm.state.value.pendingChanges > 0u)
        assertTrue(vm.state.value.statusLine.endsWith("条修改待同步"))
        vm.syncNow().join()
        val s = vm.state.value
        assertEquals(false, s.running)
        assertContains(s.lastError!!, "本机还没有登记")
        assertNull(s.result)
    }
}
