//! Exports kept in the database while they are made and for a day after: who asked, for what,
//! how far along, and the finished file in chunks (so any server process can report progress
//! and hand the file out); who holds the full-export permission; and the households an export
//! reads, a page at a time.

use std::io::Read;

use chrono::{DateTime, Duration, Utc};

use super::accounts::audit;
use super::documents::{bytes, ids_in};
use super::sql::{Cols, Conn, Param};
use super::staff::ConsoleSession;
use super::{Storage, StorageError};

/// Bytes per stored chunk of a finished export.
pub const EXPORT_CHUNK_BYTES: usize = 1 << 20;

/// How long a finished export is kept.
pub const EXPORT_KEPT_HOURS: i64 = 24;

/// An export still running whose progress has not moved for this long was cut off (its
/// server process stopped).
pub const EXPORT_STALLED_SECONDS: i64 = 120;

/// Where an export stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportState {
    /// Being made: households done of the total.
    Running {
        /// Households written.
        done: i64,
        /// Households to write.
        total: i64,
    },
    /// Cut off when its server process stopped.
    Stalled,
    /// Ready: the file's size.
    Done {
        /// Bytes.
        bytes: i64,
    },
    /// Failed, with the reason.
    Failed(String),
}

/// An export as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportLine {
    /// Its id.
    pub id: String,
    /// Who asked for it.
    pub user_id: String,
    /// What it covers, in words.
    pub scope: String,
    /// The file's name.
    pub file_name: String,
    /// Whether identity and phone numbers are in full.
    pub full_numbers: bool,
    /// The reason given for a full export.
    pub reason: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// Where it stands.
    pub state: ExportState,
}

/// A new export as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExport<'a> {
    /// Its id.
    pub id: &'a str,
    /// What it covers, in words.
    pub scope: &'a str,
    /// The file's name.
    pub file_name: &'a str,
    /// Whether identity and phone numbers are in full.
    pub full_numbers: bool,
    /// The reason, for a full export.
    pub reason: Option<&'a str>,
    /// Households to write.
    pub total: i64,
    /// What the audit log says of it.
    pub audit_detail: &'a str,
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

const LINE_COLUMNS: &str = "id, user_id, scope, file_name, full_numbers, reason, created_at, \
                            state, done, total, updated_at, bytes, error";

fn line(row: super::Row, now: DateTime<Utc>) -> Result<ExportLine, StorageError> {
    let mut c = Cols::of(row);
    let id = c.take()?.text()?;
    let user_id = c.take()?.text()?;
    let scope = c.take()?.text()?;
    let file_name = c.take()?.text()?;
    let full_numbers = c.take()?.int()? != 0;
    let reason = c.take()?.opt_text()?;
    let created_at = from_millis(c.take()?.int()?);
    let state = c.take()?.text()?;
    let (done, total, updated_at) = (c.take()?.int()?, c.take()?.int()?, c.take()?.int()?);
    let bytes = c.take()?.opt_int()?;
    let error = c.take()?.opt_text()?;
    let state = match state.as_str() {
        "done" => ExportState::Done {
            bytes: bytes.unwrap_or(0),
        },
        "failed" => ExportState::Failed(error.unwrap_or_default()),
        _ if now - from_millis(updated_at) > Duration::seconds(EXPORT_STALLED_SECONDS) => {
            ExportState::Stalled
        }
        _ => ExportState::Running { done, total },
    };
    Ok(ExportLine {
        id,
        user_id,
        scope,
        file_name,
        full_numbers,
        reason,
        created_at,
        state,
    })
}

fn purge(conn: &mut dyn Conn, now: DateTime<Utc>) -> Result<(), StorageError> {
    let before = millis(now - Duration::hours(EXPORT_KEPT_HOURS));
    conn.execute(
        "DELETE FROM export_chunks WHERE export_id IN (SELECT id FROM exports WHERE created_at < $1)",
        &[before.into()],
    )?;
    conn.execute(
        "DELETE FROM exports WHERE created_at < $1",
        &[before.into()],
    )?;
    Ok(())
}

impl Storage {
    /// Whether `user_id` holds the full-export permission.
    pub fn full_export_granted(&self, user_id: &str) -> Result<bool, StorageError> {
        self.read(|conn| {
            Ok(conn.query_int(
                "SELECT count(*) FROM export_grants WHERE user_id = $1",
                &[user_id.into()],
            )? > 0)
        })
    }

    /// Grants (or takes back) the full-export permission; written to the audit log.
    pub fn set_full_export(&self, user_id: &str, granted: bool) -> Result<(), StorageError> {
        let now = Utc::now();
        self.write(|conn| {
            if conn.query_int(
                "SELECT count(*) FROM users WHERE id = $1",
                &[user_id.into()],
            )? == 0
            {
                return Err(StorageError::Schema(format!("没有用户 {user_id}")));
            }
            conn.execute(
                "DELETE FROM export_grants WHERE user_id = $1",
                &[user_id.into()],
            )?;
            if granted {
                conn.execute(
                    "INSERT INTO export_grants (user_id, granted_at) VALUES ($1, $2)",
                    &[user_id.into(), millis(now).into()],
                )?;
            }
            let detail = if granted {
                "开通完整导出权限"
            } else {
                "收回完整导出权限"
            };
            audit(
                conn,
                "admin",
                "admin",
                "export-permission",
                &[("-".into(), format!("{detail}：{user_id}"))],
                now,
            )
        })
    }

