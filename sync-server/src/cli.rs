//! The command line: `serve`, `demo`, and `sync-client` (a command-line phone).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use doorstep_core::sync::{CancellationToken, ProgressListener, SyncConfig, SyncProgress, sync};
use doorstep_core::{Store, StoreOptions};

use crate::{demo, http};

#[derive(Parser)]
#[command(name = "doorstep-sync-server", about = "家门口办 同步服务器")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 启动同步服务器。
    Serve {
        /// 监听地址。
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// 数据目录（一个 SQLite 文件，首次启动时创建）。
        #[arg(long, default_value = "./doorstep-data")]
        data: PathBuf,
    },
    /// 用演示乡镇启动同步服务器：生成村、户、台账和办件，几位代办员的离线修改已同步上来。
    Demo {
        /// 监听地址。
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// 数据目录。
        #[arg(long, default_value = "./doorstep-data")]
        data: PathBuf,
        /// 随机种子：相同的种子生成相同的乡镇。
        #[arg(long, default_value_t = 2025)]
        seed: u64,
    },
    /// 模拟一台代办员手机：与服务器同步一次本地库，并显示结果。
    SyncClient {
        /// 服务器地址。
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// 负责的村（可重复）。
        #[arg(long, required = true)]
        village: Vec<String>,
        /// 手机本地库文件。
        #[arg(long)]
        store: PathBuf,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(Cli::parse())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("错误：{message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve { listen, data } => {
            let store = open_server_store(&data)?;
            serve(listen, store).await
        }
        Command::Demo { listen, data, seed } => demo::run(listen, &data, seed).await,
        Command::SyncClient {
            server,
            village,
            store,
        } => sync_client(&server, village, &store).await,
    }
}

/// Opens (creating if needed) the server's journaled store in the data directory.
pub fn open_server_store(data: &Path) -> Result<Arc<Store>, String> {
    std::fs::create_dir_all(data)
        .map_err(|e| format!("无法创建数据目录 {}：{e}", data.display()))?;
    let path = data.join("server.db");
    let options = StoreOptions {
        journal: true,
        ..StoreOptions::default()
    };
    Store::open_with(&path, options)
        .map(Arc::new)
        .map_err(|e| format!("无法打开 {}：{e}", path.display()))
}

/// Binds and serves until SIGTERM or Ctrl-C.
async fn serve(listen: SocketAddr, store: Arc<Store>) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("无法监听 {listen}：{e}"))?;
    http::serve(listener, http::AppState { store })
        .await
        .map_err(|e| e.to_string())
}

/// Prints each round's progress as a line.
struct PrintProgress;

impl ProgressListener for PrintProgress {
    fn on_progress(&self, p: &SyncProgress) {
        println!(
            "  第 {} 轮：已发送 {} 户，已接收 {} 户（共约 {} 户），上行 {} 字节，下行 {} 字节",
            p.rounds,
            p.documents_sent,
            p.documents_received,
            p.documents_total,
            p.bytes_sent,
            p.bytes_received
        );
    }
}

async fn sync_client(server: &str, villages: Vec<String>, path: &Path) -> Result<(), String> {
    let store = Arc::new(Store::open(path).map_err(|e| e.to_string())?);
    println!("正在与 {server} 同步 {} …", path.display());
    let config = SyncConfig::new(server, villages.clone());
    let report = sync(
        Arc::clone(&store),
        config,
        Some(Arc::new(PrintProgress)),
        CancellationToken::new(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let status = store.sync_status().map_err(|e| e.to_string())?;
    println!(
        "同步完成：服务器保存 {} 户，拒收 {} 户；本机共 {} 户，待上传变更 {} 条",
        report.stored,
        report.rejected.len(),
        store.household_ids().map_err(|e| e.to_string())?.len(),
        status.pending_changes
    );
    for (household, reason) in &report.rejected {
        println!("  拒收 {household}：{reason}");
    }
    Ok(())
}
