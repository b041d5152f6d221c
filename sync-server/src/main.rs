//! `doorstep-sync-server`: the sync server and hub console of Doorstep (家门口办).
//!
//! For now it has one command, `demo`, which writes a generated demo town to a store and
//! prints what it holds; serving sync comes with the sync work.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use doorstep_core::demo::{DemoOptions, generate};
use doorstep_core::{Role, Store};

#[derive(Parser)]
#[command(
    name = "doorstep-sync-server",
    about = "家门口办 同步服务器与镇便民服务中心控制台"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 生成演示乡镇（村、户、台账、办件）并写入数据目录。
    Demo {
        /// 数据目录。
        #[arg(long, default_value = "./doorstep-data")]
        data: PathBuf,
        /// 随机种子：相同的种子生成相同的乡镇。
        #[arg(long, default_value_t = 2025)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("错误：{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Demo { data, seed } => demo(&data, seed),
    }
}

fn demo(data: &std::path::Path, seed: u64) -> Result<(), String> {
    std::fs::create_dir_all(data)
        .map_err(|e| format!("无法创建数据目录 {}：{e}", data.display()))?;
    let path = data.join("demo-town.db");
    if path.exists() {
        return Err(format!(
            "{} 已存在；换一个 --data 目录，或先删除它",
            path.display()
        ));
    }
    let options = DemoOptions {
        seed,
        ..DemoOptions::default()
    };
    println!("正在生成演示乡镇（种子 {seed}）…");
    let town = generate(&options).map_err(|e| e.to_string())?;
    let store = Store::open(&path).map_err(|e| e.to_string())?;
    store
        .import_documents(town.households.clone())
        .map_err(|e| e.to_string())?;
    println!("已写入 {}", path.display());
    for village in town.villages() {
        let roster = store.roster(&village.id, &[]).map_err(|e| e.to_string())?;
        let work = store
            .today_work(options.today, Some(&village.id), 1000)
            .map_err(|e| e.to_string())?;
        let agent = town
            .user(Role::Agent, &village.id)
            .map(|u| u.user.name.as_str())
            .unwrap_or("-");
        println!(
            "  {}（{}）：特殊群体 {} 人，{} 今日待办 {} 项，代办员 {}",
            village.name,
            village.id,
            roster.len(),
            options.today,
            work.len(),
            agent
        );
    }
    let conflicts: usize = store
        .household_ids()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|id| store.conflicts(id).map(|c| c.len()).unwrap_or(0))
        .sum();
    println!("  待镇便民服务中心处理的冲突字段：{conflicts} 个");
    Ok(())
}
