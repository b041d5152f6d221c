//! Documents from the network that break the documented shape, received on a phone: nesting
//! far deeper than the shape, keys outside it, text objects. Each is refused with a reason and
//! nothing is stored; reading never recurses without a bound (checked on a thread with a
//! phone-sized stack).

mod common;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc};
use common::*;
use doorstep_core::*;

/// A phone's thread stack is small; 256 KiB is less than Android gives a background thread.
const SMALL_STACK: usize = 256 * 1024;

/// The changes of a household document as the phone's own, with `edit` made on top.
fn tampered(phone: &Store, household: &str, edit: impl FnOnce(&mut AutoCommit)) -> Vec<Vec<u8>> {
    let mut doc = AutoCommit::load(&phone.export_snapshot(household).unwrap()).unwrap();
    let heads = doc.get_heads();
    edit(&mut doc);
    doc.commit();
    doc.get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// An edit a tampering writer makes, named by what its refusal says.
type Tamper = (&'static str, Box<dyn FnOnce(&mut AutoCommit)>);

fn household_map(doc: &AutoCommit) -> automerge::ObjId {
    doc.get(ROOT, "household").unwrap().unwrap().1
}

#[test]
fn a_phone_refuses_what_breaks_the_shape_without_recursing() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "phone.db");
    let phone = store_at(&path, agent(), at("2026-03-02T01:00:00Z"));
    let (hh, _) = elderly_household(&phone, "张桂兰", "13800138000");
    let cases: Vec<Tamper> = vec![
        (
            "嵌套",
            Box::new(|d: &mut AutoCommit| {
                let mut obj = household_map(d);
                for _ in 0..5_000 {
                    obj = d.put_object(&obj, "a", ObjType::Map).unwrap();
                }
            }),
        ),
        (
            "文档格式之外的字段",
            Box::new(|d: &mut AutoCommit| {
                d.put(ROOT, "backdoor", 1).unwrap();
            }),
        ),
        (
            "文本对象",
            Box::new(|d: &mut AutoCommit| {
                let household = household_map(d);
                let text = d.put_object(&household, "phone", ObjType::Text).unwrap();
                d.splice_text(&text, 0, 0, "13800000000").unwrap();
            }),
        ),
    ];
    let heads = phone.heads(&hh).unwrap();
    for (expected, edit) in cases {
        let changes = tampered(&phone, &hh, edit);
        let phone_path = path.clone();
        let household = hh.clone();
        let outcome = std::thread::Builder::new()
            .stack_size(SMALL_STACK)
            .spawn(move || {
                let phone = Store::open(&phone_path).unwrap();
                phone
                    .apply_changes(vec![IncomingChanges {
                        household_id: household,
                        changes,
                    }])
                    .unwrap()
                    .remove(0)
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        match outcome {
            ApplyOutcome::Rejected { reason } => {
                assert!(reason.contains(expected), "{expected}: {reason}")
            }
            other => panic!("{expected}: {other:?}"),
        }
        assert_eq!(phone.heads(&hh).unwrap(), heads, "nothing was stored");
    }
    // The household reads as before.
    assert_eq!(phone.household(&hh).unwrap().members[0].name, "张桂兰");
}
