//! The device's side of sync, kept in the store: for each household the heads the server has
//! acknowledged, how many local changes it has not acknowledged yet, a rejection reason, and
//! whether the whole document must be fetched again; plus the device's position in the
//! server's stream and the status the app shows.

use automerge::ChangeHash;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::changes::IncomingChanges;
use super::{Origin, Store};
use crate::document::{ApplyOutcome, HouseholdDoc, Incoming};
use crate::error::{CoreError, Result};
use crate::sync::protocol::{MAX_MESSAGE_CHANGES, MAX_PUSH_OPS};
use crate::time::to_millis;

const POSITION_KEY: &str = "sync_position";
const LAST_SUCCESS_KEY: &str = "sync_last_success";
const LAST_ERROR_KEY: &str = "sync_last_error";
const TOKEN_KEY: &str = "device_token";
const BLOCKED_KEY: &str = "sync_blocked";
const FAILURES_KEY: &str = "sync_failures";
const LAST_FAILURE_KEY: &str = "sync_last_failure";

/// After this many failures in a row to store what the server sent for a household, it is set
/// aside: no longer asked for, shown in the sync status with the reason.
pub const SET_ASIDE_AFTER: i64 = 2;

/// A household the server refused is pushed again after this long even if nothing changed
/// (the server may have been updated, or hub staff may have changed the user's villages);
/// sooner after a local edit or when changes for it arrive from the server.
pub const RETRY_REFUSED_AFTER_HOURS: i64 = 6;

const RETRY_REFUSED_AFTER_MS: i64 = RETRY_REFUSED_AFTER_HOURS * 3_600_000;

/// What the agent is told about a household the server refused: the server's reason, and that
/// nothing is lost and it will be tried again.
pub fn refusal_text(reason: &str) -> String {
    format!(
        "服务器暂未收下本户的修改：{reason}。修改都保存在本机，本户再有修改、收到其他人的更新或{RETRY_REFUSED_AFTER_HOURS}小时后会自动重新提交；如一直未收下，请联系镇便民服务中心"
    )
}

/// What the server did with one pushed household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored durably (or already there).
    Stored,
    /// Refused as a whole, with the reason (in Chinese).
    Rejected {
        /// Why.
        reason: String,
    },
    /// The server lacks changes these depend on: the household's whole history goes next.
    MissingHistory,
}

/// A whole household document received from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingSnapshot {
    /// The household.
    pub household_id: String,
    /// The saved document.
    pub bytes: Vec<u8>,
}

/// What one round brought from the server, to be stored at once by [`Store::finish_round`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedRound {
    /// What became of each pushed household.
    pub outcomes: Vec<(String, PushOutcome)>,
    /// Changes the device lacked.
    pub changes: Vec<IncomingChanges>,
    /// Whole documents.
    pub snapshots: Vec<IncomingSnapshot>,
    /// Where the device is in the server's stream once this is stored, as the sync client
    /// encodes it; kept as it is and given back by [`Store::sync_position`].
    pub position: Vec<u8>,
}

/// A household with changes the server has not acknowledged, ready to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPush {
    /// The household.
    pub household_id: String,
    /// Its heads when the push was built (acknowledged as a whole).
    pub heads: Vec<ChangeHash>,
    /// The changes the server lacks.
    pub changes: Vec<Vec<u8>>,
    /// Local changes counted when the push was built.
    pub local_changes: i64,
}

/// Where one household stands with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum HouseholdSyncState {
    /// The server has everything.
    Synced,
    /// Local changes wait to be pushed.
    Pending {
        /// How many.
        local_changes: u64,
    },
    /// The server refused its changes; they are kept here and pushed again later.
    Rejected {
        /// What happened and what comes next, in Chinese, with the server's reason.
        reason: String,
    },
    /// What the server sent for it could not be stored, twice; it no longer syncs until
    /// asked again (`Store::retry_set_aside`).
    SetAside {
        /// Why it could not be stored, in Chinese.
        reason: String,
    },
}

