//! Writes the query tables' rows ([`crate::projection`]) into the phone's SQLite file, rewritten
//! whole for a household in the same transaction as its document bytes.

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, ToSql, params_from_iter};

use crate::document::HouseholdData;
use crate::error::Result;
use crate::projection::{Cell, TABLES, Table, rows};

impl ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Cell::Null => ToSqlOutput::Owned(Value::Null),
            Cell::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Cell::Real(v) => ToSqlOutput::Owned(Value::Real(*v)),
            Cell::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

/// `INSERT INTO table (columns) VALUES (?1, ...)`.
pub(crate) fn insert_sql(table: &Table) -> String {
    let marks: Vec<String> = (1..=table.columns.len()).map(|n| format!("?{n}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        table.name,
        table.columns.join(", "),
        marks.join(", ")
    )
}

/// Deletes a household's rows from every query table.
fn clear(conn: &Connection, household_id: &str) -> Result<()> {
    for table in TABLES {
        conn.prepare_cached(&format!(
            "DELETE FROM {} WHERE {} = ?1",
            table.name, table.household_column
        ))?
        .execute([household_id])?;
    }
    Ok(())
}

/// Rewrites a household's rows from its document data.
pub(crate) fn write(conn: &Connection, data: &HouseholdData, conflict_count: usize) -> Result<()> {
    clear(conn, &data.household.id)?;
    insert(conn, data, conflict_count)
}

/// Inserts a household's rows (it has none yet).
pub(crate) fn insert(conn: &Connection, data: &HouseholdData, conflict_count: usize) -> Result<()> {
    for table_rows in rows(data, conflict_count) {
        let mut stmt = conn.prepare_cached(&insert_sql(table_rows.table))?;
        for row in &table_rows.rows {
            stmt.execute(params_from_iter(row))?;
        }
    }
    Ok(())
}
