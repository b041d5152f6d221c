//! Load tool: N simulated agents, each with its own phone store, syncing concurrently with a
//! sync server on loopback; reports syncs per second and latency percentiles.
//!
//! `cargo run --release -p doorstep-tests --bin doorstep-load -- --agents 50 --mode noop`
//! starts its own server (in this process) on a generated town; `--server URL --village ID…`
//! drives a server started elsewhere (for example `doorstep-sync-server demo`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use doorstep_core::sync::{CancellationToken, SyncConfig, sync};
use doorstep_core::{Role, Store, User, VisitOutcome, VisitRecord};
use doorstep_demo::DemoOptions;
use doorstep_sync_server::storage::Storage;
use doorstep_tests::{InProcessServer, enroll_phone, prepare_server_data};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    /// Syncs with nothing new on either side.
    Noop,
    /// Each sync pushes ten new changes (visits in ten households).
    Push10,
}

#[derive(Parser)]
#[command(about = "家门口办 同步服务器压力测试：多个模拟代办员并发同步")]
struct Args {
    /// Concurrent simulated agents.
    #[arg(long, default_value_t = 20)]
    agents: usize,
    /// What each sync carries.
    #[arg(long, value_enum, default_value = "noop")]
    mode: Mode,
    /// How long to drive load, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// At most this many syncs per agent.
    #[arg(long, default_value_t = 10_000)]
    max_syncs: usize,
    /// A server to drive (default: start one here on a generated town).
    #[arg(long)]
    server: Option<String>,
    /// Villages to spread the agents over (with --server).
    #[arg(long)]
    village: Vec<String>,
    /// The data directory of the server given with --server (to issue enrollment codes).
    #[arg(long)]
    data: Option<String>,
    /// Villages of the generated town (without --server).
    #[arg(long, default_value_t = 10)]
    villages: usize,
    /// Households per village of the generated town.
    #[arg(long, default_value_t = 100)]
    households: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let args = Args::parse();
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, villages, accounts, _server) = match &args.server {
        Some(url) => {
            let Some(data) = &args.data else {
                eprintln!(
                    "错误：用 --server 时请用 --data 指定该服务器的数据目录（用于发放登记码）"
                );
                std::process::exit(2);
            };
            let accounts = Arc::new(Storage::open(data).expect("server data"));
            (url.clone(), args.village.clone(), accounts, None)
        }
        None => {
            let options = DemoOptions {
                villages: args.villages,
                households_per_village: args.households,
                jobs_per_household: 2.0,
                ..DemoOptions::default()
            };
            eprintln!(
                "生成演示乡镇：{} 个村，每村 {} 户 …",
                args.villages, args.households
            );
            let data = dir.path().join("server");
            let (town, state) = prepare_server_data(&data.to_string_lossy(), &options);
            let villages = town.villages().map(|v| v.id.clone()).collect();
            let accounts = Arc::clone(&state.storage);
            let server = InProcessServer::start(state);
            (server.url.clone(), villages, accounts, Some(server))
        }
    };
    if villages.is_empty() {
        eprintln!("错误：请用 --village 指定至少一个村");
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    eprintln!("{} 个模拟代办员首次同步（下载各自的村）…", args.agents);
    let phones: Vec<(Arc<Store>, SyncConfig)> = (0..args.agents)
        .map(|n| {
            let village = villages[n % villages.len()].clone();
            let store =
                Arc::new(Store::open(dir.path().join(format!("phone-{n}.db"))).expect("phone"));
            let user = User {
                id: format!("load-agent-{n}"),
                name: format!("压测代办员{n}"),
                role: Role::Agent,
                region_ids: vec![village.clone()],
            };
            accounts.put_user(&user).expect("user");
            enroll_phone(&accounts, &url, &store, &user.id);
            let mut config = SyncConfig::new(&url);
            config.retries = 0;
            (store, config)
        })
        .collect();
    runtime.block_on(async {
        for (store, config) in &phones {
            sync(
                Arc::clone(store),
                config.clone(),
                None,
                CancellationToken::new(),
            )
            .await
            .expect("first sync");
        }
    });

    eprintln!("压测 {} 秒，模式 {:?} …", args.seconds, args.mode);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let results = runtime.block_on(async {
        let tasks: Vec<_> = phones
            .into_iter()
            .map(|(store, config)| {
                let (mode, max_syncs) = (args.mode, args.max_syncs);
                tokio::spawn(async move {
                    let ids = store.household_ids().expect("ids");
                    let mut latencies = Vec::new();
                    let mut errors = 0usize;
                    for round in 0..max_syncs {
                        if Instant::now() >= deadline {
                            break;
                        }
                        if let Mode::Push10 = mode {
                            let store = Arc::clone(&store);
                            let ids = ids.clone();
                            tokio::task::spawn_blocking(move || {
                                for k in 0..10 {
                                    let hh = &ids[(round * 10 + k) % ids.len()];
                                    let record = VisitRecord::new("压测走访", VisitOutcome::Met);
                                    store.record_visit(hh, None, record).expect("visit");
                                }
                            })
                            .await
                            .expect("edits");
                        }
                        let t = Instant::now();
                        match sync(
                            Arc::clone(&store),
                            config.clone(),
                            None,
                            CancellationToken::new(),
                        )
                        .await
                        {
                            Ok(_) => latencies.push(t.elapsed()),
                            Err(_) => errors += 1,
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut errors = 0;
        for task in tasks {
            let (latencies, e) = task.await.expect("agent task");
            all.extend(latencies);
            errors += e;
        }
        (all, errors)
    });
    let elapsed = started.elapsed();
    let (mut latencies, errors) = results;
    latencies.sort();
    println!(
        "agents {} mode {:?}: {} syncs in {:.1} s = {:.0} syncs/s, errors {}; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        args.agents,
        args.mode,
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        errors,
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.9).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}
