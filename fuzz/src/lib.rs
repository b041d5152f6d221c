//! Fuzz targets for what arrives from the network: a sync request as the server decodes and
//! merges it, an enrollment request as the server reads and checks it, and a document or
//! changes as a phone or the server loads them. Each target takes any bytes, must never panic,
//! and checks what it can of what it accepted (round trips, limits, the schema).
//!
//! `scripts/fuzz.sh` runs each under libFuzzer for a fixed time (the `fuzz-*` binaries, built
//! with the `libfuzzer` feature); the inputs that made a target fail are kept in
//! `fuzz/regressions/<target>/`, and `tests/regressions.rs` replays them in every test run.

use std::sync::OnceLock;

use automerge::ActorId;
use doorstep_core::access::{Writer, check_write};
use doorstep_core::document::{ApplyOutcome, Incoming};
use doorstep_core::sync::protocol::{
    self, EnrollRequest, MAX_CHANGES_PER_HOUSEHOLD, MAX_DEVICE_NAME_CHARS, MAX_PUSH_HOUSEHOLDS,
    MAX_WANTED_SNAPSHOTS, MIN_CHANGE_BYTES, SyncRequest, SyncResponse,
};
use doorstep_core::{HouseholdDoc, User};
use doorstep_demo::{DemoOptions, DemoTown};

/// A fuzz target: takes any bytes, panics only on a bug.
pub type Target = fn(&[u8]);

/// The targets by name, as `scripts/fuzz.sh` and the regression test name them.
pub const TARGETS: [(&str, Target); 3] = [
    ("sync_request", sync_request),
    ("enrollment", enrollment),
    ("received_document", received_document),
];

/// A sync request body as the server reads it: decoded within the protocol's limits, then each
/// pushed household's changes merged into an empty document and checked with the core's rules
/// for the village's agent. The same bytes are also decoded as a server's answer (what a phone
/// reads).
pub fn sync_request(data: &[u8]) {
    let _ = protocol::decode::<SyncResponse>(data);
    let Ok(request) = protocol::decode::<SyncRequest>(data) else {
        return;
    };
    assert!(request.push.len() <= MAX_PUSH_HOUSEHOLDS);
    assert!(request.want_snapshots.len() <= MAX_WANTED_SNAPSHOTS);
    for pushed in &request.push {
        assert!(pushed.changes.len() <= MAX_CHANGES_PER_HOUSEHOLD);
        assert!(pushed.changes.iter().all(|c| c.len() >= MIN_CHANGE_BYTES));
    }
    let again: SyncRequest = protocol::decode(&protocol::encode(&request)).expect("round trip");
    assert_eq!(again, request, "a decoded request encodes to itself");
    for pushed in request.push {
        let mut doc = HouseholdDoc::empty(ActorId::random());
        let incoming = vec![Incoming::Changes(pushed.changes)];
        merge_and_check(&mut doc, &pushed.household_id, incoming, None);
    }
}

/// An enrollment request body as the server reads it: parsed, then its fields checked.
pub fn enrollment(data: &[u8]) {
    let Ok(request) = EnrollRequest::from_json(data) else {
        return;
    };
    let code = request.normalised_code();
    assert!(
        code.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    );
    if request.check().is_ok() {
        assert_eq!(request.device.len(), 32);
        assert!(request.device_name.chars().count() <= MAX_DEVICE_NAME_CHARS);
        assert!(!request.device_name.chars().any(char::is_control));
    }
    let json = serde_json::to_vec(&request).expect("serialises");
    assert_eq!(
        EnrollRequest::from_json(&json).expect("round trip"),
        request
    );
}

/// A household's data as received: the first byte says how the rest is taken. Even: a whole
/// document (a snapshot), loaded and read under the schema, saved and loaded again. Odd: one
/// encoded change, merged into a real household's document and checked with the core's rules.
pub fn received_document(data: &[u8]) {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let Ok(mut doc) = HouseholdDoc::load(bytes, ActorId::random()) else {
            return;
        };
        let read = doc.read_with_conflicts();
        let heads = doc.heads();
        let mut again = HouseholdDoc::load(&doc.save(), ActorId::random()).expect("reloads");
        assert_eq!(again.heads(), heads, "a loaded document saves to itself");
        if let Ok((data, _)) = read {
            let id = data.household.id.clone();
            let mut empty = HouseholdDoc::empty(ActorId::random());
            let incoming = vec![Incoming::Document(Box::new(doc))];
            merge_and_check(&mut empty, &id, incoming, None);
        }
    } else {
        let base = &fixture().households[0];
        let mut doc = base.clone();
        let before = doc.read().expect("the fixture reads");
        let id = before.household.id.clone();
        let incoming = vec![Incoming::Changes(vec![bytes.to_vec()])];
        merge_and_check(&mut doc, &id, incoming, Some(&before));
    }
}

