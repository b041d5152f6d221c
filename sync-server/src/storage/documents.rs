//! Household documents on the server: a snapshot per household plus incremental chunks,
//! compacted into a new snapshot once enough pile up, and the query tables rewritten from the
//! document (rows from the core) in the same transaction.

use automerge::{ActorId, ChangeHash};
use doorstep_core::projection::{TABLES, rows};
use doorstep_core::{HouseholdData, HouseholdDoc};

use super::StorageError;
use super::sql::{Cols, Conn, Param, placeholders};

/// After this many chunks the next write replaces them with one snapshot.
const COMPACT_AFTER_CHUNKS: i64 = 32;

/// A household's document loaded for a change, and what of it is stored.
pub struct StoredHousehold {
    /// The document (writing with the actor it was loaded with).
    pub doc: HouseholdDoc,
    persisted_heads: Vec<ChangeHash>,
    /// Chunks after the snapshot; `None` for a household not stored yet.
    chunks: Option<i64>,
}

impl StoredHousehold {
    /// A household not stored yet, starting from an empty document.
    pub fn new(actor: ActorId) -> StoredHousehold {
        StoredHousehold {
            doc: HouseholdDoc::empty(actor),
            persisted_heads: Vec::new(),
            chunks: None,
        }
    }

    /// Whether the household is already stored.
    pub fn is_stored(&self) -> bool {
        self.chunks.is_some()
    }

    /// The changes made to the document since it was loaded.
    pub fn new_changes(&mut self) -> Vec<Vec<u8>> {
        self.doc.changes_since(&self.persisted_heads)
    }
}

/// The stored bytes of a household: its snapshot followed by its chunks, which automerge
/// loads as one document (what a phone receives when it asks for the household whole).
pub fn bytes(conn: &mut dyn Conn, household_id: &str) -> Result<Option<Vec<u8>>, StorageError> {
    let Some(row) = conn.query_opt(
        "SELECT snapshot, chunk_count FROM documents WHERE household_id = $1",
        &[household_id.into()],
    )?
    else {
        return Ok(None);
    };
    let mut cols = Cols::of(row);
    let mut bytes = cols.take()?.blob()?;
    if cols.take()?.int()? > 0 {
        for row in conn.query(
            "SELECT bytes FROM doc_chunks WHERE household_id = $1 ORDER BY seq",
            &[household_id.into()],
        )? {
            bytes.extend(Cols::of(row).take()?.blob()?);
        }
    }
    Ok(Some(bytes))
}

/// Loads a household's document to change it, writing with `actor`; on PostgreSQL its row
/// stays locked until the transaction ends, so concurrent changes to one household take turns.
pub fn load(
    conn: &mut dyn Conn,
    household_id: &str,
    actor: ActorId,
) -> Result<Option<StoredHousehold>, StorageError> {
    let sql = format!(
        "SELECT snapshot, chunk_count FROM documents WHERE household_id = $1{}",
        conn.dialect().for_update()
    );
    let Some(row) = conn.query_opt(&sql, &[household_id.into()])? else {
        return Ok(None);
    };
    let mut cols = Cols::of(row);
    let snapshot = cols.take()?.blob()?;
    let chunks = cols.take()?.int()?;
    // The bytes are the server's own, written from documents it checked.
    let mut doc = HouseholdDoc::load_trusted(&snapshot, actor)?;
    if chunks > 0 {
        for row in conn.query(
            "SELECT bytes FROM doc_chunks WHERE household_id = $1 ORDER BY seq",
            &[household_id.into()],
        )? {
            doc.load_incremental(&Cols::of(row).take()?.blob()?)?;
        }
    }
    let persisted_heads = doc.heads();
    Ok(Some(StoredHousehold {
        doc,
        persisted_heads,
        chunks: Some(chunks),
    }))
}

