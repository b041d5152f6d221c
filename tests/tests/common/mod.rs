//! What the sync tests share: the server executable, a small town, its people, and reading the
//! server's journal straight from its SQLite file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use doorstep_core::demo::{DemoOptions, DemoTown};
use doorstep_core::{Role, User};

pub const VILLAGE: &str = "sanzhang-v01";

/// The server built for these tests.
pub fn server_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_test-sync-server"))
}

/// One village of 12 households.
pub fn small_town() -> DemoOptions {
    DemoOptions {
        villages: 1,
        households_per_village: 12,
        jobs_per_household: 2.0,
        ..DemoOptions::default()
    }
}

pub fn scope() -> Vec<String> {
    vec![VILLAGE.to_string()]
}

pub fn person(town: &DemoTown, role: Role) -> User {
    let region = if role == Role::TownStaff {
        "sanzhang"
    } else {
        VILLAGE
    };
    town.user(role, region).expect("user").user.clone()
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-20T02:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Journal rows stored from `origin`, read from the server's file.
pub fn journal_rows(data: &Path, origin: &str) -> i64 {
    let conn = rusqlite::Connection::open(data.join("server.db")).unwrap();
    conn.query_row(
        "SELECT count(*) FROM journal WHERE origin = ?1",
        [origin],
        |r| r.get(0),
    )
    .unwrap()
}

/// (number of rows, highest sequence number) of the server's journal.
pub fn journal_shape(data: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(data.join("server.db")).unwrap();
    conn.query_row(
        "SELECT count(*), coalesce(max(seq), 0) FROM journal",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// A village on a real server process, with the agent's and the village head's phones
/// (enrolled, not yet synced).
pub struct Village {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub town: DemoTown,
    pub server: doorstep_tests::ServerProcess,
    pub agent: std::sync::Arc<doorstep_core::Store>,
    pub head: std::sync::Arc<doorstep_core::Store>,
}

/// A village whose agent and village head have enrolled their phones.
pub fn village() -> Village {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let (town, state) = doorstep_tests::prepare_server_data(&data, &small_town());
    let server = doorstep_tests::ServerProcess::start(&server_exe(), &data);
    let agent = doorstep_tests::phone(&dir.path().join("a.db"), &person(&town, Role::Agent), now());
    let head = doorstep_tests::phone(
        &dir.path().join("b.db"),
        &person(&town, Role::VillageHead),
        now(),
    );
    for (phone, role) in [(&agent, Role::Agent), (&head, Role::VillageHead)] {
        doorstep_tests::enroll_phone(&state.accounts, &server.url, phone, &person(&town, role).id);
    }
    Village {
        dir,
        data,
        town,
        server,
        agent,
        head,
    }
}

impl Village {
    /// Syncs a phone with the server, failing the test on error.
    pub fn sync(
        &self,
        phone: &std::sync::Arc<doorstep_core::Store>,
    ) -> doorstep_core::sync::SyncReport {
        doorstep_tests::sync_now(phone, doorstep_tests::quick_config(&self.server.url)).unwrap()
    }
}
