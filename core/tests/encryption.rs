//! The phone's store is an encrypted SQLite database (SQLCipher). The key comes from the app
//! shell through `KeyProvider`; a wrong key gives a clear error and leaves the file untouched;
//! the file holds no readable Chinese name or identity number.

mod common;

use std::sync::Arc;

use common::*;
use doorstep_core::*;

/// A key provider as a shell would implement it over the Keystore or Keychain.
struct ShellKey(Vec<u8>);

impl KeyProvider for ShellKey {
    fn database_key(&self) -> std::result::Result<Vec<u8>, String> {
        Ok(self.0.clone())
    }
}

struct LockedKeychain;

impl KeyProvider for LockedKeychain {
    fn database_key(&self) -> std::result::Result<Vec<u8>, String> {
        Err("钥匙串已锁定".into())
    }
}

fn options(key: Arc<dyn KeyProvider>) -> StoreOptions {
    StoreOptions {
        clock: Arc::new(FixedClock(at("2026-03-02T01:00:00Z"))),
        key: Some(key),
    }
}

/// Every byte of the store's files (database, WAL).
fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut all = std::fs::read(path).unwrap();
    for extra in ["-wal", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(extra);
        if let Ok(bytes) = std::fs::read(std::path::PathBuf::from(p)) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn the_file_is_encrypted_and_a_wrong_key_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "phone.db");
    let key: Arc<dyn KeyProvider> = Arc::new(ShellKey(vec![7u8; 32]));
    let id = id_number("19400305", 22);
    {
        let store = Store::open_with(&path, options(Arc::clone(&key))).unwrap();
        store.sign_in(agent()).unwrap();
        let (hh, _) = elderly_household(&store, "欧阳桂兰", "13800138000");
        store
            .record_visit(
                &hh,
                None,
                VisitRecord {
                    notes: "降压药快吃完了".into(),
                    ..VisitRecord::new("季度走访", VisitOutcome::Met)
                },
            )
            .unwrap();
        // Still open: the WAL holds the latest pages, encrypted too.
        let bytes = file_bytes(&path);
        for secret in [
            "欧阳桂兰",
            id.as_str(),
            "13800138000",
            "降压药",
            "SQLite format 3",
        ] {
            assert!(
                !contains(&bytes, secret),
                "{secret} is readable in the file"
            );
        }
    }
    let bytes = file_bytes(&path);
    assert!(!contains(&bytes, "欧阳桂兰") && !contains(&bytes, &id));

    // A wrong key, no key, or a locked keychain: clear errors, and the file is as it was.
    let before = std::fs::read(&path).unwrap();
    let wrong = Store::open_with(&path, options(Arc::new(ShellKey(vec![8u8; 32])))).err();
    assert_eq!(wrong, Some(CoreError::WrongKey));
    assert!(CoreError::WrongKey.to_string().contains("密钥不对"));
    assert_eq!(Store::open(&path).err(), Some(CoreError::WrongKey));
    let locked = Store::open_with(&path, options(Arc::new(LockedKeychain))).err();
    assert!(
        matches!(locked, Some(CoreError::KeyUnavailable { reason }) if reason.contains("锁定"))
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // The right key opens it with everything there.
    let store = Store::open_with(&path, options(key)).unwrap();
    let hits = store.search("桂兰", 5).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        store.household(&hits[0].household_id).unwrap().visits.len(),
        1
    );
}
