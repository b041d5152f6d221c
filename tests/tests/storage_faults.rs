//! Storage faults: an I/O error or a full disk at the Nth write of an operation, for every N the
//! operation performs — a phone's local edit, a phone's merge of a sync round, and the server
//! storing a push (SQLite) — and, on PostgreSQL, the server's connection killed in the middle of
//! storing pushes. Each time: the operation fails, the store is consistent (its query tables
//! are what its documents give, on disk and in memory), it holds either all of the operation
//! or none of it, nothing committed earlier is lost, and the operation succeeds once retried.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::*;
use doorstep_core::*;
use doorstep_sync_server::http::AppState;
use doorstep_tests::faulty_disk::{DiskFault, FaultyDisk};
use doorstep_tests::{InProcessServer, phone, quick_config, sync_now};

/// The faulty disk is one per process: its tests take turns.
static DISK_TURN: Mutex<()> = Mutex::new(());

const FAULTS: [DiskFault; 2] = [DiskFault::IoError, DiskFault::Full];

/// Copies a closed store (its file and any write-ahead log) to `to`, creating its folder.
fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    for suffix in ["", "-wal"] {
        let source = PathBuf::from(format!("{}{suffix}", from.display()));
        if source.exists() {
            std::fs::copy(&source, format!("{}{suffix}", to.display())).unwrap();
        }
    }
}

/// Copies a closed server's data folder.
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        // The shared-memory index belongs to the processes that had the database open.
        if entry.file_name().to_string_lossy().ends_with("-shm") {
            continue;
        }
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// SQLite's own check of the file.
fn assert_intact(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(verdict, "ok", "{}", path.display());
}

/// Fails with the first line where two long texts differ, when they do.
fn assert_same(left: &str, right: &str, context: &str) {
    if left == right {
        return;
    }
    let (l, r): (Vec<&str>, Vec<&str>) = (left.lines().collect(), right.lines().collect());
    let at = (0..l.len().max(r.len()))
        .find(|&i| l.get(i) != r.get(i))
        .unwrap_or(0);
    let clip = |line: Option<&&str>| line.map(|s| s.chars().take(400).collect::<String>());
    panic!(
        "{context}: differ at line {at}:\n  {:?}\n  {:?}",
        clip(l.get(at)),
        clip(r.get(at))
    );
}

/// The store's query tables are what its documents give.
fn assert_tables_match_documents(store: &Store, context: &str) {
    let tables = store.dump_query_tables().unwrap();
    store.rebuild_projections().unwrap();
    let rebuilt = store.dump_query_tables().unwrap();
    assert_same(
        &rebuilt,
        &tables,
        &format!("{context}: query tables match the documents"),
    );
}

/// Everything the phone holds, as text: every household's data and its sync standing.
/// Closes the store, checks its file, reopens it and checks that it holds what it held, with
/// query tables matching its documents.
fn reopened_intact(p: Arc<Store>, path: &Path, user: &User, context: &str) -> Arc<Store> {
    let held = phone_state(&p);
    drop(p);
    assert_intact(path);
    let p = phone(path, user, now());
    assert_same(
        &phone_state(&p),
        &held,
        &format!("{context}: held is on disk"),
    );
    assert_tables_match_documents(&p, context);
    p
}

fn phone_state(store: &Store) -> String {
    let mut out = String::new();
    for id in store.household_ids().unwrap() {
        out.push_str(&format!(
            "{:?}\n{:?}\n{:?}\n",
            store.household(&id).unwrap(),
            store.heads(&id).unwrap(),
            store.household_sync_state(&id).unwrap()
        ));
    }
    out
}

/// A local edit to fail at every write: its name, the edit, and how many of what it makes the
/// phone holds (so a store holding the edit twice is caught).
struct LocalEdit {
    name: &'static str,
    run: fn(&Store, &str) -> Result<()>,
    count: fn(&Store, &str) -> usize,
}

fn visits(store: &Store, household: &str) -> usize {
    store.household(household).unwrap().visits.len()
}

fn households(store: &Store, _: &str) -> usize {
    store.household_ids().unwrap().len()
}

