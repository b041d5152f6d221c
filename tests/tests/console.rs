//! The hub console in a real browser: headless Chromium (Debian's) driven by playwright-core
//! (`tests/browser/console.mjs`, installed by `scripts/install-browser.sh`) against a real
//! server process, with real phones syncing before and after. Each test prepares the phones,
//! runs a browser phase, then checks what the phones receive. Screenshots of every page are
//! saved in target/screenshots.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::*;
use doorstep_core::{JobState, JobStep, MemberPatch, Region, RegionTier, Role, Store, User};
use doorstep_tests::hand_counted;
use serde_json::json;

const PASSWORD: &str = "hub-staff-password-1";

/// Runs one phase of the browser test; fails the test when the phase fails.
fn browser(url: &str, phase: &str, params: serde_json::Value) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(
        root.join("tests/browser/node_modules/playwright-core")
            .exists(),
        "playwright-core is missing: run scripts/install-browser.sh (scripts/test.sh does)"
    );
    let output = Command::new("node")
        .arg("tests/browser/console.mjs")
        .current_dir(&root)
        .env("DOORSTEP_CONSOLE_URL", url)
        .env("DOORSTEP_PHASE", phase)
        .env("DOORSTEP_PARAMS", params.to_string())
        .output()
        .expect("node runs");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "browser phase {phase} failed:\n{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The town's hub staff member, with a console password.
fn hub_staff(t: &Town) -> User {
    let staff = t.user(Role::TownStaff, "sanzhang");
    t.accounts.set_password(&staff.id, PASSWORD, now()).unwrap();
    staff
}

/// A town with its hub staff member, an agent's phone (synced) and a household of the
/// agent's village.
fn desk() -> (Town, User, Arc<Store>, String) {
    let t = two_villages();
    let staff = hub_staff(&t);
    let agent = t.user(Role::Agent, VILLAGE);
    let a = t.enrolled_phone("agent.db", &agent);
    t.sync(&a).unwrap();
    let hh = t.household_in(VILLAGE);
    (t, staff, a, hh)
}

fn sign_in(staff: &User) -> serde_json::Value {
    json!({ "user": staff.id, "password": PASSWORD })
}

fn with(mut base: serde_json::Value, more: serde_json::Value) -> serde_json::Value {
    base.as_object_mut()
        .unwrap()
        .extend(more.as_object().unwrap().clone());
    base
}

fn job_state(p: &Store, household: &str, job: &str) -> (JobState, Option<String>) {
    let details = p
        .household(household)
        .unwrap()
        .jobs
        .into_iter()
        .find(|j| j.job.id == job)
        .unwrap();
    (details.progress.state, details.progress.reason)
}

/// Two agents' phones write different phone numbers for one member; hub staff find the
/// conflict, choose one (a second tab, now stale, is refused), and the agent's next sync has it.
#[test]
fn a_conflict_is_settled_in_the_console_and_reaches_the_phone() {
    let t = two_villages();
    let staff = hub_staff(&t);
    let agent = t.user(Role::Agent, VILLAGE);
    let head = t.user(Role::VillageHead, VILLAGE);
    let (a, b) = (
        t.enrolled_phone("agent.db", &agent),
        t.enrolled_phone("head.db", &head),
    );
    t.sync(&a).unwrap();
    t.sync(&b).unwrap();
    let hh = t.household_in(VILLAGE);
    // A job for the member, waiting at the town: the case list finds it by name.
    handed_up_job(&t, &a, &hh);
    let member = a.household(&hh).unwrap().members[0].clone();
    for (p, number) in [(&a, "13911112222"), (&b, "13733334444")] {
        p.update_member(
            &member.id,
            MemberPatch {
                phone: Some(number.into()),
                ..MemberPatch::default()
            },
        )
        .unwrap();
    }
    for p in [&a, &b, &a] {
        t.sync(p).unwrap();
    }
    let on_phone = |p: &Store| {
        p.conflicts(&hh)
            .unwrap()
            .into_iter()
            .filter(|c| c.entity_id == member.id && c.field == "phone")
            .count()
    };
    assert_eq!(on_phone(&a), 1);
    browser(
        &t.server.url,
        "pages",
        with(
            sign_in(&staff),
            json!({ "search": member.name, "idNumber": member.id_number.clone().unwrap_or_default() }),
        ),
    );
    browser(
        &t.server.url,
        "reconcile",
        with(sign_in(&staff), json!({ "value": "13733334444" })),
    );
    for p in [&a, &b] {
        t.sync(p).unwrap();
        assert_eq!(on_phone(p), 0);
        let kept = p.household(&hh).unwrap().members[0].phone.clone();
        assert_eq!(kept.as_deref(), Some("13733334444"));
    }
}

