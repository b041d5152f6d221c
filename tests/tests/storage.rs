//! The server's storage on the real database (SQLite, or PostgreSQL with
//! `DOORSTEP_TEST_POSTGRES`): processes opening one new database at once both get the schema,
//! and a database written by a newer server is refused and left as it was.

use std::sync::Arc;

use doorstep_sync_server::storage::{SCHEMA_VERSION, StorageError};

#[test]
fn processes_opening_a_new_database_together_both_get_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let data = Arc::new(doorstep_tests::test_data(dir.path()));
    let openers: Vec<_> = (0..4)
        .map(|_| {
            let data = Arc::clone(&data);
            std::thread::spawn(move || doorstep_tests::open_storage(&data).map(|_| ()))
        })
        .collect();
    for opener in openers {
        opener.join().unwrap().unwrap();
    }
    let storage = doorstep_tests::open_storage(&data).unwrap();
    let version = storage
        .read(|conn| conn.query_int("SELECT max(version) FROM schema_version", &[]))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(storage.totals().unwrap().households, 0);
}

#[test]
fn a_database_from_a_newer_server_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = doorstep_tests::test_data(dir.path());
    let storage = doorstep_tests::open_storage(&data).unwrap();
    let newer = SCHEMA_VERSION + 1;
    storage
        .write(|conn| conn.execute("UPDATE schema_version SET version = $1", &[newer.into()]))
        .unwrap();
    drop(storage);
    let err = doorstep_tests::open_storage(&data).err().expect("refused");
    assert!(
        matches!(err, StorageError::TooNew { found, .. } if found == newer),
        "{err}"
    );
    assert!(err.to_string().contains("请升级服务器"), "{err}");
    // Still the newer server's database: opening it again is refused the same way.
    let again = doorstep_tests::open_storage(&data)
        .err()
        .expect("still refused");
    assert!(matches!(again, StorageError::TooNew { .. }));
}
