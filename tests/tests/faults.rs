//! Faults between a phone and the server: a connection cut in the middle of a response, a
//! replayed request, and the server killed (SIGKILL) and restarted between exchanges.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use doorstep_core::sync::protocol::{self, DocChanges, Position, SyncRequest, SyncResponse};
use doorstep_core::*;
use doorstep_tests::{ServerProcess, phone, prepare_server_data, quick_config, sync_now};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn visit(store: &Store, hh: &str, n: usize) {
    store
        .record_visit(
            hh,
            None,
            VisitRecord {
                purpose: format!("第{n}次走访"),
                outcome: VisitOutcome::Met,
                notes: String::new(),
                location: None,
            },
        )
        .unwrap();
}

/// A loopback proxy in front of the server that cuts the next `cuts` responses in the middle
/// of their body, as a weak 2G link drops during a download.
struct CuttingProxy {
    url: String,
    cuts: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

/// Forwards the response's head and half of its body, then stops.
async fn forward_half(
    server: &mut (impl AsyncReadExt + Unpin),
    client: &mut (impl AsyncWriteExt + Unpin),
) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = server.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
        let Some(head_end) = seen
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|p| p + 4)
        else {
            continue;
        };
        let head = String::from_utf8_lossy(&seen[..head_end]).to_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let keep = head_end + length / 2;
        while seen.len() < keep {
            match server.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        let _ = client.write_all(&seen[..keep.min(seen.len())]).await;
        return;
    }
}

impl CuttingProxy {
    fn start(upstream: &str) -> CuttingProxy {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_string();
        let cuts = Arc::new(AtomicUsize::new(0));
        let cuts_left = Arc::clone(&cuts);
        runtime.spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let cut = cuts_left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                tokio::spawn(async move {
                    let mut server = TcpStream::connect(&upstream).await.unwrap();
                    let (mut client_read, mut client_write) = client.split();
                    let (mut server_read, mut server_write) = server.split();
                    let up = tokio::io::copy(&mut client_read, &mut server_write);
                    let down = async {
                        if cut {
                            forward_half(&mut server_read, &mut client_write).await;
                        } else {
                            let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                        }
                    };
                    tokio::select! { _ = up => {}, _ = down => {} }
                });
            }
        });
        CuttingProxy {
            url,
            cuts,
            _runtime: runtime,
        }
    }

    fn cut_next(&self, n: usize) {
        self.cuts.store(n, Ordering::SeqCst);
    }
}

