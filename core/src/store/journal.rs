//! The journal a sync server keeps: every change stored, numbered in the order it was stored,
//! with its household, village and origin device. Devices pull by cursor (the last number they
//! have), so a sync with nothing new is one indexed lookup, whatever the number of households.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::{IncomingChanges, Store};
use crate::error::Result;

/// Appends a household's newly stored changes to the journal.
pub(crate) fn append(
    conn: &Connection,
    household_id: &str,
    village_id: &str,
    origin: &str,
    changes: &[Vec<u8>],
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO journal (household_id, village_id, origin, bytes) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for change in changes {
        stmt.execute(params![household_id, village_id, origin, change])?;
    }
    Ok(())
}

/// A page of the journal for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalPage {
    /// Changes grouped by household (each household once, in the order of its first entry),
    /// each household's changes in journal order.
    pub changes: Vec<IncomingChanges>,
    /// The number of the last entry this page covers (the device's next cursor).
    pub cursor: u64,
    /// Entries of the scope after `cursor` not in this page.
    pub remaining: u64,
}

/// The scope as the JSON array SQLite's `json_each` reads.
fn scope_json(villages: &[String]) -> String {
    serde_json::to_string(villages).unwrap_or_else(|_| "[]".into())
}

impl Store {
    /// The number of the newest journal entry (0 when the journal is empty).
    pub fn journal_head(&self) -> Result<u64> {
        let seq: i64 =
            self.lock()
                .conn
                .query_row("SELECT coalesce(max(seq), 0) FROM journal", [], |r| {
                    r.get(0)
                })?;
        Ok(seq.max(0) as u64)
    }

    /// Journal entries after `cursor` for households of `villages`, up to about `budget` bytes
    /// (at least one entry when there is one). Entries that came from `exclude_origin` (the
    /// asking device's own changes) are skipped but still covered by the returned cursor.
    pub fn journal_since(
        &self,
        cursor: u64,
        villages: &[String],
        exclude_origin: &str,
        budget: usize,
    ) -> Result<JournalPage> {
        let inner = self.lock();
        let scope = scope_json(villages);
        let mut stmt = inner.conn.prepare_cached(
            "SELECT seq, household_id, origin, bytes FROM journal
              WHERE seq > ?1 AND village_id IN (SELECT value FROM json_each(?2))
              ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![cursor as i64, scope])?;
        let mut page = JournalPage {
            changes: Vec::new(),
            cursor,
            remaining: 0,
        };
        let mut used = 0usize;
        let mut index: HashMap<String, usize> = HashMap::new();
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let household_id: String = row.get(1)?;
            let origin: String = row.get(2)?;
            let bytes: Vec<u8> = row.get(3)?;
            if used > 0 && used + bytes.len() > budget {
                break;
            }
            page.cursor = seq as u64;
            if origin == exclude_origin {
                continue;
            }
            used += bytes.len() + household_id.len();
            // One entry per household, however its rows interleave with others'.
            match index.get(&household_id) {
                Some(&at) => page.changes[at].changes.push(bytes),
                None => {
                    index.insert(household_id.clone(), page.changes.len());
                    page.changes.push(IncomingChanges {
                        household_id,
                        changes: vec![bytes],
                    });
                }
            }
        }
        drop(rows);
        drop(stmt);
        page.remaining = count_after(&inner.conn, page.cursor, &scope)?;
        Ok(page)
    }

    /// Journal entries of `villages` after `cursor`.
    pub fn journal_count_after(&self, cursor: u64, villages: &[String]) -> Result<u64> {
        count_after(&self.lock().conn, cursor, &scope_json(villages))
    }

    /// Ids of the households of `villages`, in id order, after `after` (for snapshot pages).
    pub fn households_in(
        &self,
        villages: &[String],
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT id FROM households
              WHERE village_id IN (SELECT value FROM json_each(?1)) AND id > ?2
              ORDER BY id LIMIT ?3",
        )?;
        let ids = stmt
            .query_map(
                params![scope_json(villages), after.unwrap_or(""), limit],
                |r| r.get(0),
            )?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// How many households `villages` hold with ids after `after`.
    pub fn household_count(&self, villages: &[String], after: Option<&str>) -> Result<u64> {
        let n: i64 = self.lock().conn.query_row(
            "SELECT count(*) FROM households
              WHERE village_id IN (SELECT value FROM json_each(?1)) AND id > ?2",
            params![scope_json(villages), after.unwrap_or("")],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }
}

/// Journal entries of a scope (JSON array) after `cursor`.
fn count_after(conn: &Connection, cursor: u64, scope: &str) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM journal
              WHERE seq > ?1 AND village_id IN (SELECT value FROM json_each(?2))",
        )?
        .query_row(params![cursor as i64, scope], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}
