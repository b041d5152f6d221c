//! The phone's side of sync without a network: what to push, acknowledgements (stored,
//! refused, missing history), received changes, the position and the status, all committed
//! together by `finish_round`.

mod common;

use common::*;
use doorstep_core::store::{
    IncomingSnapshot, PushOutcome, RETRY_REFUSED_AFTER_HOURS, ReceivedRound, refusal_text,
};
use doorstep_core::*;

fn response(
    outcomes: Vec<(String, PushOutcome)>,
    changes: Vec<IncomingChanges>,
    cursor: u64,
) -> ReceivedRound {
    ReceivedRound {
        outcomes,
        changes,
        snapshots: vec![],
        position: position(cursor),
    }
}

/// The position a round leaves (opaque to the store).
fn position(cursor: u64) -> Vec<u8> {
    format!("cursor {cursor}").into_bytes()
}

fn ack(household_id: &str, outcome: PushOutcome) -> (String, PushOutcome) {
    (household_id.to_string(), outcome)
}

#[test]
fn acknowledgements_refusals_and_received_changes_are_committed_together() {
    let dir = tempfile::tempdir().unwrap();
    let phone = store_at(
        &temp_path(&dir, "phone.db"),
        agent(),
        at("2026-03-02T01:00:00Z"),
    );
    let (first, member) = elderly_household(&phone, "张桂兰", "13800138000");
    let (second, _) = elderly_household(&phone, "李秀英", "13912345678");
    assert_eq!(phone.sync_position().unwrap(), None);
    let status = phone.sync_status().unwrap();
    assert_eq!((status.pending_households, status.pending_changes), (2, 4));
    assert!(status.last_success.is_none());

    // Another replica (standing in for the server) has a change to the first household.
    let other = store_at(
        &temp_path(&dir, "other.db"),
        head(),
        at("2026-03-02T02:00:00Z"),
    );
    sync_into(&phone, &other);
    let heads = other.heads(&first).unwrap();
    other
        .record_visit(&first, None, VisitRecord::new("走访", VisitOutcome::Met))
        .unwrap();
    let incoming = other.changes_since(&first, &heads).unwrap();

    let pushes = phone.pending_pushes(1 << 20, usize::MAX).unwrap();
    assert_eq!(pushes.len(), 2);
    let applied = phone
        .finish_round(
            &pushes,
            response(
                vec![
                    ack(&first, PushOutcome::Stored),
                    ack(
                        &second,
                        PushOutcome::Rejected {
                            reason: "越权修改".into(),
                        },
                    ),
                ],
                vec![IncomingChanges {
                    household_id: first.clone(),
                    changes: incoming,
                }],
                41,
            ),
        )
        .unwrap();
    assert_eq!(
        (applied.stored, applied.received, applied.rejected.len()),
        (1, 1, 1)
    );
    assert_eq!(
        phone.household_sync_state(&first).unwrap(),
        HouseholdSyncState::Synced
    );
    assert_eq!(
        phone.household_sync_state(&second).unwrap(),
        HouseholdSyncState::Rejected {
            reason: refusal_text("越权修改")
        }
    );
    assert_eq!(phone.heads(&first).unwrap(), other.heads(&first).unwrap());
    assert_eq!(phone.sync_position().unwrap(), Some(position(41)));
    let status = phone.sync_status().unwrap();
    assert_eq!(
        (status.pending_households, status.rejected_households),
        (1, 1)
    );
    assert!(status.last_success.is_some());
    // The refused household keeps its changes and is not pushed again until edited.
    assert!(
        phone
            .pending_pushes(1 << 20, usize::MAX)
            .unwrap()
            .is_empty()
    );
    phone
        .update_member(
            &member,
            MemberPatch {
                relation: Some("本人".into()),
                ..MemberPatch::default()
            },
        )
        .unwrap();
    let again = phone.pending_pushes(1 << 20, usize::MAX).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].household_id, first);
    assert_eq!(again[0].changes.len(), 1, "only what the server lacks");

    // The server lacks history: the whole household goes next time.
    phone
        .finish_round(
            &again,
            response(vec![ack(&first, PushOutcome::MissingHistory)], vec![], 41),
        )
        .unwrap();
    let whole = phone.pending_pushes(1 << 20, usize::MAX).unwrap();
    assert_eq!(
        whole[0].changes.len(),
        phone.changes_since(&first, &[]).unwrap().len()
    );

    // An error is shown until the next success; failures (not cancellations) are counted for
    // the back-off until then.
    phone.record_sync_error("网络连接失败", true).unwrap();
    phone.record_sync_error("网络连接失败", true).unwrap();
    phone.record_sync_error("同步已取消", false).unwrap();
    let status = phone.sync_status().unwrap();
    assert_eq!(status.last_error.as_deref(), Some("同步已取消"));
    assert_eq!(status.failures_in_a_row, 2);
    assert_eq!(status.last_failure, Some(phone.now()));
    phone
        .finish_round(&[], response(vec![], vec![], 41))
        .unwrap();
    let status = phone.sync_status().unwrap();
    assert!(status.last_error.is_none());
    assert_eq!((status.failures_in_a_row, status.last_failure), (0, None));
}

