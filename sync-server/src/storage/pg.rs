//! The PostgreSQL backend: a pool of connections, each keeping its prepared statements. Write
//! transactions that lose a race with another server process (a serialization failure, a
//! deadlock, two processes creating the same household) are run again from the start.

use std::collections::HashMap;
use std::error::Error;
use std::time::Duration;

use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use super::StorageError;
use super::sql::{Conn, Dialect, Param, Row, Value};

/// Connections kept open per server process.
const CONNECTIONS: u32 = 8;
/// Times a write transaction is tried when it loses a race.
const WRITE_ATTEMPTS: usize = 5;

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match *self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(v) => match *ty {
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                Type::FLOAT8 => (v as f64).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Param::Real(v) => v.to_sql(ty, out),
            Param::Text(v) => v.to_sql(ty, out),
            Param::Blob(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A pooled connection and the statements it has prepared.
pub struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PgConn {
    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql)?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

fn params<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn value(row: &postgres::Row, i: usize) -> Result<Value, postgres::Error> {
    let ty = row.columns()[i].type_();
    Ok(match *ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(i)?
            .map_or(Value::Null, Value::Real),
        Type::BYTEA => row
            .try_get::<_, Option<Vec<u8>>>(i)?
            .map_or(Value::Null, Value::Blob),
        _ => row
            .try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::Text),
    })
}

impl Conn for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<(), StorageError> {
        Ok(self.client.batch_execute(sql)?)
    }

    fn execute(&mut self, sql: &str, values: &[Param<'_>]) -> Result<u64, StorageError> {
        let stmt = self.statement(sql)?;
        Ok(self.client.execute(&stmt, &params(values))?)
    }

    fn query(&mut self, sql: &str, values: &[Param<'_>]) -> Result<Vec<Row>, StorageError> {
        let stmt = self.statement(sql)?;
        let rows = self.client.query(&stmt, &params(values))?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| value(row, i))
                    .collect::<Result<Row, _>>()
            })
            .collect::<Result<_, _>>()
            .map_err(StorageError::from)
    }
}

/// Opens connections for the pool.
struct Connections {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Connections {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        Ok(PgConn {
            client: self.config.connect(NoTls)?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client.batch_execute("")
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.is_closed()
    }
}

/// A PostgreSQL database shared by any number of server processes.
pub struct PgDb {
    pool: r2d2::Pool<Connections>,
}

/// Whether a failed transaction lost a race that running it again can win.
fn lost_race(err: &StorageError) -> bool {
    match err {
        StorageError::LostRace => true,
        StorageError::Postgres(err) => matches!(
            err.code(),
            Some(&SqlState::T_R_SERIALIZATION_FAILURE) | Some(&SqlState::T_R_DEADLOCK_DETECTED)
        ),
        _ => false,
    }
}

impl PgDb {
    /// Connects to the database at `url` (`postgres://user@host:port/database`).
    pub fn open(url: &str) -> Result<PgDb, StorageError> {
        let config: postgres::Config = url.parse()?;
        let pool = r2d2::Pool::builder()
            .max_size(CONNECTIONS)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .build(Connections { config })?;
        Ok(PgDb { pool })
    }

    /// Runs `work` in a transaction: committed if it succeeds, rolled back if it fails, and run
    /// again (a few times) if it lost a race with another transaction.
    pub fn write<T>(
        &self,
        mut work: impl FnMut(&mut dyn Conn) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.pool.get()?;
        let mut attempt = 1;
        loop {
            conn.client.batch_execute("BEGIN")?;
            let result = work(&mut *conn).and_then(|value| {
                conn.client.batch_execute("COMMIT")?;
                Ok(value)
            });
            match result {
                Ok(value) => return Ok(value),
                Err(err) => {
                    let _ = conn.client.batch_execute("ROLLBACK");
                    if attempt < WRITE_ATTEMPTS && lost_race(&err) {
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Runs `work` in a read-only transaction that sees one snapshot of the database.
    pub fn read<T>(
        &self,
        work: impl FnOnce(&mut dyn Conn) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.pool.get()?;
        conn.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let result = work(&mut *conn);
        let _ = conn.client.batch_execute("COMMIT");
        result
    }
}
