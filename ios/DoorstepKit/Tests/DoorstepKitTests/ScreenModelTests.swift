import Doorstep
import DoorstepKit
import XCTest

/// Each screen's state after each action, on a real store with one household (no server).
@MainActor
final class ScreenModelTests: XCTestCase {
    private var phone: TestPhone!
    private var repo: DoorstepRepository!
    private var store: DoorstepStore { phone.store }
    private var today: CalendarDate!
    private var householdId = ""
    private var memberId = ""
    private var reminderId = ""

    /// One household in village t-village with a member living alone and three ledger lines:
    /// a medication reminder 3 days overdue, a need due today and a birthday in 100 days.
    override func setUp() async throws {
        phone = try TestPhone()
        repo = phone.repository("http://127.0.0.1:9")
        today = repo.today()
        try store.signIn(user: User(id: "t-agent", name: "测试代办员", role: .agent, regionIds: ["t-village"]))
        householdId = try store.createHousehold(input: NewHousehold(
            villageId: "t-village", groupName: "一组", address: "测试村一组8号", phone: nil))
        memberId = try store.addMember(householdId: householdId, input: NewMember(
            name: "张桂兰", idNumber: "11010519491231002X", phone: nil, gender: nil, birthDate: nil,
            relation: "户主", tags: [.elderlyAlone]))
        reminderId = try store.addLedgerLine(input: NewLedgerLine(
            memberId: memberId, title: "降压药更换", schedule: .everyNDays(days: 30, firstDue: adding(-3, to: today)),
            urgency: .amber, note: "", visitId: nil))
        _ = try store.addLedgerLine(input: NewLedgerLine(
            memberId: memberId, title: "办理残疾人证", schedule: .oneOff(status: .open, due: today),
            urgency: .red, note: "", visitId: nil))
        let birthday = adding(100, to: today).split(separator: "-").compactMap { UInt32($0) }
        _ = try store.addLedgerLine(input: NewLedgerLine(
            memberId: memberId, title: "生日", schedule: .yearly(month: birthday[1], day: birthday[2]),
            urgency: .green, note: "", visitId: nil))
    }

    override func tearDown() async throws {
        phone.close()
    }

    private func villageItem(withNonKeyMaterial: Bool = false) -> ServiceItem {
        serviceCatalogue().first { $0.tier == .village && (!withNonKeyMaterial || $0.materials.contains { !$0.key }) }!
    }

    private func openJob(withNonKeyMaterial: Bool = false) throws -> String {
        let item = villageItem(withNonKeyMaterial: withNonKeyMaterial)
        return try store.openJob(input: NewJob(
            memberId: memberId, itemCode: item.code, mode: item.modes[0], urgency: .amber, note: "", visitId: nil))
    }

    func testTodayListsOverdueAndDueWorkAndEmptiesWhenDone() async throws {
        let model = TodayModel(repo: repo)
        XCTAssertEqual(model.state.headline, "正在读取今天的工作…")
        await model.refresh()
        XCTAssertNil(model.state.error)
        XCTAssertEqual(model.state.overdue.map(\.title), ["降压药更换"])
        XCTAssertEqual(model.state.overdue.first?.daysOverdue, 3)
        XCTAssertEqual(model.state.dueToday.map(\.title), ["办理残疾人证"])
        XCTAssertEqual(model.state.headline, "今天 \(today!)：逾期 1 项，今日 1 项")

        let household = HouseholdModel(repo: repo, householdId: householdId)
        await household.markReminderDone(lineId: reminderId)
        XCTAssertEqual(household.state.notice, "已记录完成")
        await model.refresh()
        XCTAssertTrue(model.state.overdue.isEmpty)
        XCTAssertEqual(model.state.dueToday.count, 1)
    }

