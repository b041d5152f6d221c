//! The command line: `serve`, `demo`, and `sync-client` (a command-line phone).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use doorstep_core::sync::{
    CancellationToken, ProgressListener, SyncConfig, SyncProgress, enroll, sync,
};
use doorstep_core::{Region, RegionTier, Role, Store, User};

use crate::http::AppState;
use crate::storage::{KEY_FILE_ENV, Storage};
use crate::{demo, http};

#[derive(Parser)]
#[command(name = "doorstep-sync-server", about = "家门口办 同步服务器")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the server's data is.
#[derive(Args)]
struct DataArgs {
    /// 数据位置：一个目录（其中的 SQLite 文件 server.db，首次启动时创建），或 PostgreSQL 地址 postgres://用户@主机:端口/数据库。
    #[arg(long, default_value = "./doorstep-data")]
    data: String,
    /// 服务器密钥文件（首次使用时生成；登记码只以它加密后的摘要保存）。SQLite 默认放在数据目录中；用 PostgreSQL 时必须指定，各服务器进程共用同一个文件。
    #[arg(long, env = KEY_FILE_ENV)]
    key_file: Option<PathBuf>,
}

impl DataArgs {
    fn open(&self) -> Result<AppState, String> {
        AppState::open(&self.data, self.key_file.as_deref())
    }
}

#[derive(Subcommand)]
enum Command {
    /// 启动同步服务器。
    Serve {
        /// 监听地址。
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        data: DataArgs,
        /// 受信任的 TLS 前置（反向代理）的地址：只有来自它的连接，才按其 X-Forwarded-For 头的最后一项认定客户端地址（用于失败次数限制和审计）；不设时一律用连接的地址。
        #[arg(long, env = "DOORSTEP_TRUSTED_FRONT")]
        trusted_front: Option<IpAddr>,
    },
    /// 用演示乡镇启动同步服务器：生成村、户、台账和办件，几位代办员的离线修改已同步上来。
    Demo {
        /// 监听地址。
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        data: DataArgs,
        /// 随机种子：相同的种子生成相同的乡镇。
        #[arg(long, default_value_t = 2025)]
        seed: u64,
    },
    /// 模拟一台代办员手机：（首次用登记码登记后）与服务器同步一次本地库，并显示结果。
    SyncClient {
        /// 服务器地址。
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// 首次使用时的登记码（镇便民服务中心发放，24小时内有效）。
        #[arg(long)]
        code: Option<String>,
        /// 手机本地库文件。
        #[arg(long)]
        store: PathBuf,
    },
    /// 管理账户：地区、用户、登记码、设备和审计日志。
    Admin {
        #[command(flatten)]
        data: DataArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// 新增或修改地区（区、镇、村、组）。
    AddRegion {
        /// 编号。
        #[arg(long)]
        id: String,
        /// 名称。
        #[arg(long)]
        name: String,
        /// 层级：district、town、village、group。
        #[arg(long)]
        tier: String,
        /// 上级地区编号。
        #[arg(long)]
        parent: Option<String>,
    },
    /// 新增或修改用户，并发放一个登记码。
    AddUser {
        /// 编号。
        #[arg(long)]
        id: String,
        /// 姓名。
        #[arg(long)]
        name: String,
        /// 角色：agent、village_head、town_staff、district。
        #[arg(long)]
        role: String,
        /// 负责的地区（可重复）。
        #[arg(long, required = true)]
        region: Vec<String>,
    },
    /// 为已有用户发放新的登记码（24小时内有效，只能用一次）。
    IssueCode {
        /// 用户编号。
        #[arg(long)]
        user: String,
    },
    /// 设置镇、区工作人员登录工作台的密码（从标准输入读一行；至少10个字符）。
    SetPassword {
        /// 用户编号。
        #[arg(long)]
        user: String,
    },
    /// 列出已登记的设备。
    Devices,
    /// 注销一台设备：它的令牌立即失效。
    Revoke {
        /// 设备编号。
        #[arg(long)]
        device: String,
    },
    /// 显示审计日志。
    Audit,
    /// 开通或收回某位镇、区工作人员在工作台完整导出（身份证号、电话不脱敏）的权限。
    GrantExport {
        /// 用户编号。
        #[arg(long)]
        user: String,
        /// 收回权限。
        #[arg(long)]
        revoke: bool,
    },
    /// 在服务器上直接导出某地区（区、镇或村）的台账和办件，显示进度（身份证号、电话脱敏；记入审计日志）。
    Export {
        /// 地区编号。
        #[arg(long)]
        region: String,
        /// 格式：xlsx，或 csv-households、csv-members、csv-ledger、csv-jobs、csv-steps。
        #[arg(long, default_value = "xlsx")]
        format: String,
        /// 输出文件。
        #[arg(long)]
        out: PathBuf,
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
    // The database is opened before the async runtime runs and closed after it has stopped:
    // PostgreSQL connections block while they open and close.
    let mut opened = None;
    let result = match Cli::parse().command {
        Command::Serve {
            listen,
            data,
            trusted_front,
        } => data.open().and_then(|state| {
            let state = state.trusting_front(trusted_front);
            let serving = runtime.block_on(serve(listen, state.clone()));
            opened = Some(state);
            serving
        }),
        Command::Demo { listen, data, seed } => data.open().and_then(|state| {
            let serving = runtime.block_on(demo::run(listen, &data.data, state.clone(), seed));
            opened = Some(state);
            serving
        }),
        Command::SyncClient {
            server,
            code,
            store,
        } => runtime.block_on(sync_client(&server, code.as_deref(), &store)),
        Command::Admin { data, command } => admin(&data, command),
    };
    drop(runtime);
    drop(opened);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("错误：{message}");
            ExitCode::FAILURE
        }
    }
}

