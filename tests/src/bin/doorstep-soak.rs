//! Soak: many randomized schedules (see `doorstep_tests::scenario`): phones of two villages and
//! the town editing offline and syncing through a fault-injecting proxy, hub staff editing
//! through the server, the server killed and restarted, stores reopened. Prints what was done,
//! the faults injected by kind, and every failed schedule by kind with its seed (each one
//! reruns with `DOORSTEP_SEED=<seed> cargo test -p doorstep-tests --test random_sync`).
//!
//! `cargo build --release -p doorstep-tests && target/release/doorstep-soak --schedules 10000`

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::Parser;
use doorstep_tests::faults::Fault;
use doorstep_tests::scenario::{self, Failure, FailureKind, ScenarioOptions, ScenarioReport};

#[derive(Parser)]
#[command(about = "家门口办 长时间随机测试：大量随机日程，统计注入的故障、丢失和分歧")]
struct Args {
    /// Schedules to run.
    #[arg(long, default_value_t = 10_000)]
    schedules: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    start: u64,
    /// Schedules run at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Random steps per schedule.
    #[arg(long, default_value_t = 60)]
    steps: usize,
    /// Chance that an exchange gets a fault.
    #[arg(long, default_value_t = 0.2)]
    fault_rate: f64,
    /// The server executable (default: `test-sync-server` beside this program).
    #[arg(long)]
    server_exe: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    let exe = args.server_exe.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("this program")
            .with_file_name("test-sync-server")
    });
    let options = ScenarioOptions {
        steps: args.steps,
        fault_rate: args.fault_rate,
        ..ScenarioOptions::default()
    };
    let next = Arc::new(AtomicU64::new(args.start));
    let end = args.start + args.schedules;
    let total = Arc::new(Mutex::new((
        ScenarioReport::default(),
        Vec::<Failure>::new(),
    )));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.jobs.max(1))
        .map(|_| {
            let (next, total, exe, options) = (
                Arc::clone(&next),
                Arc::clone(&total),
                exe.clone(),
                options.clone(),
            );
            std::thread::spawn(move || {
                loop {
                    let seed = next.fetch_add(1, Ordering::SeqCst);
                    if seed >= end {
                        return;
                    }
                    let outcome = scenario::run(&exe, seed, &options);
                    let mut total = total.lock().unwrap_or_else(|p| p.into_inner());
                    match outcome {
                        Ok(report) => total.0.add(&report),
                        Err(failure) => {
                            eprintln!("FAILED {failure}");
                            total.1.push(failure);
                        }
                    }
                    let done = seed + 1 - args.start;
                    if done % 100 == 0 {
                        eprintln!(
                            "{done} schedules, {} failed, {:.0} s",
                            total.1.len(),
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker");
    }
    let (report, failures) = &*total.lock().unwrap_or_else(|p| p.into_inner());
    print_summary(&args, report, failures, started.elapsed().as_secs_f64());
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

fn print_summary(args: &Args, report: &ScenarioReport, failures: &[Failure], seconds: f64) {
    println!(
        "| schedules | seeds | steps each | time | edits on phones | hub staff edits | syncs | syncs failed under faults | server kills | store reopens | records checked at the end |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {} | {}–{} | {} | {:.0} min | {} | {} | {} | {} | {} | {} | {} |",
        args.schedules,
        args.start,
        args.start + args.schedules - 1,
        args.steps,
        seconds / 60.0,
        report.edits,
        report.hub_edits,
        report.syncs,
        report.failed_syncs,
        report.restarts,
        report.reopens,
        report.checked_facts
    );
    println!();
    println!("| exchange | count |");
    println!("| --- | --- |");
    for fault in Fault::ALL {
        println!(
            "| {fault:?} | {} |",
            report.faults.get(&fault).copied().unwrap_or(0)
        );
    }
    println!();
    let mut by_kind: BTreeMap<FailureKind, Vec<u64>> = BTreeMap::new();
    for failure in failures {
        by_kind.entry(failure.kind).or_default().push(failure.seed);
    }
    println!("| failed schedules | count | seeds |");
    println!("| --- | --- | --- |");
    for kind in [
        FailureKind::Lost,
        FailureKind::Diverged,
        FailureKind::Refused,
        FailureKind::Stuck,
        FailureKind::Other,
    ] {
        let seeds = by_kind.get(&kind).cloned().unwrap_or_default();
        let list: Vec<String> = seeds.iter().take(20).map(u64::to_string).collect();
        println!("| {kind:?} | {} | {} |", seeds.len(), list.join(", "));
    }
}