/// What the app shows about sync.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncStatus {
    /// When the last sync finished (device clock).
    pub last_success: Option<DateTime<Utc>>,
    /// Local changes the server has not acknowledged yet.
    pub pending_changes: u64,
    /// Households with such changes.
    pub pending_households: u64,
    /// Households whose changes the server refused.
    pub rejected_households: u64,
    /// Households set aside: what the server sent for them could not be stored, twice (see
    /// `Store::set_aside_households` for the reasons).
    pub set_aside_households: u64,
    /// The last sync error, in Chinese, if the last attempt failed.
    pub last_error: Option<String>,
    /// Why syncing is stopped until the device enrolls again (a revoked or unknown device).
    pub blocked: Option<String>,
    /// Syncs that failed since the last round that succeeded (cancelled ones do not count).
    pub failures_in_a_row: u32,
    /// When the last of them failed (device clock).
    pub last_failure: Option<DateTime<Utc>>,
}

fn heads_to_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

fn heads_from_bytes(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|c| ChangeHash::try_from(c).ok())
        .collect()
}

/// Counts local changes of a household (an edit clears an earlier rejection: the agent may
/// have fixed what was refused).
pub(crate) fn note_local(conn: &Connection, household_id: &str, changes: usize) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state (household_id, acked_heads, local_changes) VALUES (?1, x'', ?2)
         ON CONFLICT (household_id) DO UPDATE
            SET local_changes = local_changes + excluded.local_changes,
                rejected_reason = CASE WHEN excluded.local_changes > 0 THEN NULL ELSE rejected_reason END",
    )?
    .execute(params![household_id, changes as i64])?;
    Ok(())
}

/// Records received data: the server (where it came from) has everything up to `heads`,
/// unless local changes are still waiting to be pushed.
pub(crate) fn note_remote(
    conn: &Connection,
    household_id: &str,
    heads: &[ChangeHash],
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state (household_id, acked_heads) VALUES (?1, ?2)
         ON CONFLICT (household_id) DO UPDATE SET acked_heads = excluded.acked_heads
          WHERE local_changes = 0",
    )?
    .execute(params![household_id, heads_to_bytes(heads)])?;
    Ok(())
}

fn set_meta(conn: &Connection, key: &str, value: &[u8]) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
        .execute(params![key, value])?;
    Ok(())
}

fn forget_meta(conn: &Connection, keys: &[&str]) -> Result<()> {
    let mut forget = conn.prepare_cached("DELETE FROM meta WHERE key = ?1")?;
    for key in keys {
        forget.execute([key])?;
    }
    Ok(())
}

/// A meta value written as 8 big-endian bytes (a count or a time in milliseconds).
fn read_u64(conn: &Connection, key: &str) -> Result<Option<u64>> {
    Ok(get_meta(conn, key)?
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map(u64::from_be_bytes))
}

fn get_meta(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// A pushed household the server refused; its changes stay on the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RejectedHousehold {
    /// The household's id.
    pub household_id: String,
    /// The server's reason, in Chinese.
    pub reason: String,
}

/// What one round brought.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundApplied {
    /// Pushed households the server stored.
    pub stored: usize,
    /// Pushed households the server refused, with the reasons.
    pub rejected: Vec<RejectedHousehold>,
    /// Received households stored.
    pub received: usize,
    /// Received households that could not be stored (they will be fetched whole next time).
    pub deferred: usize,
    /// Pushed households the server lacked history for (their whole history goes next round).
    pub resend: usize,
}

