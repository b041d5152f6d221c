//! Two agents of one village and the town hub edit the same households while apart (different
//! fields, the same field, contradicting job steps); after syncs in several orders every
//! replica holds identical documents and query tables, and the conflicts show every value.

mod common;

use std::sync::Arc;

use common::*;
use doorstep_core::*;
use doorstep_sync_server::households;

#[derive(Debug, Clone, Copy)]
enum Turn {
    /// The agent's phone syncs.
    Agent,
    /// The village head's phone syncs.
    Head,
    /// Hub staff edit the server's copy.
    Hub,
}

fn run(order: &[Turn]) {
    let mut v = village();
    let (a, b) = (Arc::clone(&v.agent), Arc::clone(&v.head));
    for p in [&a, &b] {
        v.sync(p);
        assert_eq!(p.household_ids().unwrap().len(), 12);
    }
    let hh = a.household_ids().unwrap()[0].clone();
    let data_a = a.household(&hh).unwrap();
    let member = data_a.members[0].id.clone();
    // A job both phones know, accepted.
    let job = accepted_job(&a, &member, Urgency::Red);
    v.sync(&a);
    v.sync(&b);

    // Apart: the agent changes the phone and delivers; the head changes the address, the same
    // phone, and cancels the job.
    let phone_patch = |n: &str| MemberPatch {
        phone: Some(n.into()),
        ..MemberPatch::default()
    };
    a.update_member(&member, phone_patch("13911112222"))
        .unwrap();
    a.take_step(
        &job,
        JobStep::Complete {
            result: "认证成功".into(),
        },
        None,
    )
    .unwrap();
    a.take_step(
        &job,
        JobStep::Deliver {
            signed_by: "本人".into(),
        },
        None,
    )
    .unwrap();
    b.update_household(
        &hh,
        HouseholdPatch {
            address: Some("三兴村一组8号（新）".into()),
            ..HouseholdPatch::default()
        },
    )
    .unwrap();
    b.update_member(&member, phone_patch("13733334444"))
        .unwrap();
    b.take_step(
        &job,
        JobStep::Cancel {
            reason: "老人说已自行办理".into(),
        },
        None,
    )
    .unwrap();

    // Hub staff edit the server's copy while it serves.
    let hub_edit = |v: &mut Village| {
        let storage = doorstep_tests::open_storage(&v.data).unwrap();
        let staff = person(&v.town, Role::TownStaff);
        households::edit(&storage, &staff, &hh, now(), |doc, ctx| {
            doc.update_member(&member, &phone_patch("13655556666"), ctx)?;
            doc.update_household(
                &HouseholdPatch {
                    group_name: Some("一组".into()),
                    ..HouseholdPatch::default()
                },
                ctx,
            )
        })
        .unwrap();
    };
    // The phone numbers still contested at the end: the hub's edit overrides the values it had
    // already received, and stands concurrently with the ones still on the phones.
    let (mut agent_synced, mut head_synced) = (false, false);
    let mut expected: Vec<(String, Option<Role>)> = vec![
        ("13911112222".into(), Some(Role::Agent)),
        ("13733334444".into(), Some(Role::VillageHead)),
    ];
    let mut hub_done = false;
    for turn in order {
        match turn {
            Turn::Agent => {
                v.sync(&a);
                agent_synced = true;
            }
            Turn::Head => {
                v.sync(&b);
                head_synced = true;
            }
            Turn::Hub if !hub_done => {
                hub_edit(&mut v);
                hub_done = true;
                expected.retain(|(_, role)| match role {
                    Some(Role::Agent) => !agent_synced,
                    _ => !head_synced,
                });
                expected.push(("13655556666".into(), Some(Role::TownStaff)));
            }
            Turn::Hub => {}
        }
    }
    expected.sort();
    // Everyone catches up.
    for p in [&a, &b, &a] {
        v.sync(p);
    }
    assert!(
        v.server.terminate().success(),
        "SIGTERM stops the server cleanly"
    );
    let hub = doorstep_tests::server_mirror(&v.data, &v.dir.path().join("mirror.db"));
    assert_eq!(
        doorstep_tests::server_tables(&v.data),
        a.dump_query_tables().unwrap(),
        "the server's own tables agree, {order:?}"
    );

    for id in a.household_ids().unwrap() {
        let expected = hub.household(&id).unwrap();
        assert_eq!(
            a.heads(&id).unwrap(),
            hub.heads(&id).unwrap(),
            "{order:?} {id}"
        );
        assert_eq!(
            b.heads(&id).unwrap(),
            hub.heads(&id).unwrap(),
            "{order:?} {id}"
        );
        assert_eq!(a.household(&id).unwrap(), expected);
        assert_eq!(b.household(&id).unwrap(), expected);
        assert_eq!(a.conflicts(&id).unwrap(), hub.conflicts(&id).unwrap());
        assert_eq!(b.conflicts(&id).unwrap(), hub.conflicts(&id).unwrap());
    }
    let tables = hub.dump_query_tables().unwrap();
    assert_eq!(a.dump_query_tables().unwrap(), tables, "{order:?}");
    assert_eq!(b.dump_query_tables().unwrap(), tables, "{order:?}");

    // Different fields both survive; the phone number is contested three ways.
    let merged = hub.household(&hh).unwrap();
    assert_eq!(merged.household.address, "三兴村一组8号（新）");
    assert_eq!(merged.household.group_name, "一组");
    let contested = hub
        .conflicts(&hh)
        .unwrap()
        .into_iter()
        .find(|c| c.entity_id == member && c.field == "phone");
    let mut values: Vec<_> = match &contested {
        Some(c) => c
            .values
            .iter()
            .map(|v| (v.value.clone(), v.author_role))
            .collect(),
        None => {
            let phone = merged.members[0].phone.clone().unwrap_or_default();
            vec![(phone, Some(Role::TownStaff))]
        }
    };
    values.sort();
    assert_eq!(values, expected, "{order:?}");
    assert!(expected.len() >= 2 || contested.is_none());
    // Delivered and cancelled: both steps kept, the contradiction flagged.
    let details = hub.job(&job).unwrap();
    let kinds: Vec<_> = details.job.events.iter().map(|e| e.step.kind()).collect();
    assert!(kinds.contains(&JobStepKind::Deliver) && kinds.contains(&JobStepKind::Cancel));
    assert!(!details.progress.conflicts.is_empty());
    // Nothing is left to push anywhere.
    for p in [&a, &b] {
        let status = p.sync_status().unwrap();
        assert_eq!(status.pending_changes, 0);
        assert!(status.last_error.is_none());
        assert!(status.last_success.is_some());
    }
}

#[test]
fn agents_first_then_hub() {
    run(&[Turn::Agent, Turn::Head, Turn::Hub, Turn::Agent]);
}

#[test]
fn hub_first_then_agents_in_reverse() {
    run(&[Turn::Hub, Turn::Head, Turn::Agent, Turn::Head]);
}

#[test]
fn interleaved() {
    run(&[Turn::Head, Turn::Hub, Turn::Agent, Turn::Head]);
}
