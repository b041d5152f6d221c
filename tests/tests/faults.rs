//! Faults between a phone and the server: a connection cut in the middle of a response, a
//! replayed request, and the server killed (SIGKILL) and restarted between exchanges.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use doorstep_core::sync::protocol::{self, Position, SyncRequest, SyncResponse};
use doorstep_core::*;
use doorstep_tests::{LinkProxy, quick_config, sync_now};

fn visit(store: &Store, hh: &str, n: usize) {
    store
        .record_visit(
            hh,
            None,
            VisitRecord::new(format!("第{n}次走访"), VisitOutcome::Met),
        )
        .unwrap();
}

#[test]
fn a_response_cut_midway_loses_and_duplicates_nothing() {
    let v = village();
    let (a, b, data) = (&v.agent, &v.head, &v.data);
    v.sync(a);
    v.sync(b);
    let hh = a.household_ids().unwrap()[0].clone();
    let visits_before = a.household(&hh).unwrap().visits.len();
    for n in 0..3 {
        visit(a, &hh, n);
    }
    visit(b, &hh, 10);
    v.sync(b);

    // The response is cut in the middle of its body.
    let proxy = LinkProxy::start(&v.server.url);
    proxy.cut_next(1);
    let err = sync_now(a, quick_config(&proxy.url)).unwrap_err();
    assert!(
        matches!(
            err,
            sync::SyncError::Network { .. } | sync::SyncError::Protocol { .. }
        ),
        "{err}"
    );
    let status = a.sync_status().unwrap();
    assert_eq!(
        status.pending_changes, 3,
        "nothing acknowledged, nothing lost"
    );
    assert!(status.last_error.unwrap().contains("网络") || !err.to_string().is_empty());
    assert_eq!(
        a.household(&hh).unwrap().visits.len(),
        b.household(&hh).unwrap().visits.len() + 2
    );

    // The retry goes through: the server had stored the push; it is not stored twice.
    sync_now(a, quick_config(&proxy.url)).unwrap();
    assert_eq!(a.sync_status().unwrap().pending_changes, 0);
    assert_eq!(journal_rows(data, &a.device_actor()), 3);
    v.sync(b);
    assert_eq!(a.heads(&hh).unwrap(), b.heads(&hh).unwrap());
    assert_eq!(a.household(&hh).unwrap().visits.len(), visits_before + 4);

    // With retries allowed, one cut costs one more attempt inside the same sync.
    visit(a, &hh, 20);
    proxy.cut_next(1);
    let mut config = quick_config(&proxy.url);
    config.retries = 2;
    config.backoff = Duration::from_millis(20);
    sync_now(a, config).unwrap();
    assert_eq!(a.sync_status().unwrap().pending_changes, 0);
    assert_eq!(journal_rows(data, &a.device_actor()), 4);
}

