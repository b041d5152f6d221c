//! Property: random concurrent edits on two or three replicas, exchanged in any order, give
//! identical documents, identical conflict lists and identical query tables everywhere.

mod common;

use common::*;
use doorstep_core::*;
use proptest::prelude::*;

/// One random action on one replica (errors from the rules are part of the game: a refused
/// step changes nothing).
#[derive(Debug, Clone)]
enum Op {
    SetPhone {
        replica: usize,
        n: u32,
    },
    SetAddress {
        replica: usize,
        n: u32,
    },
    AddTag {
        replica: usize,
        tag: usize,
    },
    RemoveTag {
        replica: usize,
        tag: usize,
    },
    AddReminder {
        replica: usize,
        days: u32,
    },
    MarkDone {
        replica: usize,
        line: usize,
        day: u32,
    },
    OpenJob {
        replica: usize,
        item: usize,
    },
    Step {
        replica: usize,
        job: usize,
        step: usize,
    },
    Visit {
        replica: usize,
    },
    Resolve {
        replica: usize,
        pick: usize,
    },
    Sync {
        from: usize,
        to: usize,
    },
}

fn op(replicas: usize) -> impl Strategy<Value = Op> {
    let r = 0..replicas;
    prop_oneof![
        1 => (r.clone(), 0..5u32).prop_map(|(replica, n)| Op::SetPhone { replica, n }),
        1 => (r.clone(), 0..3u32).prop_map(|(replica, n)| Op::SetAddress { replica, n }),
        1 => (r.clone(), 0..8usize).prop_map(|(replica, tag)| Op::AddTag { replica, tag }),
        1 => (r.clone(), 0..8usize).prop_map(|(replica, tag)| Op::RemoveTag { replica, tag }),
        1 => (r.clone(), 1..60u32).prop_map(|(replica, days)| Op::AddReminder { replica, days }),
        1 => (r.clone(), 0..4usize, 0..28u32).prop_map(|(replica, line, day)| Op::MarkDone { replica, line, day }),
        2 => (r.clone(), 0..4usize).prop_map(|(replica, item)| Op::OpenJob { replica, item }),
        6 => (r.clone(), 0..2usize, 0..STEPS).prop_map(|(replica, job, step)| Op::Step { replica, job, step }),
        1 => r.clone().prop_map(|replica| Op::Visit { replica }),
        1 => (r.clone(), 0..4usize).prop_map(|(replica, pick)| Op::Resolve { replica, pick }),
        3 => (r.clone(), r).prop_map(|(from, to)| Op::Sync { from, to }),
    ]
}

const ITEMS: [&str; 4] = [
    "pension-certification",
    "social-security-card-application",
    "disability-assistive-device",
    "minimum-living-allowance",
];
const STEPS: usize = 13;

fn step(n: usize) -> JobStep {
    match n {
        0 => accept(),
        1 => JobStep::HandUp {
            carrier: "王建国".into(),
        },
        2 => JobStep::TownAccept,
        3 => JobStep::Approve,
        4 => JobStep::Complete {
            result: "已办结".into(),
        },
        5 => JobStep::SignOutParcel,
        6 => JobStep::Deliver {
            signed_by: "本人".into(),
        },
        7 => JobStep::NobodyHome {
            reschedule_to: date(2026, 3, 9),
        },
        8 => JobStep::Rate {
            rating: Rating::Good,
            comment: String::new(),
        },
        9 => JobStep::Close,
        10 => JobStep::Cancel {
            reason: "撤回".into(),
        },
        11 => JobStep::Return {
            reason: "材料不全".into(),
        },
        _ => JobStep::Reject {
            reason: "不符合条件".into(),
        },
    }
}

struct Replica {
    store: Store,
    path: std::path::PathBuf,
}

