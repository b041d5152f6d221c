//! Randomized schedules over real HTTP (see `doorstep_tests::scenario`): six phones of two
//! villages and the town edit offline and sync at random while the server is killed and
//! restarted; at the end nothing is missing anywhere and replicas agree.
//!
//! `DOORSTEP_SCHEDULES=N` runs N schedules (default 200); `DOORSTEP_SEED=S` runs only seed S.
//! A failing seed is printed; keep it in `REGRESSION_SEEDS`.

mod common;

use doorstep_tests::scenario::{self, ScenarioOptions};

/// Seeds that once failed, run every time.
/// 22: an agent's step refused for good after its phone received another phone's concurrent
/// step on the same job (issue 21). 284, 432: a phone restored from an old copy never received
/// its own lost visit, left out of the later pages of a catch-up in small rounds.
const REGRESSION_SEEDS: &[u64] = &[22, 284, 432];

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("DOORSTEP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let count: u64 = std::env::var("DOORSTEP_SCHEDULES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    REGRESSION_SEEDS.iter().copied().chain(1..=count).collect()
}

#[test]
fn random_schedules_lose_nothing_and_converge() {
    run_schedules(&ScenarioOptions::default(), seeds());
}

/// Two server processes on one database (the PostgreSQL run shares a PostgreSQL database, the
/// SQLite run one file): phones sync with either at random and converge with nothing lost.
#[test]
fn two_server_processes_on_one_database_serve_the_same_phones() {
    let options = ScenarioOptions {
        servers: 2,
        ..ScenarioOptions::default()
    };
    run_schedules(&options, seeds().into_iter().take(8).collect());
}

fn run_schedules(options: &ScenarioOptions, seeds: Vec<u64>) {
    let exe = common::server_exe();
    let mut total = scenario::ScenarioReport::default();
    for seed in seeds {
        match scenario::run(&exe, seed, options) {
            Ok(report) => total.add(&report),
            Err(failure) => panic!("schedule failed (rerun with DOORSTEP_SEED={seed}): {failure}"),
        }
    }
    eprintln!("{total:?}");
    assert!(total.edits > 0 && total.restarts > 0 && total.checked_facts > 0);
}
