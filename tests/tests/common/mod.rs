//! What the sync tests share: the server executable, a small town, its people, and reading the
//! server's journal straight from its SQLite file.
#![allow(dead_code)]

use std::path::PathBuf;

use doorstep_core::{Role, User};
use doorstep_demo::{DemoOptions, DemoTown};
use doorstep_sync_server::storage::{Param, Storage};

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

/// A query's single integer, read from the server's database.
pub fn server_int(data: &str, sql: &str, params: &[Param<'_>]) -> i64 {
    let storage = Storage::open(data).unwrap();
    storage.read(|conn| conn.query_int(sql, params)).unwrap()
}

/// Journal rows stored from `origin`, read from the server's database.
pub fn journal_rows(data: &str, origin: &str) -> i64 {
    server_int(
        data,
        "SELECT count(*) FROM journal WHERE origin = $1",
        &[origin.into()],
    )
}

/// (number of rows, highest sequence number) of the server's journal.
pub fn journal_shape(data: &str) -> (i64, i64) {
    (
        server_int(data, "SELECT count(*) FROM journal", &[]),
        server_int(data, "SELECT coalesce(max(seq), 0) FROM journal", &[]),
    )
}

/// A village on a real server process, with the agent's and the village head's phones
/// (enrolled, not yet synced).
pub struct Village {
    pub dir: tempfile::TempDir,
    pub data: String,
    pub town: DemoTown,
    pub server: doorstep_tests::ServerProcess,
    pub agent: std::sync::Arc<doorstep_core::Store>,
    pub head: std::sync::Arc<doorstep_core::Store>,
}

/// A village whose agent and village head have enrolled their phones.
pub fn village() -> Village {
    let dir = tempfile::tempdir().unwrap();
    let data = doorstep_tests::test_data(dir.path());
    let (town, state) = doorstep_tests::prepare_server_data(&data, &small_town());
    let server = doorstep_tests::ServerProcess::start(&server_exe(), &data);
    let agent = doorstep_tests::phone(&dir.path().join("a.db"), &person(&town, Role::Agent), now());
    let head = doorstep_tests::phone(
        &dir.path().join("b.db"),
        &person(&town, Role::VillageHead),
        now(),
    );
    for (phone, role) in [(&agent, Role::Agent), (&head, Role::VillageHead)] {
        doorstep_tests::enroll_phone(&state.storage, &server.url, phone, &person(&town, role).id);
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
