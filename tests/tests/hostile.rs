//! One lost, stolen or tampered phone cannot harm the town. Each test attacks a real server
//! process over HTTP as an enrolled device (a second device of the village agent, or a client
//! with no device), then shows the attack refused, the server still up, the honest phone's
//! sync unaffected, and a refusal row in the audit log.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc};
use common::*;
use doorstep_core::sync::protocol::{
    self, AckStatus, DocChanges, ENROLL_PATH, MAX_CHANGES_PER_HOUSEHOLD, MAX_OPS_PER_CHANGE,
    MAX_PUSH_OPS, MAX_WANTED_SNAPSHOTS, MIN_CHANGE_BYTES, Position, SyncRequest, SyncResponse,
    TownCursor,
};
use doorstep_core::*;
use doorstep_tests::RawClient;

/// An edit a rooted phone makes to its copy of a household, named by what its refusal says.
type Forgery<'a> = (&'static str, Box<dyn Fn(&mut AutoCommit) + 'a>);

/// A town with the agent's honest phone (synced) and a second device of the same agent: the
/// attacker, holding an enrolled account.
struct Scene {
    t: Town,
    agent: User,
    honest: Arc<Store>,
    attacker: RawClient,
}

fn scene() -> Scene {
    let t = two_villages();
    let agent = t.user(Role::Agent, VILLAGE);
    let honest = t.enrolled_phone("honest.db", &agent);
    t.sync(&honest).unwrap();
    let attacker = enroll_device(&t, &agent.id, &random_device());
    Scene {
        t,
        agent,
        honest,
        attacker,
    }
}

/// A position past the end of every journal: the answer carries nothing but acknowledgements.
fn beyond() -> Position {
    Position::Changes {
        cursors: vec![TownCursor {
            town: "sanzhang".into(),
            seq: 1 << 40,
        }],
    }
}

/// Pushes `changes` for `household` from `client`; the answer.
fn push(client: &RawClient, household: &str, changes: Vec<Vec<u8>>) -> SyncResponse {
    client
        .exchange(&push_request(&client.device, beyond(), household, changes))
        .unwrap()
}

/// The reason the first pushed household was refused for (panics if it was stored).
fn refused(answer: &SyncResponse) -> String {
    match &answer.acks[0].status {
        AckStatus::Rejected { reason } => reason.clone(),
        other => panic!("{} not refused: {other:?}", answer.acks[0].household_id),
    }
}

/// The server answers, the honest phone records a visit and syncs it, and the audit log has a
/// refusal for `device` whose detail contains `needle`.
fn unharmed(s: &Scene, device: &str, needle: &str) {
    still_serving(s);
    audited(&s.t, device, "refused", needle);
}

/// The server answers, and the honest phone records a visit and syncs it.
fn still_serving(s: &Scene) {
    let (status, body) = s.attacker.get("/healthz");
    assert_eq!((status, body.as_str()), (200, "ok"), "the server is up");
    visit_and_sync(&s.t, &s.honest);
}

/// The server's copy of `household`, writing as the attacker's device.
fn as_attacker(s: &Scene, household: &str) -> AutoCommit {
    let mut doc = s.t.server_doc(household);
    doc.set_actor(ActorId::try_from(s.attacker.device.as_str()).unwrap());
    doc
}

