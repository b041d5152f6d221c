//! Bad input over HTTP: garbage, a truncated body, an unknown protocol version, an oversized
//! body, changes that do not decode, and a document that breaks the schema. Each gets a clear
//! answer and leaves the server's state as it was.

mod common;

use automerge::transaction::Transactable;
use common::*;
use doorstep_core::sync::protocol::{
    self, AckStatus, DocChanges, MAX_BODY_BYTES, Position, SyncRequest, SyncResponse,
};
use doorstep_core::*;

fn request(push: Vec<DocChanges>) -> SyncRequest {
    SyncRequest {
        device: "forged-client".into(),
        scope: scope(),
        position: Position::Changes { cursors: vec![] },
        push,
        want_snapshots: vec![],
        budget: 1 << 16,
    }
}

/// A hand-made client with its own enrolled device ("forged-client").
fn forged_client(v: &Village, user_id: &str) -> doorstep_tests::RawClient {
    let accounts = doorstep_sync_server::storage::Storage::open(&v.data).unwrap();
    let code = accounts.issue_code(user_id, chrono::Utc::now()).unwrap();
    doorstep_tests::RawClient::enroll(&v.server.url, &code, "forged-client", "伪造客户端").unwrap()
}

#[test]
fn bad_bodies_get_clear_refusals_and_change_nothing() {
    let v = village();
    let data = &v.data;
    let http = forged_client(&v, &person(&v.town, Role::Agent).id);
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

    let good = protocol::encode(&request(vec![]));
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

    let undecodable = protocol::encode(&request(vec![DocChanges {
        household_id: "h1".into(),
        changes: vec![b"not an automerge change".to_vec()],
    }]));
    let (status, body) = http.post(undecodable);
    assert_eq!(status, 400);
    assert!(text(&body).contains("变更无法解析"), "{}", text(&body));
    assert_eq!(journal_shape(data), before, "nothing was stored");

    // A real automerge change that is not a household document: that household is refused,
    // the other household in the same push is stored.
    let mut bogus = automerge::AutoCommit::new();
    bogus.put(automerge::ROOT, "hello", "world").unwrap();
    bogus.commit();
    let a = &v.agent;
    v.sync(a);
    let hh = a.household_ids().unwrap()[0].clone();
    a.update_household(
        &hh,
        HouseholdPatch {
            group_name: Some("二组".into()),
            ..HouseholdPatch::default()
        },
    )
    .unwrap();
    let good_push = a.pending_pushes(1 << 20).unwrap().remove(0);
    let mixed = protocol::encode(&request(vec![
        DocChanges {
            household_id: "bogus".into(),
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
    ]));
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
    assert_eq!(
        journal_rows(data, "forged-client"),
        good_push.changes.len() as i64
    );
}