/// A handed-up job is accepted, approved and completed in the console; the agent signs the
/// result out and delivers it on the phone. Another is returned with a reason the phone shows.
#[test]
fn handed_up_jobs_are_approved_or_returned_and_the_phone_follows() {
    let (t, staff, a, hh) = desk();
    let (job, _) = handed_up_job(&t, &a, &hh);
    let (returned, _) = handed_up_job(&t, &a, &hh);
    browser(
        &t.server.url,
        "handUp",
        with(
            sign_in(&staff),
            json!({ "household": hh, "job": job, "result": "社保卡已制卡" }),
        ),
    );
    browser(
        &t.server.url,
        "returnJob",
        with(
            sign_in(&staff),
            json!({ "household": hh, "job": returned, "reason": "缺少户口本复印件" }),
        ),
    );
    t.sync(&a).unwrap();
    assert_eq!(job_state(&a, &hh, &job).0, JobState::Completed);
    assert_eq!(
        job_state(&a, &hh, &returned),
        (JobState::Returned, Some("缺少户口本复印件".to_string()))
    );
    a.take_step(&job, JobStep::SignOutParcel, None).unwrap();
    a.take_step(
        &job,
        JobStep::Deliver {
            signed_by: "本人".into(),
        },
        None,
    )
    .unwrap();
    t.sync(&a).unwrap();
    let server = doorstep_tests::server_mirror(&t.data, &t.root.join("mirror.db"));
    assert_eq!(job_state(&server, &hh, &job).0, JobState::Delivered);
}

/// Forged posts (no CSRF token, a wrong one, no session) change nothing; a wrong password is
/// refused without a session; staff of another town see nothing of this one.
#[test]
fn forged_forms_and_other_towns_get_nothing() {
    let (t, staff, a, hh) = desk();
    let (job, _) = handed_up_job(&t, &a, &hh);
    let case = json!({ "household": hh, "job": job });
    browser(
        &t.server.url,
        "forgedForm",
        with(sign_in(&staff), case.clone()),
    );
    browser(&t.server.url, "badSignIn", sign_in(&staff));
    t.accounts
        .put_region(&Region {
            id: "lishu".into(),
            name: "李树镇".into(),
            tier: RegionTier::Town,
            parent_id: None,
        })
        .unwrap();
    let other = User {
        id: "lishu-staff".into(),
        name: "别镇工作人员".into(),
        role: Role::TownStaff,
        region_ids: vec!["lishu".into()],
    };
    t.accounts.put_user(&other).unwrap();
    t.accounts.set_password(&other.id, PASSWORD, now()).unwrap();
    let village_names: Vec<String> = t.town.villages().map(|v| v.name.clone()).collect();
    browser(
        &t.server.url,
        "otherTown",
        with(
            with(sign_in(&other), case),
            json!({ "hidden": village_names }),
        ),
    );
    t.sync(&a).unwrap();
    assert_eq!(job_state(&a, &hh, &job).0, JobState::HandedUp);
    let refused = t
        .accounts
        .audit_log()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "refused" || e.action == "sign-in-refused")
        .count();
    assert!(refused >= 3, "refusals are audited: {refused}");
}

