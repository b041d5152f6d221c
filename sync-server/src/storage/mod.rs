//! The town server's own storage: household documents, the query tables derived from them (by
//! the core), the journal phones pull from, and accounts, devices, enrollment codes and the
//! audit log, all in one database so that a write and its audit rows commit together.
//!
//! Two backends behind one interface, chosen by the data location: a folder (SQLite, the
//! default: one file `server.db`, nothing to install) or a `postgres://` URL. The server keeps
//! no state of its own between requests, so any number of processes can share a PostgreSQL
//! database.

pub mod accounts;
pub mod cases;
pub mod documents;
pub mod exports;
pub mod figures;
pub mod intakes;
pub mod journal;
mod migrations;
mod pg;
pub mod refusals;
mod sql;
mod sqlite;
pub mod staff;

use std::path::Path;

use doorstep_core::CoreError;
use thiserror::Error;

pub use accounts::{AccountError, Scope, Session, random_token};
pub use cases::{CASES_PER_PAGE, CaseFilter, CaseLine, CaseOrder, TodayCounts};
pub use exports::{ExportLine, ExportState, NewExport};
pub use figures::NeedsByUrgency;
pub use intakes::{IntakeKind, IntakeLine, MemberHit, NewIntake};
pub use migrations::SCHEMA_VERSION;
pub use refusals::RefusedDevice;
pub use sql::{Cols, Conn, Dialect, Param, Row, Value, placeholders, texts};
pub use staff::{ConsoleSession, SESSION_HOURS};

/// A PostgreSQL error with the server's own message (severity, text and code) when it sent one.
fn postgres_detail(err: &::postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => err.to_string(),
    }
}

/// Why the storage failed.
#[derive(Debug, Error)]
pub enum StorageError {
    /// SQLite failed.
    #[error("数据库（SQLite）出错：{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("数据库（PostgreSQL）出错：{}", postgres_detail(.0))]
    Postgres(#[from] ::postgres::Error),
    /// No connection could be had in time.
    #[error("数据库连接池出错：{0}")]
    Pool(#[from] r2d2::Error),
    /// The database was written by a newer version of the server.
    #[error(
        "数据库由更新版本的服务器写入（版本 {found}，本程序支持 {supported}），未做任何改动；请升级服务器"
    )]
    TooNew {
        /// The database's schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The database holds something this build cannot read.
    #[error("数据库内容与预期不符：{0}")]
    Schema(String),
    /// A household document or a rule of the core refused the work.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// Another transaction created the same household first: the work runs again.
    #[error("另一个请求同时创建了同一户，正在重试")]
    LostRace,
}

impl StorageError {
    /// Whether the error is a row breaking a uniqueness or other constraint (the same input
    /// would break it again), as opposed to the database failing.
    pub fn is_constraint(&self) -> bool {
        match self {
            StorageError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::ConstraintViolation
            }
            StorageError::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("23")),
            _ => false,
        }
    }
}

/// Creates the SQLite folder readable by the server's user only (0700), and the database file
/// likewise (0600): it holds identity numbers.
fn private_folder(folder: &Path, file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::create_dir_all(folder)?;
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(file)?;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
}

enum Backend {
    Sqlite(sqlite::SqliteDb),
    Postgres(pg::PgDb),
}

/// The server's database.
pub struct Storage {
    backend: Backend,
    cache: documents::DocumentCache,
    /// The server's secret key: enrollment codes are stored only as keyed hashes, so a copy
    /// of the database alone reveals no live code.
    key: [u8; 32],
}

/// Where the server's key file is named when not given: this environment variable.
pub const KEY_FILE_ENV: &str = "DOORSTEP_SERVER_KEY_FILE";

/// Reads the server's key from `path`, creating it (32 random bytes, readable by the server's
/// user only) the first time; processes starting together all read the one that was made.
/// The key is written whole to a file of its own and then linked to `path` in one step, so no
/// process ever reads a key file still being written.
fn server_key(path: &Path) -> std::io::Result<[u8; 32]> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if !path.exists() {
        let draft = path.with_extension(format!("new-{:016x}", rand::random::<u64>()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&draft)?;
        let key: [u8; 32] = rand::random();
        let linked = file
            .write_all(&key)
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::hard_link(&draft, path));
        std::fs::remove_file(&draft)?;
        match linked {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    let bytes = std::fs::read(path)?;
    bytes
        .get(..32)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "密钥文件不足32字节"))
}

