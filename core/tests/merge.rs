//! Replicas editing the same household offline, then merging: different fields both survive,
//! the same field is listed as a conflict with every value and its author, contradicting job
//! steps are reported, and a device whose clock is years wrong merges to the same result.

mod common;

use common::*;
use doorstep_core::*;

struct Pair {
    _dir: tempfile::TempDir,
    agent: Store,
    head: Store,
    agent_path: std::path::PathBuf,
    head_path: std::path::PathBuf,
}

/// An agent's and a village head's phones holding the same household.
fn pair(head_clock: &str) -> (Pair, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let agent_path = temp_path(&dir, "agent.db");
    let head_path = temp_path(&dir, "head.db");
    let agent = store_at(&agent_path, agent(), at("2026-03-02T01:00:00Z"));
    let head = store_at(&head_path, common::head(), at(head_clock));
    let (hh, member) = elderly_household(&agent, "张桂兰", "13800138000");
    sync_into(&agent, &head);
    (
        Pair {
            _dir: dir,
            agent,
            head,
            agent_path,
            head_path,
        },
        hh,
        member,
    )
}

fn sync_both(p: &Pair) {
    sync_into(&p.agent, &p.head);
    sync_into(&p.head, &p.agent);
}

fn assert_identical(p: &Pair, hh: &str) {
    assert_eq!(p.agent.heads(hh).unwrap(), p.head.heads(hh).unwrap());
    assert_eq!(
        p.agent.household(hh).unwrap(),
        p.head.household(hh).unwrap()
    );
    assert_eq!(
        p.agent.conflicts(hh).unwrap(),
        p.head.conflicts(hh).unwrap()
    );
    assert_eq!(
        dump_projections(&p.agent_path),
        dump_projections(&p.head_path)
    );
}

fn set_phone(store: &Store, member: &str, phone: &str) {
    store
        .update_member(
            member,
            MemberPatch {
                phone: Some(phone.into()),
                ..MemberPatch::default()
            },
        )
        .unwrap();
}

#[test]
fn different_fields_merge_and_the_same_field_is_a_conflict_to_resolve() {
    let (p, hh, member) = pair("2026-03-02T02:00:00Z");
    // Offline on both phones.
    set_phone(&p.agent, &member, "13911112222");
    p.agent
        .update_household(
            &hh,
            HouseholdPatch {
                address: Some("三兴村三组12号（新房）".into()),
                ..HouseholdPatch::default()
            },
        )
        .unwrap();
    set_phone(&p.head, &member, "13733334444");
    p.head
        .update_member(
            &member,
            MemberPatch {
                add_tags: vec![SpecialTag::SeriouslyIll],
                ..MemberPatch::default()
            },
        )
        .unwrap();
    sync_both(&p);
    assert_identical(&p, &hh);

    let data = p.agent.household(&hh).unwrap();
    assert_eq!(data.household.address, "三兴村三组12号（新房）");
    assert!(data.members[0].tags.contains(&SpecialTag::SeriouslyIll));
    let conflicts = p.agent.conflicts(&hh).unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let c = &conflicts[0];
    assert_eq!(
        (c.entity, c.entity_id.as_str(), c.field.as_str()),
        (EntityKind::Member, member.as_str(), "phone")
    );
    assert_eq!(c.field_label, "电话");
    let mut seen: Vec<_> = c
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.author_name.as_deref(), v.author_role))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("13733334444", Some("王建国"), Some(Role::VillageHead)),
            ("13911112222", Some("李秀英"), Some(Role::Agent)),
        ]
    );
    assert_eq!(c.values.iter().filter(|v| v.current).count(), 1);
    let count: i64 = rusqlite::Connection::open(&p.agent_path)
        .unwrap()
        .query_row(
            "SELECT conflict_count FROM households WHERE id = ?1",
            [&hh],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 1);

    // The agent chooses the village head's number; the choice syncs like any change.
    let chosen = c.values.iter().find(|v| v.value == "13733334444").unwrap();
    p.agent
        .resolve_conflict(&hh, c.entity, &c.entity_id, &c.field, &chosen.value_id)
        .unwrap();
    assert_eq!(
        p.agent
            .resolve_conflict(&hh, c.entity, &c.entity_id, &c.field, &chosen.value_id),
        Err(CoreError::ConflictGone)
    );
    sync_both(&p);
    assert_identical(&p, &hh);
    assert!(p.head.conflicts(&hh).unwrap().is_empty());
    assert_eq!(
        p.head.household(&hh).unwrap().members[0].phone.as_deref(),
        Some("13733334444")
    );
}