impl Store {
    /// Households with local changes not yet acknowledged, each with the changes the server
    /// lacks, in id order, up to about `budget` bytes (always at least one), at most
    /// `max_households`, and within what one request may carry ([`MAX_MESSAGE_CHANGES`] changes,
    /// [`MAX_PUSH_OPS`] operations). A refused household waits for a local edit, changes for it from the
    /// server, or [`RETRY_REFUSED_AFTER_HOURS`] (sooner if the device clock went back).
    pub fn pending_pushes(&self, budget: usize, max_households: usize) -> Result<Vec<PendingPush>> {
        let now = to_millis(self.clock.now());
        let rows: Vec<(String, Vec<u8>, i64)> = {
            let inner = self.lock();
            let mut stmt = inner.conn.prepare_cached(
                "SELECT household_id, acked_heads, local_changes FROM sync_state
                  WHERE local_changes > 0
                    AND (rejected_reason IS NULL OR coalesce(retry_refused_at, 0) <= ?1
                         OR retry_refused_at > ?1 + ?2)
                  ORDER BY household_id",
            )?;
            stmt.query_map(params![now, RETRY_REFUSED_AFTER_MS], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        let (mut used, mut listed, mut ops_used) = (0, 0, 0);
        for (household_id, acked, local_changes) in rows {
            let acked = heads_from_bytes(&acked);
            let (heads, (changes, ops)) = self.read_doc(&household_id, |doc| {
                Ok((doc.heads(), doc.changes_and_ops_since(&acked)))
            })?;
            let size: usize = changes.iter().map(Vec::len).sum();
            let over = used + size > budget
                || out.len() >= max_households
                || listed + changes.len() > MAX_MESSAGE_CHANGES
                || ops_used + ops > MAX_PUSH_OPS;
            if !out.is_empty() && over {
                break;
            }
            used += size;
            listed += changes.len();
            ops_used += ops;
            out.push(PendingPush {
                household_id,
                heads,
                changes,
                local_changes,
            });
        }
        Ok(out)
    }

    /// Households whose whole document must be fetched again (received changes could not be
    /// stored), except those set aside.
    pub fn households_needing_snapshot(&self) -> Result<Vec<String>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT household_id FROM sync_state WHERE needs_snapshot = 1 AND failures < ?1
              ORDER BY household_id",
        )?;
        let ids = stmt
            .query_map([SET_ASIDE_AFTER], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Where this device is in the server's stream, as the sync client encoded it last;
    /// `None` for a device that has not finished a round yet.
    pub fn sync_position(&self) -> Result<Option<Vec<u8>>> {
        get_meta(&self.lock().conn, POSITION_KEY)
    }

    /// Stores what a round brought, in one transaction: the acknowledgements of what was
    /// pushed, the received changes and snapshots, and the new position. Until this commits,
    /// the position does not move, so a round cut short is simply repeated.
    pub fn finish_round(
        &self,
        pushed: &[PendingPush],
        round: ReceivedRound,
    ) -> Result<RoundApplied> {
        let mut batch: Vec<(String, Incoming)> = Vec::new();
        for c in round.changes {
            batch.push((c.household_id, Incoming::Changes(c.changes)));
        }
        // A snapshot that does not load is asked for again next time.
        let mut unreadable = Vec::new();
        for s in round.snapshots {
            match HouseholdDoc::load(&s.bytes, automerge::ActorId::random()) {
                Ok(doc) => batch.push((s.household_id, Incoming::Document(Box::new(doc)))),
                Err(err) => unreadable.push((s.household_id, err.to_string())),
            }
        }
        let now = to_millis(self.clock.now());
        let mut inner = self.lock();
        let merged = inner.merge_all(batch)?;
        let mut applied = RoundApplied::default();
        let position = round.position;
        let outcomes = merged.outcomes;
        let acknowledge = |tx: &Connection| -> Result<()> {
            for push in pushed {
                let Some((_, outcome)) = round
                    .outcomes
                    .iter()
                    .find(|(id, _)| *id == push.household_id)
                else {
                    continue;
                };
                match outcome {
                    PushOutcome::Stored => {
                        applied.stored += 1;
                        tx.prepare_cached(
                            "UPDATE sync_state SET acked_heads = ?2, rejected_reason = NULL,
                                    local_changes = max(0, local_changes - ?3)
                              WHERE household_id = ?1",
                        )?
                        .execute(params![
                            push.household_id,
                            heads_to_bytes(&push.heads),
                            push.local_changes
                        ])?;
                    }
                    PushOutcome::Rejected { reason } => {
                        applied.rejected.push(RejectedHousehold {
                            household_id: push.household_id.clone(),
                            reason: reason.clone(),
                        });
                        tx.prepare_cached(
                            "UPDATE sync_state SET rejected_reason = ?2, retry_refused_at = ?3
                              WHERE household_id = ?1",
                        )?
                        .execute(params![
                            push.household_id,
                            reason,
                            now + RETRY_REFUSED_AFTER_MS
                        ])?;
                    }
                    PushOutcome::MissingHistory => {
                        applied.resend += 1;
                        tx.prepare_cached(
                            "UPDATE sync_state SET acked_heads = x'' WHERE household_id = ?1",
                        )?
                        .execute([&push.household_id])?;
                    }
                }
            }
            Ok(())
        };
        let record_received = |tx: &Connection, failed: &[(String, CoreError)]| -> Result<()> {
            let received = outcomes.iter().map(|(id, outcome)| {
                let failure = match failed.iter().find(|(f, _)| f == id) {
                    Some((_, err)) => Some(err.to_string()),
                    None => match outcome {
                        ApplyOutcome::Applied { .. } => None,
                        ApplyOutcome::Rejected { reason } => Some(reason.clone()),
                        ApplyOutcome::MissingDependencies { .. } => {
                            Some("缺少之前的变更，需要重新下载整户档案".to_string())
                        }
                    },
                };
                (id, failure)
            });
            let unreadable = unreadable
                .iter()
                .map(|(id, reason)| (id, Some(format!("收到的整户档案无法读取：{reason}"))));
            for (id, failure) in received.chain(unreadable) {
                match failure {
                    None => {
                        applied.received += 1;
                        tx.prepare_cached(
                            "INSERT INTO sync_state (household_id, acked_heads) VALUES (?1, x'')
                             ON CONFLICT (household_id) DO UPDATE
                                SET needs_snapshot = 0, failures = 0, failure_reason = NULL,
                                    retry_refused_at = 0",
                        )?
                        .execute([id])?;
                    }
                    Some(reason) => {
                        applied.deferred += 1;
                        tx.prepare_cached(
                            "INSERT INTO sync_state (household_id, acked_heads, needs_snapshot, failures, failure_reason)
                                  VALUES (?1, x'', 1, 1, ?2)
                             ON CONFLICT (household_id) DO UPDATE
                                SET needs_snapshot = 1, failures = failures + 1, failure_reason = ?2",
                        )?
                        .execute(params![id, reason])?;
                    }
                }
            }
            set_meta(tx, POSITION_KEY, &position)?;
            set_meta(tx, LAST_SUCCESS_KEY, &now.to_be_bytes())?;
            forget_meta(tx, &[LAST_ERROR_KEY, FAILURES_KEY, LAST_FAILURE_KEY])?;
            Ok(())
        };
        inner.commit_with(
            merged.to_commit,
            Origin::Remote,
            acknowledge,
            record_received,
        )?;
        Ok(applied)
    }

    /// Households set aside: what the server sent for them failed to be stored
    /// [`SET_ASIDE_AFTER`] times in a row, so they are no longer asked for and the others sync
    /// on. Each with the reason.
    pub fn set_aside_households(&self) -> Result<Vec<RejectedHousehold>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT household_id, failure_reason FROM sync_state
              WHERE failures >= ?1 ORDER BY household_id",
        )?;
        let rows = stmt
            .query_map([SET_ASIDE_AFTER], |r| {
                Ok(RejectedHousehold {
                    household_id: r.get(0)?,
                    reason: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Asks again for the households set aside (after an app update, say): the next sync
    /// fetches each whole once more.
    pub fn retry_set_aside(&self) -> Result<()> {
        self.lock().conn.execute(
            "UPDATE sync_state SET failures = 0 WHERE failures >= ?1",
            [SET_ASIDE_AFTER],
        )?;
        Ok(())
    }

    /// Records why the last sync stopped (shown to the agent until a sync succeeds); a
    /// `failed` one also counts towards the back-off of [`crate::sync::SyncPolicy`].
    pub fn record_sync_error(&self, message: &str, failed: bool) -> Result<()> {
        let now = to_millis(self.clock.now());
        let mut inner = self.lock();
        let tx = inner.conn.transaction()?;
        set_meta(&tx, LAST_ERROR_KEY, message.as_bytes())?;
        if failed {
            let failures = read_u64(&tx, FAILURES_KEY)?.unwrap_or(0) + 1;
            set_meta(&tx, FAILURES_KEY, &failures.to_be_bytes())?;
            set_meta(&tx, LAST_FAILURE_KEY, &now.to_be_bytes())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Keeps the device token received at enrollment, lifts any block on syncing and forgets
    /// the failures before it (a phone enrolled again syncs at once).
    pub fn set_device_token(&self, token: &str) -> Result<()> {
        let mut inner = self.lock();
        let tx = inner.conn.transaction()?;
        set_meta(&tx, TOKEN_KEY, token.as_bytes())?;
        forget_meta(&tx, &[BLOCKED_KEY, FAILURES_KEY, LAST_FAILURE_KEY])?;
        tx.commit()?;
        Ok(())
    }

    /// The device token, once enrolled.
    pub fn device_token(&self) -> Result<Option<String>> {
        Ok(get_meta(&self.lock().conn, TOKEN_KEY)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Stops syncing until the device enrolls again, with the server's reason.
    pub fn block_sync(&self, reason: &str) -> Result<()> {
        set_meta(&self.lock().conn, BLOCKED_KEY, reason.as_bytes())
    }

    /// The sync status for the app.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let inner = self.lock();
        let (pending_changes, pending_households, rejected, set_aside): (i64, i64, i64, i64) =
            inner.conn.query_row(
                "SELECT coalesce(sum(local_changes), 0), coalesce(sum(local_changes > 0), 0),
                    coalesce(sum(rejected_reason IS NOT NULL), 0), coalesce(sum(failures >= ?1), 0)
               FROM sync_state",
                [SET_ASIDE_AFTER],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
        let time = |key| -> Result<Option<DateTime<Utc>>> {
            Ok(read_u64(&inner.conn, key)?.map(|ms| crate::time::from_millis(ms as i64)))
        };
        let last_success = time(LAST_SUCCESS_KEY)?;
        let last_failure = time(LAST_FAILURE_KEY)?;
        let failures_in_a_row = read_u64(&inner.conn, FAILURES_KEY)?.unwrap_or(0);
        let text = |key| -> Result<Option<String>> {
            Ok(get_meta(&inner.conn, key)?.map(|b| String::from_utf8_lossy(&b).into_owned()))
        };
        let last_error = text(LAST_ERROR_KEY)?;
        let blocked = text(BLOCKED_KEY)?;
        Ok(SyncStatus {
            last_success,
            pending_changes: pending_changes.max(0) as u64,
            pending_households: pending_households.max(0) as u64,
            rejected_households: rejected.max(0) as u64,
            set_aside_households: set_aside.max(0) as u64,
            last_error,
            blocked,
            failures_in_a_row: u32::try_from(failures_in_a_row).unwrap_or(u32::MAX),
            last_failure,
        })
    }

    /// Where one household stands with the server.
    pub fn household_sync_state(&self, household_id: &str) -> Result<HouseholdSyncState> {
        let inner = self.lock();
        let row: Option<(i64, Option<String>, i64, Option<String>)> = inner
            .conn
            .prepare_cached(
                "SELECT local_changes, rejected_reason, failures, failure_reason
                   FROM sync_state WHERE household_id = ?1",
            )?
            .query_row([household_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        Ok(match row {
            Some((_, _, failures, reason)) if failures >= SET_ASIDE_AFTER => {
                HouseholdSyncState::SetAside {
                    reason: reason.unwrap_or_default(),
                }
            }
            Some((_, Some(reason), _, _)) => HouseholdSyncState::Rejected {
                reason: refusal_text(&reason),
            },
            Some((n, None, _, _)) if n > 0 => HouseholdSyncState::Pending {
                local_changes: n as u64,
            },
            _ => HouseholdSyncState::Synced,
        })
    }
}