#[test]
fn a_replayed_request_is_not_applied_twice() {
    let v = village();
    let (a, data) = (&v.agent, &v.data);
    v.sync(a);
    let hh = a.household_ids().unwrap()[0].clone();
    visit(a, &hh, 1);
    visit(a, &hh, 2);
    let pushes = a.pending_pushes(1 << 20, usize::MAX).unwrap();
    let body = protocol::encode(&SyncRequest {
        device: a.device_actor(),
        scope: scope(),
        position: sync::position(a).unwrap(),
        push: pushes.iter().map(doorstep_tests::doc_changes).collect(),
        want_snapshots: vec![],
        budget: 1 << 20,
        pushes_seen: u64::MAX,
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let post = || {
        runtime.block_on(async {
            let response = reqwest::Client::new()
                .post(format!("{}{}", v.server.url, protocol::SYNC_PATH))
                .bearer_auth(a.device_token().unwrap().unwrap())
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            protocol::decode::<SyncResponse>(&response.bytes().await.unwrap()).unwrap()
        })
    };
    let first = post();
    let shape = journal_shape(data);
    let second = post();
    assert_eq!(first.acks, second.acks);
    assert!(
        first
            .acks
            .iter()
            .all(|a| a.status == protocol::AckStatus::Stored)
    );
    assert_eq!(journal_shape(data), shape, "the replay stored nothing");
    assert_eq!(journal_rows(data, &a.device_actor()), 2);
    assert!(matches!(first.next, Position::Changes { .. }));
}

#[test]
fn what_the_server_acknowledged_survives_sigkill() {
    let mut v = village();
    let (a, b) = (Arc::clone(&v.agent), Arc::clone(&v.head));
    v.sync(&a);
    let ids = a.household_ids().unwrap();
    for (n, hh) in ids.iter().enumerate() {
        visit(&a, hh, n);
    }
    let report = v.sync(&a);
    assert_eq!(report.stored, ids.len() as u64);
    v.server.kill();
    v.server.restart();
    // A phone that never saw the edits downloads them from the restarted server.
    v.sync(&b);
    for hh in &ids {
        assert_eq!(a.heads(hh).unwrap(), b.heads(hh).unwrap());
    }
    // And the first phone has nothing left to push.
    let again = v.sync(&a);
    assert_eq!(again.progress.documents_sent, 0);
    assert_eq!(journal_rows(&v.data, &a.device_actor()), ids.len() as i64);
}

#[test]
fn two_syncs_of_one_phone_take_turns() {
    let v = village();
    v.sync(&v.agent);
    let ids = v.agent.household_ids().unwrap();
    for (n, hh) in ids.iter().enumerate() {
        visit(&v.agent, hh, n);
    }
    let config = quick_config(&v.server.url);
    let start = || {
        sync::sync(
            Arc::clone(&v.agent),
            config.clone(),
            None,
            sync::CancellationToken::new(),
        )
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (first, second) = runtime.block_on(async { tokio::join!(start(), start()) });
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(
        (
            first.progress.documents_sent,
            second.progress.documents_sent
        ),
        (ids.len() as u64, 0),
        "the second sync waited and found nothing left to send"
    );
    assert_eq!(
        journal_rows(&v.data, &v.agent.device_actor()),
        ids.len() as i64
    );
    assert_eq!(v.agent.sync_status().unwrap().pending_changes, 0);
}

#[test]
fn a_noop_sync_is_one_small_round_trip() {
    let v = village();
    v.sync(&v.agent);
    let report = v.sync(&v.agent);
    assert_eq!(report.progress.rounds, 1);
    assert!(report.progress.bytes_sent < 300, "{:?}", report.progress);
    assert!(
        report.progress.bytes_received < 300,
        "{:?}",
        report.progress
    );
}

/// Records every progress report.
#[derive(Default)]
struct Reports(std::sync::Mutex<Vec<doorstep_core::sync::SyncProgress>>);

impl doorstep_core::sync::ProgressListener for Reports {
    fn on_progress(&self, progress: &doorstep_core::sync::SyncProgress) {
        self.0.lock().unwrap().push(progress.clone());
    }
}

#[test]
fn progress_is_reported_each_round_and_a_cancelled_sync_keeps_what_it_had() {
    let v = village();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reports = Arc::new(Reports::default());
    let mut config = quick_config(&v.server.url);
    config.budget_bytes = 4096;
    let report = runtime
        .block_on(sync::sync(
            Arc::clone(&v.agent),
            config.clone(),
            Some(reports.clone()),
            sync::CancellationToken::new(),
        ))
        .unwrap();
    let seen = reports.0.lock().unwrap().clone();
    assert!(
        seen.len() > 2,
        "a small budget takes several rounds: {}",
        seen.len()
    );
    assert_eq!(seen.len() as u32, report.progress.rounds);
    for pair in seen.windows(2) {
        assert!(pair[1].documents_received >= pair[0].documents_received);
        assert!(pair[1].bytes_received > pair[0].bytes_received);
    }
    let last = seen.last().unwrap();
    assert_eq!(last.documents_received, 12);
    assert!(last.documents_total >= last.documents_received);
    assert!(
        seen[0].documents_total >= 12,
        "the total is known from the first round"
    );

    // A sync cancelled before it starts changes nothing and says so.
    let hh = v.agent.household_ids().unwrap()[0].clone();
    visit(&v.agent, &hh, 1);
    let cancel = sync::CancellationToken::new();
    cancel.cancel();
    let err = runtime
        .block_on(sync::sync(Arc::clone(&v.agent), config, None, cancel))
        .unwrap_err();
    assert!(matches!(err, sync::SyncError::Cancelled));
    let status = v.agent.sync_status().unwrap();
    assert_eq!(status.pending_changes, 1);
    assert_eq!(
        status.last_error.as_deref(),
        Some("同步已取消，已完成的部分已保存")
    );
    assert_eq!(
        v.agent.household_sync_state(&hh).unwrap(),
        HouseholdSyncState::Pending { local_changes: 1 }
    );
    v.sync(&v.agent);
    assert_eq!(
        v.agent.household_sync_state(&hh).unwrap(),
        HouseholdSyncState::Synced
    );
}

/// A phone whose store is restored from an old copy writes again: it must not write two
/// different changes under one identity (the server would refuse its household for good). The
/// store takes a new actor at every opening; the server binds each new actor to the device.
#[test]
fn a_phone_restored_from_an_old_backup_syncs_on() {
    let mut v = village();
    let path = v.dir.path().join("a.db");
    let user = person(&v.town, Role::Agent);
    v.sync(&v.agent);
    let hh = v.agent.household_ids().unwrap()[0].clone();
    visit(&v.agent, &hh, 1);
    v.sync(&v.agent);
    // A backup of the closed store.
    let reopen = |v: &mut Village| {
        v.agent = doorstep_tests::phone(&path, &user, now());
    };
    v.agent = Arc::new(Store::open(v.dir.path().join("spare.db")).unwrap());
    let backup = v.dir.path().join("a.backup");
    std::fs::copy(&path, &backup).unwrap();
    reopen(&mut v);
    visit(&v.agent, &hh, 2);
    v.sync(&v.agent);
    // The phone is restored from the backup and writes to the same household again.
    v.agent = Arc::new(Store::open(v.dir.path().join("spare.db")).unwrap());
    std::fs::copy(&backup, &path).unwrap();
    let _ = std::fs::remove_file(path.with_extension("db-wal"));
    let _ = std::fs::remove_file(path.with_extension("db-shm"));
    reopen(&mut v);
    visit(&v.agent, &hh, 3);
    let report = v.sync(&v.agent);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    v.sync(&v.agent);
    v.sync(&v.head);
    let purposes = |p: &Store| -> Vec<String> {
        let mut seen: Vec<String> = p
            .household(&hh)
            .unwrap()
            .visits
            .into_iter()
            .map(|x| x.purpose)
            .filter(|x| x.starts_with('第'))
            .collect();
        seen.sort();
        seen
    };
    let all = vec!["第1次走访", "第2次走访", "第3次走访"];
    assert_eq!(purposes(&v.agent), all);
    assert_eq!(purposes(&v.head), all);
    assert_eq!(v.agent.heads(&hh).unwrap(), v.head.heads(&hh).unwrap());
}
