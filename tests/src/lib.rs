//! Helpers for Doorstep's cross-component tests, the wire-size measurements and the load tool:
//! a real server process on 127.0.0.1, phones as real store files, and syncing them.

pub mod faults;
pub mod faulty_disk;
pub mod hand_counted;
mod proxy;
mod raw;
pub mod scenario;
mod tls;

pub use proxy::LinkProxy;
pub use raw::RawClient;
pub use tls::{TestCa, TlsFront};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use doorstep_core::sync::protocol::{DocChanges, EnrollResponse};
use doorstep_core::sync::{CancellationToken, SyncConfig, SyncError, SyncReport, enroll, sync};
use doorstep_core::{FixedClock, Store, User};
use doorstep_demo::{DemoOptions, DemoTown, generate};
use doorstep_sync_server::http::AppState;
use doorstep_sync_server::storage::Storage;

/// Writes a generated town into the server's database at `data` (a folder for SQLite or a
/// `postgres://` URL): its regions, people and households. Returns the town and the server's
/// state.
pub fn prepare_server_data(data: &str, options: &DemoOptions) -> (DemoTown, AppState) {
    let town = generate(options).expect("demo town");
    let state = AppState::open(data, test_key_file(data).as_deref()).expect("server data");
    doorstep_sync_server::demo::load_town(&state.storage, &town).expect("load the town");
    (town, state)
}

/// The server key file the tests use with PostgreSQL (with SQLite the data folder keeps its
/// own): one for every test database, as one deployment's processes share one.
pub fn test_key_file(data: &str) -> Option<PathBuf> {
    data.starts_with("postgres")
        .then(|| std::env::temp_dir().join("doorstep-test-server.key"))
}

/// Opens a test server's database in this process (with the tests' key file).
pub fn open_storage(data: &str) -> Result<Storage, doorstep_sync_server::storage::StorageError> {
    Storage::open_with_key(data, test_key_file(data).as_deref())
}

/// Where a test's server keeps its data: a fresh PostgreSQL database when
/// `DOORSTEP_TEST_POSTGRES` names a PostgreSQL server (`postgres://user@127.0.0.1:PORT/postgres`,
/// as `scripts/test.sh` sets it for its PostgreSQL run), else a folder in `dir` (SQLite).
pub fn test_data(dir: &Path) -> String {
    match postgres_server() {
        Some(server) => fresh_database(&server),
        None => dir.join("server").to_string_lossy().into_owned(),
    }
}

/// The PostgreSQL server the tests' servers keep their data on, when this is the PostgreSQL
/// run (`DOORSTEP_TEST_POSTGRES`).
pub fn postgres_server() -> Option<String> {
    std::env::var("DOORSTEP_TEST_POSTGRES")
        .ok()
        .filter(|server| !server.is_empty())
}

/// Creates an empty database on the PostgreSQL server at `server` and returns its URL.
fn fresh_database(server: &str) -> String {
    let name = format!(
        "doorstep_test_{}_{}",
        std::process::id(),
        rand::random::<u64>()
    );
    let mut admin = postgres::Client::connect(server, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {server}: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a test database");
    let (base, _) = server.rsplit_once('/').expect("a database in the URL");
    format!("{base}/{name}")
}

/// The server's query tables as text, in the form of [`Store::dump_query_tables`] (rows in id
/// order), read from its database (either backend): for checking that the server's tables
/// agree with the phones'.
pub fn server_tables(data: &str) -> String {
    use doorstep_sync_server::storage::Value;
    use rusqlite::types::ValueRef;
    let storage = open_storage(data).expect("server data");
    let mut out = String::new();
    for table in doorstep_core::projection::TABLES {
        let mut rows = storage
            .read(|conn| conn.query(&format!("SELECT * FROM {}", table.name), &[]))
            .expect("read a table");
        rows.sort_by(|a, b| format!("{:?}", a[0]).cmp(&format!("{:?}", b[0])));
        out.push_str(&format!("## {}\n", table.name));
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .map(|v| match v {
                    Value::Null => format!("{:?}", ValueRef::Null),
                    Value::Int(i) => format!("{:?}", ValueRef::Integer(*i)),
                    Value::Real(f) => format!("{:?}", ValueRef::Real(*f)),
                    Value::Text(t) => format!("{:?}", ValueRef::Text(t.as_bytes())),
                    Value::Blob(b) => format!("{:?}", ValueRef::Blob(b)),
                })
                .collect();
            out.push_str(&cells.join("|"));
            out.push('\n');
        }
    }
    out
}

