//! Household documents on the server: a snapshot per household plus incremental chunks,
//! compacted into a new snapshot once enough pile up, and the query tables rewritten from the
//! document (rows from the core) in the same transaction. Each write bumps the household's
//! version; a process keeps recently used documents in memory and uses its copy only when the
//! stored version is still the one it holds, so several processes can share a database.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use automerge::{ActorId, ChangeHash};
use doorstep_core::document::WrittenChange;
use doorstep_core::projection::{TABLES, TableRows, rows};
use doorstep_core::{HouseholdData, HouseholdDoc};
use lru::LruCache;

use super::StorageError;
use super::sql::{Cols, Conn, Param, ROWS_PER_INSERT, insert_rows, placeholders};

/// After this many chunks the next write replaces them with one snapshot.
const COMPACT_AFTER_CHUNKS: i64 = 32;
/// Household documents a process keeps in memory.
const CACHED_HOUSEHOLDS: usize = 2048;

/// A household's document loaded for a change, and what of it is stored.
pub struct StoredHousehold {
    /// The document.
    pub doc: HouseholdDoc,
    persisted_heads: Vec<ChangeHash>,
    /// Chunks after the snapshot; `None` for a household not stored yet.
    chunks: Option<i64>,
    version: i64,
    /// Bytes stored for the document (snapshot and chunks).
    size: usize,
    /// What the stored document holds, with its number of conflicting fields (`None` for a
    /// household not stored yet).
    current: Option<(HouseholdData, usize)>,
}

impl StoredHousehold {
    /// A household not stored yet, starting from an empty document written by `actor`.
    pub fn new(actor: ActorId) -> StoredHousehold {
        StoredHousehold {
            doc: HouseholdDoc::empty(actor),
            persisted_heads: Vec::new(),
            chunks: None,
            version: 0,
            size: 0,
            current: None,
        }
    }

    /// Bytes stored for the document (0 for a household not stored yet).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether the household is already stored.
    pub fn is_stored(&self) -> bool {
        self.chunks.is_some()
    }

    /// What the stored document holds (`None` for a household not stored yet).
    pub fn current(&self) -> Option<&HouseholdData> {
        self.current.as_ref().map(|(data, _)| data)
    }

    /// The changes made to the document since it was loaded.
    pub fn new_changes(&mut self) -> Vec<WrittenChange> {
        self.doc.written_since(&self.persisted_heads)
    }
}

/// Recently used household documents of this process, each with the version it was stored
/// at. A copy is only used while the database still holds that version.
pub struct DocumentCache {
    entries: Mutex<LruCache<String, StoredHousehold>>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        DocumentCache {
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(CACHED_HOUSEHOLDS).expect("non-zero"),
            )),
        }
    }
}