/// The case list's filters and search, on the server's storage (both backends): by name, by
/// the tail of an identity or phone number, by tag, state and overdue; never outside the
/// villages given.
#[test]
fn case_filters_find_what_they_name() {
    use doorstep_sync_server::storage::{CaseFilter, CaseOrder};
    let t = two_villages();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let villages: Vec<String> = t.town.villages().map(|v| v.id.clone()).collect();
    let find = |filter: CaseFilter, within: &[String]| {
        t.accounts
            .cases(within, &filter, CaseOrder::Urgency, 0, today)
            .unwrap()
    };
    let (all, total) = find(CaseFilter::default(), &villages);
    assert!(total > 0 && all.len() as i64 == total.min(30));
    let line = &all[0];
    let household = t
        .town
        .households
        .iter()
        .map(|d| d.read().unwrap())
        .find(|d| d.household.id == line.household_id)
        .unwrap();
    let member = household
        .members
        .iter()
        .find(|m| m.name == line.member_name)
        .unwrap();
    let search = |text: &str| CaseFilter {
        search: Some(text.to_string()),
        ..CaseFilter::default()
    };
    let found = |filter: CaseFilter| {
        find(filter, &villages)
            .0
            .iter()
            .any(|l| l.job_id == line.job_id)
    };
    assert!(found(search(&member.name)));
    if let Some(id) = &member.id_number {
        assert!(found(search(&id[id.len() - 4..])));
    }
    if let Some(phone) = &member.phone {
        assert!(found(search(&phone[phone.len() - 4..])));
    }
    assert!(found(CaseFilter {
        state: JobState::from_code(&line.state),
        village: Some(line.village_id.clone()),
        ..CaseFilter::default()
    }));
    for tag in &member.tags {
        assert!(found(CaseFilter {
            tag: Some(*tag),
            ..CaseFilter::default()
        }));
    }
    let (overdue, _) = find(
        CaseFilter {
            overdue: true,
            ..CaseFilter::default()
        },
        &villages,
    );
    for l in &overdue {
        let state = JobState::from_code(&l.state).unwrap();
        let due = l.promised_due.as_deref().map(|d| d.parse().unwrap());
        assert!(state.is_overdue(due, today), "{l:?}");
    }
    let other: Vec<String> = villages
        .iter()
        .filter(|v| **v != line.village_id)
        .cloned()
        .collect();
    assert!(
        !find(search(&member.name), &other)
            .0
            .iter()
            .any(|l| l.job_id == line.job_id)
    );
    assert_eq!(find(CaseFilter::default(), &[]).1, 0);
}

/// Needs from the 12345 hotline registered in the console, one on the ledger and one as a job,
/// are today's work on the agent's phone; the agent does the job to the end (销号, rated) and
/// the console's intake list follows it there.
#[test]
fn an_intake_reaches_the_agent_and_is_followed_to_its_end() {
    let (t, staff, a, hh) = desk();
    let member = a.household(&hh).unwrap().members[0].clone();
    let (need, job_need) = ("申请轮椅（热线反映）", "老人行动不便，需上门养老认证");
    browser(
        &t.server.url,
        "intake",
        with(
            sign_in(&staff),
            json!({ "search": member.name, "need": need, "jobNeed": job_need,
                    "item": "pension-certification", "mode": "at_home" }),
        ),
    );
    t.sync(&a).unwrap();
    let today = doorstep_core::time::local_date(now()) + chrono::Days::new(30);
    let work = a.today_work(today, Some(VILLAGE), 500).unwrap();
    assert!(work.iter().any(|w| w.household_id == hh && w.title == need));
    let job = a
        .household(&hh)
        .unwrap()
        .jobs
        .into_iter()
        .find(|j| j.job.note.contains(job_need))
        .expect("the job is on the phone");
    assert!(job.job.note.starts_with("【12345热线】"));
    assert_eq!(job.job.events[0].actor.role, Role::TownStaff);
    assert!(work.iter().any(|w| w.id == job.job.id));
    for step in [
        JobStep::Accept {
            missing_materials: vec![],
            supplement_deadline: None,
        },
        JobStep::Complete {
            result: "已上门完成认证".into(),
        },
        JobStep::Deliver {
            signed_by: "本人".into(),
        },
        JobStep::Rate {
            rating: doorstep_core::Rating::Good,
            comment: "满意".into(),
        },
        JobStep::Close,
    ] {
        a.take_step(&job.job.id, step, None).unwrap();
    }
    t.sync(&a).unwrap();
    browser(
        &t.server.url,
        "intakeFollowed",
        with(sign_in(&staff), json!({ "jobNeed": job_need })),
    );
}

/// The agent completes a job while the village head cancels it on another phone: the job's
/// steps contradict. Hub staff void the cancellation on the case page (history kept); both
/// phones then see the job completed with no conflict. Every page read was audited, and
/// signing out ends the session.
#[test]
fn contradicting_steps_are_settled_on_the_case_page() {
    let (t, staff, a, hh) = desk();
    let head = t.user(Role::VillageHead, VILLAGE);
    let b = t.enrolled_phone("head.db", &head);
    let member = a.household(&hh).unwrap().members[0].id.clone();
    let job = accepted_job(&a, &member, doorstep_core::Urgency::Amber);
    t.sync(&a).unwrap();
    t.sync(&b).unwrap();
    a.take_step(
        &job,
        JobStep::Complete {
            result: "认证完成".into(),
        },
        None,
    )
    .unwrap();
    take(&b, &job, withdrawn());
    for p in [&a, &b, &a] {
        t.sync(p).unwrap();
    }
    let conflicts = |p: &Store| p.job(&job).unwrap().progress.conflicts.len();
    assert_eq!(conflicts(&a), 1, "the steps contradict");
    browser(
        &t.server.url,
        "voidStep",
        with(
            sign_in(&staff),
            json!({ "household": hh, "job": job, "void": "撤销", "note": "已办结，撤销作废" }),
        ),
    );
    for p in [&a, &b] {
        t.sync(p).unwrap();
        assert_eq!(conflicts(p), 0);
        assert_eq!(job_state(p, &hh, &job).0, JobState::Completed);
    }
    let reads = t
        .accounts
        .audit_log()
        .unwrap()
        .into_iter()
        .filter(|e| e.user_id == staff.id && e.action == "read")
        .count();
    assert!(reads >= 2, "page reads are audited: {reads}");
}