/// Merges what arrived into `doc` as the phone and the server do, and, when it merged, checks
/// the write with the core's rules for the fixture's agent.
fn merge_and_check(
    doc: &mut HouseholdDoc,
    household_id: &str,
    incoming: Vec<Incoming>,
    before: Option<&doorstep_core::HouseholdData>,
) {
    let old_heads = doc.heads();
    let (outcome, read) = doc.receive(household_id, incoming);
    let Some((after, _conflicts)) = read else {
        assert!(!outcome.is_applied(), "an applied merge is read");
        return;
    };
    assert!(matches!(outcome, ApplyOutcome::Applied { .. }));
    assert_eq!(
        after.household.id, household_id,
        "the merged document is that household"
    );
    let new_heads = doc.heads();
    let written: Vec<_> = new_heads
        .iter()
        .filter(|h| !old_heads.contains(h))
        .copied()
        .collect();
    let Ok(unseen) = doc.events_unseen_by(&written) else {
        return;
    };
    let agent = agent();
    let villages = vec![after.household.village_id.clone()];
    let writer = Writer {
        user: agent,
        actors: &[],
        villages: &villages,
    };
    let _ = check_write(&writer, before, &after, &unseen);
}

/// A small generated town: real household documents to merge into.
fn fixture() -> &'static DemoTown {
    static TOWN: OnceLock<DemoTown> = OnceLock::new();
    TOWN.get_or_init(|| {
        doorstep_demo::generate(&DemoOptions {
            villages: 1,
            households_per_village: 3,
            ..DemoOptions::default()
        })
        .expect("demo town")
    })
}

/// The fixture's first agent.
fn agent() -> &'static User {
    let town = fixture();
    &town
        .users
        .iter()
        .find(|u| u.user.role == doorstep_core::Role::Agent)
        .expect("an agent")
        .user
}

/// Starting inputs for each target, by target name: real requests, documents and changes of
/// the fixture town, each framed as the target reads it.
pub fn seeds() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let town = fixture();
    let mut docs: Vec<HouseholdDoc> = town.households.clone();
    // A visit recorded on the first household: changes the fixture does not have yet.
    let mut edited = docs[0].clone();
    let before = edited.heads();
    let ctx = doorstep_core::document::EditContext {
        user: agent(),
        at: chrono_now(),
    };
    let record = doorstep_core::VisitRecord::new("入户走访", doorstep_core::VisitOutcome::Met);
    edited
        .record_visit("fuzzseedvisit001", &record, ctx)
        .expect("record a visit");
    let new_changes = edited.changes_since(&before);

    let mut requests = Vec::new();
    for doc in docs.iter_mut().take(2) {
        let id = doc.household_id().expect("an id");
        let request = SyncRequest {
            device: "0123456789abcdef0123456789abcdef".into(),
            scope: vec![doc.read().expect("reads").household.village_id],
            position: protocol::Position::start(),
            push: vec![protocol::DocChanges {
                household_id: id,
                changes: doc.changes_since(&[]),
            }],
            want_snapshots: vec![],
            budget: 1 << 20,
            pushes_seen: 0,
        };
        requests.push(unpacked(protocol::encode(&request)));
    }
    let enrollments = [
        r#"{"code":"ABCD-EFGH","device":"0123456789abcdef0123456789abcdef","device_name":"李秀英的手机"}"#,
        r#"{"code":"abcd efgh","device":"0123456789ABCDEF0123456789abcdef","device_name":" "}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut documents: Vec<Vec<u8>> = docs
        .iter_mut()
        .map(|doc| [vec![0], doc.save()].concat())
        .collect();
    documents.extend(new_changes.iter().map(|c| [vec![1], c.clone()].concat()));
    vec![
        ("sync_request", requests),
        ("enrollment", enrollments),
        ("received_document", documents),
    ]
}

/// The fixture town's "now".
fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    let today = DemoOptions::default().today;
    today.and_hms_opt(10, 0, 0).expect("a time").and_utc()
}

/// A framed message with its payload stored, not deflated, so the fuzzer mutates the message
/// itself (the frame is `DS`, the version, a flags byte, then the payload; flag 1 = deflated).
fn unpacked(frame: Vec<u8>) -> Vec<u8> {
    use std::io::Read;
    if frame[3] & 1 == 0 {
        return frame;
    }
    let mut plain = Vec::new();
    flate2::read::DeflateDecoder::new(&frame[4..])
        .read_to_end(&mut plain)
        .expect("the encoder's own output inflates");
    [frame[..3].to_vec(), vec![0], plain].concat()
}
