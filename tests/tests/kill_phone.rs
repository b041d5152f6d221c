//! A phone killed (SIGKILL) in the middle of a sync round, at many points: while downloading
//! its villages and while pushing a day's edits. The phone is a real process (the server's
//! command-line phone, `sync-client`) on a real store file. After every kill the store opens
//! and its query tables are exactly what its documents give; when a sync finally runs to the
//! end, the phone and the server hold the same documents, every edit is on the server, and no
//! change was journaled twice.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use doorstep_core::*;
use doorstep_demo::DemoOptions;
use doorstep_tests::{ServerProcess, enroll_phone, prepare_server_data};
use rand::{RngExt, SeedableRng};

/// Runs `sync-client` on the store and kills it after `after`; whether it had finished.
fn sync_killed_after(
    exe: &std::path::Path,
    url: &str,
    store: &std::path::Path,
    after: Duration,
) -> bool {
    let mut child = Command::new(exe)
        .args(["sync-client", "--server", url, "--store"])
        .arg(store)
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the phone");
    let deadline = std::time::Instant::now() + after;
    let mut finished = false;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            assert!(status.success(), "the phone's sync failed: {status}");
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
    finished
}

/// The store opens, and its query tables are what its documents give.
fn consistent(store: &std::path::Path) -> Store {
    let phone = Store::open(store).expect("the store opens after a kill");
    let tables = phone.dump_query_tables().unwrap();
    phone.rebuild_projections().unwrap();
    assert_eq!(
        phone.dump_query_tables().unwrap(),
        tables,
        "query tables match the documents"
    );
    phone
}

#[test]
fn a_phone_killed_mid_sync_resumes_and_nothing_is_lost_or_sent_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = doorstep_tests::test_data(dir.path());
    let options = DemoOptions {
        villages: 1,
        households_per_village: 200,
        jobs_per_household: 3.0,
        ..DemoOptions::default()
    };
    let (town, state) = prepare_server_data(&data, &options);
    let server = ServerProcess::start(&server_exe(), &data);
    let path = dir.path().join("phone.db");
    let agent = town.user(Role::Agent, VILLAGE).unwrap().user.clone();
    {
        let phone = doorstep_tests::phone(&path, &agent, now());
        enroll_phone(&state.storage, &server.url, &phone, &agent.id);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    // Killed while downloading the village (several rounds of snapshots).
    // 20 syncs killed after a random time (up to `most_ms`), each followed by a check of the
    // store; then a sync left to finish. Returns how many were killed before they finished.
    let mut killed_syncs = |most_ms: u64| {
        let mut kills = 0;
        for _ in 0..20 {
            let after = Duration::from_millis(rng.random_range(5..most_ms));
            if !sync_killed_after(&server_exe(), &server.url, &path, after) {
                kills += 1;
            }
            consistent(&path);
        }
        assert!(sync_killed_after(
            &server_exe(),
            &server.url,
            &path,
            Duration::from_secs(60)
        ));
        kills
    };
    let mut kills = killed_syncs(250);
    // A day's edits, pushed while being killed.
    let edited = {
        let phone = consistent(&path);
        let ids = phone.household_ids().unwrap();
        assert_eq!(ids.len(), 200);
        let mut visits = Vec::new();
        for hh in ids.iter().step_by(4) {
            let record = VisitRecord::new("入户走访", VisitOutcome::Met);
            visits.push((hh.clone(), phone.record_visit(hh, None, record).unwrap()));
        }
        visits
    };
    kills += killed_syncs(300);
    assert!(kills >= 14, "the phone was killed mid-sync {kills} times");

    let phone = consistent(&path);
    assert_eq!(phone.sync_status().unwrap().pending_changes, 0);
    let storage = doorstep_tests::open_storage(&data).unwrap();
    for (hh, visit) in &edited {
        let bytes = storage.household_document(hh).unwrap().unwrap();
        let mut server_copy = HouseholdDoc::load(&bytes, automerge::ActorId::random()).unwrap();
        assert!(
            server_copy
                .read()
                .unwrap()
                .visits
                .iter()
                .any(|v| &v.id == visit)
        );
        assert_eq!(server_copy.heads(), phone.heads(hh).unwrap());
    }
    let (rows, distinct) = storage
        .read(|conn| {
            Ok((
                conn.query_int("SELECT count(*) FROM journal", &[])?,
                conn.query_int(
                    "SELECT count(*) FROM (SELECT DISTINCT household_id, bytes FROM journal) AS d",
                    &[],
                )?,
            ))
        })
        .unwrap();
    assert_eq!(rows, distinct, "no change was journaled twice");
}
