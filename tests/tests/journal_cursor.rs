//! The journal's cursor never skips a change, with concurrent writers and readers on the real
//! database (SQLite, or PostgreSQL with `DOORSTEP_TEST_POSTGRES`): writers take their numbers
//! and then wait before committing, while other writers queue and readers page through with
//! cursors. Every reader must see every entry exactly once. (Numbers handed out before commit,
//! as a PostgreSQL sequence would, let a reader's cursor pass an entry that commits later; the
//! waits make that window wide.)

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use doorstep_core::document::WrittenChange;
use doorstep_core::sync::protocol::TownCursor;
use doorstep_sync_server::storage::Scope;
use doorstep_sync_server::storage::journal::{self, JournalEntry};

const WRITERS: usize = 4;
const WRITES_EACH: usize = 25;
const READERS: usize = 3;

#[test]
fn concurrent_writers_and_readers_never_skip_an_entry() {
    let dir = tempfile::tempdir().unwrap();
    let storage =
        Arc::new(doorstep_tests::open_storage(&doorstep_tests::test_data(dir.path())).unwrap());
    let scope = Scope {
        villages: vec!["v1".into(), "v2".into()],
        towns: vec![("town".into(), vec!["v1".into(), "v2".into()])],
    };
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let storage = Arc::clone(&storage);
            std::thread::spawn(move || {
                for n in 0..WRITES_EACH {
                    let change = WrittenChange {
                        bytes: format!("{w}/{n}").into_bytes(),
                        actor: format!("{w:02x}"),
                        seq: n as u64 + 1,
                    };
                    let village = if n % 2 == 0 { "v1" } else { "v2" };
                    storage
                        .write(|conn| {
                            let entry = JournalEntry {
                                household_id: "h",
                                village_id: village,
                                origin: "writer",
                                change: &change,
                            };
                            journal::append(conn, "town", &[entry])?;
                            // Hold the transaction open after taking a number.
                            std::thread::sleep(Duration::from_millis((n % 3) as u64 * 2));
                            Ok(())
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (storage, scope, done) = (Arc::clone(&storage), scope.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut cursors: Vec<TownCursor> = Vec::new();
                let mut seen: Vec<Vec<u8>> = Vec::new();
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    let page = storage
                        .read(|conn| journal::page(conn, &scope, &cursors, Some("reader"), 300))
                        .unwrap();
                    let empty = page.changes.is_empty();
                    for (_, changes) in page.changes {
                        seen.extend(changes);
                    }
                    cursors = page.cursors;
                    if finished && empty {
                        return seen;
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let expected: BTreeSet<Vec<u8>> = (0..WRITERS)
        .flat_map(|w| (0..WRITES_EACH).map(move |n| format!("{w}/{n}").into_bytes()))
        .collect();
    for r in readers {
        let seen = r.join().unwrap();
        let distinct: BTreeSet<Vec<u8>> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), distinct.len(), "an entry was read twice");
        let missing: Vec<String> = expected
            .difference(&distinct)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect();
        assert!(missing.is_empty(), "a reader skipped {missing:?}");
    }
}