    func testHouseholdShowsLedgerJobsAndSyncStateAndClosesANeed() async throws {
        let jobId = try openJob()
        let model = HouseholdModel(repo: repo, householdId: householdId)
        await model.refresh()
        XCTAssertNil(model.state.error)
        let screen = try XCTUnwrap(model.state.screen)
        XCTAssertEqual(screen.household.address, "测试村一组8号")
        XCTAssertEqual(screen.members.map(\.name), ["张桂兰"])
        XCTAssertEqual(screen.ledger.map(\.line.title), ["降压药更换", "办理残疾人证", "生日"])
        XCTAssertEqual(screen.ledger.map(\.dueNow), [true, true, false])
        let job = try XCTUnwrap(screen.jobs.first)
        XCTAssertEqual(job.details.job.id, jobId)
        XCTAssertEqual(job.itemName, villageItem().name)
        XCTAssertEqual(job.nextSteps, [.accept, .cancel])
        XCTAssertTrue(screen.conflicts.isEmpty)
        XCTAssertTrue(model.state.syncLine.hasPrefix("有 ") && model.state.syncLine.hasSuffix(" 条修改待同步"), model.state.syncLine)

        let need = screen.ledger[1].line.id
        await model.setNeedStatus(lineId: need, .done)
        XCTAssertNil(model.state.error)
        XCTAssertEqual(model.state.notice, "已改为“\(NeedStatus.done.label())”")
        XCTAssertFalse(try XCTUnwrap(model.state.screen).ledger[1].dueNow)

        let missing = HouseholdModel(repo: repo, householdId: "no-such-household")
        await missing.refresh()
        XCTAssertTrue(missing.state.error?.contains("找不到户") ?? false, missing.state.error ?? "no error")
        XCTAssertFalse(missing.state.loading)
    }

    func testJobStepFormsFollowTheJobsLife() async throws {
        let item = villageItem(withNonKeyMaterial: true)
        let catalogue = CatalogueModel(repo: repo)
        catalogue.search(item.name)
        catalogue.choose(try XCTUnwrap(catalogue.state.results.first { $0.code == item.code }))
        await catalogue.openJob(memberId: memberId, mode: item.modes[0], urgency: .amber)
        let jobId = try XCTUnwrap(catalogue.state.openedJobId, catalogue.state.error ?? "")

        let model = JobStepModel(repo: repo, jobId: jobId)
        await model.refresh()
        XCTAssertEqual(model.state.stateLabel, "已告知")
        XCTAssertEqual(model.state.itemName, item.name)

        await model.submit()
        XCTAssertEqual(model.state.error, "请先选择要办理的步骤")

        await model.choose(.approve)
        await model.submit()
        XCTAssertTrue(model.state.error?.contains("无权执行“批准”") ?? false, model.state.error ?? "no error")
        XCTAssertEqual(try store.job(jobId: jobId).progress.state, .informed)

        await model.choose(.accept)
        XCTAssertEqual(model.state.form?.fields.map(\.kind), [.materials, .date])
        let nonKey = item.materials.filter { !$0.key }.map(\.name)
        XCTAssertEqual(model.state.materialChoices, nonKey)
        model.edit { $0.materials = [nonKey[0]] }
        await model.submit()
        XCTAssertTrue(model.state.error?.contains("容缺材料补齐期限") ?? false, model.state.error ?? "no error")
        model.edit { $0.date = adding(7, to: today) }
        await model.submit()
        XCTAssertNil(model.state.error)
        XCTAssertEqual(model.state.taken, .accept)
        XCTAssertEqual(model.state.job?.progress.state, .accepted)
        XCTAssertEqual(model.state.job?.progress.missingMaterials, [nonKey[0]])
        XCTAssertTrue(model.state.steps.contains(.supplement))
        XCTAssertFalse(model.state.steps.contains(.complete), "cannot complete with materials missing")

        await model.choose(.supplement)
        XCTAssertEqual(model.state.materialChoices, [nonKey[0]])
        model.edit { [choices = model.state.materialChoices] in $0.materials = choices }
        await model.submit()
        XCTAssertEqual(model.state.job?.progress.missingMaterials, [])
        XCTAssertTrue(model.state.steps.contains(.complete))

        await model.choose(.complete)
        XCTAssertEqual(model.state.form?.fields.map(\.label), ["办理结果"])
        model.edit { $0.text = "已办结" }
        await model.submit()
        XCTAssertEqual(model.state.job?.progress.state, .completed)
        await model.choose(.nobodyHome)
        await model.submit()
        XCTAssertEqual(model.state.error, "“改约上门日期”不能为空，请填写后再保存")
    }