fn apply(op: &Op, replicas: &[Replica], hh: &str) {
    let on = |r: usize| &replicas[r].store;
    let household = |r: usize| on(r).household(hh).unwrap();
    // Refused edits return typed errors and change nothing; the property is about merging.
    let _ = match op {
        Op::SetPhone { replica, n } => {
            let member = household(*replica).members[0].id.clone();
            on(*replica).update_member(
                &member,
                MemberPatch {
                    phone: Some(format!("1390000000{n}")),
                    ..MemberPatch::default()
                },
            )
        }
        Op::SetAddress { replica, n } => on(*replica).update_household(
            hh,
            HouseholdPatch {
                address: Some(format!("三兴村{n}组")),
                ..HouseholdPatch::default()
            },
        ),
        Op::AddTag { replica, tag } | Op::RemoveTag { replica, tag } => {
            let member = household(*replica).members[0].id.clone();
            let tags = vec![SpecialTag::ALL[*tag]];
            let patch = match op {
                Op::AddTag { .. } => MemberPatch {
                    add_tags: tags,
                    ..MemberPatch::default()
                },
                _ => MemberPatch {
                    remove_tags: tags,
                    ..MemberPatch::default()
                },
            };
            on(*replica).update_member(&member, patch)
        }
        Op::AddReminder { replica, days } => {
            let member = household(*replica).members[0].id.clone();
            on(*replica)
                .add_ledger_line(NewLedgerLine {
                    member_id: member,
                    title: "降压药更换".into(),
                    schedule: Schedule::EveryNDays {
                        days: *days,
                        first_due: date(2026, 3, 1),
                    },
                    urgency: Urgency::Amber,
                    note: String::new(),
                    visit_id: None,
                })
                .map(|_| ())
        }
        Op::MarkDone { replica, line, day } => {
            let lines = household(*replica).ledger;
            match lines.get(*line) {
                Some(l) => on(*replica).mark_reminder_done(&l.id, date(2026, 2, 1 + day)),
                None => Ok(()),
            }
        }
        Op::OpenJob { replica, item } => {
            let member = household(*replica).members[0].id.clone();
            on(*replica)
                .open_job(NewJob {
                    member_id: member,
                    item_code: ITEMS[*item].into(),
                    mode: ServiceMode::Help,
                    urgency: Urgency::Green,
                    note: String::new(),
                    visit_id: None,
                })
                .map(|_| ())
        }
        Op::Step {
            replica,
            job,
            step: n,
        } => {
            let jobs = household(*replica).jobs;
            let Some(j) = jobs.get(*job) else { return };
            // Pick among the steps this replica's user may take now, so that jobs move on.
            let item = doorstep_core::domain::catalogue::item(&j.job.item_code).unwrap();
            let role = on(*replica).current_user().unwrap().role;
            let mut valid: Vec<JobStep> = (0..STEPS)
                .map(step)
                .filter(|s| j.progress.check(item, role, s).is_ok())
                .collect();
            if let Some(c) = j.progress.conflicts.first() {
                valid.push(JobStep::Reconcile {
                    void_event_ids: vec![c.event_id.clone()],
                    note: "核实".into(),
                });
            }
            match valid.get(n % valid.len().max(1)) {
                Some(s) => on(*replica)
                    .take_step(&j.job.id, s.clone(), None)
                    .map(|_| ()),
                None => Ok(()),
            }
        }
        Op::Visit { replica } => on(*replica)
            .record_visit(hh, None, VisitRecord::new("走访", VisitOutcome::Met))
            .map(|_| ()),
        Op::Resolve { replica, pick } => {
            let conflicts = on(*replica).conflicts(hh).unwrap();
            match conflicts.first() {
                Some(c) => {
                    let v = &c.values[pick % c.values.len()];
                    on(*replica).resolve_conflict(hh, c.entity, &c.entity_id, &c.field, &v.value_id)
                }
                None => Ok(()),
            }
        }
        Op::Sync { from, to } => {
            if from != to {
                sync_into(on(*from), on(*to));
            }
            Ok(())
        }
    };
}

/// Roles of the replicas: an agent, a village head and town hub staff.
fn replicas(dir: &tempfile::TempDir, count: usize) -> Vec<Replica> {
    let users = [agent(), head(), town_staff()];
    (0..count)
        .map(|n| {
            let path = temp_path(dir, &format!("r{n}.db"));
            let clock = [
                "2026-03-02T01:00:00Z",
                "2019-06-01T00:00:00Z",
                "2026-03-04T09:00:00Z",
            ][n];
            Replica {
                store: store_at(&path, users[n].clone(), at(clock)),
                path,
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_whatever_the_edits_and_merge_order(
        count in 2..=3usize,
        ops in proptest::collection::vec(op(3), 1..40),
        order in Just(()).prop_perturb(|_, mut rng| {
            let mut pairs: Vec<(usize, usize)> = (0..3).flat_map(|a| (0..3).map(move |b| (a, b))).filter(|(a, b)| a != b).collect();
            for i in (1..pairs.len()).rev() {
                pairs.swap(i, rng.random_range(0..=i));
            }
            pairs
        }),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let reps = replicas(&dir, count);
        let (hh, _) = elderly_household(&reps[0].store, "张桂兰", "13800138000");
        for r in &reps[1..] {
            sync_into(&reps[0].store, &r.store);
        }
        for op in &ops {
            let valid = match op {
                Op::SetPhone { replica, .. } | Op::SetAddress { replica, .. } | Op::AddTag { replica, .. }
                | Op::RemoveTag { replica, .. } | Op::AddReminder { replica, .. } | Op::MarkDone { replica, .. }
                | Op::OpenJob { replica, .. } | Op::Step { replica, .. } | Op::Visit { replica }
                | Op::Resolve { replica, .. } => *replica < count,
                Op::Sync { from, to } => *from < count && *to < count,
            };
            if valid {
                apply(op, &reps, &hh);
            }
        }
        // Exchange everything, pair by pair, in the drawn order; twice is enough for everyone
        // to have everything.
        for _ in 0..2 {
            for (from, to) in order.iter().copied().filter(|(a, b)| *a < count && *b < count) {
                sync_into(&reps[from].store, &reps[to].store);
            }
        }
        let first = &reps[0];
        for other in &reps[1..] {
            prop_assert_eq!(first.store.heads(&hh).unwrap(), other.store.heads(&hh).unwrap());
            prop_assert_eq!(first.store.household(&hh).unwrap(), other.store.household(&hh).unwrap());
            prop_assert_eq!(first.store.conflicts(&hh).unwrap(), other.store.conflicts(&hh).unwrap());
            prop_assert_eq!(dump_projections(&first.path), dump_projections(&other.path));
        }
    }
}