#[test]
fn a_response_cut_midway_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let town = prepare_server_data(&data, &small_town());
    let server = ServerProcess::start(&server_exe(), &data);
    let a = phone(&dir.path().join("a.db"), &person(&town, Role::Agent), now());
    let b = phone(
        &dir.path().join("b.db"),
        &person(&town, Role::VillageHead),
        now(),
    );
    sync_now(&a, quick_config(&server.url, &scope())).unwrap();
    sync_now(&b, quick_config(&server.url, &scope())).unwrap();
    let hh = a.household_ids().unwrap()[0].clone();
    let visits_before = a.household(&hh).unwrap().visits.len();
    for n in 0..3 {
        visit(&a, &hh, n);
    }
    visit(&b, &hh, 10);
    sync_now(&b, quick_config(&server.url, &scope())).unwrap();

    // The response is cut in the middle of its body.
    let proxy = CuttingProxy::start(&server.url);
    proxy.cut_next(1);
    let err = sync_now(&a, quick_config(&proxy.url, &scope())).unwrap_err();
    assert!(
        matches!(
            err,
            sync::SyncError::Network { .. } | sync::SyncError::Protocol(_)
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
    sync_now(&a, quick_config(&proxy.url, &scope())).unwrap();
    assert_eq!(a.sync_status().unwrap().pending_changes, 0);
    assert_eq!(journal_rows(&data, &a.device_actor()), 3);
    sync_now(&b, quick_config(&server.url, &scope())).unwrap();
    assert_eq!(a.heads(&hh).unwrap(), b.heads(&hh).unwrap());
    assert_eq!(a.household(&hh).unwrap().visits.len(), visits_before + 4);

    // With retries allowed, one cut costs one more attempt inside the same sync.
    visit(&a, &hh, 20);
    proxy.cut_next(1);
    let mut config = quick_config(&proxy.url, &scope());
    config.retries = 2;
    config.backoff = Duration::from_millis(20);
    sync_now(&a, config).unwrap();
    assert_eq!(a.sync_status().unwrap().pending_changes, 0);
    assert_eq!(journal_rows(&data, &a.device_actor()), 4);
}

#[test]
fn a_replayed_request_is_not_applied_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let town = prepare_server_data(&data, &small_town());
    let server = ServerProcess::start(&server_exe(), &data);
    let a = phone(&dir.path().join("a.db"), &person(&town, Role::Agent), now());
    sync_now(&a, quick_config(&server.url, &scope())).unwrap();
    let hh = a.household_ids().unwrap()[0].clone();
    visit(&a, &hh, 1);
    visit(&a, &hh, 2);
    let pushes = a.pending_pushes(1 << 20).unwrap();
    let body = protocol::encode(&SyncRequest {
        device: a.device_actor(),
        scope: scope(),
        position: a.sync_position().unwrap(),
        push: pushes
            .iter()
            .map(|p| DocChanges {
                household_id: p.household_id.clone(),
                changes: p.changes.clone(),
            })
            .collect(),
        want_snapshots: vec![],
        budget: 1 << 20,
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let post = || {
        runtime.block_on(async {
            let response = reqwest::Client::new()
                .post(format!("{}{}", server.url, protocol::SYNC_PATH))
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            protocol::decode::<SyncResponse>(&response.bytes().await.unwrap()).unwrap()
        })
    };
    let first = post();
    let shape = journal_shape(&data);
    let second = post();
    assert_eq!(first.acks, second.acks);
    assert!(
        first
            .acks
            .iter()
            .all(|a| a.status == protocol::AckStatus::Stored)
    );
    assert_eq!(journal_shape(&data), shape, "the replay stored nothing");
    assert_eq!(journal_rows(&data, &a.device_actor()), 2);
    assert!(matches!(first.next, Position::Changes { .. }));
}

#[test]
fn what_the_server_acknowledged_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let town = prepare_server_data(&data, &small_town());
    let mut server = ServerProcess::start(&server_exe(), &data);
    let a = phone(&dir.path().join("a.db"), &person(&town, Role::Agent), now());
    let b = phone(
        &dir.path().join("b.db"),
        &person(&town, Role::VillageHead),
        now(),
    );
    sync_now(&a, quick_config(&server.url, &scope())).unwrap();
    let ids = a.household_ids().unwrap();
    for (n, hh) in ids.iter().enumerate() {
        visit(&a, hh, n);
    }
    let report = sync_now(&a, quick_config(&server.url, &scope())).unwrap();
    assert_eq!(report.stored, ids.len() as u64);
    server.kill();
    server.restart();
    // A phone that never saw the edits downloads them from the restarted server.
    sync_now(&b, quick_config(&server.url, &scope())).unwrap();
    for hh in &ids {
        assert_eq!(a.heads(hh).unwrap(), b.heads(hh).unwrap());
    }
    // And the first phone has nothing left to push.
    let again = sync_now(&a, quick_config(&server.url, &scope())).unwrap();
    assert_eq!(again.progress.documents_sent, 0);
    assert_eq!(journal_rows(&data, &a.device_actor()), ids.len() as i64);
}

#[test]
fn a_noop_sync_is_one_small_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let town = prepare_server_data(&data, &small_town());
    let server = ServerProcess::start(&server_exe(), &data);
    let a = phone(&dir.path().join("a.db"), &person(&town, Role::Agent), now());
    sync_now(&a, quick_config(&server.url, &scope())).unwrap();
    let report = sync_now(&a, quick_config(&server.url, &scope())).unwrap();
    assert_eq!(report.progress.rounds, 1);
    assert!(report.progress.bytes_sent < 300, "{:?}", report.progress);
    assert!(
        report.progress.bytes_received < 300,
        "{:?}",
        report.progress
    );
}