    func testDeliveriesAreSignedForOrComeAgain() async throws {
        let jobId = try openJob()
        _ = try store.takeStepFromForm(jobId: jobId, kind: .accept, input: .empty, location: nil)
        let model = DeliveriesModel(repo: repo)
        await model.refresh()
        XCTAssertTrue(model.state.jobs.isEmpty)
        var done = StepInput.empty
        done.text = "已办结"
        _ = try store.takeStepFromForm(jobId: jobId, kind: .complete, input: done, location: nil)
        await model.refresh()
        XCTAssertEqual(model.state.jobs.map(\.jobId), [jobId])

        await model.nobodyHome(jobId, newDate: nil)
        XCTAssertEqual(model.state.error, "“改约上门日期”不能为空，请填写后再保存")
        let later = adding(2, to: today)
        await model.nobodyHome(jobId, newDate: later)
        XCTAssertEqual(model.state.notice, "无人在家，已改约 \(later)")
        XCTAssertEqual(model.state.jobs.count, 1)
        await model.delivered(jobId, signedBy: " ")
        XCTAssertTrue(model.state.error?.contains("签收人") ?? false, model.state.error ?? "no error")
        await model.delivered(jobId, signedBy: "张桂兰")
        XCTAssertNil(model.state.error)
        XCTAssertTrue(model.state.jobs.isEmpty)
        XCTAssertEqual(try store.job(jobId: jobId).progress.state, .delivered)
    }

    func testHouseholdFormRegistersThenEditsOnlyWhatChanged() async throws {
        let model = HouseholdFormModel(repo: repo)
        await model.load()
        XCTAssertEqual(model.state.villages, ["t-village"])
        XCTAssertEqual(model.state.form.villageId, "t-village")
        model.edit { $0.groupName = "二组"; $0.phone = "1380013800" }
        XCTAssertTrue(model.state.phoneError?.contains("手机号码无效") ?? false, model.state.phoneError ?? "no error")
        await model.save()
        XCTAssertTrue(model.state.error?.contains("住址") ?? false, model.state.error ?? "no error")
        XCTAssertNil(model.state.savedHouseholdId)
        model.edit { $0.address = "测试村二组3号"; $0.phone = "" }
        XCTAssertNil(model.state.phoneError)
        await model.save()
        let id = try XCTUnwrap(model.state.savedHouseholdId, model.state.error ?? "")
        XCTAssertEqual(try store.household(householdId: id).household.address, "测试村二组3号")

        let edit = HouseholdFormModel(repo: repo, householdId: id)
        await edit.load()
        XCTAssertEqual(edit.state.form.groupName, "二组")
        try store.updateHousehold(householdId: id, patch: HouseholdPatch(groupName: nil, address: "测试村二组5号", phone: nil))
        edit.edit { $0.phone = "13800138000" }
        await edit.save()
        XCTAssertNil(edit.state.error)
        let saved = try store.household(householdId: id).household
        XCTAssertEqual(saved.phone, "13800138000")
        XCTAssertEqual(saved.address, "测试村二组5号", "an unchanged field is not written back")
    }

    func testMemberFormChecksNumbersAsTypedThenSaves() async throws {
        let model = MemberFormModel(repo: repo, householdId: householdId)
        XCTAssertTrue(model.state.tagChoices.contains(.leftBehindChild))
        model.edit { $0.name = "张明"; $0.idNumber = "110105194912310021" }
        XCTAssertTrue(model.state.idNumberError?.contains("身份证号码无效") ?? false, model.state.idNumberError ?? "no error")
        model.edit { $0.idNumber = "11010519491231002X"; $0.phone = "1380013800" }
        XCTAssertNil(model.state.idNumberError)
        XCTAssertTrue(model.state.phoneError?.contains("手机号码无效") ?? false)
        await model.save()
        XCTAssertTrue(model.state.error?.contains("手机号码无效") ?? false)
        XCTAssertNil(model.state.savedMemberId)
        model.edit { $0.phone = "13800138000"; $0.tags = [.disabled] }
        XCTAssertNil(model.state.phoneError)
        await model.save()
        let id = try XCTUnwrap(model.state.savedMemberId, model.state.error ?? "")
        let saved = try XCTUnwrap(try store.household(householdId: householdId).members.first { $0.id == id })
        XCTAssertEqual(saved.tags, [.disabled])
        XCTAssertEqual(saved.phone, "13800138000")
    }