#[test]
fn received_changes_that_cannot_be_stored_are_asked_for_whole() {
    let dir = tempfile::tempdir().unwrap();
    let phone = store_at(
        &temp_path(&dir, "phone.db"),
        agent(),
        at("2026-03-02T01:00:00Z"),
    );
    let source = store_at(
        &temp_path(&dir, "src.db"),
        head(),
        at("2026-03-02T01:00:00Z"),
    );
    let (hh, _) = elderly_household(&source, "张桂兰", "13800138000");
    let all = source.changes_since(&hh, &[]).unwrap();
    // Only the tail of the history arrives: it cannot be stored yet.
    let applied = phone
        .finish_round(
            &[],
            response(
                vec![],
                vec![IncomingChanges {
                    household_id: hh.clone(),
                    changes: all[1..].to_vec(),
                }],
                9,
            ),
        )
        .unwrap();
    assert_eq!(applied.deferred, 1);
    assert_eq!(
        phone.households_needing_snapshot().unwrap(),
        vec![hh.clone()]
    );
    assert_eq!(phone.sync_position().unwrap(), Some(position(9)));
    // The whole document arrives: stored, and no longer asked for.
    let snapshot = IncomingSnapshot {
        household_id: hh.clone(),
        bytes: source.export_snapshot(&hh).unwrap(),
    };
    let mut whole = response(vec![], vec![], 9);
    whole.snapshots.push(snapshot);
    phone.finish_round(&[], whole).unwrap();
    assert!(phone.households_needing_snapshot().unwrap().is_empty());
    assert_eq!(phone.heads(&hh).unwrap(), source.heads(&hh).unwrap());
    assert_eq!(
        phone.household_sync_state(&hh).unwrap(),
        HouseholdSyncState::Synced
    );
}

/// A visit on `household` recorded by `store`, returned with the change that carries it.
fn visit_change(store: &Store, household: &str, purpose: &str) -> (String, Vec<Vec<u8>>) {
    let heads = store.heads(household).unwrap();
    let visit = store
        .record_visit(
            household,
            None,
            VisitRecord::new(purpose, VisitOutcome::Met),
        )
        .unwrap();
    (visit, store.changes_since(household, &heads).unwrap())
}

