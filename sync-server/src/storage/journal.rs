//! The journal phones pull from: every change the server stores, numbered per town in the order
//! the writing transactions commit. Each town has a counter row that a writing transaction
//! takes, at its very end, to number its entries; the row stays locked until that transaction
//! commits, so numbers are handed out in commit order and a reader that sees entry `n` of a
//! town has already been able to see every entry before it. A device's cursor therefore never
//! passes an entry that commits later (on SQLite the one writer gives the same order).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use doorstep_core::document::WrittenChange;
use doorstep_core::sync::protocol::TownCursor;

use super::StorageError;
use super::accounts::Scope;
use super::sql::{Cols, Conn, Param, ROWS_PER_INSERT, insert_rows, placeholders};

/// Entries read per query while filling a page.
const ROWS_PER_QUERY: i64 = 256;

/// One change to append.
pub struct JournalEntry<'a> {
    /// Its household.
    pub household_id: &'a str,
    /// The household's village.
    pub village_id: &'a str,
    /// Where it came from: the pushing device, or the console user's actor.
    pub origin: &'a str,
    /// The change, with its writer and number.
    pub change: &'a WrittenChange,
}

/// The newest entry number of each town named (0 for a town with none).
pub type TownHeads = Vec<TownCursor>;

/// Appends the entries of one town, numbered after its newest.
pub fn append(
    conn: &mut dyn Conn,
    town: &str,
    entries: &[JournalEntry<'_>],
) -> Result<(), StorageError> {
    if entries.is_empty() {
        return Ok(());
    }
    let count = entries.len() as i64;
    let head = conn.query_int(
        "INSERT INTO journal_heads (town_id, seq) VALUES ($1, $2)
         ON CONFLICT (town_id) DO UPDATE SET seq = journal_heads.seq + excluded.seq
         RETURNING seq",
        &[town.into(), count.into()],
    )?;
    let columns = [
        "town_id",
        "seq",
        "household_id",
        "village_id",
        "origin",
        "bytes",
        "actor",
        "change_seq",
        "received_at",
    ];
    let first = head - count + 1;
    let received = Utc::now().timestamp_millis();
    for (b, batch) in entries.chunks(ROWS_PER_INSERT).enumerate() {
        let mut params: Vec<Param<'_>> = Vec::with_capacity(batch.len() * columns.len());
        for (n, entry) in batch.iter().enumerate() {
            params.extend::<[Param<'_>; 9]>([
                town.into(),
                (first + (b * ROWS_PER_INSERT + n) as i64).into(),
                entry.household_id.into(),
                entry.village_id.into(),
                entry.origin.into(),
                Param::Blob(&entry.change.bytes),
                entry.change.actor.as_str().into(),
                (entry.change.seq as i64).into(),
                received.into(),
            ]);
        }
        conn.execute(&insert_rows("journal", &columns, batch.len()), &params)?;
    }
    Ok(())
}

/// The newest entry number of each town of the scope.
pub fn heads(conn: &mut dyn Conn, scope: &Scope) -> Result<TownHeads, StorageError> {
    let towns: Vec<&String> = scope.towns.iter().map(|(town, _)| town).collect();
    let mut found: HashMap<String, u64> = HashMap::new();
    if !towns.is_empty() {
        let sql = format!(
            "SELECT town_id, seq FROM journal_heads WHERE town_id IN ({})",
            placeholders(1, towns.len())
        );
        let params: Vec<Param<'_>> = towns.iter().map(|t| Param::from(*t)).collect();
        for row in conn.query(&sql, &params)? {
            let mut cols = Cols::of(row);
            let town = cols.take()?.text()?;
            found.insert(town, cols.take()?.int()?.max(0) as u64);
        }
    }
    Ok(towns
        .into_iter()
        .map(|town| TownCursor {
            town: town.clone(),
            seq: found.get(town).copied().unwrap_or(0),
        })
        .collect())
}

/// A page of the journal for one device.
#[derive(Debug, Default)]
pub struct JournalPage {
    /// Changes grouped by household (each household once, in the order of its first entry),
    /// each household's changes in journal order.
    pub changes: Vec<(String, Vec<Vec<u8>>)>,
    /// Where the device is once it has stored this page: one cursor per town of its scope.
    pub cursors: Vec<TownCursor>,
    /// Entries of the scope after the page, still to come.
    pub remaining: u64,
    /// Bytes of changes in the page.
    pub bytes: usize,
}