    func testMemberFormEditsOnlyWhatChangedAndMarksStatus() async throws {
        let model = MemberFormModel(repo: repo, householdId: householdId, memberId: memberId)
        await model.load()
        XCTAssertEqual(model.state.form.name, "张桂兰")
        XCTAssertEqual(model.state.status, .present)
        // Another phone's change, synced in after the form was read, is not written over.
        try store.updateMember(memberId: memberId, patch: MemberPatch(
            name: nil, idNumber: nil, phone: nil, relation: "本人", status: nil, addTags: [], removeTags: []))
        model.edit { $0.phone = "13912345678"; $0.tags = $0.tags.filter { $0 != .elderlyAlone } + [.disabled] }
        await model.save()
        XCTAssertNil(model.state.error)
        XCTAssertEqual(model.state.notice, "已保存")
        let edited = try XCTUnwrap(try store.household(householdId: householdId).members.first { $0.id == memberId })
        XCTAssertEqual(edited.phone, "13912345678")
        XCTAssertEqual(edited.tags, [.disabled])
        XCTAssertEqual(edited.idNumber, "11010519491231002X", "an unchanged field is not written again")
        XCTAssertEqual(edited.relation, "本人", "an unchanged field is not written again")

        await model.markStatus(.deceased)
        XCTAssertNil(model.state.error)
        XCTAssertEqual(model.state.notice, "已标记为已故")
        XCTAssertEqual(model.state.status, .deceased)
        XCTAssertEqual(try store.household(householdId: householdId).members.map(\.status), [.deceased])
        XCTAssertEqual(model.state.statusChoices, MemberStatus.allCases)

        let fresh = MemberFormModel(repo: repo, householdId: householdId)
        await fresh.markStatus(.movedOut)
        XCTAssertEqual(fresh.state.error, "请先保存成员")

        let wrong = MemberFormModel(repo: repo, householdId: householdId, memberId: "no-such-member")
        await wrong.load()
        XCTAssertTrue(wrong.state.error?.hasPrefix("应用出错") ?? false, wrong.state.error ?? "no error")
    }

    func testLedgerLinesAreAddedAndNeedsClosed() async throws {
        let model = LedgerLineFormModel(repo: repo, householdId: householdId)
        await model.load()
        XCTAssertEqual(model.state.members.map(\.id), [memberId])
        XCTAssertEqual(model.state.form.memberId, memberId)
        await model.save()
        XCTAssertTrue(model.state.error?.contains("不能为空") ?? false, model.state.error ?? "no error")
        XCTAssertFalse(model.state.saving)
        model.chooseKind(.everyNDays)
        XCTAssertEqual(model.state.form.schedule, .everyNDays(days: 30, firstDue: today))
        model.edit { $0.title = "换药"; $0.schedule = .everyNDays(days: 0, firstDue: self.today) }
        await model.save()
        XCTAssertNotNil(model.state.error, "an interval of 0 days is refused by the core")
        XCTAssertNil(model.state.savedLineId)
        model.edit { $0.schedule = .everyNDays(days: 7, firstDue: self.today); $0.urgency = .amber }
        await model.save()
        let reminder = try XCTUnwrap(model.state.savedLineId, model.state.error ?? "")

        let need = LedgerLineFormModel(repo: repo, householdId: householdId)
        await need.load()
        need.chooseKind(.oneOff)
        need.edit { $0.title = "申请轮椅"; $0.urgency = .red }
        await need.save()
        let needId = try XCTUnwrap(need.state.savedLineId, need.state.error ?? "")

        let household = HouseholdModel(repo: repo, householdId: householdId)
        await household.refresh()
        let rows = try XCTUnwrap(household.state.screen).ledger
        XCTAssertEqual(rows.first { $0.line.id == reminder }?.dueNow, true, "a reminder first due today is due now")
        XCTAssertEqual(rows.first { $0.line.id == reminder }?.line.urgency, .amber)
        await household.setNeedStatus(lineId: needId, .done)
        XCTAssertEqual(household.state.notice, "已改为“已办结”")
        XCTAssertEqual(household.state.screen?.ledger.first { $0.line.id == needId }?.line.schedule,
                       .oneOff(status: .done, due: nil))
        await household.setNeedStatus(lineId: reminder, .done)
        XCTAssertNotNil(household.state.error, "a reminder has no need status")
    }

    func testVisitFormIsCheckedThenSaved() async throws {
        let model = VisitModel(repo: repo, householdId: householdId)
        XCTAssertEqual(model.state.outcomes, VisitOutcome.allCases)
        await model.save()
        XCTAssertTrue(model.state.error?.contains("走访事由") ?? false, model.state.error ?? "no error")
        XCTAssertNil(model.state.savedVisitId)
        XCTAssertFalse(model.state.saving)

        model.edit { $0.purpose = "节前走访"; $0.outcome = .nobodyHome; $0.notes = "邻居说去女儿家了" }
        XCTAssertNil(model.state.error)
        await model.save()
        let id = try XCTUnwrap(model.state.savedVisitId, model.state.error ?? "")
        let visit = try XCTUnwrap(try store.household(householdId: householdId).visits.first { $0.id == id })
        XCTAssertEqual(visit.outcome, .nobodyHome)
        XCTAssertEqual(visit.notes, "邻居说去女儿家了")
        XCTAssertEqual(visit.visitor, "测试代办员")
    }

