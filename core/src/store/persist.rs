//! Document bytes in SQLite: a snapshot per household plus incremental chunks, compacted into
//! a new snapshot once enough chunks pile up.

use automerge::{ActorId, ChangeHash};
use rusqlite::{Connection, OptionalExtension, params};

use crate::document::HouseholdDoc;
use crate::error::Result;

/// After this many chunks the next write replaces them with one snapshot.
pub(crate) const COMPACT_AFTER_CHUNKS: i64 = 32;

/// A loaded document and what of it is already on disk.
pub(crate) struct StoredDoc {
    /// The document.
    pub doc: HouseholdDoc,
    /// Heads already written to disk (empty for a document not yet stored).
    pub persisted_heads: Vec<ChangeHash>,
    /// Chunks stored after the snapshot.
    pub chunk_count: i64,
}

impl StoredDoc {
    /// A document that is not on disk yet.
    pub fn new(doc: HouseholdDoc) -> StoredDoc {
        StoredDoc {
            doc,
            persisted_heads: Vec::new(),
            chunk_count: -1,
        }
    }

    /// Whether the document has changes not yet on disk.
    pub fn is_dirty(&mut self) -> bool {
        self.doc.heads() != self.persisted_heads
    }
}

/// A household's stored bytes: its snapshot and the chunks written after it.
pub(crate) struct StoredBytes {
    snapshot: Vec<u8>,
    chunks: Vec<Vec<u8>>,
    chunk_count: i64,
}

/// Reads a household's stored bytes, if it is stored.
pub(crate) fn read_bytes(conn: &Connection, household_id: &str) -> Result<Option<StoredBytes>> {
    let row: Option<(Vec<u8>, i64)> = conn
        .prepare_cached("SELECT snapshot, chunk_count FROM documents WHERE household_id = ?1")?
        .query_row([household_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((snapshot, chunk_count)) = row else {
        return Ok(None);
    };
    let mut chunks = Vec::new();
    if chunk_count > 0 {
        let mut stmt = conn
            .prepare_cached("SELECT bytes FROM doc_chunks WHERE household_id = ?1 ORDER BY seq")?;
        for chunk in stmt.query_map([household_id], |r| r.get::<_, Vec<u8>>(0))? {
            chunks.push(chunk?);
        }
    }
    Ok(Some(StoredBytes {
        snapshot,
        chunks,
        chunk_count,
    }))
}

impl StoredBytes {
    /// Rebuilds the document. The bytes are this store's own (written in its transactions), so
    /// the heads recorded in the snapshot are trusted rather than recomputed.
    pub(crate) fn decode(self, actor: &ActorId) -> Result<StoredDoc> {
        let mut doc = HouseholdDoc::load_trusted(&self.snapshot, actor.clone())?;
        for chunk in &self.chunks {
            doc.load_incremental(chunk)?;
        }
        let persisted_heads = doc.heads();
        Ok(StoredDoc {
            doc,
            persisted_heads,
            chunk_count: self.chunk_count,
        })
    }
}

/// Loads a household's document from its snapshot and chunks, if stored.
pub(crate) fn load(
    conn: &Connection,
    household_id: &str,
    actor: &ActorId,
) -> Result<Option<StoredDoc>> {
    read_bytes(conn, household_id)?
        .map(|bytes| bytes.decode(actor))
        .transpose()
}

/// Writes what the document has beyond what is on disk: a chunk, or a fresh snapshot when the
/// document is new or has enough chunks. Runs inside the caller's transaction.
pub(crate) fn save(conn: &Connection, household_id: &str, stored: &mut StoredDoc) -> Result<()> {
    if stored.chunk_count < 0 || stored.chunk_count >= COMPACT_AFTER_CHUNKS {
        let snapshot = stored.doc.save();
        conn.prepare_cached("DELETE FROM doc_chunks WHERE household_id = ?1")?
            .execute([household_id])?;
        conn.prepare_cached(
            "INSERT INTO documents (household_id, snapshot, chunk_count) VALUES (?1, ?2, 0)
             ON CONFLICT (household_id) DO UPDATE SET snapshot = excluded.snapshot, chunk_count = 0",
        )?
        .execute(params![household_id, snapshot])?;
        stored.chunk_count = 0;
    } else {
        let chunk = stored.doc.save_after(&stored.persisted_heads);
        stored.chunk_count += 1;
        conn.prepare_cached(
            "INSERT INTO doc_chunks (household_id, seq, bytes) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![household_id, stored.chunk_count, chunk])?;
        conn.prepare_cached("UPDATE documents SET chunk_count = ?2 WHERE household_id = ?1")?
            .execute(params![household_id, stored.chunk_count])?;
    }
    stored.persisted_heads = stored.doc.heads();
    Ok(())
}

/// Ids of every stored household.
pub(crate) fn household_ids(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT household_id FROM documents ORDER BY household_id")?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}