/// A household named twice in one answer (its journal rows interleaved with another's, or a
/// snapshot next to changes) is merged into one document and stored once, whether the phone's
/// copy is stored as chunks or is due for a fresh snapshot (32 chunks): both copies' changes
/// survive, on disk as in memory.
#[test]
fn a_household_named_twice_in_one_answer_is_merged_once() {
    for local_edits in [1, 40] {
        let dir = tempfile::tempdir().unwrap();
        let path = temp_path(&dir, "phone.db");
        let phone = store_at(&path, agent(), at("2026-03-02T01:00:00Z"));
        let (first, member) = elderly_household(&phone, "张桂兰", "13800138000");
        let (second, _) = elderly_household(&phone, "李秀英", "13912345678");
        for n in 0..local_edits {
            phone
                .update_member(
                    &member,
                    MemberPatch {
                        relation: Some(format!("户主{n}")),
                        ..MemberPatch::default()
                    },
                )
                .unwrap();
        }
        // Three other replicas start from the phone's copy; two edit the first household
        // without seeing each other, one edits the second.
        let replica = |name: &str| {
            let r = store_at(&temp_path(&dir, name), head(), at("2026-03-02T02:00:00Z"));
            sync_into(&phone, &r);
            r
        };
        let (one, two, three) = (replica("1.db"), replica("2.db"), replica("3.db"));
        let (visit_one, changes_one) = visit_change(&one, &first, "一号走访");
        let (visit_two, changes_two) = visit_change(&two, &second, "二号走访");
        let (visit_three, changes_three) = visit_change(&three, &first, "三号走访");
        let entry = |household: &str, changes| IncomingChanges {
            household_id: household.into(),
            changes,
        };
        let mut answer = response(
            vec![],
            vec![
                entry(&first, changes_one),
                entry(&second, changes_two),
                entry(&first, changes_three),
            ],
            7,
        );
        answer.snapshots.push(IncomingSnapshot {
            household_id: first.clone(),
            bytes: one.export_snapshot(&first).unwrap(),
        });
        let applied = phone.finish_round(&[], answer).unwrap();
        assert_eq!(
            (applied.received, applied.deferred),
            (2, 0),
            "{local_edits}"
        );
        drop(phone);
        let phone = Store::open(&path).unwrap();
        let visits: Vec<String> = phone
            .household(&first)
            .unwrap()
            .visits
            .into_iter()
            .map(|v| v.id)
            .collect();
        assert!(
            visits.contains(&visit_one) && visits.contains(&visit_three),
            "{local_edits}"
        );
        assert_eq!(phone.household(&second).unwrap().visits[0].id, visit_two);
        assert_eq!(phone.sync_position().unwrap(), Some(position(7)));
        assert_eq!(phone.sync_status().unwrap().set_aside_households, 0);
    }
}

/// What the server sends for a household that the phone cannot store is asked for again whole;
/// when that fails too, the household is set aside with its reason, the others go on, the
/// status says so, and it is not asked for again until the app retries it.
#[test]
fn a_household_that_cannot_be_stored_twice_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "phone.db");
    let phone = store_at(&path, agent(), at("2026-03-02T01:00:00Z"));
    let (first, _) = elderly_household(&phone, "张桂兰", "13800138000");
    let (second, _) = elderly_household(&phone, "李秀英", "13912345678");
    let other = store_at(&temp_path(&dir, "o.db"), head(), at("2026-03-02T02:00:00Z"));
    sync_into(&phone, &other);
    // The disk refuses every write of the first household's document.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "CREATE TRIGGER refuse_first BEFORE INSERT ON doc_chunks WHEN NEW.household_id = '{first}'
             BEGIN SELECT RAISE(ABORT, 'disk refuses'); END;
             CREATE TRIGGER refuse_first_snapshot BEFORE UPDATE ON documents WHEN NEW.household_id = '{first}'
             BEGIN SELECT RAISE(ABORT, 'disk refuses'); END;"
        ))
        .unwrap();
    let (_, changes_first) = visit_change(&other, &first, "走访一");
    let (visit_second, changes_second) = visit_change(&other, &second, "走访二");
    let entry = |household: &str, changes| IncomingChanges {
        household_id: household.into(),
        changes,
    };
    let applied = phone
        .finish_round(
            &[],
            response(
                vec![],
                vec![entry(&first, changes_first), entry(&second, changes_second)],
                3,
            ),
        )
        .unwrap();
    assert_eq!((applied.received, applied.deferred), (1, 1));
    assert_eq!(phone.household(&second).unwrap().visits[0].id, visit_second);
    assert_eq!(
        phone.households_needing_snapshot().unwrap(),
        vec![first.clone()]
    );
    assert_eq!(phone.sync_status().unwrap().set_aside_households, 0);

    // The whole document fails the same way: set aside.
    let mut again = response(vec![], vec![], 4);
    again.snapshots.push(IncomingSnapshot {
        household_id: first.clone(),
        bytes: other.export_snapshot(&first).unwrap(),
    });
    phone.finish_round(&[], again).unwrap();
    assert!(phone.households_needing_snapshot().unwrap().is_empty());
    assert_eq!(phone.sync_status().unwrap().set_aside_households, 1);
    let set_aside = phone.set_aside_households().unwrap();
    assert_eq!(set_aside.len(), 1);
    // The agent reads why in Chinese; SQLite's own words stay out of it.
    assert!(
        set_aside[0].reason.starts_with("本地数据库出错") && !set_aside[0].reason.contains("disk"),
        "{set_aside:?}"
    );
    assert!(matches!(
        phone.household_sync_state(&first).unwrap(),
        HouseholdSyncState::SetAside { .. }
    ));
    assert_eq!(phone.sync_position().unwrap(), Some(position(4)));

    // Once the disk is fixed and the app retries, the next answer repairs it.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TRIGGER refuse_first; DROP TRIGGER refuse_first_snapshot;")
        .unwrap();
    phone.retry_set_aside().unwrap();
    assert_eq!(
        phone.households_needing_snapshot().unwrap(),
        vec![first.clone()]
    );
    let mut repair = response(vec![], vec![], 5);
    repair.snapshots.push(IncomingSnapshot {
        household_id: first.clone(),
        bytes: other.export_snapshot(&first).unwrap(),
    });
    phone.finish_round(&[], repair).unwrap();
    assert_eq!(phone.heads(&first).unwrap(), other.heads(&first).unwrap());
    assert_eq!(phone.sync_status().unwrap().set_aside_households, 0);
    assert!(!matches!(
        phone.household_sync_state(&first).unwrap(),
        HouseholdSyncState::SetAside { .. }
    ));
}