/// A core store holding copies of the server's household documents (read from its database),
/// for comparing documents, conflicts and jobs with the phones'.
pub fn server_mirror(data: &str, path: &Path) -> Store {
    let storage = open_storage(data).expect("server data");
    let ids: Vec<String> = storage
        .read(|conn| {
            conn.query("SELECT household_id FROM documents", &[])?
                .into_iter()
                .map(|row| doorstep_sync_server::storage::Cols::of(row).take()?.text())
                .collect()
        })
        .expect("household ids");
    let docs = ids
        .iter()
        .map(|id| {
            let bytes = storage
                .household_document(id)
                .expect("read")
                .expect("stored");
            doorstep_core::HouseholdDoc::load(&bytes, automerge::ActorId::random()).expect("load")
        })
        .collect();
    let mirror = Store::open(path).expect("mirror store");
    mirror.import_documents(docs).expect("import");
    mirror
}

/// A phone's pending push as the protocol carries it.
pub fn doc_changes(push: &doorstep_core::store::PendingPush) -> DocChanges {
    DocChanges {
        household_id: push.household_id.clone(),
        changes: push.changes.clone(),
    }
}

/// Enrolls a phone over HTTP with a fresh code for `user_id` (issued in the server's
/// database, as hub staff would).
pub fn enroll_phone(
    accounts: &Storage,
    url: &str,
    phone: &Arc<Store>,
    user_id: &str,
) -> EnrollResponse {
    let code = accounts
        .issue_code(user_id, chrono::Utc::now())
        .expect("code");
    runtime()
        .block_on(enroll(
            Arc::clone(phone),
            &SyncConfig::new(url),
            &code,
            "测试手机",
        ))
        .expect("enroll")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A sync server running as its own process on 127.0.0.1 (a free port).
pub struct ServerProcess {
    child: Child,
    /// Its base address, `http://127.0.0.1:PORT`.
    pub url: String,
    exe: PathBuf,
    data: String,
}

impl ServerProcess {
    /// Starts `exe serve` on the data (a folder or a `postgres://` URL) and waits until it
    /// listens.
    pub fn start(exe: &Path, data: &str) -> ServerProcess {
        ServerProcess::start_on(exe, data, None, &[])
    }

    /// Like [`ServerProcess::start`], with the process pinned to `core` (with `taskset`) when
    /// one is given, and more arguments to `serve` (such as `--trusted-front`).
    pub fn start_on(exe: &Path, data: &str, core: Option<usize>, args: &[&str]) -> ServerProcess {
        let mut command = match core {
            Some(core) => {
                let mut taskset = Command::new("taskset");
                taskset.args(["-c", &core.to_string()]).arg(exe);
                taskset
            }
            None => Command::new(exe),
        };
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(args);
        if let Some(key) = test_key_file(data) {
            command.arg("--key-file").arg(key);
        }
        let mut child = command
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("server output");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected server output: {line:?}"))
            .to_string();
        ServerProcess {
            child,
            url,
            exe: exe.to_path_buf(),
            data: data.to_string(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The most memory the process has held (its peak resident set), in bytes.
    pub fn peak_memory(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the process to stop (SIGTERM) and waits for it to finish what it was doing.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("wait for the server")
    }

    /// Starts a new process on the same data directory (a new port).
    pub fn restart(&mut self) {
        self.kill();
        *self = ServerProcess::start(&self.exe.clone(), &self.data.clone());
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A phone: a store file of its own, signed in, with its clock fixed at `now`.
pub fn phone(path: &Path, user: &User, now: chrono::DateTime<chrono::Utc>) -> Arc<Store> {
    let store = Store::open_with_clock(path, Arc::new(FixedClock(now))).expect("phone store");
    store.sign_in(user.clone()).expect("sign in");
    Arc::new(store)
}

/// Runs one sync of `store` to completion on a small runtime of its own.
pub fn sync_now(store: &Arc<Store>, config: SyncConfig) -> Result<SyncReport, SyncError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(sync(
            Arc::clone(store),
            config,
            None,
            CancellationToken::new(),
        ))
}

/// A sync configuration that fails fast (tests talk to loopback only).
pub fn quick_config(url: &str) -> SyncConfig {
    let mut config = SyncConfig::new(url);
    config.retries = 0;
    config.timeout = std::time::Duration::from_secs(20);
    config
}

/// A sync server serving `store` on a free loopback port, inside this process (for the
/// measurement and load tools; the tests use [`ServerProcess`]).
pub struct InProcessServer {
    /// Its base address.
    pub url: String,
    _runtime: tokio::runtime::Runtime,
}

impl InProcessServer {
    /// Starts serving.
    pub fn start(state: AppState) -> InProcessServer {
        let (runtime, listener, url) = loopback_listener("http");
        runtime.spawn(doorstep_sync_server::http::serve(listener, state));
        InProcessServer {
            url,
            _runtime: runtime,
        }
    }
}

/// A runtime of its own and a listener on a free loopback port, with the address it serves
/// under `scheme` (`http://127.0.0.1:PORT`).
fn loopback_listener(scheme: &str) -> (tokio::runtime::Runtime, tokio::net::TcpListener, String) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind a loopback port");
    let url = format!("{scheme}://{}", listener.local_addr().expect("address"));
    (runtime, listener, url)
}
