import Doorstep
import DoorstepKit
import Foundation
import XCTest

/// Collects the progress reports of a sync (they arrive on a Rust thread).
private final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [SyncProgress] = []

    var reports: [SyncProgress] { lock.withLock { collected } }

    func record(_ progress: SyncProgress) { lock.withLock { collected.append(progress) } }
}

/// Phones and a real sync server on 127.0.0.1, driven through the app's own layers.
@MainActor
final class EndToEndTests: XCTestCase {
    private var server: TestServer!
    private var phones: [TestPhone] = []

    override func setUp() async throws {
        server = try TestServer()
    }

    override func tearDown() async throws {
        phones.forEach { $0.close() }
        server.close()
    }

    private func phone() throws -> TestPhone {
        let phone = try TestPhone()
        phones.append(phone)
        return phone
    }

    /// An agent's day: enrol, sync with progress, register a household, open a job with a
    /// missing material, hand it up through the village head, the town's steps arriving,
    /// delivery and rating, a conflict resolved, and typed errors for bad input.
    func testAnAgentsDayRoundTripsThroughTheServer() async throws {
        let phoneA = try phone(), phoneB = try phone(), phoneC = try phone()
        let agent = phoneA.repository(server.url)
        let head = phoneB.repository(server.url)
        let town = phoneC.repository(server.url)

        // Enrol with a one-time code, then the first sync downloads the village with progress.
        let enroll = EnrollModel(repo: agent, deviceName: "测试手机甲")
        enroll.editCode(try server.issueCode(TestServer.agent))
        await enroll.enroll()
        XCTAssertNil(enroll.state.error)
        XCTAssertEqual(enroll.state.enrolledAs?.role, .agent)
        XCTAssertEqual(enroll.state.enrolledAs?.regionIds, [TestServer.village])
        let recorder = Recorder()
        let first = try await agent.sync { recorder.record($0) }
        XCTAssertFalse(recorder.reports.isEmpty, "progress reports arrive")
        XCTAssertEqual(recorder.reports.last, first.progress)
        XCTAssertEqual(first.progress.documentsReceived, 60)
        XCTAssertEqual(try phoneA.store.householdIds().count, 60)

        // Register a household and its member.
        let register = HouseholdFormModel(repo: agent)
        await register.load()
        XCTAssertEqual(register.state.villages, [TestServer.village])
        register.edit { $0.groupName = "三组"; $0.address = "三张村三组12号" }
        await register.save()
        let householdId = try XCTUnwrap(register.state.savedHouseholdId, register.state.error ?? "")
        let member = MemberFormModel(repo: agent, householdId: householdId)
        member.edit { $0.name = "李秀英"; $0.idNumber = "11010519491231002X"; $0.tags = [.disabled] }
        await member.save()
        let memberId = try XCTUnwrap(member.state.savedMemberId, member.state.error ?? "")

        // Bad input is refused with typed errors and a message to act on.
        XCTAssertThrowsError(try phoneA.store.addMember(householdId: householdId, input: NewMember(
            name: "王小明", idNumber: "110101199003071234", phone: nil, gender: nil, birthDate: nil,
            relation: "孙子", tags: []))) { error in
            guard case let CoreError.InvalidIdNumber(reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("校验位"), "the rule that failed: \(reason)")
            XCTAssertTrue(error.userMessage.contains("身份证号码无效"), error.userMessage)
        }

        // Open a town job from the catalogue and accept it with a non-key material missing.
        let item = try XCTUnwrap(serviceCatalogue().first { $0.tier == .town && $0.materials.contains { !$0.key } })
        let catalogue = CatalogueModel(repo: agent)
        catalogue.search(item.name)
        catalogue.choose(try XCTUnwrap(catalogue.state.results.first { $0.code == item.code }))
        await catalogue.openJob(memberId: memberId, mode: item.modes[0], urgency: .red)
        let jobId = try XCTUnwrap(catalogue.state.openedJobId, catalogue.state.error ?? "")
        let steps = JobStepModel(repo: agent, jobId: jobId)
        await steps.refresh()
        await steps.choose(.accept)
        let missing = try XCTUnwrap(steps.state.materialChoices.first)
        steps.edit { $0.materials = [missing]; $0.date = adding(7, to: agent.today()) }
        await steps.submit()
        XCTAssertNil(steps.state.error)
        XCTAssertEqual(steps.state.job?.progress.missingMaterials, [missing])
        await steps.choose(.supplement)
        steps.edit { $0.materials = [missing] }
        await steps.submit()
        XCTAssertEqual(steps.state.job?.progress.missingMaterials, [])

        // Up to the server; the village head's phone enrols and hands the job up.
        let sync = SyncModel(repo: agent)
        await sync.syncNow()
        XCTAssertNil(sync.state.error)
        XCTAssertTrue(sync.state.progressText.hasPrefix("第"), sync.state.progressText)
        XCTAssertEqual(sync.state.statusLine, "已全部同步")
        _ = try await head.enroll(code: try server.issueCode(TestServer.head), deviceName: "测试手机乙")
        _ = try await head.sync()
        let handUp = HandUpModel(repo: head, villageId: TestServer.village)
        await handUp.refresh()
        let group = try XCTUnwrap(handUp.state.groups.first { $0.groupName == "三组" })
        XCTAssertTrue(group.jobs.contains { $0.jobId == jobId })
        handUp.toggle(jobId)
        await handUp.handUp()
        XCTAssertNil(handUp.state.error)
        XCTAssertEqual(handUp.state.notice, "已转办 1 件，由 \(handUp.state.carrier) 带到镇便民服务中心")
        _ = try await head.sync()

        // The town's hub staff receive, approve and complete it; the steps reach the agent.
        _ = try await town.enroll(code: try server.issueCode("town-staff-1"), deviceName: "镇中心电脑")
        _ = try await town.sync()
        let hub = JobStepModel(repo: town, jobId: jobId)
        await hub.refresh()
        XCTAssertEqual(hub.state.job?.progress.state, .handedUp)
        for step in [JobStepKind.townAccept, .approve, .complete] {
            await hub.choose(step)
            hub.edit { $0.text = "已办结，证件已制好" }
            await hub.submit()
            XCTAssertNil(hub.state.error, "\(step)")
        }
        _ = try await town.sync()
        await sync.syncNow()
        XCTAssertNil(sync.state.error)
        await steps.refresh()
        XCTAssertEqual(steps.state.job?.progress.state, .completed)

        // The result is signed out at the centre, delivered to the door and rated.
        await steps.choose(.signOutParcel)
        await steps.submit()
        XCTAssertNil(steps.state.error)
        let deliveries = DeliveriesModel(repo: agent)
        await deliveries.refresh()
        XCTAssertTrue(deliveries.state.jobs.contains { $0.jobId == jobId })
        await deliveries.delivered(jobId, signedBy: "李秀英")
        XCTAssertNil(deliveries.state.error)
        await steps.refresh()
        XCTAssertEqual(steps.state.job?.progress.state, .delivered)
        await steps.choose(.rate)
        steps.edit { $0.rating = .good }
        await steps.submit()
        XCTAssertNil(steps.state.error)
        XCTAssertEqual(steps.state.job?.progress.state, .rated)

        // Both phones change the household's phone offline: the agent sees a conflict and settles it.
        try phoneB.store.updateHousehold(householdId: householdId, patch: HouseholdPatch(groupName: nil, address: nil, phone: "13900000001"))
        try phoneA.store.updateHousehold(householdId: householdId, patch: HouseholdPatch(groupName: nil, address: nil, phone: "13700000002"))
        _ = try await head.sync()
        await sync.syncNow()
        let household = HouseholdModel(repo: agent, householdId: householdId)
        await household.refresh()
        let conflict = try XCTUnwrap(household.state.screen?.conflicts.first { $0.field == "phone" })
        XCTAssertEqual(conflict.fieldLabel, "电话")
        XCTAssertEqual(Set(conflict.values.map(\.value)), ["13900000001", "13700000002"])
        await household.choose(try XCTUnwrap(conflict.values.first { $0.value == "13900000001" }), for: conflict)
        XCTAssertNil(household.state.error)
        XCTAssertFalse(household.state.screen?.conflicts.contains { $0.field == "phone" } ?? true)

        // The choice syncs like any edit.
        await sync.syncNow()
        XCTAssertEqual(sync.state.statusLine, "已全部同步")
        _ = try await head.sync()
        XCTAssertTrue(try phoneB.store.conflicts(householdId: householdId).isEmpty)
        XCTAssertEqual(try phoneB.store.household(householdId: householdId).household.phone, "13900000001")
        XCTAssertEqual(try phoneB.store.job(jobId: jobId).progress.state, .rated)
    }