    func testFiguresCountThisMonthsJobs() async throws {
        _ = try openJob()
        let model = FiguresModel(repo: repo, villageId: "t-village")
        await model.refresh()
        XCTAssertNil(model.state.error)
        let from = try XCTUnwrap(model.state.from)
        XCTAssertTrue(from.hasSuffix("-01") && from.prefix(7) == today.prefix(7), from)
        XCTAssertEqual(model.state.to, today)
        XCTAssertEqual(model.state.figures?.jobsOpened, 1)
        XCTAssertEqual(model.state.figures?.specialNeeds, 1, "张桂兰 lives alone")
        XCTAssertEqual(model.state.figures?.specialNeedsResponded, 0)
    }

    func testTheVillageHeadHandsUpAGroupsJobs() async throws {
        let item = serviceCatalogue().first { $0.tier == .town }!
        let jobId = try store.openJob(input: NewJob(
            memberId: memberId, itemCode: item.code, mode: item.modes[0], urgency: .amber, note: "", visitId: nil))
        _ = try store.takeStepFromForm(jobId: jobId, kind: .accept, input: .empty, location: nil)
        try store.signIn(user: User(id: "t-head", name: "权兴旺", role: .villageHead, regionIds: ["t-village"]))
        let model = HandUpModel(repo: repo, villageId: "t-village")
        await model.refresh()
        XCTAssertEqual(model.state.groups.map(\.groupName), ["一组"])
        XCTAssertEqual(model.state.carrier, "权兴旺")
        await model.handUp()
        XCTAssertEqual(model.state.error, "请先勾选要转办的办件")
        model.selectGroup("一组")
        XCTAssertEqual(model.state.selected, [jobId])
        model.editCarrier(" ")
        await model.handUp()
        XCTAssertTrue(model.state.error?.contains("带件的轮值村长") ?? false, model.state.error ?? "no error")
        model.selectGroup("一组")
        model.editCarrier("权兴旺")
        await model.handUp()
        XCTAssertNil(model.state.error)
        XCTAssertEqual(model.state.notice, "已转办 1 件，由 权兴旺 带到镇便民服务中心")
        XCTAssertTrue(model.state.groups.isEmpty)
        XCTAssertEqual(try store.job(jobId: jobId).progress.state, .handedUp)
    }

    func testCatalogueIsSearchedByNameOrInitials() async {
        let model = CatalogueModel(repo: repo)
        model.search("ylrz")
        XCTAssertEqual(model.state.results.map(\.name), ["养老认证"])
        model.search("社保卡")
        XCTAssertEqual(model.state.results.first?.name, "社保卡申领")
        model.choose(model.state.results[0])
        XCTAssertEqual(model.state.chosen?.timeLimitDays, 15)
        model.search("没有这个事项")
        XCTAssertTrue(model.state.results.isEmpty)
    }

    func testMembersAreFoundByNameOrNumberTail() async {
        let model = SearchModel(repo: repo)
        await model.search("张桂兰")
        XCTAssertEqual(model.state.hits.map(\.memberId), [memberId])
        await model.search("002X")
        XCTAssertEqual(model.state.hits.map(\.householdId), [householdId])
        await model.search("李四")
        XCTAssertTrue(model.state.hits.isEmpty)
        XCTAssertNil(model.state.error)

        await model.toggleTag(.elderlyAlone)
        XCTAssertEqual(model.state.roster.map(\.name), ["张桂兰"])
        await model.toggleTag(.disabled)
        XCTAssertEqual(model.state.tags, [.elderlyAlone, .disabled])
        XCTAssertTrue(model.state.roster.isEmpty, "members with every tag chosen")
        await model.toggleTag(.disabled)
        XCTAssertEqual(model.state.roster.map(\.name), ["张桂兰"])
        XCTAssertNil(model.state.error)
    }

    func testSyncScreenShowsWhyItCannotSync() async {
        let model = SyncModel(repo: repo)
        await model.refreshStatus()
        XCTAssertGreaterThan(model.state.status?.pendingChanges ?? 0, 0)
        XCTAssertTrue(model.state.statusLine.hasSuffix("条修改待同步"))
        await model.syncNow()
        XCTAssertFalse(model.state.running)
        XCTAssertTrue(model.state.error?.contains("本机还没有登记") ?? false, model.state.error ?? "no error")
        XCTAssertEqual(model.state.status?.lastError, model.state.error)
        XCTAssertNil(model.state.result)
    }
}
