//! Bad input over HTTP from an enrolled phone: garbage, a truncated body, an unknown protocol
//! version, an oversized body, changes that do not decode, and a document that breaks the
//! schema. Each gets a clear answer (per household where it can be) and leaves the server's
//! state as it was.

mod common;

use automerge::transaction::Transactable;
use common::*;
use doorstep_core::sync::protocol::{
    self, AckStatus, DocChanges, MAX_BODY_BYTES, Position, SyncRequest, SyncResponse,
};
use doorstep_core::*;

fn request(device: &str, push: Vec<DocChanges>) -> SyncRequest {
    SyncRequest {
        device: device.into(),
        scope: scope(),
        position: Position::Changes { cursors: vec![] },
        push,
        want_snapshots: vec![],
        budget: 1 << 16,
        pushes_seen: u64::MAX,
    }
}

#[test]
fn bad_bodies_get_clear_refusals_and_change_nothing() {
    let v = village();
    let data = &v.data;
    let a = &v.agent;
    v.sync(a);
    let http = doorstep_tests::RawClient::of_phone(&v.server.url, a);
    let device = http.device.clone();
    assert_eq!(http.get("/healthz"), (200, "ok".to_string()));
    let before = journal_shape(data);
    let text = |body: &[u8]| String::from_utf8_lossy(body).into_owned();

    let (status, body) = http.post(b"hello, server".to_vec());
    assert_eq!(status, 400);
    assert!(
        text(&body).contains("不是家门口办同步数据"),
        "{}",
        text(&body)
    );

    let good = protocol::encode(&request(&device, vec![]));
    let (status, body) = http.post(good[..good.len() - 3].to_vec());
    assert_eq!(status, 400);
    assert!(text(&body).contains("不完整"), "{}", text(&body));

    let mut future = good.clone();
    future[2] = 7;
    let (status, body) = http.post(future);
    assert_eq!(status, 400);
    assert!(
        text(&body).contains("协议版本 7 不受支持"),
        "{}",
        text(&body)
    );

    let (status, body) = http.post(vec![b'D'; MAX_BODY_BYTES + 1]);
    assert_eq!(status, 413);
    assert!(text(&body).contains("过大"), "{}", text(&body));

    // Bytes that are not an automerge change: that household is refused, nothing is stored.
    let undecodable = request(
        &device,
        vec![DocChanges {
            household_id: "2222222222222222".into(),
            changes: vec![b"not an automerge change".to_vec()],
        }],
    );
    let answer = http.exchange(&undecodable).unwrap();
    assert!(
        matches!(&answer.acks[0].status, AckStatus::Rejected { reason } if reason.contains("变更无法解析")),
        "{answer:?}"
    );
    assert_eq!(journal_shape(data), before, "nothing was stored");

    // A real automerge change of this device that is not a household document: that household
    // is refused, the other household in the same push is stored.
    let actor = automerge::ActorId::try_from(device.as_str()).unwrap();
    let mut bogus = automerge::AutoCommit::new().with_actor(actor);
    bogus.put(automerge::ROOT, "hello", "world").unwrap();
    bogus.commit();
    let hh = a.household_ids().unwrap()[0].clone();
    a.update_household(
        &hh,
        HouseholdPatch {
            group_name: Some("二组".into()),
            ..HouseholdPatch::default()
        },
    )
    .unwrap();
    let good_push = a.pending_pushes(1 << 20, usize::MAX).unwrap().remove(0);
    let mixed = protocol::encode(&request(
        &device,
        vec![
            DocChanges {
                household_id: "3333333333333333".into(),
                changes: bogus
                    .get_changes(&[])
                    .iter()
                    .map(|c| c.raw_bytes().to_vec())
                    .collect(),
            },
            DocChanges {
                household_id: good_push.household_id.clone(),
                changes: good_push.changes.clone(),
            },
        ],
    ));
    let (status, body) = http.post(mixed);
    assert_eq!(status, 200);
    let response: SyncResponse = protocol::decode(&body).unwrap();
    assert!(
        matches!(&response.acks[0].status, AckStatus::Rejected { reason } if reason.contains("格式"))
    );
    assert_eq!(response.acks[1].status, AckStatus::Stored);
    assert_eq!(
        journal_shape(data).0,
        before.0 + good_push.changes.len() as i64
    );
    assert_eq!(journal_rows(data, &device), good_push.changes.len() as i64);
}