fn cursor_of(cursors: &[TownCursor], town: &str) -> u64 {
    cursors.iter().find(|c| c.town == town).map_or(0, |c| c.seq)
}

fn village_params<'a>(town: &'a str, after: i64, villages: &'a [String]) -> Vec<Param<'a>> {
    let mut params: Vec<Param<'a>> = vec![town.into(), after.into()];
    params.extend(villages.iter().map(Param::from));
    params
}

/// Entries of the scope after `cursors`, up to about `budget` bytes (at least one entry when
/// there is one). Entries from `exclude_origin` (the asking device's own changes, when it is
/// known to have them) are skipped but covered by the returned cursors.
pub fn page(
    conn: &mut dyn Conn,
    scope: &Scope,
    cursors: &[TownCursor],
    exclude_origin: Option<&str>,
    budget: usize,
) -> Result<JournalPage, StorageError> {
    let mut page = JournalPage::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut full = false;
    for (town, villages) in &scope.towns {
        let mut cursor = cursor_of(cursors, town);
        if !full && !villages.is_empty() {
            let sql = format!(
                "SELECT seq, household_id, origin, bytes FROM journal
                  WHERE town_id = $1 AND seq > $2 AND village_id IN ({})
                  ORDER BY seq LIMIT ${}",
                placeholders(3, villages.len()),
                villages.len() + 3
            );
            'rows: loop {
                let mut params = village_params(town, cursor as i64, villages);
                params.push(ROWS_PER_QUERY.into());
                let rows = conn.query(&sql, &params)?;
                let last_batch = (rows.len() as i64) < ROWS_PER_QUERY;
                for row in rows {
                    let mut cols = Cols::of(row);
                    let seq = cols.take()?.int()?.max(0) as u64;
                    let household = cols.take()?.text()?;
                    let origin = cols.take()?.text()?;
                    let bytes = cols.take()?.blob()?;
                    if page.bytes > 0 && page.bytes + bytes.len() > budget {
                        full = true;
                        break 'rows;
                    }
                    cursor = seq;
                    if Some(origin.as_str()) == exclude_origin {
                        continue;
                    }
                    page.bytes += bytes.len();
                    match index.get(&household) {
                        Some(&at) => page.changes[at].1.push(bytes),
                        None => {
                            index.insert(household.clone(), page.changes.len());
                            page.changes.push((household, vec![bytes]));
                        }
                    }
                }
                if last_batch {
                    break;
                }
            }
        }
        if full {
            page.remaining += count_after(conn, town, cursor, villages)?;
        }
        page.cursors.push(TownCursor {
            town: town.clone(),
            seq: cursor,
        });
    }
    Ok(page)
}

/// Entries of `villages` (of `town`) after `cursor`.
fn count_after(
    conn: &mut dyn Conn,
    town: &str,
    cursor: u64,
    villages: &[String],
) -> Result<u64, StorageError> {
    if villages.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "SELECT count(*) FROM journal WHERE town_id = $1 AND seq > $2 AND village_id IN ({})",
        placeholders(3, villages.len())
    );
    let params = village_params(town, cursor as i64, villages);
    Ok(conn.query_int(&sql, &params)?.max(0) as u64)
}

/// Entries of the scope after `cursors`.
pub fn count_scope_after(
    conn: &mut dyn Conn,
    scope: &Scope,
    cursors: &[TownCursor],
) -> Result<u64, StorageError> {
    let mut total = 0;
    for (town, villages) in &scope.towns {
        total += count_after(conn, town, cursor_of(cursors, town), villages)?;
    }
    Ok(total)
}

impl super::Storage {
    /// When the server received each of a household's changes named by actor (hex) and
    /// number, if it has a record of it.
    pub fn received_times(
        &self,
        household_id: &str,
        changes: &[(String, u64)],
    ) -> Result<Vec<Option<DateTime<Utc>>>, StorageError> {
        self.read(|conn| {
            changes
                .iter()
                .map(|(actor, seq)| {
                    let row = conn.query_opt(
                        "SELECT min(received_at) FROM journal
                         WHERE household_id = $1 AND actor = $2 AND change_seq = $3",
                        &[household_id.into(), actor.into(), (*seq as i64).into()],
                    )?;
                    Ok(row
                        .and_then(|row| row.into_iter().next())
                        .map(|v| v.opt_int())
                        .transpose()?
                        .flatten()
                        .and_then(DateTime::from_timestamp_millis))
                })
                .collect()
        })
    }
}