fn jobs(store: &Store, household: &str) -> usize {
    store.household(household).unwrap().jobs.len()
}

const LOCAL_EDITS: [LocalEdit; 3] = [
    LocalEdit {
        name: "record-visit",
        run: |store, household| {
            let record = VisitRecord::new("入户走访", VisitOutcome::Met);
            store.record_visit(household, None, record).map(drop)
        },
        count: visits,
    },
    LocalEdit {
        name: "create-household",
        run: |store, _| {
            store
                .create_household(NewHousehold {
                    village_id: VILLAGE.into(),
                    group_name: "三组".into(),
                    address: "三组12号".into(),
                    phone: None,
                })
                .map(drop)
        },
        count: households,
    },
    LocalEdit {
        name: "open-job",
        run: |store, household| {
            let member = store.household(household)?.members[0].id.clone();
            store
                .open_job(NewJob {
                    member_id: member,
                    item_code: "social-security-card-application".into(),
                    mode: ServiceMode::Proxy,
                    urgency: Urgency::Amber,
                    note: String::new(),
                    visit_id: None,
                })
                .map(drop)
        },
        count: jobs,
    },
];

#[test]
fn a_local_edit_failing_at_any_write_leaves_the_phone_consistent() {
    if doorstep_tests::postgres_server().is_some() {
        return; // The phone's store is the same whatever the server keeps its data on.
    }
    let _turn = DISK_TURN.lock().unwrap_or_else(|p| p.into_inner());
    let disk = FaultyDisk::install();
    let t = two_villages();
    let agent = t.user(Role::Agent, VILLAGE);
    let household = t.household_in(VILLAGE);
    let base = t.root.join("base.db");
    {
        let p = t.enrolled_phone("base.db", &agent);
        t.sync(&p).unwrap();
        // Something not yet pushed, which must survive every failure.
        (LOCAL_EDITS[0].run)(&p, &household).unwrap();
    }
    for edit in &LOCAL_EDITS {
        for fault in FAULTS {
            let writes = fail_every_write(disk, fault, &t.root.join(edit.name), |run, n| {
                let path = run.join("phone.db");
                copy_store(&base, &path);
                let p = phone(&path, &agent, now());
                let before = phone_state(&p);
                let count = (edit.count)(&p, &household);
                disk.fail_at(n, fault);
                let result = (edit.run)(&p, &household);
                let failed = disk.failures() > 0;
                disk.heal();
                if !failed {
                    result.unwrap();
                    return false;
                }
                let context = format!("{} {fault:?} at write {n}", edit.name);
                assert_tables_match_documents(&p, &context);
                match (edit.count)(&p, &household) - count {
                    0 => {
                        assert_same(
                            &phone_state(&p),
                            &before,
                            &format!("{context}: nothing else"),
                        );
                        (edit.run)(&p, &household).expect("the edit succeeds once retried");
                    }
                    1 => {}
                    more => panic!("{context}: the edit is there {more} times"),
                }
                assert_eq!((edit.count)(&p, &household), count + 1, "{context}");
                let p = reopened_intact(p, &path, &agent, &context);
                for push in p.pending_pushes(usize::MAX, usize::MAX).unwrap() {
                    assert_eq!(
                        push.heads,
                        p.heads(&push.household_id).unwrap(),
                        "{context}"
                    );
                }
                true
            });
            assert!(writes >= 2, "{} makes {writes} writes", edit.name);
            println!(
                "{}: failed at each of its {writes} writes ({fault:?})",
                edit.name
            );
        }
    }
}

/// Runs `attempt(folder, n)` for n = 1, 2, … (each in a fresh folder that the disk watches)
/// until an attempt reports that its operation met no failure, and returns how many writes the
/// operation made.
fn fail_every_write(
    disk: &FaultyDisk,
    fault: DiskFault,
    root: &Path,
    mut attempt: impl FnMut(&Path, u64) -> bool,
) -> u64 {
    let mut n = 1;
    loop {
        let run = root.join(format!("{fault:?}-{n}"));
        std::fs::create_dir_all(&run).unwrap();
        disk.watch(&run);
        let failed = attempt(&run, n);
        disk.unwatch();
        std::fs::remove_dir_all(&run).unwrap();
        if !failed {
            return n - 1;
        }
        n += 1;
    }
}

