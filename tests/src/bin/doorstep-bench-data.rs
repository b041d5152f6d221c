//! Writes a generated town of any size into a server's data folder (or PostgreSQL database),
//! for measuring what runs over a large town: `doorstep-sync-server admin export`, the
//! console's pages. The whole town is generated in memory, then written 500 households per
//! transaction.
//!
//! `cargo build --release -p doorstep-tests` then
//! `target/release/doorstep-bench-data --data /tmp/town --villages 50 --households 1000`.

use std::time::Instant;

use clap::Parser;
use doorstep_demo::{DemoOptions, generate};
use doorstep_sync_server::http::AppState;

#[derive(Parser)]
#[command(about = "生成指定规模的演示乡镇，写入服务器数据")]
struct Args {
    /// 数据位置（目录或 postgres:// 地址），应为空。
    #[arg(long)]
    data: String,
    /// 村数。
    #[arg(long, default_value_t = 50)]
    villages: usize,
    /// 每村户数。
    #[arg(long, default_value_t = 1000)]
    households: usize,
    /// 每户平均办件数。
    #[arg(long, default_value_t = 2.0)]
    jobs: f64,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let started = Instant::now();
    let options = DemoOptions {
        villages: args.villages,
        households_per_village: args.households,
        jobs_per_household: args.jobs,
        ..DemoOptions::default()
    };
    let town = generate(&options).map_err(|e| e.to_string())?;
    let state = AppState::open(&args.data, None)?;
    let storage = &state.storage;
    for region in &town.regions {
        storage.put_region(region).map_err(|e| e.to_string())?;
    }
    for person in &town.users {
        storage.put_user(&person.user).map_err(|e| e.to_string())?;
    }
    let jobs: usize = town
        .households
        .iter()
        .map(|d| d.read().map(|h| h.jobs.len()).unwrap_or(0))
        .sum();
    for (n, batch) in town.households.chunks(500).enumerate() {
        doorstep_sync_server::households::import(storage, batch, "demo")
            .map_err(|e| e.to_string())?;
        eprint!(
            "\r已写入 {} / {} 户",
            (n + 1) * batch.len(),
            town.households.len()
        );
    }
    eprintln!();
    println!(
        "{} 个村、{} 户、{} 件，用时 {:.0} 秒",
        args.villages,
        town.households.len(),
        jobs,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