/// Choosing the value currently shown is a real write: an edit made elsewhere at the same time
/// conflicts with the choice instead of replacing it without a trace. Checked for both values
/// (the one shown and the other), merged in both orders.
#[test]
fn a_settled_conflict_conflicts_with_a_concurrent_edit() {
    for pick_current in [true, false] {
        for settle_first in [true, false] {
            let (p, hh, member) = pair("2026-03-02T02:00:00Z");
            set_phone(&p.agent, &member, "13911112222");
            set_phone(&p.head, &member, "13733334444");
            sync_both(&p);
            let c = p.agent.conflicts(&hh).unwrap().remove(0);
            let chosen = c.values.iter().find(|v| v.current == pick_current).unwrap();
            // Apart again: the agent settles, the head (who saw both values) writes a third.
            p.agent
                .resolve_conflict(&hh, c.entity, &c.entity_id, &c.field, &chosen.value_id)
                .unwrap();
            assert!(p.agent.conflicts(&hh).unwrap().is_empty());
            set_phone(&p.head, &member, "13555556666");
            if settle_first {
                sync_into(&p.agent, &p.head);
                sync_into(&p.head, &p.agent);
            } else {
                sync_into(&p.head, &p.agent);
                sync_into(&p.agent, &p.head);
            }
            assert_identical(&p, &hh);
            let conflicts = p.head.conflicts(&hh).unwrap();
            assert_eq!(conflicts.len(), 1, "{pick_current} {settle_first}");
            let mut values: Vec<_> = conflicts[0]
                .values
                .iter()
                .map(|v| v.value.clone())
                .collect();
            values.sort();
            let mut expected = vec![chosen.value.clone(), "13555556666".to_string()];
            expected.sort();
            assert_eq!(values, expected, "{pick_current} {settle_first}");
        }
    }
}

/// The agent completes and delivers a village-tier job while the village head, offline,
/// cancels it. Returns the merged job id.
fn deliver_versus_cancel(p: &Pair, member: &str) -> String {
    let job = open_job(&p.agent, member, "pension-certification");
    p.agent.take_step(&job, accept(), None).unwrap();
    sync_both(p);
    for step in [
        JobStep::Complete {
            result: "认证成功".into(),
        },
        JobStep::Deliver {
            signed_by: "本人".into(),
        },
    ] {
        p.agent.take_step(&job, step, None).unwrap();
    }
    p.head
        .take_step(
            &job,
            JobStep::Cancel {
                reason: "老人说已经自己办了".into(),
            },
            None,
        )
        .unwrap();
    sync_both(p);
    job
}

#[test]
fn contradicting_job_steps_both_survive_and_are_flagged() {
    let (p, hh, member) = pair("2026-03-02T02:00:00Z");
    let job = deliver_versus_cancel(&p, &member);
    assert_identical(&p, &hh);
    let details = p.agent.job(&job).unwrap();
    assert_eq!(details.job.events.len(), 5, "no step is dropped");
    let steps: Vec<_> = details.job.events.iter().map(|e| e.step.kind()).collect();
    assert!(steps.contains(&JobStepKind::Deliver) && steps.contains(&JobStepKind::Cancel));
    // The merged order of the concurrent steps is automerge's (deterministic, from actor ids):
    // either the cancellation comes last and is flagged, or it comes first and the completion
    // and delivery after it are flagged. Either way nothing is hidden.
    let flagged: Vec<_> = details.progress.conflicts.iter().map(|c| c.step).collect();
    match details.progress.state {
        JobState::Delivered => assert_eq!(flagged, vec![JobStepKind::Cancel]),
        JobState::Cancelled => {
            assert_eq!(flagged, vec![JobStepKind::Complete, JobStepKind::Deliver])
        }
        other => panic!("unexpected state {other:?}"),
    }
    let count: i64 = rusqlite::Connection::open(&p.head_path)
        .unwrap()
        .query_row(
            "SELECT conflict_count FROM jobs WHERE id = ?1",
            [&job],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count as usize, flagged.len());

    // Town staff settle it on their device by voiding the step that did not happen.
    let dir = tempfile::tempdir().unwrap();
    let town = store_at(
        &temp_path(&dir, "town.db"),
        town_staff(),
        at("2026-03-05T02:00:00Z"),
    );
    sync_into(&p.agent, &town);
    let cancel = details
        .job
        .events
        .iter()
        .find(|e| e.step.kind() == JobStepKind::Cancel)
        .unwrap();
    let settled = town
        .take_step(
            &job,
            JobStep::Reconcile {
                void_event_ids: vec![cancel.id.clone()],
                note: "电话核实：已送达本人".into(),
            },
            None,
        )
        .unwrap();
    assert_eq!(settled.state, JobState::Delivered);
    assert!(settled.conflicts.is_empty());
    assert!(matches!(
        town.take_step(
            &job,
            JobStep::Reconcile {
                void_event_ids: vec!["no-such-event".into()],
                note: String::new(),
            },
            None
        ),
        Err(CoreError::NotFound { .. })
    ));
    sync_into(&town, &p.agent);
    assert_eq!(
        p.agent.job(&job).unwrap().progress.state,
        JobState::Delivered
    );
}