/// A refused household keeps its changes and is pushed again when the cause can have changed:
/// changes for it arrive from the server, or [`RETRY_REFUSED_AFTER_HOURS`] pass (or the device
/// clock goes back); not at every sync in between. What the agent reads says nothing is lost.
#[test]
fn a_refused_household_is_pushed_again_when_the_cause_can_have_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "phone.db");
    let refused_at = at("2026-03-02T01:00:00Z");
    let phone = store_at(&path, agent(), refused_at);
    let (hh, _) = elderly_household(&phone, "张桂兰", "13800138000");
    let other = store_at(&temp_path(&dir, "other.db"), head(), refused_at);
    sync_into(&phone, &other);
    let refuse = |phone: &Store| {
        let pushes = phone.pending_pushes(1 << 20, usize::MAX).unwrap();
        assert_eq!(pushes.len(), 1);
        let reason = PushOutcome::Rejected {
            reason: "单次修改过大".into(),
        };
        phone
            .finish_round(&pushes, response(vec![ack(&hh, reason)], vec![], 1))
            .unwrap();
        assert!(
            phone
                .pending_pushes(1 << 20, usize::MAX)
                .unwrap()
                .is_empty()
        );
    };
    refuse(&phone);
    let HouseholdSyncState::Rejected { reason } = phone.household_sync_state(&hh).unwrap() else {
        panic!("refused");
    };
    assert!(
        reason.contains("单次修改过大") && reason.contains("保存在本机"),
        "{reason}"
    );
    assert!(!reason.starts_with("没有权限"), "{reason}");

    // Another phone's change to it arrives: pushed again at the next round.
    let heads = other.heads(&hh).unwrap();
    other
        .record_visit(&hh, None, VisitRecord::new("走访", VisitOutcome::Met))
        .unwrap();
    let incoming = IncomingChanges {
        household_id: hh.clone(),
        changes: other.changes_since(&hh, &heads).unwrap(),
    };
    phone
        .finish_round(&[], response(vec![], vec![incoming], 2))
        .unwrap();
    refuse(&phone);
    drop(phone);

    // Later by the device clock: not before the retry time, then again; and at once when the
    // clock went back.
    let hours = chrono::Duration::hours(RETRY_REFUSED_AFTER_HOURS);
    for (offset, pushed) in [
        (hours - chrono::Duration::minutes(1), false),
        (hours, true),
        (-chrono::Duration::days(1), true),
    ] {
        let phone = store_at(&path, agent(), refused_at + offset);
        let pushes = phone.pending_pushes(1 << 20, usize::MAX).unwrap();
        assert_eq!(pushes.len(), usize::from(pushed), "{offset}");
        assert_eq!(phone.sync_status().unwrap().rejected_households, 1);
    }
}