    func testTheEnrolmentScreenTakesACodeOnce() async throws {
        let phone = try phone()
        let model = EnrollModel(repo: phone.repository(server.url), deviceName: "测试手机")
        await model.enroll()
        XCTAssertEqual(model.state.error, "请输入镇便民服务中心给您的登记码")
        model.editCode("zzzz-zzzz")
        XCTAssertEqual(model.state.code, "ZZZZ-ZZZZ")
        await model.enroll()
        XCTAssertTrue(model.state.error?.contains("登记失败") ?? false, model.state.error ?? "no error")
        XCTAssertNil(model.state.enrolledAs)

        let code = try server.issueCode(TestServer.head)
        model.editCode(code.lowercased())
        await model.enroll()
        XCTAssertNil(model.state.error)
        XCTAssertEqual(model.state.enrolledAs?.role, .villageHead)
        XCTAssertFalse(model.state.working)
        XCTAssertEqual(model.state.enrolledAs, phone.store.currentUser())

        let again = EnrollModel(repo: phone.repository(server.url), deviceName: "测试手机")
        again.editCode(code)
        await again.enroll()
        XCTAssertTrue(again.state.error?.contains("登记失败") ?? false, "a code works only once")
    }

    func testSyncFailuresAreTypedAndKeptInTheStatus() async throws {
        let phone = try phone()
        let repo = phone.repository(server.url)
        do {
            _ = try await repo.sync()
            XCTFail("synced before enrolling")
        } catch SyncError.NotEnrolled {}
        var ended = await repo.syncsEnded
        XCTAssertEqual(ended, 1, "a failed sync also tells the screens")
        do {
            _ = try await repo.enroll(code: "AAAA-BBBB", deviceName: "测试手机")
            XCTFail("enrolled with a made-up code")
        } catch SyncError.EnrollmentRefused {}
        _ = try await repo.enroll(code: try server.issueCode(TestServer.agent), deviceName: "测试手机")

        let cancel = SyncCancel()
        cancel.cancel()
        do {
            _ = try await repo.sync(cancel: cancel)
            XCTFail("a cancelled sync went on")
        } catch SyncError.Cancelled {}

        let offline = DoorstepRepository(store: phone.store, server: SyncServer(url: "http://127.0.0.1:9", trustedCertificates: []))
        do {
            _ = try await offline.sync()
            XCTFail("synced with no server")
        } catch let error as SyncError {
            guard case let .Network(detail) = error else { return XCTFail("\(error)") }
            XCTAssertFalse(detail.isEmpty, "the network library's words are kept for support")
            XCTAssertEqual(error.userMessage, "网络连接失败，数据都保存在本机，有信号后会再同步")
            XCTAssertEqual(try phone.store.syncStatus().lastError, error.userMessage)
            XCTAssertEqual(try phone.store.syncStatus().failuresInARow, 1, "a cancelled sync is not counted")
            guard case .later = try await repo.nextSync(connected: true) else {
                return XCTFail("the core backs off after a failure")
            }
            let offlineDecision = try await repo.nextSync(connected: false)
            XCTAssertEqual(offlineDecision, .waitForNetwork)
        }

        _ = try await repo.sync()
        XCTAssertNil(try phone.store.syncStatus().lastError)
        XCTAssertEqual(try phone.store.syncStatus().failuresInARow, 0)
        ended = await repo.syncsEnded
        XCTAssertEqual(ended, 3)
    }

    func testTheStoreOpensOnlyWithItsKey() async throws {
        let phone = try phone()
        XCTAssertThrowsError(try DoorstepStore.open(path: phone.path, key: FixedKey(Data(repeating: 7, count: 32)))) {
            guard case CoreError.WrongKey = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue($0.userMessage.contains("密钥不对"), $0.userMessage)
        }
        XCTAssertThrowsError(try DoorstepStore.open(path: phone.path, key: LockedKey())) {
            guard case let CoreError.KeyUnavailable(reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(reason, "钥匙串已锁定")
            XCTAssertTrue($0.userMessage.contains("钥匙串已锁定"), $0.userMessage)
        }
        XCTAssertEqual(try DoorstepStore.open(path: phone.path, key: FixedKey(phone.key)).householdIds(), [])
    }
}

/// A Keychain that is locked (before the first unlock after a restart).
private final class LockedKey: DatabaseKey {
    func databaseKey() throws -> Data { throw KeyError.Unavailable(reason: "钥匙串已锁定") }
}