#[test]
fn a_merge_failing_at_any_write_leaves_the_phone_consistent() {
    if doorstep_tests::postgres_server().is_some() {
        return; // The phone's store is the same whatever the server keeps its data on.
    }
    let _turn = DISK_TURN.lock().unwrap_or_else(|p| p.into_inner());
    let disk = FaultyDisk::install();
    let t = two_villages();
    let agent = t.user(Role::Agent, VILLAGE);
    let head = t.user(Role::VillageHead, VILLAGE);
    let base = t.root.join("base.db");
    let (ids, own_visit) = {
        let p = t.enrolled_phone("base.db", &agent);
        t.sync(&p).unwrap();
        let ids = p.household_ids().unwrap();
        // The phone's own edit, acknowledged in the round that merges.
        let record = VisitRecord::new("入户走访", VisitOutcome::Met);
        let visit = p.record_visit(&ids[0], None, record).unwrap();
        (ids, visit)
    };
    // What the round brings: the village head's edits to every household and a new one.
    let other = t.enrolled_phone("head.db", &head);
    t.sync(&other).unwrap();
    for id in &ids {
        (LOCAL_EDITS[0].run)(&other, id).unwrap();
    }
    (LOCAL_EDITS[1].run)(&other, "").unwrap();
    t.sync(&other).unwrap();
    let expected: Vec<String> = other.household_ids().unwrap();

    for fault in FAULTS {
        let writes = fail_every_write(disk, fault, &t.root.join("merge"), |run, n| {
            let path = run.join("phone.db");
            copy_store(&base, &path);
            let p = phone(&path, &agent, now());
            disk.fail_at(n, fault);
            let result = t.sync(&p);
            let failed = disk.failures() > 0;
            disk.heal();
            if !failed {
                result.unwrap();
                return false;
            }
            let context = format!("merge {fault:?} at write {n}");
            assert!(result.is_err(), "{context}: the sync reports the failure");
            assert_tables_match_documents(&p, &context);
            let own = p.household(&ids[0]).unwrap();
            assert!(
                own.visits.iter().any(|v| v.id == own_visit),
                "{context}: own edit kept"
            );
            t.sync(&p).expect("the sync succeeds once retried");
            assert_eq!(p.household_ids().unwrap(), expected, "{context}");
            let held: Vec<_> = expected.iter().map(|id| p.heads(id).unwrap()).collect();
            assert_eq!(held, server_heads(&t.data, &expected), "{context}");
            assert_eq!(p.sync_status().unwrap().pending_changes, 0, "{context}");
            reopened_intact(p, &path, &agent, &context);
            true
        });
        assert!(writes >= 3, "the merge makes {writes} writes");
        println!("merge: failed at each of its {writes} writes ({fault:?})");
    }
}

/// Each household's heads on the server.
fn server_heads(data: &str, ids: &[String]) -> Vec<Vec<automerge::ChangeHash>> {
    let storage = doorstep_tests::open_storage(data).unwrap();
    ids.iter()
        .map(|id| match storage.household_document(id).unwrap() {
            Some(bytes) => HouseholdDoc::load(&bytes, automerge::ActorId::random())
                .unwrap()
                .heads(),
            None => Vec::new(),
        })
        .collect()
}

/// The server's query tables are what its documents give, and no change is journaled twice.
fn assert_server_consistent(data: &str, mirror: &Path, context: &str) {
    let tables = doorstep_tests::server_tables(data);
    let rebuilt = doorstep_tests::server_mirror(data, mirror);
    let context = format!("{context}: the server's tables match its documents");
    assert_same(&rebuilt.dump_query_tables().unwrap(), &tables, &context);
    drop(rebuilt);
    std::fs::remove_file(mirror).unwrap();
    assert_journaled_once(data, &context);
}

/// No change is in the server's journal twice.
fn assert_journaled_once(data: &str, context: &str) {
    let rows = server_int(data, "SELECT count(*) FROM journal", &[]);
    let distinct = server_int(
        data,
        "SELECT count(*) FROM (SELECT DISTINCT household_id, bytes FROM journal) AS d",
        &[],
    );
    assert_eq!(rows, distinct, "{context}: no change journaled twice");
}