/// The job states and conflicts, without any timestamps.
fn outcome(store: &Store, hh: &str) -> Vec<(String, JobState, Vec<JobStepKind>, Vec<JobStepKind>)> {
    store
        .household(hh)
        .unwrap()
        .jobs
        .into_iter()
        .map(|j| {
            (
                j.job.item_code.clone(),
                j.progress.state,
                j.job.events.iter().map(|e| e.step.kind()).collect(),
                j.progress.conflicts.iter().map(|c| c.step).collect(),
            )
        })
        .collect()
}

#[test]
fn a_clock_years_wrong_merges_to_the_same_result() {
    let (right, hh_right, member_right) = pair("2026-03-02T02:00:00Z");
    deliver_versus_cancel(&right, &member_right);
    // The same story with the village head's phone stuck in 2009.
    let (wrong, hh_wrong, member_wrong) = pair("2009-01-01T00:00:00Z");
    deliver_versus_cancel(&wrong, &member_wrong);
    assert_identical(&wrong, &hh_wrong);
    let a = outcome(&right.agent, &hh_right);
    let b = outcome(&wrong.agent, &hh_wrong);
    assert_eq!(a.len(), 1);
    // Same steps, same derived state and the same kind of conflict flagged; the order of the
    // concurrent steps may differ (it comes from random actor ids), the result's shape does not.
    assert_eq!(a[0].0, b[0].0);
    assert_eq!(a[0].2.len(), b[0].2.len());
    assert!(!a[0].3.is_empty());
    assert!(!b[0].3.is_empty());
    let wrong_time = wrong
        .agent
        .job(&wrong.agent.household(&hh_wrong).unwrap().jobs[0].job.id)
        .unwrap()
        .job
        .events
        .iter()
        .any(|e| e.at.format("%Y").to_string() == "2009");
    assert!(
        wrong_time,
        "the wrong device time is kept for people to read"
    );
}

/// The same edits by the same devices, with one device's clock right or years wrong, give the
/// same derived states and conflicts: order and merge never look at timestamps.
#[test]
fn derived_state_does_not_depend_on_device_clocks() {
    fn run(head_time: &str) -> Vec<(String, JobState, Vec<JobStepKind>, Vec<JobStepKind>)> {
        let agent_actor = automerge::ActorId::from([1u8; 16]);
        let head_actor = automerge::ActorId::from([2u8; 16]);
        let (a_user, h_user) = (agent(), head());
        let a_ctx = |t: &str| document::EditContext {
            user: &a_user,
            at: at(t),
        };
        let h_ctx = document::EditContext {
            user: &h_user,
            at: at(head_time),
        };
        let input = NewHousehold {
            village_id: VILLAGE.into(),
            group_name: "三组".into(),
            address: "三兴村三组12号".into(),
            phone: None,
        };
        let t = "2026-03-02T01:00:00Z";
        let mut a = HouseholdDoc::create("hh", agent_actor, &input, a_ctx(t)).unwrap();
        let member = NewMember {
            name: "张桂兰".into(),
            ..NewMember::default()
        };
        a.add_member("m", &member, a_ctx(t)).unwrap();
        let job = NewJob {
            member_id: "m".into(),
            item_code: "pension-certification".into(),
            mode: ServiceMode::AtHome,
            urgency: Urgency::Amber,
            note: String::new(),
            visit_id: None,
        };
        a.add_job("j", "e0", &job, a_ctx(t)).unwrap();
        let accept = accept();
        a.take_step("j", "e1", &accept, None, a_ctx(t)).unwrap();
        let mut h = a.clone();
        h.set_actor(head_actor);
        let fork = a.heads();
        let complete = JobStep::Complete {
            result: "认证成功".into(),
        };
        a.take_step("j", "e2", &complete, None, a_ctx("2026-03-03T01:00:00Z"))
            .unwrap();
        let cancel = JobStep::Cancel {
            reason: "已自行办理".into(),
        };
        h.take_step("j", "e3", &cancel, None, h_ctx).unwrap();
        a.apply_changes(&h.changes_since(&fork)).unwrap();
        let data = a.read().unwrap();
        data.jobs
            .iter()
            .map(|j| {
                (
                    j.job.id.clone(),
                    j.progress.state,
                    j.job.events.iter().map(|e| e.step.kind()).collect(),
                    j.progress.conflicts.iter().map(|c| c.step).collect(),
                )
            })
            .collect()
    }
    let right = run("2026-03-03T02:00:00Z");
    assert_eq!(right, run("2009-01-01T00:00:00Z"));
    assert_eq!(right, run("2041-07-01T00:00:00Z"));
    assert_eq!(
        right[0].3.len(),
        1,
        "the contradiction is flagged: {right:?}"
    );
}