fn admin(data: &DataArgs, command: AdminCommand) -> Result<(), String> {
    let accounts = data.open()?.storage;
    let now = chrono::Utc::now();
    let text = |e: crate::storage::AccountError| e.to_string();
    match command {
        AdminCommand::AddRegion {
            id,
            name,
            tier,
            parent,
        } => {
            let tier = RegionTier::from_code(&tier).ok_or(format!("未知层级 {tier}"))?;
            accounts
                .put_region(&Region {
                    id: id.clone(),
                    name,
                    tier,
                    parent_id: parent,
                })
                .map_err(text)?;
            println!("已保存地区 {id}");
        }
        AdminCommand::AddUser {
            id,
            name,
            role,
            region,
        } => {
            let role = Role::from_code(&role).ok_or(format!("未知角色 {role}"))?;
            accounts
                .put_user(&User {
                    id: id.clone(),
                    name,
                    role,
                    region_ids: region,
                })
                .map_err(text)?;
            let code = accounts.issue_code(&id, now).map_err(text)?;
            println!("已保存用户 {id}；登记码 {code}（24小时内有效，只能用一次）");
        }
        AdminCommand::IssueCode { user } => {
            let code = accounts.issue_code(&user, now).map_err(text)?;
            println!("登记码 {code}（24小时内有效，只能用一次）");
        }
        AdminCommand::SetPassword { user } => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| format!("无法读取密码：{e}"))?;
            let password = password.trim_end_matches(['\r', '\n']);
            accounts.set_password(&user, password, now).map_err(text)?;
            println!("已设置 {user} 的工作台密码；该用户原有的工作台登录已失效");
        }
        AdminCommand::Devices => {
            for d in accounts.devices().map_err(text)? {
                let state = match d.revoked_at {
                    Some(t) => format!("已注销 {t}"),
                    None => "有效".to_string(),
                };
                println!(
                    "{}  {}  {}  登记于 {}  {}",
                    printable(&d.device_id),
                    printable(&d.user_id),
                    printable(&d.name),
                    d.enrolled_at,
                    state
                );
            }
        }
        AdminCommand::Revoke { device } => {
            accounts.revoke(&device, now).map_err(text)?;
            println!("已注销设备 {device}");
        }
        AdminCommand::GrantExport { user, revoke } => {
            accounts
                .set_full_export(&user, !revoke)
                .map_err(|e| e.to_string())?;
            println!(
                "已{} {user} 的完整导出权限",
                if revoke { "收回" } else { "开通" }
            );
        }
        AdminCommand::Export {
            region,
            format,
            out,
        } => admin_export(&accounts, &region, &format, &out)?,
        AdminCommand::Audit => {
            for e in accounts.audit_log().map_err(text)? {
                let fields = [
                    &e.user_id,
                    &e.device_id,
                    &e.household_id,
                    &e.action,
                    &e.detail,
                ];
                let fields: Vec<String> = fields.iter().map(|f| printable(f)).collect();
                println!("{}  {}", e.at, fields.join("  "));
            }
        }
    }
    Ok(())
}

/// Text from the audit log as one line of the terminal: control characters (line breaks,
/// escapes) and direction marks written as `\u{..}`, so that no field can start a line of its own.
fn printable(field: &str) -> String {
    field
        .chars()
        .map(|c| {
            if c.is_control() || doorstep_core::validate::is_direction_mark(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Exports a region's households to `out`, masked, printing progress; audited as the admin's.
fn admin_export(storage: &Storage, region: &str, format: &str, out: &Path) -> Result<(), String> {
    let format = crate::export::Format::from_code(format).ok_or(format!("未知格式 {format}"))?;
    let villages = storage.villages_under(region).map_err(|e| e.to_string())?;
    if villages.is_empty() {
        return Err(format!("地区 {region} 下没有村"));
    }
    let total = storage
        .household_count(&villages)
        .map_err(|e| e.to_string())?;
    storage
        .audit_admin(
            "export",
            &format!("管理员导出 {region} {}（脱敏）", format.label()),
        )
        .map_err(|e| e.to_string())?;
    let temp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let request = crate::export::ExportRequest {
        villages,
        format,
        numbers: crate::export::sheets::Numbers::Masked,
    };
    let started = std::time::Instant::now();
    let summary = crate::export::write(storage, &request, out, temp.path(), |done| {
        eprint!("\r已导出 {done} / {total} 户");
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    eprintln!();
    println!(
        "已导出 {} 户、{} 件到 {}，用时 {:.1} 秒",
        summary.households,
        summary.jobs,
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Binds and serves until SIGTERM or Ctrl-C.
async fn serve(listen: SocketAddr, state: http::AppState) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("无法监听 {listen}：{e}"))?;
    http::serve(listener, state)
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

async fn sync_client(server: &str, code: Option<&str>, path: &Path) -> Result<(), String> {
    let store = Arc::new(Store::open(path).map_err(|e| e.to_string())?);
    let config = SyncConfig::new(server);
    if let Some(code) = code {
        let answer = enroll(Arc::clone(&store), &config, code, "命令行模拟手机")
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "已登记：{}（{}），负责 {}",
            answer.user.name,
            answer.user.role.label(),
            answer.villages.join("、")
        );
    }
    println!("正在与 {server} 同步 {} …", path.display());
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
    for refusal in &report.rejected {
        println!("  拒收 {}：{}", refusal.household_id, refusal.reason);
    }
    Ok(())
}