#[test]
fn storing_a_push_failing_at_any_write_or_killed_leaves_the_server_consistent() {
    let _turn = DISK_TURN.lock().unwrap_or_else(|p| p.into_inner());
    let t = two_villages();
    let agent = t.user(Role::Agent, VILLAGE);
    let head = t.user(Role::VillageHead, VILLAGE);
    // A phone with edits to push (four households and a new one), and one that follows.
    let base = t.root.join("base.db");
    let ids = {
        let p = t.enrolled_phone("base.db", &agent);
        t.sync(&p).unwrap();
        let ids = p.household_ids().unwrap();
        for id in ids.iter().take(4) {
            (LOCAL_EDITS[0].run)(&p, id).unwrap();
        }
        (LOCAL_EDITS[1].run)(&p, "").unwrap();
        p.household_ids().unwrap()
    };
    let follower_base = t.root.join("follower.db");
    drop(t.enrolled_phone("follower.db", &head));
    if t.data.starts_with("postgres") {
        killed_mid_transaction(&t, &base, &follower_base, &ids);
        return;
    }
    let mut t = t;
    t.server.kill();
    let server_base = PathBuf::from(&t.data);
    let disk = FaultyDisk::install();
    // One push with no fault gives what the server holds after it: its documents' heads, and
    // its query tables, checked once against the documents.
    let attempt = |run: &Path, fail_at: Option<(u64, DiskFault)>| {
        let data = run.join("server");
        copy_folder(&server_base, &data);
        let data = data.to_string_lossy().into_owned();
        let phones = run.join("phones");
        copy_store(&base, &phones.join("phone.db"));
        copy_store(&follower_base, &phones.join("follower.db"));
        let server = InProcessServer::start(AppState::open(&data, None).unwrap());
        let p = phone(&phones.join("phone.db"), &agent, now());
        if let Some((n, fault)) = fail_at {
            disk.fail_at(n, fault);
        }
        let result = sync_now(&p, quick_config(&server.url));
        let failed = disk.failures() > 0;
        disk.heal();
        (data, server, p, result, failed)
    };
    let before = (
        server_heads(&t.data, &ids),
        doorstep_tests::server_tables(&t.data),
    );
    assert_server_consistent(&t.data, &t.root.join("mirror.db"), "before");
    let clean = t.root.join("clean");
    let after = {
        let (data, server, p, result, _) = attempt(&clean, None);
        result.unwrap();
        drop(server);
        assert_server_consistent(&data, &clean.join("mirror.db"), "after");
        let pushed: Vec<_> = ids.iter().map(|id| p.heads(id).unwrap()).collect();
        assert_eq!(server_heads(&data, &ids), pushed, "every edit stored");
        (pushed, doorstep_tests::server_tables(&data))
    };
    for fault in FAULTS {
        let writes = fail_every_write(disk, fault, &t.root.join("push"), |run, n| {
            let (data, server, p, result, failed) = attempt(run, Some((n, fault)));
            if !failed {
                result.unwrap();
                return false;
            }
            let context = format!("push {fault:?} at write {n}");
            assert!(result.is_err(), "{context}: the phone is told");
            let held = (
                server_heads(&data, &ids),
                doorstep_tests::server_tables(&data),
            );
            assert!(
                held == before || held == after,
                "{context}: the server holds all of the push or none of it, tables included"
            );
            sync_now(&p, quick_config(&server.url)).expect("the push succeeds once retried");
            assert_eq!(
                server_heads(&data, &ids),
                after.0,
                "{context}: every edit stored"
            );
            let follower = phone(&run.join("phones/follower.db"), &head, now());
            sync_now(&follower, quick_config(&server.url)).unwrap();
            let followed: Vec<_> = ids.iter().map(|id| follower.heads(id).unwrap()).collect();
            assert_eq!(
                followed, after.0,
                "{context}: the journal brings every edit"
            );
            drop(server);
            assert_intact(&Path::new(&data).join("server.db"));
            assert_journaled_once(&data, &context);
            true
        });
        assert!(writes >= 3, "storing the push makes {writes} writes");
        println!("push: failed at each of its {writes} writes ({fault:?})");
    }
}

