//! A writer process killed (SIGKILL) in the middle of its writes: the store opens afterwards
//! with every document readable, query tables equal to a rebuild from the documents, and
//! every edit the writer reported as done still there.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use doorstep_core::*;

const CHILD_ENV: &str = "DOORSTEP_CRASH_CHILD";

/// The writer: runs only when started by the test below, and writes until it is killed.
#[test]
fn crash_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(&path).unwrap();
    store.sign_in(agent()).unwrap();
    let mut out = std::io::stdout();
    for n in 0.. {
        let (hh, member) = elderly_household(&store, "张桂兰", "13800138000");
        writeln!(out, "household {hh}").unwrap();
        out.flush().unwrap();
        let job = open_job(&store, &member, "pension-certification");
        store.take_step(&job, accept(), None).unwrap();
        writeln!(out, "accepted {job}").unwrap();
        out.flush().unwrap();
        for k in 0..40u32 {
            let visit = store
                .record_visit(
                    &hh,
                    None,
                    VisitRecord {
                        purpose: format!("第{n}户第{k}次走访"),
                        outcome: VisitOutcome::Met,
                        notes: "身体良好".into(),
                        location: None,
                    },
                )
                .unwrap();
            writeln!(out, "visit {hh} {visit}").unwrap();
            out.flush().unwrap();
        }
    }
}

#[test]
fn a_killed_writer_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "crash.db");
    let exe = std::env::current_exe().unwrap();
    let mut households = 0;
    for round in 0..5u64 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(400 + round * 170));
        child.kill().unwrap();
        child.wait().unwrap();
        let reported = reader.join().unwrap();
        assert!(
            reported.iter().any(|l| l.starts_with("visit")),
            "the writer got going before it was killed (round {round})"
        );

        let store = Store::open(&path).unwrap();
        let ids = store.household_ids().unwrap();
        for id in &ids {
            store.household(id).unwrap();
        }
        let before = dump_projections(&path);
        store.rebuild_projections().unwrap();
        assert_eq!(before, dump_projections(&path), "round {round}");
        for line in &reported {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["household", hh] => assert!(ids.contains(&hh.to_string())),
                ["accepted", job] => {
                    assert_eq!(store.job(job).unwrap().progress.state, JobState::Accepted)
                }
                ["visit", hh, visit] => assert!(
                    store
                        .household(hh)
                        .unwrap()
                        .visits
                        .iter()
                        .any(|v| v.id == *visit),
                    "visit {visit} reported done is kept"
                ),
                _ => {}
            }
        }
        assert!(ids.len() > households, "round {round} added households");
        households = ids.len();
    }
}