/// The hand-counted district on a server process, with console passwords for 三张镇's hub
/// staff and the district's staff member.
fn hand_counted_district() -> (
    tempfile::TempDir,
    Arc<doorstep_sync_server::storage::Storage>,
    doorstep_tests::ServerProcess,
) {
    let dir = tempfile::tempdir().unwrap();
    let (data, state) = hand_counted::loaded(dir.path());
    for user in ["town-staff-1", "district-1"] {
        state.storage.set_password(user, PASSWORD, now()).unwrap();
    }
    let server = doorstep_tests::ServerProcess::start(&server_exe(), &data);
    (dir, state.storage, server)
}

/// The figures page for March 2026 shows the hand-counted figures, the heat map and the
/// trends, to town staff for their villages and to district staff town by town.
#[test]
fn the_figures_page_shows_the_hand_counted_figures() {
    let (_dir, _storage, server) = hand_counted_district();
    browser(
        &server.url,
        "figures",
        json!({ "townUser": "town-staff-1", "districtUser": "district-1", "password": PASSWORD,
                "from": "2026-03-01", "to": "2026-03-31" }),
    );
}

/// Exports made and downloaded in the browser read back masked; a full export needs the
/// permission and a reason, which the audit log keeps with every export and download.
#[test]
fn exports_download_masked_and_full_only_with_permission_and_reason() {
    let (dir, storage, server) = hand_counted_district();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let params = json!({ "user": "district-1", "password": PASSWORD,
                         "downloads": downloads, "village": hand_counted::V1 });
    browser(&server.url, "exports", params.clone());
    let masked = read_xlsx(&downloads.join("masked.xlsx"));
    let members = &masked.iter().find(|(name, _)| name == "成员").unwrap().1;
    assert_eq!(members.len(), 1 + 4, "every member of the district");
    let zhang = members
        .iter()
        .find(|r| r[3] == calamine::Data::String("张桂兰".into()))
        .unwrap();
    assert_eq!(
        zhang[4],
        calamine::Data::String("610522********002X".into())
    );
    let csv = std::fs::read(downloads.join("members.csv")).unwrap();
    assert_eq!(&csv[..3], b"\xEF\xBB\xBF");
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2, "三兴村's two members");
    assert!(csv.contains("610522********002X") && !csv.contains(hand_counted::ZHANG_ID));

    storage.set_full_export("district-1", true).unwrap();
    let reason = "区民政局核对高龄津贴名单";
    browser(
        &server.url,
        "fullExport",
        with(params, json!({ "reason": reason })),
    );
    let full = read_xlsx(&downloads.join("full.xlsx"));
    let members = &full.iter().find(|(name, _)| name == "成员").unwrap().1;
    assert!(
        members
            .iter()
            .any(|r| r[4] == calamine::Data::String(hand_counted::ZHANG_ID.into()))
    );

    let audit = storage.audit_log().unwrap();
    let of = |action: &str| -> Vec<String> {
        audit
            .iter()
            .filter(|e| e.user_id == "district-1" && e.action == action)
            .map(|e| e.detail.clone())
            .collect()
    };
    let exports = of("export");
    assert_eq!(exports.len(), 3, "{exports:?}");
    assert!(exports.iter().filter(|d| d.starts_with("脱敏导出")).count() == 2);
    assert!(
        exports
            .iter()
            .any(|d| d.starts_with("完整导出") && d.ends_with(reason))
    );
    assert!(
        of("refused").iter().any(|d| d.contains("完整导出被拒绝")),
        "the missing reason"
    );
    assert_eq!(
        of("read")
            .iter()
            .filter(|d| d.contains("下载导出文件"))
            .count(),
        3
    );
}