/// On PostgreSQL: the server's connection is killed (`pg_terminate_backend`) while it is in a
/// write transaction, at random moments, while the phone pushes a few edits at a time.
fn killed_mid_transaction(t: &Town, base: &Path, follower_base: &Path, ids: &[String]) {
    use rand::seq::IndexedRandom;
    use rand::{RngExt, SeedableRng};
    let agent = t.user(Role::Agent, VILLAGE);
    let head = t.user(Role::VillageHead, VILLAGE);
    let p = phone(base, &agent, now());
    let follower = phone(follower_base, &head, now());
    let killer = Killer::start(&t.data);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    let mut failed_pushes = 0;
    for round in 0..40 {
        for id in ids.sample(&mut rng, 4) {
            (LOCAL_EDITS[0].run)(&p, id).unwrap();
        }
        let context = format!("round {round}");
        killer.arm(std::time::Duration::from_micros(rng.random_range(0..3000)));
        let result = t.sync(&p);
        let killed = killer.disarm();
        if result.is_err() {
            assert!(killed, "{context}: a push failed with no connection killed");
            failed_pushes += 1;
        }
        assert_server_consistent(&t.data, &t.root.join("mirror.db"), &context);
        t.sync(&p).expect("the push succeeds once retried");
        let pushed: Vec<_> = ids.iter().map(|id| p.heads(id).unwrap()).collect();
        assert_eq!(
            server_heads(&t.data, ids),
            pushed,
            "{context}: every edit stored"
        );
        t.sync(&follower).unwrap();
        let followed: Vec<_> = ids.iter().map(|id| follower.heads(id).unwrap()).collect();
        assert_eq!(followed, pushed, "{context}: the journal brings every edit");
    }
    println!("PostgreSQL: {failed_pushes} of 40 pushes had their connection killed mid-write");
    assert!(
        failed_pushes >= 8,
        "only {failed_pushes} kills landed mid-write"
    );
}

/// A thread that, when armed, waits for another connection to the database to be in a write
/// transaction, waits the armed delay, and terminates that connection (once per arming).
struct Killer {
    armed: Arc<Mutex<Option<std::time::Duration>>>,
    killed: Arc<std::sync::atomic::AtomicBool>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Killer {
    fn start(url: &str) -> Killer {
        use std::sync::atomic::Ordering;
        let armed: Arc<Mutex<Option<std::time::Duration>>> = Arc::default();
        let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
        let thread = std::thread::spawn({
            let (armed, killed, stop) = (armed.clone(), killed.clone(), stop.clone());
            move || {
                while !stop.load(Ordering::Relaxed) {
                    let Some(delay) = *armed.lock().unwrap() else {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        continue;
                    };
                    let writer = client
                        .query_opt(
                            "SELECT pid FROM pg_stat_activity
                              WHERE datname = current_database() AND pid <> pg_backend_pid()
                                AND backend_xid IS NOT NULL LIMIT 1",
                            &[],
                        )
                        .unwrap();
                    let Some(row) = writer else { continue };
                    std::thread::sleep(delay);
                    // Kill only while still armed: once disarmed, nothing more is killed.
                    let mut still = armed.lock().unwrap();
                    if still.is_none() {
                        continue;
                    }
                    let pid: i32 = row.get(0);
                    let done: bool = client
                        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
                        .unwrap()
                        .get(0);
                    if done {
                        killed.store(true, Ordering::Relaxed);
                        *still = None;
                    }
                }
            }
        });
        Killer {
            armed,
            killed,
            stop,
            thread: Some(thread),
        }
    }

    fn arm(&self, delay: std::time::Duration) {
        self.killed
            .store(false, std::sync::atomic::Ordering::Relaxed);
        *self.armed.lock().unwrap() = Some(delay);
    }

    /// Disarms; whether a connection was killed since arming.
    fn disarm(&self) -> bool {
        *self.armed.lock().unwrap() = None;
        self.killed.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Killer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
