//! The demo town generator: seeded, realistic, and valid under the core's own rules.

use doorstep_core::*;
use doorstep_demo::{DemoOptions, DemoTown, generate};

fn small(seed: u64) -> DemoOptions {
    DemoOptions {
        seed,
        villages: 2,
        households_per_village: 15,
        jobs_per_household: 2.0,
        ..DemoOptions::default()
    }
}

#[test]
fn the_same_seed_gives_the_same_town() {
    let mut a = generate(&small(7)).unwrap();
    let mut b = generate(&small(7)).unwrap();
    let mut c = generate(&small(8)).unwrap();
    assert_eq!(a.households.len(), 30);
    let bytes = |t: &mut DemoTown| {
        t.households
            .iter_mut()
            .map(|d| d.save())
            .collect::<Vec<_>>()
    };
    assert_eq!(bytes(&mut a), bytes(&mut b));
    assert_ne!(bytes(&mut a), bytes(&mut c));
    assert_eq!(a.users, b.users);
}

#[test]
fn a_town_has_special_groups_ledgers_jobs_in_every_state_and_conflicts() {
    let options = DemoOptions::default();
    let town = generate(&options).unwrap();
    assert_eq!(town.villages().count(), options.villages);
    assert!(town.user(Role::Agent, "sanzhang-v01").is_some());
    assert!(town.user(Role::TownStaff, "sanzhang").is_some());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("demo.db")).unwrap();
    let outcomes = store.import_documents(town.households.clone()).unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, ApplyOutcome::Applied { .. }))
    );

    let mut states = std::collections::BTreeSet::new();
    let mut conflicts = 0;
    let mut reminders = 0;
    for id in store.household_ids().unwrap() {
        let data = store.household(&id).unwrap();
        assert!(
            data.members.iter().any(|m| !m.tags.is_empty()),
            "special-group household"
        );
        for m in &data.members {
            if let Some(n) = &m.id_number {
                validate::id_number(n).unwrap();
            }
        }
        reminders += data.ledger.iter().filter(|l| l.is_reminder()).count();
        for j in &data.jobs {
            assert!(
                j.progress.conflicts.is_empty(),
                "generated steps follow the rules"
            );
            states.insert(j.progress.state);
        }
        conflicts += store.conflicts(&id).unwrap().len();
    }
    let missing: Vec<_> = JobState::ALL
        .iter()
        .filter(|s| !states.contains(s))
        .collect();
    assert!(missing.is_empty(), "states never reached: {missing:?}");
    assert!(conflicts > 0, "some concurrent edits are left to reconcile");
    assert!(reminders > options.villages * options.households_per_village / 2);
    let work = store
        .today_work(options.today, Some("sanzhang-v01"), 500)
        .unwrap();
    assert!(!work.is_empty());
    let figures = store
        .figures(
            "sanzhang-v01",
            options.today - chrono::Duration::days(120),
            options.today,
        )
        .unwrap();
    assert!(figures.jobs_opened > 50, "{figures:?}");
    assert!(figures.satisfaction_rate.is_some() && figures.on_time_rate.is_some());
    assert!(!store.search("桂兰", 50).unwrap().is_empty());
}