impl Storage {
    /// Opens the database at `location` (see [`Storage::open_with_key`]), with the key file
    /// named by `DOORSTEP_SERVER_KEY_FILE` if set.
    pub fn open(location: &str) -> Result<Storage, StorageError> {
        let key_file = std::env::var_os(KEY_FILE_ENV).map(std::path::PathBuf::from);
        Storage::open_with_key(location, key_file.as_deref())
    }

    /// Opens the database at `location` and brings its schema up to date: a `postgres://` (or
    /// `postgresql://`) URL, or a folder that holds (or will hold) `server.db`. The server's
    /// key is read from `key_file` (created the first time); a SQLite folder keeps it as
    /// `server.key` when none is named, a PostgreSQL database needs one named (every process of
    /// the deployment uses the same file; it never goes into the database).
    pub fn open_with_key(location: &str, key_file: Option<&Path>) -> Result<Storage, StorageError> {
        let postgres = location.starts_with("postgres://") || location.starts_with("postgresql://");
        let key_path = match key_file {
            Some(path) => path.to_path_buf(),
            None if !postgres => Path::new(location).join("server.key"),
            None => {
                return Err(StorageError::Schema(format!(
                    "使用 PostgreSQL 时需要服务器密钥文件：请用 --key-file 或环境变量 {KEY_FILE_ENV} \
                     指定（各服务器进程共用同一个文件，不放在数据库里）"
                )));
            }
        };
        let backend = if postgres {
            Backend::Postgres(pg::PgDb::open(location)?)
        } else {
            let folder = Path::new(location);
            let file = folder.join("server.db");
            private_folder(folder, &file)
                .map_err(|e| StorageError::Schema(format!("无法准备数据目录 {location}：{e}")))?;
            Backend::Sqlite(sqlite::SqliteDb::open(&file)?)
        };
        let key = server_key(&key_path).map_err(|e| {
            StorageError::Schema(format!(
                "无法读取服务器密钥文件 {}：{e}",
                key_path.display()
            ))
        })?;
        let storage = Storage {
            backend,
            cache: documents::DocumentCache::default(),
            key,
        };
        while storage.write(migrations::step)? {}
        Ok(storage)
    }

    /// This process's copies of recently used household documents (see
    /// [`documents::load`]).
    pub fn cache(&self) -> &documents::DocumentCache {
        &self.cache
    }

    /// A keyed hash (HMAC-SHA-256 with the server's key) of a secret such as an enrollment
    /// code.
    pub fn keyed_hash(&self, secret: &str) -> Vec<u8> {
        use hmac::{KeyInit, Mac};
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(secret.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The dialect of the database.
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `work` in a write transaction: committed if it succeeds, rolled back if it fails.
    /// On PostgreSQL it may run again when it lost a race with another transaction, so it must
    /// not keep effects outside the transaction from one run to the next.
    pub fn write<T>(
        &self,
        work: impl FnMut(&mut dyn Conn) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        match &self.backend {
            Backend::Sqlite(db) => db.write(work),
            Backend::Postgres(db) => db.write(work),
        }
    }

    /// Runs `work` in a read-only transaction that sees one consistent state, without waiting
    /// for writes.
    pub fn read<T>(
        &self,
        work: impl FnOnce(&mut dyn Conn) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        match &self.backend {
            Backend::Sqlite(db) => db.read(work),
            Backend::Postgres(db) => db.read(work),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::server_key;
    use std::sync::{Arc, Barrier};

    #[test]
    fn processes_creating_the_key_together_all_read_the_one_whole_key() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..40 {
            let path = dir.path().join(format!("server-{round}.key"));
            let start = Arc::new(Barrier::new(8));
            let openers: Vec<_> = (0..8)
                .map(|_| {
                    let (path, start) = (path.clone(), Arc::clone(&start));
                    std::thread::spawn(move || {
                        start.wait();
                        server_key(&path)
                    })
                })
                .collect();
            let keys: Vec<_> = openers
                .into_iter()
                .map(|opener| opener.join().unwrap().unwrap())
                .collect();
            assert!(keys.iter().all(|k| *k == keys[0]), "round {round}");
        }
        // Only the key files are left: every draft was removed.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 40);
    }
}
