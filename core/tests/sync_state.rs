//! The phone's side of sync without a network: what to push, acknowledgements (stored,
//! refused, missing history), received changes, the position and the status, all committed
//! together by `finish_round`.

mod common;

use common::*;
use doorstep_core::sync::protocol::{Ack, AckStatus, DocChanges, Position, SyncResponse};
use doorstep_core::*;

fn response(acks: Vec<Ack>, changes: Vec<DocChanges>, cursor: u64) -> SyncResponse {
    SyncResponse {
        acks,
        changes,
        snapshots: vec![],
        next: Position::Changes { cursor },
        remaining: 0,
    }
}

fn ack(household_id: &str, status: AckStatus) -> Ack {
    Ack {
        household_id: household_id.into(),
        status,
    }
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
    assert_eq!(
        phone.sync_position().unwrap(),
        Position::Snapshots {
            base: None,
            after: None
        }
    );
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

    let pushes = phone.pending_pushes(1 << 20).unwrap();
    assert_eq!(pushes.len(), 2);
    let applied = phone
        .finish_round(
            &pushes,
            response(
                vec![
                    ack(&first, AckStatus::Stored),
                    ack(
                        &second,
                        AckStatus::Rejected {
                            reason: "越权修改".into(),
                        },
                    ),
                ],
                vec![DocChanges {
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
            reason: "越权修改".into()
        }
    );
    assert_eq!(phone.heads(&first).unwrap(), other.heads(&first).unwrap());
    assert_eq!(
        phone.sync_position().unwrap(),
        Position::Changes { cursor: 41 }
    );
    let status = phone.sync_status().unwrap();
    assert_eq!(
        (status.pending_households, status.rejected_households),
        (1, 1)
    );
    assert!(status.last_success.is_some());
    // The refused household keeps its changes and is not pushed again until edited.
    assert!(phone.pending_pushes(1 << 20).unwrap().is_empty());
    phone
        .update_member(
            &member,
            MemberPatch {
                relation: Some("本人".into()),
                ..MemberPatch::default()
            },
        )
        .unwrap();
    let again = phone.pending_pushes(1 << 20).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].household_id, first);
    assert_eq!(again[0].changes.len(), 1, "only what the server lacks");

    // The server lacks history: the whole household goes next time.
    phone
        .finish_round(
            &again,
            response(
                vec![ack(&first, AckStatus::MissingDependencies)],
                vec![],
                41,
            ),
        )
        .unwrap();
    let whole = phone.pending_pushes(1 << 20).unwrap();
    assert_eq!(
        whole[0].changes.len(),
        phone.changes_since(&first, &[]).unwrap().len()
    );

    // An error is shown until the next success.
    phone.record_sync_error("网络连接失败").unwrap();
    assert_eq!(
        phone.sync_status().unwrap().last_error.as_deref(),
        Some("网络连接失败")
    );
    phone
        .finish_round(&[], response(vec![], vec![], 41))
        .unwrap();
    assert!(phone.sync_status().unwrap().last_error.is_none());
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
                vec![DocChanges {
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
    assert_eq!(
        phone.sync_position().unwrap(),
        Position::Changes { cursor: 9 }
    );
    // The whole document arrives: stored, and no longer asked for.
    let snapshot = doorstep_core::sync::protocol::Snapshot {
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