/// Writes what the document has beyond what is stored (a chunk, or a fresh snapshot when the
/// household is new or has enough chunks) and rewrites its query tables from `data`.
pub fn save(
    conn: &mut dyn Conn,
    stored: &mut StoredHousehold,
    data: &HouseholdData,
    conflict_count: usize,
) -> Result<(), StorageError> {
    let id = data.household.id.as_str();
    let village = data.household.village_id.as_str();
    match stored.chunks {
        Some(n) if n < COMPACT_AFTER_CHUNKS => {
            let chunk = stored.doc.save_after(&stored.persisted_heads);
            conn.execute(
                "INSERT INTO doc_chunks (household_id, seq, bytes) VALUES ($1, $2, $3)",
                &[id.into(), (n + 1).into(), Param::Blob(&chunk)],
            )?;
            conn.execute(
                "UPDATE documents SET chunk_count = $1, village_id = $2 WHERE household_id = $3",
                &[(n + 1).into(), village.into(), id.into()],
            )?;
            stored.chunks = Some(n + 1);
        }
        existing => {
            let snapshot = stored.doc.save();
            if existing.is_some() {
                conn.execute(
                    "DELETE FROM doc_chunks WHERE household_id = $1",
                    &[id.into()],
                )?;
            }
            conn.execute(
                "INSERT INTO documents (household_id, village_id, snapshot, chunk_count)
                 VALUES ($1, $2, $3, 0)
                 ON CONFLICT (household_id) DO UPDATE
                    SET village_id = excluded.village_id, snapshot = excluded.snapshot,
                        chunk_count = 0",
                &[id.into(), village.into(), Param::Blob(&snapshot)],
            )?;
            stored.chunks = Some(0);
        }
    }
    stored.persisted_heads = stored.doc.heads();
    write_projection(conn, data, conflict_count)
}

/// Rewrites a household's rows in every query table.
fn write_projection(
    conn: &mut dyn Conn,
    data: &HouseholdData,
    conflict_count: usize,
) -> Result<(), StorageError> {
    let id = data.household.id.as_str();
    for table in TABLES {
        conn.execute(
            &format!(
                "DELETE FROM {} WHERE {} = $1",
                table.name, table.household_column
            ),
            &[id.into()],
        )?;
    }
    for table_rows in rows(data, conflict_count) {
        let table = table_rows.table;
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            table.name,
            table.columns.join(", "),
            placeholders(1, table.columns.len())
        );
        for row in &table_rows.rows {
            let params: Vec<Param<'_>> = row.iter().map(Param::from).collect();
            conn.execute(&sql, &params)?;
        }
    }
    Ok(())
}

/// Ids of the households of `villages` after `after`, in id order, at most `limit`.
pub fn ids_in(
    conn: &mut dyn Conn,
    villages: &[String],
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, StorageError> {
    if villages.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT household_id FROM documents WHERE household_id > $1 AND village_id IN ({})
          ORDER BY household_id LIMIT ${}",
        placeholders(2, villages.len()),
        villages.len() + 2
    );
    let mut params: Vec<Param<'_>> = vec![after.unwrap_or("").into()];
    params.extend(villages.iter().map(Param::from));
    params.push(limit.into());
    conn.query(&sql, &params)?
        .into_iter()
        .map(|row| Cols::of(row).take()?.text())
        .collect()
}

/// How many households `villages` hold with ids after `after`.
pub fn count_in(
    conn: &mut dyn Conn,
    villages: &[String],
    after: Option<&str>,
) -> Result<u64, StorageError> {
    if villages.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "SELECT count(*) FROM documents WHERE household_id > $1 AND village_id IN ({})",
        placeholders(2, villages.len())
    );
    let mut params: Vec<Param<'_>> = vec![after.unwrap_or("").into()];
    params.extend(villages.iter().map(Param::from));
    Ok(conn.query_int(&sql, &params)?.max(0) as u64)
}

/// The village of a stored household.
pub fn village_of(conn: &mut dyn Conn, household_id: &str) -> Result<Option<String>, StorageError> {
    conn.query_opt(
        "SELECT village_id FROM documents WHERE household_id = $1",
        &[household_id.into()],
    )?
    .map(|row| Cols::of(row).take()?.text())
    .transpose()
}

/// How much the database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Households.
    pub households: u64,
    /// Fields holding concurrent values, over every household.
    pub conflicts: u64,
}

impl super::Storage {
    /// How many households the database holds, and how many conflicting fields they have.
    pub fn totals(&self) -> Result<Totals, StorageError> {
        self.read(|conn| {
            let row = conn
                .query_opt(
                    "SELECT count(*), CAST(coalesce(sum(conflict_count), 0) AS BIGINT) FROM households",
                    &[],
                )?
                .ok_or_else(|| StorageError::Schema("no totals".into()))?;
            let mut cols = Cols::of(row);
            Ok(Totals {
                households: cols.take()?.int()?.max(0) as u64,
                conflicts: cols.take()?.int()?.max(0) as u64,
            })
        })
    }
}

impl super::Storage {
    /// A household's document as stored (snapshot and chunks, loadable as one document), if
    /// the server has it.
    pub fn household_document(&self, household_id: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(|conn| bytes(conn, household_id))
    }
}