    /// Records a new export as running, with its audit row; exports past their day are
    /// deleted first.
    pub fn start_export(
        &self,
        session: &ConsoleSession,
        export: &NewExport<'_>,
    ) -> Result<(), StorageError> {
        let now = Utc::now();
        self.write(|conn| {
            purge(conn, now)?;
            conn.execute(
                "INSERT INTO exports (id, user_id, scope, file_name, full_numbers, reason,
                                      created_at, state, done, total, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', 0, $8, $7)",
                &[
                    export.id.into(),
                    session.user.id.as_str().into(),
                    export.scope.into(),
                    export.file_name.into(),
                    i64::from(export.full_numbers).into(),
                    export.reason.into(),
                    millis(now).into(),
                    export.total.into(),
                ],
            )?;
            audit(
                conn,
                &session.user.id,
                &session.label,
                "export",
                &[("-".into(), export.audit_detail.into())],
                now,
            )
        })
    }

    /// Records how far an export has come.
    pub fn export_progress(&self, id: &str, done: i64) -> Result<(), StorageError> {
        let now = millis(Utc::now());
        self.write(|conn| {
            conn.execute(
                "UPDATE exports SET done = $1, updated_at = $2 WHERE id = $3",
                &[done.into(), now.into(), id.into()],
            )?;
            Ok(())
        })
    }

    /// Stores a finished export's file (read from `file`, a chunk at a time) and marks it done.
    pub fn finish_export(&self, id: &str, file: &std::path::Path) -> Result<(), StorageError> {
        let now = millis(Utc::now());
        self.write(|conn| {
            conn.execute(
                "DELETE FROM export_chunks WHERE export_id = $1",
                &[id.into()],
            )?;
            let mut reader = std::fs::File::open(file)
                .map_err(|e| StorageError::Schema(format!("导出文件无法读取：{e}")))?;
            let mut chunk = vec![0u8; EXPORT_CHUNK_BYTES];
            let (mut seq, mut total) = (0i64, 0i64);
            loop {
                let n = read_full(&mut reader, &mut chunk)
                    .map_err(|e| StorageError::Schema(format!("导出文件无法读取：{e}")))?;
                if n == 0 {
                    break;
                }
                conn.execute(
                    "INSERT INTO export_chunks (export_id, seq, bytes) VALUES ($1, $2, $3)",
                    &[id.into(), seq.into(), Param::Blob(&chunk[..n])],
                )?;
                seq += 1;
                total += n as i64;
            }
            conn.execute(
                "UPDATE exports SET state = 'done', done = total, bytes = $1, updated_at = $2
                  WHERE id = $3",
                &[total.into(), now.into(), id.into()],
            )?;
            Ok(())
        })
    }

    /// Marks an export failed, with the reason shown to the one who asked.
    pub fn fail_export(&self, id: &str, reason: &str) -> Result<(), StorageError> {
        let now = millis(Utc::now());
        self.write(|conn| {
            conn.execute(
                "UPDATE exports SET state = 'failed', error = $1, updated_at = $2 WHERE id = $3",
                &[reason.into(), now.into(), id.into()],
            )?;
            Ok(())
        })
    }

    /// The exports `user_id` asked for in the last day, newest first.
    pub fn exports_of(&self, user_id: &str) -> Result<Vec<ExportLine>, StorageError> {
        let now = Utc::now();
        let since = millis(now - Duration::hours(EXPORT_KEPT_HOURS));
        self.read(|conn| {
            conn.query(
                &format!(
                    "SELECT {LINE_COLUMNS} FROM exports WHERE user_id = $1 AND created_at >= $2
                      ORDER BY created_at DESC, id LIMIT 50"
                ),
                &[user_id.into(), since.into()],
            )?
            .into_iter()
            .map(|row| line(row, now))
            .collect()
        })
    }

    /// One export of `user_id`'s, if it exists and is theirs.
    pub fn export_of(&self, user_id: &str, id: &str) -> Result<Option<ExportLine>, StorageError> {
        let now = Utc::now();
        self.read(|conn| {
            conn.query_opt(
                &format!("SELECT {LINE_COLUMNS} FROM exports WHERE id = $1 AND user_id = $2"),
                &[id.into(), user_id.into()],
            )?
            .map(|row| line(row, now))
            .transpose()
        })
    }

    /// The `seq`th chunk of a finished export's file, if there is one.
    pub fn export_chunk(&self, id: &str, seq: i64) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(|conn| {
            conn.query_opt(
                "SELECT bytes FROM export_chunks WHERE export_id = $1 AND seq = $2",
                &[id.into(), seq.into()],
            )?
            .map(|row| Cols::of(row).take()?.blob())
            .transpose()
        })
    }

    /// A page of the stored documents of `villages` after the household `after` (in id
    /// order): at most `limit`, each as its id and its bytes.
    pub fn documents_page(
        &self,
        villages: &[String],
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        self.read(|conn| {
            let mut page = Vec::new();
            for id in ids_in(conn, villages, after, limit)? {
                if let Some(bytes) = bytes(conn, &id)? {
                    page.push((id, bytes));
                }
            }
            Ok(page)
        })
    }

    /// The villages under a region (itself, if a village), sorted.
    pub fn villages_under(&self, region_id: &str) -> Result<Vec<String>, StorageError> {
        let user = doorstep_core::User {
            id: String::new(),
            name: String::new(),
            role: doorstep_core::Role::District,
            region_ids: vec![region_id.to_string()],
        };
        self.read(|conn| Ok(super::accounts::scope_of_user(conn, &user)?.villages))
    }

    /// Writes an administrator's action at the server's command line to the audit log.
    pub fn audit_admin(&self, action: &str, detail: &str) -> Result<(), StorageError> {
        let rows = [("-".to_string(), detail.to_string())];
        self.write(|conn| audit(conn, "admin", "admin", action, &rows, Utc::now()))
    }

    /// How many households `villages` hold.
    pub fn household_count(&self, villages: &[String]) -> Result<i64, StorageError> {
        self.read(|conn| Ok(super::documents::count_in(conn, villages, None)? as i64))
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
