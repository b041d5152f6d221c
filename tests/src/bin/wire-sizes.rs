//! Bytes on the wire and round trips of Doorstep's sync for one 1,000-household village,
//! compared with automerge's per-document sync protocol for the same work and with the raw
//! size of the new changes. Run: `cargo run --release -p doorstep-tests --bin wire-sizes`.

use std::sync::Arc;

use automerge::AutoCommit;
use automerge::sync::{State, SyncDoc};
use doorstep_core::{IncomingChanges, Role, Store, VisitOutcome, VisitRecord};
use doorstep_demo::DemoOptions;
use doorstep_tests::{
    InProcessServer, LinkProxy, enroll_phone, phone, prepare_server_data, quick_config, sync_now,
};

const VILLAGE: &str = "sanzhang-v01";
const EDITED: usize = 30;

/// Messages and bytes automerge's sync protocol exchanges to bring `a` and `b` together
/// (fresh sync states, as for devices that do not keep one per household and peer).
fn automerge_sync(a: &mut AutoCommit, b: &mut AutoCommit) -> (u64, u64) {
    let (mut sa, mut sb) = (State::new(), State::new());
    let (mut messages, mut bytes) = (0, 0);
    // One message from `from` to `to`, if it has one to send.
    let mut send = |from: &mut AutoCommit,
                    from_state: &mut State,
                    to: &mut AutoCommit,
                    to_state: &mut State| {
        let Some(m) = from.sync().generate_sync_message(from_state) else {
            return false;
        };
        let encoded = m.encode();
        (messages, bytes) = (messages + 1, bytes + encoded.len() as u64);
        let m = automerge::sync::Message::decode(&encoded).expect("decode");
        to.sync()
            .receive_sync_message(to_state, m)
            .expect("receive");
        true
    };
    loop {
        let forth = send(a, &mut sa, b, &mut sb);
        let back = send(b, &mut sb, a, &mut sa);
        if !forth && !back {
            return (messages, bytes);
        }
    }
}

/// automerge per-document sync between two stores over every household of the first.
fn automerge_sync_all(from: &Store, to: Option<&Store>) -> (u64, u64) {
    let (mut messages, mut bytes) = (0, 0);
    for id in from.household_ids().expect("ids") {
        let mut a = AutoCommit::load(&from.export_snapshot(&id).expect("snapshot")).expect("load");
        let mut b = match to {
            Some(store) => {
                AutoCommit::load(&store.export_snapshot(&id).expect("snapshot")).expect("load")
            }
            None => AutoCommit::new(),
        };
        let (m, b2) = automerge_sync(&mut a, &mut b);
        messages += m;
        bytes += b2;
    }
    (messages, bytes)
}

struct Row {
    name: &'static str,
    rounds: u32,
    up: u64,
    down: u64,
    body_up: u64,
    body_down: u64,
    am_messages: u64,
    am_bytes: u64,
    raw: Option<u64>,
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = DemoOptions {
        villages: 1,
        households_per_village: 1000,
        jobs_per_household: 2.0,
        ..DemoOptions::default()
    };
    eprintln!("generating a 1,000-household village …");
    let data = dir.path().join("server");
    let (town, state) = prepare_server_data(&data.to_string_lossy(), &options);
    let accounts = Arc::clone(&state.storage);
    let server = InProcessServer::start(state);
    // The server's copies, in a store of their own, for automerge's per-document sync.
    let server_store = Store::open(dir.path().join("mirror.db")).expect("mirror");
    server_store
        .import_documents(town.households.clone())
        .expect("mirror the town");
    let proxy = LinkProxy::start(&server.url);
    let now = options.today.and_hms_opt(2, 0, 0).expect("time").and_utc();
    let agent = town.user(Role::Agent, VILLAGE).expect("agent").user.clone();
    let head = town
        .user(Role::VillageHead, VILLAGE)
        .expect("head")
        .user
        .clone();
    let mut rows = Vec::new();
    let mut measure = |name, store: &Arc<Store>, raw, am: (u64, u64)| {
        let report = sync_now(store, quick_config(&proxy.url)).expect("sync");
        let (up, down) = proxy.take_counts();
        rows.push(Row {
            name,
            rounds: report.progress.rounds,
            up,
            down,
            body_up: report.progress.bytes_sent,
            body_down: report.progress.bytes_received,
            am_messages: am.0,
            am_bytes: am.1,
            raw,
        });
    };

    // (c) A new device downloads the village.
    let a = phone(&dir.path().join("a.db"), &agent, now);
    enroll_phone(&accounts, &server.url, &a, &agent.id);
    let am = automerge_sync_all(&server_store, None);
    measure("(c) new device downloads the village", &a, None, am);
    let b = phone(&dir.path().join("b.db"), &head, now);
    enroll_phone(&accounts, &server.url, &b, &head.id);
    sync_now(&b, quick_config(&proxy.url)).expect("sync b");
    proxy.take_counts();

    // (a) Nothing new on either side.
    let am = automerge_sync_all(&server_store, Some(&a));
    measure("(a) no-op sync", &a, None, am);

    // (b) 30 of 1,000 households edited on the phone: pushed, then pulled by another phone.
    let ids = a.household_ids().expect("ids");
    for (n, id) in ids
        .iter()
        .step_by(ids.len() / EDITED)
        .take(EDITED)
        .enumerate()
    {
        a.record_visit(
            id,
            None,
            VisitRecord {
                purpose: "入户走访".into(),
                outcome: VisitOutcome::Met,
                notes: format!("第{n}户：身体良好，按时服药"),
                location: None,
            },
        )
        .expect("visit");
    }
    let raw: u64 = a
        .pending_pushes(usize::MAX, usize::MAX)
        .expect("pending")
        .iter()
        .flat_map(|p| p.changes.iter())
        .map(|c| c.len() as u64)
        .sum();
    let am = automerge_sync_all(&a, Some(&server_store));
    measure("(b) 30 households edited: push", &a, Some(raw), am);
    let pushed = ids
        .iter()
        .map(|id| IncomingChanges {
            household_id: id.clone(),
            changes: a.changes_since(id, &[]).expect("changes"),
        })
        .collect();
    server_store.apply_changes(pushed).expect("mirror the push");
    let am = automerge_sync_all(&server_store, Some(&b));
    measure(
        "(b) 30 households edited: pull by another phone",
        &b,
        Some(raw),
        am,
    );

    println!(
        "| scenario | round trips | bytes up (HTTP) | bytes down (HTTP) | body up | body down | raw new changes | automerge per-document sync |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &rows {
        let raw = r.raw.map_or("—".to_string(), |b| format!("{b} B"));
        println!(
            "| {} | {} | {} B | {} B | {} B | {} B | {} | {} messages, {} B |",
            r.name, r.rounds, r.up, r.down, r.body_up, r.body_down, raw, r.am_messages, r.am_bytes
        );
    }
    for r in rows.iter().filter(|r| r.raw.is_some()) {
        let raw = r.raw.unwrap_or(1) as f64;
        let moved = r.body_up.max(r.body_down) as f64;
        println!(
            "{}: body {:.2}× the raw changes, HTTP {:.2}×",
            r.name,
            moved / raw,
            (r.up.max(r.down)) as f64 / raw
        );
    }
}