impl DocumentCache {
    fn take(&self, household_id: &str, version: i64) -> Option<StoredHousehold> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let cached = entries.pop(household_id)?;
        (cached.version == version).then_some(cached)
    }

    /// Keeps a household's document once what it holds is committed.
    pub fn keep(&self, household_id: String, stored: StoredHousehold) {
        if stored.is_stored() {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries.put(household_id, stored);
        }
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

/// Loads a household's document to change it, writing with `actor`, from `cache` when it
/// holds the stored version; on PostgreSQL the household's row stays locked until the
/// transaction ends, so concurrent changes to one household take turns. A stored document the
/// server cannot read is an error (it is never written over unchecked).
pub fn load(
    conn: &mut dyn Conn,
    cache: &DocumentCache,
    household_id: &str,
    actor: ActorId,
) -> Result<Option<StoredHousehold>, StorageError> {
    let sql = format!(
        "SELECT version, chunk_count FROM documents WHERE household_id = $1{}",
        conn.dialect().for_update()
    );
    let Some(row) = conn.query_opt(&sql, &[household_id.into()])? else {
        return Ok(None);
    };
    let mut cols = Cols::of(row);
    let version = cols.take()?.int()?;
    let chunks = cols.take()?.int()?;
    if let Some(mut cached) = cache.take(household_id, version) {
        cached.doc.set_actor(actor);
        return Ok(Some(cached));
    }
    let snapshot = conn
        .query_opt(
            "SELECT snapshot FROM documents WHERE household_id = $1",
            &[household_id.into()],
        )?
        .map(|row| Cols::of(row).take()?.blob())
        .transpose()?
        .unwrap_or_default();
    // The bytes are the server's own, written from documents it checked.
    let mut doc = HouseholdDoc::load_trusted(&snapshot, actor)?;
    let mut size = snapshot.len();
    if chunks > 0 {
        for row in conn.query(
            "SELECT bytes FROM doc_chunks WHERE household_id = $1 ORDER BY seq",
            &[household_id.into()],
        )? {
            let chunk = Cols::of(row).take()?.blob()?;
            size += chunk.len();
            doc.load_incremental(&chunk)?;
        }
    }
    let current = doc.read_checked(household_id).map_err(|err| {
        doorstep_core::error::invalid_doc(format!("服务器上的本户档案无法读取，已拒收：{err}"))
    })?;
    let persisted_heads = doc.heads();
    Ok(Some(StoredHousehold {
        doc,
        persisted_heads,
        chunks: Some(chunks),
        version,
        size,
        current: Some(current),
    }))
}

/// Writes what the document has beyond what is stored (a chunk, or a fresh snapshot when the
/// household is new or has enough chunks), bumps its version, and rewrites the query tables
/// whose rows `read` (the document now, with its number of conflicting fields) changes.
pub fn save(
    conn: &mut dyn Conn,
    stored: &mut StoredHousehold,
    read: (HouseholdData, usize),
) -> Result<(), StorageError> {
    let id = read.0.household.id.clone();
    let village = read.0.household.village_id.clone();
    let version = stored.version + 1;
    match stored.chunks {
        Some(n) if n < COMPACT_AFTER_CHUNKS => {
            let chunk = stored.doc.save_after(&stored.persisted_heads);
            conn.execute(
                "INSERT INTO doc_chunks (household_id, seq, bytes) VALUES ($1, $2, $3)",
                &[id.as_str().into(), (n + 1).into(), Param::Blob(&chunk)],
            )?;
            conn.execute(
                "UPDATE documents SET chunk_count = $1, village_id = $2, version = $3
                  WHERE household_id = $4",
                &[
                    (n + 1).into(),
                    village.as_str().into(),
                    version.into(),
                    id.as_str().into(),
                ],
            )?;
            stored.chunks = Some(n + 1);
            stored.size += chunk.len();
        }
        Some(_) => {
            let snapshot = stored.doc.save();
            conn.execute(
                "DELETE FROM doc_chunks WHERE household_id = $1",
                &[id.as_str().into()],
            )?;
            conn.execute(
                "UPDATE documents SET village_id = $1, snapshot = $2, chunk_count = 0, version = $3
                  WHERE household_id = $4",
                &[
                    village.as_str().into(),
                    Param::Blob(&snapshot),
                    version.into(),
                    id.as_str().into(),
                ],
            )?;
            stored.chunks = Some(0);
            stored.size = snapshot.len();
        }
        None => {
            let snapshot = stored.doc.save();
            // Two transactions creating one household: the one that commits second runs again
            // and merges into what the first stored.
            let created = conn.execute(
                "INSERT INTO documents (household_id, village_id, snapshot, chunk_count, version)
                 VALUES ($1, $2, $3, 0, $4) ON CONFLICT (household_id) DO NOTHING",
                &[
                    id.as_str().into(),
                    village.as_str().into(),
                    Param::Blob(&snapshot),
                    version.into(),
                ],
            )?;
            if created == 0 {
                return Err(StorageError::LostRace);
            }
            stored.chunks = Some(0);
            stored.size = snapshot.len();
        }
    }
    let before = stored.current.as_ref().map(|(data, n)| rows(data, *n));
    write_projection(conn, &id, before.as_deref(), &rows(&read.0, read.1))?;
    stored.persisted_heads = stored.doc.heads();
    stored.version = version;
    stored.current = Some(read);
    Ok(())
}

/// Rewrites a household's rows in each query table where they differ from `before` (every
/// table for a household not stored yet).
fn write_projection(
    conn: &mut dyn Conn,
    household_id: &str,
    before: Option<&[TableRows]>,
    after: &[TableRows],
) -> Result<(), StorageError> {
    for (n, table_rows) in after.iter().enumerate() {
        let table = table_rows.table;
        if before.is_some_and(|b| b[n].rows == table_rows.rows) {
            continue;
        }
        if before.is_some() {
            conn.execute(
                &format!(
                    "DELETE FROM {} WHERE {} = $1",
                    table.name, table.household_column
                ),
                &[household_id.into()],
            )?;
        }
        for batch in table_rows.rows.chunks(ROWS_PER_INSERT) {
            let sql = insert_rows(table.name, table.columns, batch.len());
            let params: Vec<Param<'_>> = batch.iter().flatten().map(Param::from).collect();
            conn.execute(&sql, &params)?;
        }
    }
    debug_assert_eq!(after.len(), TABLES.len());
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
