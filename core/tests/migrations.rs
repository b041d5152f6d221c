//! A database written before the query tables and sync state existed (schema version 1:
//! documents only) is migrated on open and ends up the same as a database built fresh from the same documents.

mod common;

use common::*;
use doorstep_core::*;

fn schema(path: &std::path::Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, coalesce(sql, '') FROM sqlite_master ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_migrated_database_matches_a_fresh_one() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = temp_path(&dir, "fresh.db");
    {
        let store = store_at(&fresh, agent(), at("2026-03-02T01:00:00Z"));
        let (_, member) = elderly_household(&store, "张桂兰", "13800138000");
        elderly_household(&store, "李秀英", "13912345678");
        let job = open_job(&store, &member, "social-security-card-application");
        store.take_step(&job, accept(), None).unwrap();
        store
            .add_ledger_line(NewLedgerLine {
                member_id: member,
                title: "生日提醒".into(),
                schedule: Schedule::Yearly { month: 3, day: 5 },
                urgency: Urgency::Green,
                note: String::new(),
                visit_id: None,
            })
            .unwrap();
    }
    // The same file as version 1 would have left it: documents, no query tables.
    let old = temp_path(&dir, "old.db");
    std::fs::copy(&fresh, &old).unwrap();
    {
        let conn = rusqlite::Connection::open(&old).unwrap();
        conn.execute_batch(
            "DROP TABLE households; DROP TABLE members; DROP TABLE ledger_lines;
             DROP TABLE jobs; DROP TABLE visits; DROP TABLE sync_state;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    assert_ne!(schema(&old), schema(&fresh));
    let migrated = Store::open(&old).unwrap();
    assert_eq!(schema(&old), schema(&fresh));
    assert_eq!(dump_projections(&old), dump_projections(&fresh));
    assert_eq!(
        migrated
            .today_work(date(2026, 3, 9), None, 500)
            .unwrap()
            .len(),
        1
    );
    let version: i64 = rusqlite::Connection::open(&old)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 7);
}

#[test]
fn a_database_from_a_newer_app_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "newer.db");
    {
        let store = store_at(&path, agent(), at("2026-03-02T01:00:00Z"));
        elderly_household(&store, "张桂兰", "13800138000");
    }
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).err().expect("refused");
    assert!(
        matches!(err, CoreError::StoreTooNew { found: 99, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("请升级应用"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is left as it was"
    );
}
