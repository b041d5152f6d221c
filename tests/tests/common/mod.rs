//! What the sync tests share: the server executable, a small town, its people, and reading the
//! server's journal straight from its SQLite file.
#![allow(dead_code)]

use std::path::PathBuf;

use std::sync::Arc;

use automerge::ReadDoc;
use doorstep_core::sync::protocol::{self, DocChanges, Position, SyncRequest};
use doorstep_core::{Role, Store, User, sync};
use doorstep_demo::{DemoOptions, DemoTown};
use doorstep_sync_server::storage::Param;
use doorstep_sync_server::storage::Storage;
use doorstep_tests::{
    RawClient, ServerProcess, enroll_phone, phone, prepare_server_data, quick_config, sync_now,
};

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
    let storage = doorstep_tests::open_storage(data).unwrap();
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

/// The second village.
pub const OTHER_VILLAGE: &str = "sanzhang-v02";

/// Two villages of eight households on a real server process.
pub struct Town {
    pub _dir: tempfile::TempDir,
    pub data: String,
    pub town: doorstep_demo::DemoTown,
    pub server: ServerProcess,
    pub accounts: Arc<Storage>,
    pub root: std::path::PathBuf,
}

/// A town of two villages on a real server process.
pub fn two_villages() -> Town {
    let dir = tempfile::tempdir().unwrap();
    let data = doorstep_tests::test_data(dir.path());
    let options = DemoOptions {
        villages: 2,
        households_per_village: 8,
        jobs_per_household: 2.0,
        ..DemoOptions::default()
    };
    let (town, state) = prepare_server_data(&data, &options);
    let server = ServerProcess::start(&server_exe(), &data);
    let root = dir.path().to_path_buf();
    Town {
        _dir: dir,
        data,
        town,
        server,
        accounts: state.storage,
        root,
    }
}

impl Town {
    /// The first household of `village` in the generated town.
    pub fn household_in(&self, village: &str) -> String {
        self.town
            .households
            .iter()
            .map(|d| d.read().unwrap())
            .find(|d| d.household.village_id == village)
            .unwrap()
            .household
            .id
    }

    pub fn user(&self, role: Role, region: &str) -> User {
        self.town.user(role, region).unwrap().user.clone()
    }

    pub fn enrolled_phone(&self, name: &str, user: &User) -> Arc<Store> {
        let p = phone(&self.root.join(name), user, now());
        enroll_phone(&self.accounts, &self.server.url, &p, &user.id);
        p
    }

    pub fn sync(&self, p: &Arc<Store>) -> Result<sync::SyncReport, sync::SyncError> {
        sync_now(p, quick_config(&self.server.url))
    }

    /// The server's copy of a household, read from its database while it runs.
    pub fn server_doc(&self, household: &str) -> automerge::AutoCommit {
        let bytes = self
            .accounts
            .household_document(household)
            .unwrap()
            .unwrap();
        automerge::AutoCommit::load(&bytes).unwrap()
    }

    /// Posts a hand-made request with a device's token.
    pub fn post(&self, token: &str, request: &SyncRequest) -> (u16, Vec<u8>) {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let response = reqwest::Client::new()
                .post(format!("{}{}", self.server.url, protocol::SYNC_PATH))
                .bearer_auth(token)
                .body(protocol::encode(request))
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.bytes().await.unwrap().to_vec(),
            )
        })
    }
}

/// Changes made on a copy of the server's document by a forged client writing as the device
/// `actor` (hex), as a rooted phone would.
pub fn forged(
    doc: &mut automerge::AutoCommit,
    actor: &str,
    edit: impl FnOnce(&mut automerge::AutoCommit),
) -> Vec<Vec<u8>> {
    let before = doc.get_heads();
    doc.set_actor(automerge::ActorId::try_from(actor).unwrap());
    edit(doc);
    doc.commit();
    doc.get_changes(&before)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// A new device id: 16 random bytes as hex, as a phone's automerge actor.
pub fn random_device() -> String {
    automerge::ActorId::from(rand::random::<[u8; 16]>()).to_hex_string()
}

/// Enrolls `device` for `user_id` over HTTP with a fresh code.
pub fn enroll_device(t: &Town, user_id: &str, device: &str) -> RawClient {
    let code = t.accounts.issue_code(user_id, chrono::Utc::now()).unwrap();
    RawClient::enroll(&t.server.url, &code, device, "另一台手机").unwrap()
}

/// The changes of a new, empty household `id` of `village`, written by a forged client as the
/// device `actor`.
pub fn new_household(actor: &str, id: &str, village: &str) -> Vec<Vec<u8>> {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT};
    forged(&mut automerge::AutoCommit::new(), actor, |doc| {
        doc.put(ROOT, "schema", 1).unwrap();
        let hh = doc.put_object(ROOT, "household", ObjType::Map).unwrap();
        doc.put(&hh, "id", id).unwrap();
        doc.put(&hh, "village_id", village).unwrap();
        doc.put(&hh, "group_name", "").unwrap();
        doc.put(&hh, "address", "x").unwrap();
        for key in ["members", "ledger", "jobs", "visits", "authors"] {
            doc.put_object(ROOT, key, ObjType::Map).unwrap();
        }
    })
}

