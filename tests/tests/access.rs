//! Who may see and change what, over the real HTTP API: enrollment codes and device tokens,
//! revoked and unknown devices, reads limited to the device's villages, writes checked with the
//! core's rules (a forged client cannot approve, move a household or touch another village),
//! and the audit log.

mod common;

use std::sync::Arc;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use common::*;
use doorstep_core::sync::protocol::{
    self, AckStatus, DocChanges, Position, SyncRequest, SyncResponse,
};
use doorstep_core::*;
use doorstep_tests::{enroll_phone, phone};

/// Whether `needle` is in any file of the server's SQLite folder (a PostgreSQL database is not
/// a folder here: nothing to search).
fn stored_anywhere(data: &str, needle: &[u8]) -> bool {
    let Ok(files) = std::fs::read_dir(data) else {
        return false;
    };
    files.flatten().any(|f| {
        std::fs::read(f.path()).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
}

#[test]
fn codes_are_single_use_expire_and_revoked_devices_stop_syncing() {
    let t = two_villages();
    let agent = t.user(Role::Agent, VILLAGE);
    let p = phone(&t.root.join("p.db"), &agent, now());
    let code = t
        .accounts
        .issue_code(&agent.id, chrono::Utc::now())
        .unwrap();
    assert_eq!(code.len(), 9, "eight characters and a dash: {code}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let enroll_config = sync::SyncConfig::new(&t.server.url);
    let answer = rt
        .block_on(sync::enroll(
            Arc::clone(&p),
            &enroll_config,
            &code.to_lowercase(),
            "手机",
        ))
        .unwrap();
    assert_eq!(answer.villages, vec![VILLAGE.to_string()]);
    assert_eq!(answer.token.len(), 64, "256 bits, hex");
    // The server keeps only a hash of the token, in files only its user may read.
    assert!(!stored_anywhere(&t.data, answer.token.as_bytes()));
    if let Ok(folder) = std::fs::metadata(&t.data) {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(folder.permissions().mode() & 0o777, 0o700);
        let file = std::fs::metadata(std::path::Path::new(&t.data).join("server.db")).unwrap();
        assert_eq!(file.permissions().mode() & 0o777, 0o600);
    }
    // The code cannot be used again, nor an expired one.
    let other = phone(&t.root.join("q.db"), &agent, now());
    let again = rt.block_on(sync::enroll(
        Arc::clone(&other),
        &enroll_config,
        &code,
        "手机2",
    ));
    assert!(
        matches!(again, Err(sync::SyncError::EnrollmentRefused { reason }) if reason.contains("登记码无效"))
    );
    let old = t
        .accounts
        .issue_code(&agent.id, chrono::Utc::now() - chrono::Duration::hours(25))
        .unwrap();
    assert!(
        rt.block_on(sync::enroll(
            Arc::clone(&other),
            &enroll_config,
            &old,
            "手机2"
        ))
        .is_err()
    );
    // A phone never enrolled cannot sync, and says so.
    assert!(matches!(t.sync(&other), Err(sync::SyncError::NotEnrolled)));

    t.sync(&p).unwrap();
    t.accounts
        .revoke(&p.device_actor(), chrono::Utc::now())
        .unwrap();
    let err = t.sync(&p).unwrap_err();
    assert!(
        matches!(&err, sync::SyncError::Unauthorized { reason } if reason.contains("已被注销")),
        "{err}"
    );
    let status = p.sync_status().unwrap();
    assert!(status.blocked.as_deref().unwrap().contains("已被注销"));
    // Stopped: it does not even try until it enrolls again.
    assert!(matches!(
        t.sync(&p),
        Err(sync::SyncError::Unauthorized { .. })
    ));
    enroll_phone(&t.accounts, &t.server.url, &p, &agent.id);
    assert!(p.sync_status().unwrap().blocked.is_none());
    t.sync(&p).unwrap();
    let devices = t.accounts.devices().unwrap();
    assert!(
        devices
            .iter()
            .any(|d| d.device_id == p.device_actor() && d.revoked_at.is_none())
    );
}

#[test]
fn a_device_reads_only_its_villages() {
    let t = two_villages();
    let agent = t.user(Role::Agent, VILLAGE);
    let p = t.enrolled_phone("a.db", &agent);
    t.sync(&p).unwrap();
    let theirs: Vec<String> = t
        .town
        .households
        .iter()
        .filter(|d| d.read().unwrap().household.village_id == OTHER_VILLAGE)
        .map(|d| d.household_id().unwrap())
        .collect();
    let other_names: Vec<String> = t
        .town
        .households
        .iter()
        .filter(|d| d.read().unwrap().household.village_id == OTHER_VILLAGE)
        .flat_map(|d| d.read().unwrap().members.into_iter().map(|m| m.name))
        .collect();
    let mine = p.household_ids().unwrap();
    assert_eq!(mine.len(), 8);
    assert!(mine.iter().all(|id| !theirs.contains(id)));

    // The other village changes; this device hears nothing of it, not even a count.
    let head_b = t.enrolled_phone("b.db", &t.user(Role::VillageHead, OTHER_VILLAGE));
    t.sync(&head_b).unwrap();
    head_b
        .record_visit(
            &theirs[0],
            None,
            VisitRecord::new("走访", VisitOutcome::Met),
        )
        .unwrap();
    t.sync(&head_b).unwrap();

    // A hand-made request asking for the other village's data by every route.
    let token = p.device_token().unwrap().unwrap();
    for position in [
        Position::Changes { cursors: vec![] },
        Position::start(),
        sync::position(&p).unwrap(),
    ] {
        let request = SyncRequest {
            device: p.device_actor(),
            scope: vec![VILLAGE.into(), OTHER_VILLAGE.into()],
            position,
            push: vec![],
            want_snapshots: theirs.clone(),
            budget: 1 << 24,
            pushes_seen: u64::MAX,
        };
        let (status, body) = t.post(&token, &request);
        assert_eq!(status, 200);
        let response: SyncResponse = protocol::decode(&body).unwrap();
        let ids: Vec<&String> = response
            .changes
            .iter()
            .map(|c| &c.household_id)
            .chain(response.snapshots.iter().map(|s| &s.household_id))
            .collect();
        assert!(ids.iter().all(|id| !theirs.contains(id)), "{ids:?}");
        let plain = format!("{response:?}");
        for id in &theirs {
            assert!(!plain.contains(id.as_str()));
        }
        for snapshot in &response.snapshots {
            let doc = HouseholdDoc::load(&snapshot.bytes, automerge::ActorId::random()).unwrap();
            let data = doc.read().unwrap();
            assert_eq!(data.household.village_id, VILLAGE);
            assert!(
                data.members
                    .iter()
                    .all(|m| !other_names.contains(&m.name) || m.name.is_empty())
            );
        }
        if let Position::Changes { .. } = response.next {
            let page = response.remaining;
            assert!(
                page <= 1_000,
                "remaining counts only this device's villages"
            );
        }
    }
    // The no-op sync after the other village's visit: nothing, and nothing remaining.
    let noop = t.sync(&p).unwrap();
    assert_eq!(noop.progress.documents_received, 0);
    assert_eq!(noop.progress.rounds, 1);
    // A token for another device is refused.
    let mut wrong = SyncRequest {
        device: "someone-else".into(),
        scope: vec![],
        position: Position::Changes { cursors: vec![] },
        push: vec![],
        want_snapshots: vec![],
        budget: 1024,
        pushes_seen: u64::MAX,
    };
    assert_eq!(t.post(&token, &wrong).0, 401);
    wrong.device = p.device_actor();
    assert_eq!(t.post("not-a-token", &wrong).0, 401);
}

#[test]
fn forged_writes_are_refused_and_other_households_still_sync() {
    let t = two_villages();
    let agent = t.user(Role::Agent, VILLAGE);
    let p = t.enrolled_phone("a.db", &agent);
    t.sync(&p).unwrap();
    let token = p.device_token().unwrap().unwrap();
    let device = p.device_actor();
    let mine = p.household_ids().unwrap();
    let theirs = t.household_in(OTHER_VILLAGE);
    // A town-tier job handed up by the agent and received at the town, waiting for approval.
    let job_household = mine[0].clone();
    let (job_id, town) = handed_up_job(&t, &p, &job_household);
    assert_eq!(
        town.household_ids().unwrap().len(),
        16,
        "town staff see both villages"
    );
    town.take_step(&job_id, JobStep::TownAccept, None).unwrap();
    t.sync(&town).unwrap();
    t.sync(&p).unwrap();
    let job = p.job(&job_id).unwrap();
    assert_eq!(job.progress.state, JobState::TownAccepted);

    // An approval appended to the job's history by the agent's device, signed with `role`.
    let approval = |event_id: &str, role: &str| {
        let mut doc = t.server_doc(&job_household);
        forged(&mut doc, &device, |d| {
            let jobs = map(d, &automerge::ROOT, "jobs");
            let j = map(d, &jobs, &job.job.id);
            let events = map(d, &j, "events");
            let event = serde_json::json!({
                "id": event_id,
                "step": {"step": "approve"},
                "by": {"user_id": agent.id, "user_name": agent.name, "role": role},
                "at": 0
            });
            let at = d.length(&events);
            d.insert(&events, at, event.to_string()).unwrap();
        })
    };
    // 1. Signed as town staff; 2. signed honestly as an agent.
    let approve = approval("fakeapprava22222", "town_staff");
    let approve_as_agent = approval("fakeapprava33333", "agent");
    // 3. Moving a household to the other village.
    let mover = mine.iter().find(|h| **h != job_household).unwrap().clone();
    let mut doc = t.server_doc(&mover);
    let moved = forged(&mut doc, &device, |d| {
        let hh = map(d, &automerge::ROOT, "household");
        d.put(&hh, "village_id", OTHER_VILLAGE).unwrap();
    });
    // 4. Changing the other village's household.
    let mut doc = t.server_doc(&theirs);
    let trespass = forged(&mut doc, &device, |d| {
        let hh = map(d, &automerge::ROOT, "household");
        d.put(&hh, "address", "被篡改的地址").unwrap();
    });
    // 5. Removing a job's history.
    let mut doc = t.server_doc(&job_household);
    let erase = forged(&mut doc, &device, |d| {
        let jobs = map(d, &automerge::ROOT, "jobs");
        let j = map(d, &jobs, &job.job.id);
        let events = map(d, &j, "events");
        d.delete(&events, 0).unwrap();
    });
    // 6. An oversized change.
    let mut doc = t.server_doc(&mover);
    let oversized = forged(&mut doc, &device, |d| {
        let hh = map(d, &automerge::ROOT, "household");
        let noise: String = (0..5_000_000u64)
            .map(|i| char::from(b'a' + (i.wrapping_mul(2_654_435_761) % 26) as u8))
            .collect();
        d.put(&hh, "address", noise).unwrap();
    });
    // And one honest change, in the same push.
    let honest_household = mine
        .iter()
        .find(|h| **h != job_household && **h != mover)
        .unwrap()
        .clone();
    p.record_visit(
        &honest_household,
        None,
        VisitRecord::new("走访", VisitOutcome::Met),
    )
    .unwrap();
    let honest = p.pending_pushes(1 << 20, usize::MAX).unwrap().remove(0);

    let journal_before = journal_shape(&t.data);
    let cases = [
        (job_household.clone(), approve, "与登记的用户不符"),
        (job_household.clone(), approve_as_agent, "无权执行“批准”"),
        (mover.clone(), moved, "不在您负责的村"),
        (theirs.clone(), trespass, "不在您负责的村"),
        (job_household.clone(), erase, "不能删除办件的办理记录"),
        (mover.clone(), oversized, "上限"),
    ];
    for (household, changes, expected) in cases {
        let request = SyncRequest {
            device: p.device_actor(),
            scope: vec![VILLAGE.into(), OTHER_VILLAGE.into()],
            position: sync::position(&p).unwrap(),
            push: vec![
                DocChanges {
                    household_id: household.clone(),
                    changes,
                },
                doorstep_tests::doc_changes(&honest),
            ],
            want_snapshots: vec![],
            budget: 1024,
            pushes_seen: u64::MAX,
        };
        let (status, body) = t.post(&token, &request);
        assert!(
            body.len() < 4096,
            "{household}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(status, 200);
        let response: SyncResponse = protocol::decode(&body).unwrap();
        match &response.acks[0].status {
            AckStatus::Rejected { reason } => {
                assert!(reason.contains(expected), "{household}: {reason}")
            }
            other => panic!("{household} was not refused: {other:?}"),
        }
        assert_eq!(
            response.acks[1].status,
            AckStatus::Stored,
            "the honest household still syncs"
        );
    }
    // Nothing of the forged changes was stored: only the honest visit (once).
    assert_eq!(
        journal_shape(&t.data).0,
        journal_before.0 + honest.changes.len() as i64
    );
    let server_copy = t.server_doc(&mover);
    let hh = map(&server_copy, &automerge::ROOT, "household");
    let village = server_copy.get(&hh, "village_id").unwrap().unwrap().0;
    assert_eq!(village.as_str(), Some(VILLAGE));
    // The audit log names the device for what it read, stored and was refused.
    let log = t.accounts.audit_log().unwrap();
    let device = p.device_actor();
    for action in ["read", "write", "refused"] {
        assert!(
            log.iter()
                .any(|e| e.user_id == agent.id && e.device_id == device && e.action == action),
            "audit has {action}"
        );
    }
    assert!(log.iter().any(|e| e.household_id == theirs
        && e.action == "refused"
        && e.detail.contains("不在您负责的村")));
}
