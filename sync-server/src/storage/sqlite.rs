//! The SQLite backend: one file in WAL mode, one writer connection (writes take turns) and a
//! pool of read-only connections, so pulls, snapshot pages and console reads never wait behind
//! a push.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

use super::StorageError;
use super::sql::{Conn, Dialect, Param, Row, Value};

/// Read connections kept open.
const READERS: u32 = 4;

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Param::Null => ValueRef::Null,
            Param::Int(v) => ValueRef::Integer(*v),
            Param::Real(v) => ValueRef::Real(*v),
            Param::Text(v) => ValueRef::Text(v.as_bytes()),
            Param::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

/// A connection of this backend, inside a transaction.
struct SqliteConn<'a>(&'a Connection);

impl SqliteConn<'_> {
    fn statement(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> rusqlite::Result<rusqlite::CachedStatement<'_>> {
        let mut stmt = self.0.prepare_cached(sql)?;
        debug_assert!(
            (1..=params.len())
                .all(|n| stmt.parameter_index(&format!("${n}")).ok().flatten() == Some(n)),
            "placeholders must be numbered in the order they first appear: {sql}"
        );
        for (index, param) in params.iter().enumerate() {
            stmt.raw_bind_parameter(index + 1, param)?;
        }
        Ok(stmt)
    }
}

impl Conn for SqliteConn<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn batch(&mut self, sql: &str) -> Result<(), StorageError> {
        Ok(self.0.execute_batch(sql)?)
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StorageError> {
        let mut stmt = self.statement(sql, params)?;
        Ok(stmt.raw_execute()? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, StorageError> {
        let mut stmt = self.statement(sql, params)?;
        let columns = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Value::Blob(v.to_vec()),
                });
            }
            out.push(values);
        }
        Ok(out)
    }
}

/// Opens read-only connections to the file for the pool.
struct Readers {
    path: PathBuf,
}

impl r2d2::ManageConnection for Readers {
    type Connection = Connection;
    type Error = rusqlite::Error;

    fn connect(&self) -> Result<Connection, rusqlite::Error> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), rusqlite::Error> {
        conn.execute_batch("")
    }

    fn has_broken(&self, _: &mut Connection) -> bool {
        false
    }
}

/// The SQLite database of a server.
pub struct SqliteDb {
    writer: Mutex<Connection>,
    readers: r2d2::Pool<Readers>,
}

impl SqliteDb {
    /// Opens (creating if needed) the database file, in WAL mode with full syncs.
    pub fn open(path: &Path) -> Result<SqliteDb, StorageError> {
        let writer = Connection::open(path)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        writer.busy_timeout(Duration::from_secs(5))?;
        let readers = r2d2::Pool::builder()
            .max_size(READERS)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .build(Readers {
                path: path.to_path_buf(),
            })?;
        Ok(SqliteDb {
            writer: Mutex::new(writer),
            readers,
        })
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic inside a transaction leaves nothing half-written: it is rolled back below
        // or when the connection next begins one.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `work` in a write transaction (`BEGIN IMMEDIATE`): committed if it succeeds,
    /// rolled back if it fails.
    pub fn write<T>(
        &self,
        mut work: impl FnMut(&mut dyn Conn) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let conn = self.writer();
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK")?;
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        match work(&mut SqliteConn(&conn)) {
            Ok(value) => {
                conn.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(err) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(err)
            }
        }
    }

    /// Runs `work` in a read transaction on a reader: one consistent view of the database.
    pub fn read<T>(
        &self,
        work: impl FnOnce(&mut dyn Conn) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let conn = self.readers.get()?;
        conn.execute_batch("BEGIN")?;
        let result = work(&mut SqliteConn(&conn));
        let _ = conn.execute_batch("COMMIT");
        result
    }
}