/// A request of `device` from `position` pushing `changes` of `household`, asking for 64 KiB.
pub fn push_request(
    device: &str,
    position: Position,
    household: &str,
    changes: Vec<Vec<u8>>,
) -> SyncRequest {
    SyncRequest {
        device: device.to_string(),
        scope: vec![],
        position,
        push: vec![DocChanges {
            household_id: household.to_string(),
            changes,
        }],
        want_snapshots: vec![],
        budget: 1 << 16,
        pushes_seen: u64::MAX,
    }
}

/// `phone` records a visit and syncs it: stored, nothing refused, nothing left to push.
pub fn visit_and_sync(t: &Town, phone: &Arc<Store>) {
    use doorstep_core::{VisitOutcome, VisitRecord};
    let hh = phone.household_ids().unwrap()[1].clone();
    phone
        .record_visit(&hh, None, VisitRecord::new("入户走访", VisitOutcome::Met))
        .unwrap();
    let report = t.sync(phone).expect("the phone syncs");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(phone.sync_status().unwrap().pending_changes, 0);
}

/// The audit log has a row of `action` for `device` whose detail contains `needle`.
pub fn audited(t: &Town, device: &str, action: &str, needle: &str) {
    let log = t.accounts.audit_log().unwrap();
    assert!(
        log.iter()
            .any(|e| e.device_id == device && e.action == action && e.detail.contains(needle)),
        "no {action} row containing {needle:?} for {device} in the audit log"
    );
}

/// The object at `parent[key]`.
pub fn map(doc: &automerge::AutoCommit, parent: &automerge::ObjId, key: &str) -> automerge::ObjId {
    match doc.get(parent, key).unwrap() {
        Some((automerge::Value::Object(_), id)) => id,
        other => panic!("{key}: {other:?}"),
    }
}

/// A village-tier job (pension certification, at home) opened by phone `p` for `member`,
/// accepted with nothing missing; its id.
pub fn accepted_job(p: &Store, member: &str, urgency: doorstep_core::Urgency) -> String {
    use doorstep_core::{JobStep, NewJob, ServiceMode};
    let job = p
        .open_job(NewJob {
            member_id: member.to_string(),
            item_code: "pension-certification".into(),
            mode: ServiceMode::AtHome,
            urgency,
            note: String::new(),
            visit_id: None,
        })
        .unwrap();
    let accept = JobStep::Accept {
        missing_materials: vec![],
        supplement_deadline: None,
    };
    p.take_step(&job, accept, None).unwrap();
    job
}

/// Takes `step` on `job` with phone `p`; the new event's id.
pub fn take(p: &Store, job: &str, step: doorstep_core::JobStep) -> String {
    p.take_step(job, step, None).unwrap();
    p.job(job).unwrap().job.events.last().unwrap().id.clone()
}

/// The cancel step a person would take when the resident withdraws.
pub fn withdrawn() -> doorstep_core::JobStep {
    doorstep_core::JobStep::Cancel {
        reason: "群众撤回".into(),
    }
}

/// A town-tier job opened by phone `p` for the first member of `household`, accepted and
/// handed up, synced; and the town staff's phone, enrolled and synced. Returns (job, town).
pub fn handed_up_job(t: &Town, p: &Arc<Store>, household: &str) -> (String, Arc<Store>) {
    use doorstep_core::{JobStep, NewJob, ServiceMode, Urgency};
    let member = p.household(household).unwrap().members[0].id.clone();
    let job = p
        .open_job(NewJob {
            member_id: member,
            item_code: "social-security-card-application".into(),
            mode: ServiceMode::Proxy,
            urgency: Urgency::Amber,
            note: String::new(),
            visit_id: None,
        })
        .unwrap();
    for step in [
        JobStep::Accept {
            missing_materials: vec![],
            supplement_deadline: None,
        },
        JobStep::HandUp {
            carrier: "王建国".into(),
        },
    ] {
        p.take_step(&job, step, None).unwrap();
    }
    t.sync(p).unwrap();
    let town = t.enrolled_phone("town.db", &t.user(Role::TownStaff, "sanzhang"));
    t.sync(&town).unwrap();
    (job, town)
}

/// Every worksheet of an XLSX file, by name, as rows of cells.
pub fn read_xlsx(path: &std::path::Path) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).expect("an XLSX file");
    book.sheet_names()
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).expect("a worksheet");
            let rows = range.rows().map(<[calamine::Data]>::to_vec).collect();
            (name, rows)
        })
        .collect()
}