/// The changes `doc` made since `heads`.
fn changes_since(doc: &mut AutoCommit, heads: &[automerge::ChangeHash]) -> Vec<Vec<u8>> {
    doc.get_changes(heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

#[test]
fn a_deeply_nested_document_is_refused_and_the_server_stays_up() {
    let s = scene();
    let mut doc =
        AutoCommit::new().with_actor(ActorId::try_from(s.attacker.device.as_str()).unwrap());
    let mut obj = doc.put_object(ROOT, "household", ObjType::Map).unwrap();
    for _ in 0..300 {
        obj = doc.put_object(&obj, "a", ObjType::Map).unwrap();
    }
    doc.commit();
    let changes = changes_since(&mut doc, &[]);
    assert!(changes.iter().map(Vec::len).sum::<usize>() < 1_500);
    let reason = refused(&push(&s.attacker, "deephausehdd2222", changes));
    assert!(reason.contains("嵌套"), "{reason}");
    unharmed(&s, &s.attacker.device, "嵌套");
}

/// A town-tier job of the honest agent taken through the town's accept, approval and
/// completion; returns (household, job id).
fn approved_job(s: &Scene) -> (String, String) {
    let hh = s.honest.household_ids().unwrap()[0].clone();
    let (job, town) = handed_up_job(&s.t, &s.honest, &hh);
    for step in [
        JobStep::TownAccept,
        JobStep::Approve,
        JobStep::Complete {
            result: "已制卡".into(),
        },
    ] {
        town.take_step(&job, step, None).unwrap();
    }
    s.t.sync(&town).unwrap();
    s.t.sync(&s.honest).unwrap();
    (hh, job)
}

/// The job's events list and its events' JSON texts, in the attacker's copy.
fn events(doc: &AutoCommit, job: &str) -> (automerge::ObjId, Vec<String>) {
    let jobs = map(doc, &ROOT, "jobs");
    let j = map(doc, &jobs, job);
    let list = map(doc, &j, "events");
    let texts = (0..doc.length(&list))
        .map(|i| match doc.get(&list, i).unwrap().unwrap().0 {
            automerge::Value::Scalar(v) => v.as_str().unwrap().to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    (list, texts)
}

/// An event of the agent's, as a rooted phone would write it.
fn agent_event(agent: &User, id: &str, name: &str) -> String {
    serde_json::json!({
        "id": id,
        "step": {"step": "cancel", "reason": "群众撤回"},
        "by": {"user_id": agent.id, "user_name": name, "role": "agent"},
        "at": 0
    })
    .to_string()
}

#[test]
fn the_towns_decisions_cannot_be_forged() {
    let s = scene();
    let (hh, job) = approved_job(&s);
    let attempts: Vec<Forgery<'_>> = vec![
        (
            "办理记录",
            // The town's approval replaced by a copy of another event.
            Box::new(|d: &mut AutoCommit| {
                let (list, texts) = events(d, &job);
                let approve = texts.iter().position(|t| t.contains("approve")).unwrap();
                d.put(&list, approve, texts[approve - 1].clone()).unwrap();
            }),
        ),
        (
            "与登记的用户不符",
            // The town's accept, approval and completion copied into a new job.
            Box::new(|d: &mut AutoCommit| {
                let (_, texts) = events(d, &job);
                let jobs = map(d, &ROOT, "jobs");
                let old = map(d, &jobs, &job);
                let member = d.get(&old, "member_id").unwrap().unwrap().0.to_string();
                let copy = d
                    .put_object(&jobs, "capiedjab2345678", ObjType::Map)
                    .unwrap();
                d.put(&copy, "member_id", member.trim_matches('"')).unwrap();
                d.put(&copy, "item_code", "social-security-card-application")
                    .unwrap();
                d.put(&copy, "mode", "proxy").unwrap();
                d.put(&copy, "urgency", "amber").unwrap();
                d.put(&copy, "note", "").unwrap();
                let list = d.put_object(&copy, "events", ObjType::List).unwrap();
                for (n, text) in texts.iter().enumerate() {
                    d.insert(&list, n, text.clone()).unwrap();
                }
            }),
        ),
        (
            "不能更改事项或办理对象",
            // The job's item changed after the town decided it.
            Box::new(|d: &mut AutoCommit| {
                let jobs = map(d, &ROOT, "jobs");
                let j = map(d, &jobs, &job);
                d.put(&j, "item_code", "pension-certification").unwrap();
            }),
        ),
        (
            "插在办理记录中间",
            // A step of the agent's own inserted before the town's approval.
            Box::new(|d: &mut AutoCommit| {
                let (list, _) = events(d, &job);
                let agent = s.agent.clone();
                d.insert(
                    &list,
                    1,
                    agent_event(&agent, "insertedstep2222", &agent.name),
                )
                .unwrap();
            }),
        ),
        (
            "与登记的用户不符",
            // A new step whose displayed name is not the agent's.
            Box::new(|d: &mut AutoCommit| {
                let (list, texts) = events(d, &job);
                d.insert(
                    &list,
                    texts.len(),
                    agent_event(&s.agent, "renamedstep22222", "镇长"),
                )
                .unwrap();
            }),
        ),
    ];
    for (expected, forge) in attempts {
        let mut doc = as_attacker(&s, &hh);
        let heads = doc.get_heads();
        forge(&mut doc);
        doc.commit();
        let reason = refused(&push(&s.attacker, &hh, changes_since(&mut doc, &heads)));
        assert!(reason.contains(expected), "{expected}: {reason}");
        unharmed(&s, &s.attacker.device, expected);
    }
    // Hub staff see the household still refused to the attacker's device, with the last
    // reason; nothing is listed for the honest phone.
    let staff = s.t.user(Role::TownStaff, "sanzhang");
    let scope =
        s.t.accounts
            .read(|conn| doorstep_sync_server::storage::accounts::scope_of_user(conn, &staff))
            .unwrap();
    let listed = s.t.accounts.refused_devices(&scope).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (
            listed[0].device_id.as_str(),
            listed[0].latest_household.as_str(),
            listed[0].households
        ),
        (s.attacker.device.as_str(), hh.as_str(), 1)
    );
    assert!(
        listed[0].latest_reason.contains("与登记的用户不符"),
        "{listed:?}"
    );
    // The job on the server is what the town decided.
    let server = s.t.server_doc(&hh);
    let (_, texts) = events(&server, &job);
    assert_eq!(texts.len(), 6);
    assert!(texts[4].contains("approve") && texts[5].contains("complete"));
}

#[test]
fn an_enrollment_never_takes_over_another_users_device() {
    let s = scene();
    let victim = s.honest.device_actor();
    let head = s.t.user(Role::VillageHead, VILLAGE);
    let code =
        s.t.accounts
            .issue_code(&head.id, chrono::Utc::now())
            .unwrap();
    let taken = RawClient::enroll(&s.t.server.url, &code, &victim, "攻击者的手机");
    let (status, message) = taken.err().expect("refused");
    assert_eq!(status, 409);
    assert!(message.contains("另一位用户"), "{message}");
    audited(&s.t, &victim, "enroll-refused", "另一位用户");
    // The owner syncs on with its own token.
    still_serving(&s);
}

#[test]
fn changes_written_as_another_device_are_refused() {
    let s = scene();
    let hh = s.honest.household_ids().unwrap()[2].clone();
    let mut doc = s.t.server_doc(&hh);
    // The honest phone's actor: its next change number, taken first by the attacker.
    doc.set_actor(ActorId::try_from(s.honest.device_actor().as_str()).unwrap());
    let heads = doc.get_heads();
    let household = map(&doc, &ROOT, "household");
    doc.put(&household, "address", "被冒名修改的地址").unwrap();
    doc.commit();
    let reason = refused(&push(&s.attacker, &hh, changes_since(&mut doc, &heads)));
    assert!(reason.contains("不是本机写的"), "{reason}");
    // The owner's own next change to that household is stored.
    s.honest
        .update_household(
            &hh,
            HouseholdPatch {
                group_name: Some("三组".into()),
                ..HouseholdPatch::default()
            },
        )
        .unwrap();
    let report = s.t.sync(&s.honest).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    unharmed(&s, &s.attacker.device, "不是本机写的");
}

#[test]
fn documents_keep_their_shape_and_size() {
    let s = scene();
    let hh = s.honest.household_ids().unwrap()[3].clone();
    let victim = s.honest.writing_actor();
    let agent = s.agent.clone();
    // The honest phone has written to the household: its author record is there.
    s.honest
        .update_household(
            &hh,
            HouseholdPatch {
                group_name: Some("四组".into()),
                ..HouseholdPatch::default()
            },
        )
        .unwrap();
    s.t.sync(&s.honest).unwrap();
    // A visit id of another household of the village, copied.
    let taken = s
        .honest
        .household_ids()
        .unwrap()
        .iter()
        .filter(|other| **other != hh)
        .find_map(|other| s.honest.household(other).unwrap().visits.first().cloned())
        .expect("a visit elsewhere")
        .id;
    let attempts: Vec<Forgery<'_>> = vec![
        (
            "编号与其他户的记录重复",
            Box::new(|d: &mut AutoCommit| {
                let visits = map(d, &ROOT, "visits");
                let visit = d.put_object(&visits, taken.as_str(), ObjType::Map).unwrap();
                d.put(&visit, "purpose", "走访").unwrap();
                d.put(&visit, "notes", "").unwrap();
            }),
        ),
        (
            "文档格式之外的字段",
            Box::new(|d: &mut AutoCommit| {
                d.put(ROOT, "backdoor", "x").unwrap();
            }),
        ),
        (
            "单次修改过大",
            Box::new(|d: &mut AutoCommit| {
                let household = map(d, &ROOT, "household");
                for n in 0..250_000u32 {
                    d.put(&household, "group_name", i64::from(n % 7)).unwrap();
                }
            }),
        ),
        (
            "作者记录",
            // Deleting another device's author record.
            Box::new(|d: &mut AutoCommit| {
                let authors = map(d, &ROOT, "authors");
                d.delete(&authors, victim.as_str()).unwrap();
            }),
        ),
        (
            "作者记录",
            // Naming someone else as this device's author.
            Box::new(|d: &mut AutoCommit| {
                let authors = map(d, &ROOT, "authors");
                let me = d.get_actor().to_hex_string();
                let entry = d.put_object(&authors, me.as_str(), ObjType::Map).unwrap();
                d.put(&entry, "user_id", "town-staff-1").unwrap();
                d.put(&entry, "user_name", agent.name.as_str()).unwrap();
                d.put(&entry, "role", "town_staff").unwrap();
            }),
        ),
        (
            "作者记录",
            // An author record that is not a record.
            Box::new(|d: &mut AutoCommit| {
                let authors = map(d, &ROOT, "authors");
                let me = d.get_actor().to_hex_string();
                d.put(&authors, me.as_str(), "agent").unwrap();
            }),
        ),
        (
            "上限",
            Box::new(|d: &mut AutoCommit| {
                let household = map(d, &ROOT, "household");
                let noise: String = (0..1_200_000u64)
                    .map(|i| char::from(b'a' + (i.wrapping_mul(2_654_435_761) % 26) as u8))
                    .collect();
                d.put(&household, "address", noise).unwrap();
            }),
        ),
    ];
    for (expected, forge) in attempts {
        let mut doc = as_attacker(&s, &hh);
        let heads = doc.get_heads();
        forge(&mut doc);
        doc.commit();
        let changes = changes_since(&mut doc, &heads);
        assert!(!changes.is_empty(), "{expected}");
        let reason = refused(&push(&s.attacker, &hh, changes));
        assert!(reason.contains(expected), "{expected}: {reason}");
        unharmed(&s, &s.attacker.device, expected);
    }
    // The household is still editable everywhere: the honest phone changes it and syncs.
    s.honest
        .update_household(
            &hh,
            HouseholdPatch {
                group_name: Some("五组".into()),
                ..HouseholdPatch::default()
            },
        )
        .unwrap();
    assert!(s.t.sync(&s.honest).unwrap().rejected.is_empty());
}

#[test]
fn the_cost_of_a_request_is_bounded_by_its_size() {
    let s = scene();
    let device = s.attacker.device.clone();
    let request = |push: Vec<DocChanges>, want: Vec<String>, budget: u32| SyncRequest {
        device: device.clone(),
        scope: vec![],
        position: beyond(),
        push,
        want_snapshots: want,
        budget,
        pushes_seen: u64::MAX,
    };
    // One household asked for whole many times: sent once, within the budget.
    let hh = s.honest.household_ids().unwrap()[0].clone();
    let answer = s
        .attacker
        .exchange(&request(
            vec![],
            vec![hh.clone(); MAX_WANTED_SNAPSHOTS],
            1 << 16,
        ))
        .unwrap();
    assert_eq!(answer.snapshots.len(), 1);
    // Too many households asked for, or pushed: refused whole, quickly.
    let too_many = request(vec![], vec![hh.clone(); MAX_WANTED_SNAPSHOTS + 1], 1 << 16);
    let (status, body) = s.attacker.post(protocol::encode(&too_many));
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let households = (0..protocol::MAX_PUSH_HOUSEHOLDS + 1)
        .map(|n| DocChanges {
            household_id: format!("h{n}"),
            changes: vec![vec![0x85; 16]],
        })
        .collect();
    assert_eq!(
        s.attacker
            .post(protocol::encode(&request(households, vec![], 1 << 16)))
            .0,
        400
    );
    // Millions of empty changes in a few kilobytes: refused while decoding, memory flat.
    let before = s.t.server.peak_memory();
    let empty = protocol::encode(&request(
        vec![DocChanges {
            household_id: hh.clone(),
            changes: vec![Vec::new(); 2_000_000],
        }],
        vec![],
        1 << 16,
    ));
    assert!(empty.len() < 64 * 1024, "{} bytes", empty.len());
    let started = Instant::now();
    let (status, body) = s.attacker.post(empty);
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert!(started.elapsed() < Duration::from_secs(5));
    let after = s.t.server.peak_memory();
    assert!(
        after < before + (64 << 20),
        "peak memory grew from {before} to {after} bytes"
    );
    // A few bytes each, spread over many households (about as many as 16 MiB can hold): the
    // whole message lists at most `MAX_MESSAGE_CHANGES`, and is refused once it lists more.
    let before = s.t.server.peak_memory();
    let spread = protocol::encode(&request(
        (0..36)
            .map(|n| DocChanges {
                household_id: format!("spread{n:010}"),
                changes: vec![vec![0x85; MIN_CHANGE_BYTES]; MAX_CHANGES_PER_HOUSEHOLD],
            })
            .collect(),
        vec![],
        1 << 16,
    ));
    assert!(spread.len() < 128 * 1024, "{} bytes", spread.len());
    let (status, body) = s.attacker.post(spread);
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let after = s.t.server.peak_memory();
    assert!(
        after < before + (64 << 20),
        "peak memory grew from {before} to {after} bytes"
    );
    unharmed(&s, &device, "超出上限");
}

#[test]
fn changes_are_measured_before_they_are_read() {
    let s = scene();
    let hh = s.honest.household_ids().unwrap()[0].clone();
    // `ops` operations alike in one change of a few hundred bytes.
    let alike = |ops: usize| {
        let mut doc = as_attacker(&s, &hh);
        let heads = doc.get_heads();
        for _ in 0..ops {
            doc.put_object(ROOT, "spare", ObjType::Map).unwrap();
        }
        doc.commit();
        let changes = changes_since(&mut doc, &heads);
        assert_eq!(changes.len(), 1);
        assert!(changes[0].len() < 1_000, "{} bytes", changes[0].len());
        changes.into_iter().next().unwrap()
    };
    let reason = refused(&push(
        &s.attacker,
        &hh,
        vec![alike(MAX_OPS_PER_CHANGE * 20)],
    ));
    assert!(reason.contains("单次修改过大"), "{reason}");
    // Copies of one change within the limit: read once (3,000 readings took 15 s before).
    let copies = vec![alike(MAX_OPS_PER_CHANGE); 3_000];
    let started = Instant::now();
    let reason = refused(&push(&s.attacker, &hh, copies));
    let took = started.elapsed();
    assert!(reason.contains("格式之外"), "{reason}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    unharmed(&s, &s.attacker.device, "单次修改过大");
}

#[test]
fn the_operations_of_a_push_and_of_a_household_are_bounded() {
    let s = scene();
    let hh = s.honest.household_ids().unwrap()[0].clone();
    let mut doc = as_attacker(&s, &hh);
    // `changes` changes of the most operations allowed each, few bytes in all (one field set
    // again and again).
    let heavy = |doc: &mut AutoCommit, changes: usize| {
        let heads = doc.get_heads();
        let household = map(doc, &ROOT, "household");
        for c in 0..changes {
            for i in 0..MAX_OPS_PER_CHANGE {
                let group = format!("{}组", (c + i) % 9 + 1);
                doc.put(&household, "group_name", group).unwrap();
            }
            doc.commit();
        }
        changes_since(doc, &heads)
    };
    let per_push = MAX_PUSH_OPS / MAX_OPS_PER_CHANGE;
    let before = s.t.server.peak_memory();
    let started = Instant::now();
    let within = heavy(&mut doc, per_push);
    let answer = push(&s.attacker, &hh, within);
    assert_eq!(answer.acks[0].status, AckStatus::Stored, "at the limit");
    let over = heavy(&mut doc, per_push + 1);
    let reason = refused(&push(&s.attacker, &hh, over));
    assert!(reason.contains("本次同步的修改过多"), "{reason}");
    // The refused changes were not kept: the same number again is within the request's limit,
    // but not within the household's.
    let mut doc = as_attacker(&s, &hh);
    let again = heavy(&mut doc, per_push);
    let reason = refused(&push(&s.attacker, &hh, again));
    assert!(reason.contains("修改记录将超过"), "{reason}");
    let elapsed = started.elapsed();
    let grown = s.t.server.peak_memory().saturating_sub(before);
    println!("three pushes of ~{MAX_PUSH_OPS} operations: {elapsed:?}, peak memory +{grown} bytes");
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    assert!(grown < 128 << 20, "peak memory grew by {grown} bytes");
    unharmed(&s, &s.attacker.device, "修改记录将超过");
}

#[test]
fn slow_clients_are_cut_off() {
    let s = scene();
    let address = s.t.server.url.trim_start_matches("http://").to_string();
    let mut slow = TcpStream::connect(&address).unwrap();
    slow.write_all(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 512];
    // The server closes the connection (maybe after a 408) once the header timeout passes.
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(20) {
        match slow.read(&mut buf) {
            Ok(0) | Err(_) => {
                closed = true;
                break;
            }
            Ok(_) => continue,
        }
    }
    assert!(closed, "a client sending headers slowly is cut off");
    assert!(started.elapsed() < Duration::from_secs(15));
    // Meanwhile everyone else is served.
    assert!(s.t.sync(&s.honest).is_ok());
}

#[test]
fn enrollment_cannot_be_guessed_or_abused() {
    let t = two_villages();
    let agent = t.user(Role::Agent, VILLAGE);
    let good = t
        .accounts
        .issue_code(&agent.id, chrono::Utc::now())
        .unwrap();
    // A bad device id gets the same answer with a valid code as with a wrong one.
    let bad_device = |code: &str| RawClient::enroll(&t.server.url, code, "my-phone", "手机");
    let with_good = bad_device(&good).err().unwrap();
    let with_wrong = bad_device("AAAA-AAAA").err().unwrap();
    assert_eq!(with_good, with_wrong);
    assert_eq!(with_good.0, 400);
    // A name of 30 KB is refused.
    let long = "名".repeat(10_000);
    let (status, _) = RawClient::enroll(&t.server.url, &good, &random_device(), &long)
        .err()
        .unwrap();
    assert!(status == 400 || status == 413, "{status}");
    // The code is not stored as a plain hash of itself.
    let plain = {
        use sha2::Digest;
        sha2::Sha256::digest(good.replace('-', "").as_bytes()).to_vec()
    };
    let stored = t
        .accounts
        .read(|conn| {
            conn.query_int(
                "SELECT count(*) FROM enrollment_codes WHERE code_hash = $1",
                &[plain.as_slice().into()],
            )
        })
        .unwrap();
    assert_eq!(stored, 0);
    // Wrong codes are limited per address: after too many, even a valid code waits.
    let mut limited = false;
    for n in 0..30 {
        let wrong = format!("ZZZZ-{n:04}");
        match RawClient::enroll(&t.server.url, &wrong, &random_device(), "手机") {
            Err((429, message)) => {
                assert!(message.contains("秒后再试"), "{message}");
                limited = true;
                break;
            }
            Err((401, _)) => {}
            other => panic!("{:?}", other.err()),
        }
    }
    assert!(limited, "wrong codes are limited");
    let (status, _) = RawClient::enroll(&t.server.url, &good, &random_device(), "手机")
        .err()
        .unwrap();
    assert_eq!(status, 429);
    let log = t.accounts.audit_log().unwrap();
    assert!(log.iter().filter(|e| e.action == "enroll-refused").count() >= 20);
    let (status, body) = raw_get(&t.server.url, "/healthz");
    assert_eq!((status, body.as_str()), (200, "ok"));
}

fn raw_get(url: &str, path: &str) -> (u16, String) {
    let client = RawClient::of_token(url, "", "");
    client.get(path)
}

#[test]
fn a_device_revoked_while_uploading_is_refused() {
    let s = scene();
    let hh = s.honest.household_ids().unwrap()[4].clone();
    let mut doc = as_attacker(&s, &hh);
    let heads = doc.get_heads();
    let household = map(&doc, &ROOT, "household");
    doc.put(&household, "group_name", "六组").unwrap();
    doc.commit();
    let body = protocol::encode(&SyncRequest {
        device: s.attacker.device.clone(),
        scope: vec![],
        position: beyond(),
        push: vec![DocChanges {
            household_id: hh.clone(),
            changes: changes_since(&mut doc, &heads),
        }],
        want_snapshots: vec![],
        budget: 1 << 16,
        pushes_seen: u64::MAX,
    });
    let address = s.t.server.url.trim_start_matches("http://").to_string();
    let mut upload = TcpStream::connect(&address).unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        protocol::SYNC_PATH,
        s.attacker.token,
        body.len()
    );
    upload.write_all(head.as_bytes()).unwrap();
    upload.write_all(&body[..body.len() / 2]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.t.accounts
        .revoke(&s.attacker.device, chrono::Utc::now())
        .unwrap();
    upload.write_all(&body[body.len() / 2..]).unwrap();
    let mut answer = String::new();
    upload
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while !answer.contains("\r\n\r\n") {
        let n = upload.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        answer.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let server = s.t.server_doc(&hh);
    let household = map(&server, &ROOT, "household");
    let group = server.get(&household, "group_name").unwrap().unwrap().0;
    assert_ne!(
        group.as_str(),
        Some("六组"),
        "nothing of the revoked device was stored"
    );
    unharmed(&s, &s.attacker.device, "已被注销");
    // The revoked phone keeps trying: refused every time, audited with back-off only.
    for _ in 0..60 {
        assert!(
            s.attacker
                .exchange(&SyncRequest {
                    device: s.attacker.device.clone(),
                    scope: vec![],
                    position: beyond(),
                    push: vec![],
                    want_snapshots: vec![],
                    budget: 1 << 16,
                    pushes_seen: u64::MAX,
                })
                .is_err()
        );
    }
    let audited = s.t.accounts.audit_log().unwrap();
    let rows = audited
        .iter()
        .filter(|e| e.device_id == s.attacker.device && e.detail.contains("已被注销"))
        .count();
    assert!(
        (1..=15).contains(&rows),
        "{rows} audit rows for a revoked phone"
    );
}

#[test]
fn refusals_leak_nothing_of_other_villages_and_repeats_are_answered() {
    let s = scene();
    let theirs = s.t.household_in(OTHER_VILLAGE);
    let other_name =
        s.t.town
            .villages()
            .find(|v| v.id == OTHER_VILLAGE)
            .unwrap()
            .name
            .clone();
    let mut doc = as_attacker(&s, &theirs);
    let heads = doc.get_heads();
    let household = map(&doc, &ROOT, "household");
    doc.put(&household, "address", "篡改").unwrap();
    doc.commit();
    let existing = refused(&push(&s.attacker, &theirs, changes_since(&mut doc, &heads)));
    // A new household claiming the other village gets the same answer.
    let fresh = "newhhuusehdd2222";
    let new = refused(&push(
        &s.attacker,
        fresh,
        new_household(&s.attacker.device, fresh, OTHER_VILLAGE),
    ));
    assert_eq!(existing, new);
    for secret in [OTHER_VILLAGE, other_name.as_str(), theirs.as_str()] {
        assert!(!existing.contains(secret), "{existing}");
    }
    // One household named twice in one push: answered for both, no server error.
    let mine = s.honest.household_ids().unwrap()[5].clone();
    let mut doc = as_attacker(&s, &mine);
    let heads = doc.get_heads();
    let household = map(&doc, &ROOT, "household");
    doc.put(&household, "group_name", "七组").unwrap();
    doc.commit();
    let changes = changes_since(&mut doc, &heads);
    let entry = DocChanges {
        household_id: mine.clone(),
        changes,
    };
    let answer = s
        .attacker
        .exchange(&SyncRequest {
            device: s.attacker.device.clone(),
            scope: vec![],
            position: beyond(),
            push: vec![entry.clone(), entry],
            want_snapshots: vec![],
            budget: 1 << 16,
            pushes_seen: u64::MAX,
        })
        .unwrap();
    assert_eq!(answer.acks.len(), 2);
    assert!(answer.acks.iter().all(|a| a.status == AckStatus::Stored));
    unharmed(&s, &s.attacker.device, "不在您负责的村");
}

#[test]
fn requests_without_a_device_are_refused_early() {
    let t = two_villages();
    let (status, _) = raw_get(&t.server.url, "/healthz");
    assert_eq!(status, 200);
    let client = RawClient::of_token(&t.server.url, "", "");
    let (status, _) = client.post(b"DS\x02\x00".to_vec());
    assert_eq!(status, 401);
    let (status, _) =
        RawClient::of_token(&t.server.url, "", "").post_to(ENROLL_PATH, b"{}".to_vec());
    assert_eq!(status, 400);
}
