//! Load tool: measures the sync server, not the phones. It writes a generated town into the
//! server's database, enrolls many devices, prepares every request body before the clock
//! starts (no-op syncs at the journal's head, or pushes of ten households' new visits, each
//! device's pushes following on from its previous ones), then starts the server as its own
//! process pinned to one core, pins itself to the other, and drives the server with all
//! devices at once for a while. It reports requests per second and latency percentiles.
//!
//! `cargo build --release -p doorstep-tests` then
//! `target/release/doorstep-load --mode noop --devices 50` (SQLite in a temporary folder), or
//! with `--data postgres://…` for PostgreSQL.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::ActorId;
use chrono::Utc;
use clap::{Parser, ValueEnum};
use doorstep_core::document::EditContext;
use doorstep_core::sync::protocol::{self, DocChanges, Position, SyncRequest, TownCursor};
use doorstep_core::{HouseholdDoc, Role, User, VisitOutcome, VisitRecord};
use doorstep_demo::DemoOptions;
use doorstep_sync_server::storage::{Scope, Storage, journal};
use doorstep_tests::{RawClient, ServerProcess, prepare_server_data};

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Mode {
    /// Syncs with nothing new on either side.
    Noop,
    /// Each request pushes a new visit in each of ten households.
    Push10,
}

#[derive(Parser)]
#[command(about = "家门口办 同步服务器压力测试：请求体预先生成，服务器与压测程序各占一个核")]
struct Args {
    /// What each request carries.
    #[arg(long, value_enum, default_value = "noop")]
    mode: Mode,
    /// Devices sending at once.
    #[arg(long, default_value_t = 50)]
    devices: usize,
    /// How long to drive load, in seconds (push mode also stops when the prepared pushes run out).
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Pushes prepared per device (push mode).
    #[arg(long, default_value_t = 80)]
    pushes: usize,
    /// The server's database: a folder (SQLite; default a temporary one) or a postgres:// URL.
    #[arg(long)]
    data: Option<String>,
    /// Villages of the generated town.
    #[arg(long, default_value_t = 10)]
    villages: usize,
    /// Households per village.
    #[arg(long, default_value_t = 100)]
    households: usize,
    /// The server executable (default: `test-sync-server` beside this program).
    #[arg(long)]
    server_exe: Option<PathBuf>,
    /// The core the server runs on.
    #[arg(long, default_value_t = 0)]
    server_core: usize,
    /// The core this program runs on.
    #[arg(long, default_value_t = 1)]
    client_core: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Pins a process (all its threads) to one core with `taskset`.
fn pin(pid: u32, core: usize) {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", &core.to_string(), &pid.to_string()])
        .stdout(Stdio::null())
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("警告：无法把进程 {pid} 固定到核 {core}（需要 taskset）");
    }
}

/// One device: its token and the bodies it will send, in order.
struct Device {
    token: String,
    bodies: Vec<Vec<u8>>,
}

/// A device id: 16 random bytes, as a phone's automerge actor.
fn device_id() -> ActorId {
    ActorId::from(rand::random::<[u8; 16]>())
}

