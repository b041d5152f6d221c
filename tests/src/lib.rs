//! Helpers for Doorstep's cross-component tests, the wire-size measurements and the load tool:
//! a real server process on 127.0.0.1, phones as real store files, and syncing them.

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

use doorstep_core::demo::{DemoOptions, DemoTown, generate};
use doorstep_core::sync::protocol::EnrollResponse;
use doorstep_core::sync::{CancellationToken, SyncConfig, SyncError, SyncReport, enroll, sync};
use doorstep_core::{FixedClock, Store, User};
use doorstep_sync_server::accounts::Accounts;
use doorstep_sync_server::http::AppState;

/// Writes a generated town into the data directory: its households into `server.db` (the
/// server's journaled store) and its regions and people into `accounts.db`. Returns the town
/// and the server's state (store and accounts).
pub fn prepare_server_data(data: &Path, options: &DemoOptions) -> (DemoTown, AppState) {
    let town = generate(options).expect("demo town");
    let state = doorstep_sync_server::cli::open_server(data).expect("server data");
    for region in &town.regions {
        state.accounts.put_region(region).expect("region");
    }
    for person in &town.users {
        state.accounts.put_user(&person.user).expect("user");
    }
    state
        .store
        .import_documents_from("demo", town.households.clone())
        .expect("import");
    (town, state)
}

/// Enrolls a phone over HTTP with a fresh code for `user_id` (issued in the data directory's
/// accounts, as hub staff would).
pub fn enroll_phone(
    accounts: &Accounts,
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
    data: PathBuf,
}

impl ServerProcess {
    /// Starts `exe serve` on the data directory and waits until it listens.
    pub fn start(exe: &Path, data: &Path) -> ServerProcess {
        let mut child = Command::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
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
            data: data.to_path_buf(),
        }
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
