//! The little SQL the server's storage needs, over either backend: parameters and values, and
//! one connection trait. Statements are written once, with `$1, $2, ...` placeholders numbered
//! in the order they first appear, in the subset of SQL that SQLite and PostgreSQL share; the
//! few differences are asked of [`Dialect`].

use super::StorageError;
use doorstep_core::projection::Cell;

/// Which SQL the connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (one file, WAL, one writer).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// What locks a row read for update: `FOR UPDATE` on PostgreSQL; nothing on SQLite, whose
    /// one writer holds the whole database.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

/// A statement parameter, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param<'a> {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Param<'a> {
        Param::Text(v)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Param<'a> {
        Param::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Param<'a> {
    fn from(v: &'a [u8]) -> Param<'a> {
        Param::Blob(v)
    }
}

impl<'a> From<&'a Vec<u8>> for Param<'a> {
    fn from(v: &'a Vec<u8>) -> Param<'a> {
        Param::Blob(v)
    }
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}

impl<'a, T: Into<Param<'a>>> From<Option<T>> for Param<'a> {
    fn from(v: Option<T>) -> Param<'a> {
        v.map_or(Param::Null, Into::into)
    }
}

impl<'a> From<&'a Cell> for Param<'a> {
    fn from(cell: &'a Cell) -> Param<'a> {
        match cell {
            Cell::Null => Param::Null,
            Cell::Int(v) => Param::Int(*v),
            Cell::Real(v) => Param::Real(*v),
            Cell::Text(v) => Param::Text(v),
        }
    }
}

/// A value read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL.
    Null,
    /// An integer (or a boolean, as 0 and 1).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    fn wrong(&self, want: &str) -> StorageError {
        StorageError::Schema(format!("expected {want}, found {self:?}"))
    }

    /// The integer, or an error.
    pub fn int(&self) -> Result<i64, StorageError> {
        match self {
            Value::Int(v) => Ok(*v),
            other => Err(other.wrong("an integer")),
        }
    }

    /// The integer, `None` for NULL.
    pub fn opt_int(&self) -> Result<Option<i64>, StorageError> {
        match self {
            Value::Null => Ok(None),
            other => other.int().map(Some),
        }
    }

    /// The text, or an error.
    pub fn text(self) -> Result<String, StorageError> {
        match self {
            Value::Text(v) => Ok(v),
            other => Err(other.wrong("text")),
        }
    }

    /// The text, `None` for NULL.
    pub fn opt_text(self) -> Result<Option<String>, StorageError> {
        match self {
            Value::Null => Ok(None),
            other => other.text().map(Some),
        }
    }

    /// The bytes, or an error.
    pub fn blob(self) -> Result<Vec<u8>, StorageError> {
        match self {
            Value::Blob(v) => Ok(v),
            other => Err(other.wrong("bytes")),
        }
    }
}

/// A row read back, one value per selected column.
pub type Row = Vec<Value>;

/// Takes the row's values apart in order.
pub struct Cols(std::vec::IntoIter<Value>);

impl Cols {
    /// The row's values, first column first.
    pub fn of(row: Row) -> Cols {
        Cols(row.into_iter())
    }

    /// The next value.
    pub fn take(&mut self) -> Result<Value, StorageError> {
        self.0
            .next()
            .ok_or_else(|| StorageError::Schema("a row has fewer columns than read".into()))
    }
}

/// A connection inside a transaction opened by the storage: statements run there and commit
/// or roll back with it.
pub trait Conn {
    /// The connection's SQL dialect.
    fn dialect(&self) -> Dialect;
    /// Runs several statements without parameters (a migration).
    fn batch(&mut self, sql: &str) -> Result<(), StorageError>;
    /// Runs a statement; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StorageError>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, StorageError>;
}

impl dyn Conn + '_ {
    /// The first row of a query, if any.
    pub fn query_opt(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Option<Row>, StorageError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// A query's single integer (a count, a maximum).
    pub fn query_int(&mut self, sql: &str, params: &[Param<'_>]) -> Result<i64, StorageError> {
        let row = self
            .query_opt(sql, params)?
            .ok_or_else(|| StorageError::Schema(format!("no row from: {sql}")))?;
        Cols::of(row).take()?.int()
    }

    /// Runs `work` inside a savepoint: on error, what it did is rolled back and the error
    /// returned; the transaction goes on.
    pub fn savepoint<T, E: From<StorageError>>(
        &mut self,
        work: impl FnOnce(&mut dyn Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.execute("SAVEPOINT one_household", &[])?;
        match work(self) {
            Ok(value) => {
                self.execute("RELEASE SAVEPOINT one_household", &[])?;
                Ok(value)
            }
            Err(err) => {
                self.execute("ROLLBACK TO SAVEPOINT one_household", &[])?;
                self.execute("RELEASE SAVEPOINT one_household", &[])?;
                Err(err)
            }
        }
    }
}

/// `$from, $from+1, ...` for `count` parameters (an `IN (...)` list).
pub fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO table (columns) VALUES (...), (...)` for `rows` rows, numbered in order.
pub fn insert_rows(table: &str, columns: &[&str], rows: usize) -> String {
    let width = columns.len();
    let values: Vec<String> = (0..rows)
        .map(|r| format!("({})", placeholders(1 + r * width, width)))
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        values.join(", ")
    )
}

/// Rows inserted by one statement at most (keeps statements well inside both databases'
/// parameter limits).
pub const ROWS_PER_INSERT: usize = 64;

/// `text` with `%`, `_` and `\` escaped for a LIKE pattern with `ESCAPE '\'`.
pub fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A value bound to a statement, owned while the statement is built.
pub enum Bound {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

/// A WHERE clause built from parts whose `?` marks are numbered in order.
#[derive(Default)]
pub struct Where {
    clauses: Vec<String>,
    values: Vec<Bound>,
}

impl Where {
    /// Adds a clause; its `?` marks take `values` in order.
    pub fn and(&mut self, clause: &str, values: Vec<Bound>) {
        let mut numbered = String::new();
        let mut next = self.values.len();
        for (i, part) in clause.split('?').enumerate() {
            if i > 0 {
                next += 1;
                numbered.push_str(&format!("${next}"));
            }
            numbered.push_str(part);
        }
        self.clauses.push(numbered);
        self.values.extend(values);
    }

    /// Rows whose `column` is one of `villages` (none when there are none).
    pub fn within(column: &str, villages: &[String]) -> Where {
        let mut w = Where::default();
        if villages.is_empty() {
            // PostgreSQL refuses an empty `IN ()`.
            w.and("1 = 0", Vec::new());
            return w;
        }
        let marks = vec!["?"; villages.len()].join(", ");
        w.and(
            &format!("{column} IN ({marks})"),
            villages.iter().cloned().map(Bound::Text).collect(),
        );
        w
    }

    /// The clauses joined with AND.
    pub fn sql(&self) -> String {
        self.clauses.join(" AND ")
    }

    /// The statement's parameters.
    pub fn params(&self) -> Vec<Param<'_>> {
        self.values
            .iter()
            .map(|v| match v {
                Bound::Text(t) => Param::Text(t),
                Bound::Int(i) => Param::Int(*i),
            })
            .collect()
    }
}

/// Parameters for a list of texts.
pub fn texts(items: &[String]) -> Vec<Param<'_>> {
    items.iter().map(Param::from).collect()
}