fn main() {
    let args = Args::parse();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| dir.path().join("server").to_string_lossy().into_owned());
    let options = DemoOptions {
        villages: args.villages,
        households_per_village: args.households,
        jobs_per_household: 2.0,
        ..DemoOptions::default()
    };
    eprintln!(
        "写入演示乡镇：{} 个村，每村 {} 户 → {data}",
        args.villages, args.households
    );
    let (town, state) = prepare_server_data(&data, &options);
    let storage = Arc::clone(&state.storage);
    drop(state);
    let exe = args.server_exe.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .expect("this program")
            .with_file_name("test-sync-server")
    });
    // Every simulated phone connects from loopback: loopback stands for the town's TLS front,
    // whose connections are not capped per address.
    let front = ["--trusted-front", "127.0.0.1"];
    let server = ServerProcess::start_on(&exe, &data, Some(args.server_core), &front);
    pin(std::process::id(), args.client_core);

    let villages: Vec<String> = town.villages().map(|v| v.id.clone()).collect();
    let mut docs: HashMap<String, Vec<HouseholdDoc>> = HashMap::new();
    for doc in &town.households {
        let village = doc.read().expect("demo household").household.village_id;
        docs.entry(village).or_default().push(doc.clone());
    }
    eprintln!("登记 {} 台设备并预先生成请求体 …", args.devices);
    let devices: Vec<Device> = (0..args.devices)
        .map(|n| {
            let village = villages[n % villages.len()].clone();
            let user = User {
                id: format!("load-agent-{n}"),
                name: format!("压测代办员{n}"),
                role: Role::Agent,
                region_ids: vec![village.clone()],
            };
            storage.put_user(&user).expect("user");
            let actor = device_id();
            let code = storage.issue_code(&user.id, Utc::now()).expect("code");
            let raw = RawClient::enroll(&server.url, &code, &actor.to_hex_string(), "压测设备")
                .expect("enroll");
            let bodies = match args.mode {
                Mode::Noop => vec![noop_body(&storage, &raw.device, &village)],
                Mode::Push10 => {
                    let mut mine = docs[&village].clone();
                    push_bodies(&mut mine, &actor, &user, args.pushes)
                }
            };
            Device {
                token: raw.token,
                bodies,
            }
        })
        .collect();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.devices)
        .build()
        .expect("client");
    let url = format!("{}{}", server.url, protocol::SYNC_PATH);
    eprintln!("压测 {} 秒，模式 {:?} …", args.seconds, args.mode);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let (mut latencies, errors) = runtime.block_on(async {
        let tasks: Vec<_> = devices
            .into_iter()
            .map(|device| {
                let (client, url, mode) = (client.clone(), url.clone(), args.mode);
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut errors = 0usize;
                    for n in 0.. {
                        if Instant::now() >= deadline {
                            break;
                        }
                        let body = match mode {
                            Mode::Noop => &device.bodies[0],
                            Mode::Push10 => match device.bodies.get(n) {
                                Some(body) => body,
                                None => break,
                            },
                        };
                        let t = Instant::now();
                        let ok = match client
                            .post(&url)
                            .bearer_auth(&device.token)
                            .body(body.clone())
                            .send()
                            .await
                        {
                            Ok(response) => {
                                let ok = response.status().is_success();
                                ok && response.bytes().await.is_ok()
                            }
                            Err(_) => false,
                        };
                        if ok {
                            latencies.push(t.elapsed());
                        } else {
                            errors += 1;
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut errors = 0;
        for task in tasks {
            let (latencies, e) = task.await.expect("device task");
            all.extend(latencies);
            errors += e;
        }
        (all, errors)
    });
    let elapsed = started.elapsed();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{:?} on {}: {} devices, {} requests in {:.1} s = {:.0} requests/s, errors {}; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        args.mode,
        if data.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        args.devices,
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        errors,
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.9)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    drop(server);
    drop(storage);
}

/// A no-op sync of a device of `village`: at the head of its town's journal, nothing to push.
fn noop_body(storage: &Storage, device: &str, village: &str) -> Vec<u8> {
    let town = "sanzhang".to_string();
    let scope = Scope {
        villages: vec![village.to_string()],
        towns: vec![(town, vec![village.to_string()])],
    };
    let cursors: Vec<TownCursor> = storage
        .read(|conn| journal::heads(conn, &scope))
        .expect("journal heads");
    protocol::encode(&SyncRequest {
        device: device.to_string(),
        scope: vec![],
        position: Position::Changes { cursors },
        push: vec![],
        want_snapshots: vec![],
        budget: 256 * 1024,
        pushes_seen: u64::MAX,
    })
}

/// `count` pushes of one device, each a new visit in ten of its village's households, each
/// following on from the device's earlier ones. The pull part of each request asks for
/// nothing (its cursor is past the journal's end), so the figure is the push.
fn push_bodies(
    docs: &mut [HouseholdDoc],
    actor: &ActorId,
    user: &User,
    count: usize,
) -> Vec<Vec<u8>> {
    for doc in docs.iter_mut() {
        doc.set_actor(actor.clone());
    }
    let beyond = Position::Changes {
        cursors: vec![TownCursor {
            town: "sanzhang".into(),
            seq: i64::MAX as u64,
        }],
    };
    (0..count)
        .map(|round| {
            let push = (0..10)
                .map(|k| {
                    let doc = &mut docs[(round * 10 + k) % docs.len()];
                    let before = doc.heads();
                    let visit = format!("{}{round:04}{k}", &actor.to_hex_string()[..8]);
                    let ctx = EditContext {
                        user,
                        at: Utc::now(),
                    };
                    doc.record_visit(
                        &visit,
                        &VisitRecord::new("压测走访", VisitOutcome::Met),
                        ctx,
                    )
                    .expect("visit");
                    DocChanges {
                        household_id: doc.household_id().expect("id"),
                        changes: doc.changes_since(&before),
                    }
                })
                .collect();
            protocol::encode(&SyncRequest {
                device: actor.to_hex_string(),
                scope: vec![],
                position: beyond.clone(),
                push,
                want_snapshots: vec![],
                budget: 256 * 1024,
                pushes_seen: u64::MAX,
            })
        })
        .collect()
}
