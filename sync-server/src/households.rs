//! Writes to households made on the server itself, through the same path as a phone's push:
//! documents imported whole (the demo town), and hub staff's edits (each an automerge change
//! authored by the staff member, checked by the core's rules, journaled for the phones and
//! written to the audit log in the same transaction).

use automerge::ActorId;
use chrono::{DateTime, Utc};
use doorstep_core::access::{UnseenEvents, Writer, check_write};
use doorstep_core::document::{EditContext, Incoming};
use doorstep_core::{ApplyOutcome, CoreError, HouseholdDoc, User};
use sha2::{Digest, Sha256};

use crate::storage::documents::{self, StoredHousehold};
use crate::storage::journal::{self, JournalEntry};
use crate::storage::{Cols, Conn, Storage, StorageError, accounts};

/// Length of the automerge actors the server writes with: longer than a device's (16 bytes),
/// so that no device can ever enroll under one.
pub const SERVER_ACTOR_BYTES: usize = 20;

/// The automerge actor a hub staff member writes with in the console: the same on every
/// server process, and never a device's.
pub fn staff_actor(user_id: &str) -> ActorId {
    let digest = Sha256::digest(format!("doorstep console actor {user_id}").as_bytes());
    ActorId::from(&digest[..SERVER_ACTOR_BYTES])
}

/// The town a village belongs to (its parent region), or the village itself if it has none.
fn town_of(conn: &mut dyn Conn, village: &str) -> Result<String, StorageError> {
    let parent = conn
        .query_opt(
            "SELECT parent_id FROM regions WHERE id = $1",
            &[village.into()],
        )?
        .map(|row| Cols::of(row).take()?.opt_text())
        .transpose()?
        .flatten();
    Ok(parent.unwrap_or_else(|| village.to_string()))
}

/// Stores a household's new state and journals its new changes under `origin`.
fn store(
    conn: &mut dyn Conn,
    stored: &mut StoredHousehold,
    household_id: &str,
    origin: &str,
) -> Result<(), StorageError> {
    let read = stored.doc.read_checked(household_id)?;
    let changes = stored.new_changes();
    if changes.is_empty() && stored.is_stored() {
        return Ok(());
    }
    let village = read.0.household.village_id.clone();
    documents::save(conn, stored, read)?;
    let town = town_of(conn, &village)?;
    let entries: Vec<JournalEntry<'_>> = changes
        .iter()
        .map(|change| JournalEntry {
            household_id,
            village_id: &village,
            origin,
            change,
        })
        .collect();
    journal::append(conn, &town, &entries)
}

/// Imports whole documents (a generated town, a restore) in one transaction, each merged into
/// the server's copy if it has one, journaled under `origin`.
pub fn import(storage: &Storage, docs: &[HouseholdDoc], origin: &str) -> Result<(), StorageError> {
    storage.write(|conn| {
        for doc in docs {
            let id = doc.household_id()?;
            let actor = ActorId::random();
            let mut stored = documents::load(conn, storage.cache(), &id, actor.clone())?
                .unwrap_or_else(|| StoredHousehold::new(actor));
            let incoming = Incoming::Document(Box::new(doc.clone()));
            match stored.doc.receive(&id, vec![incoming]).0 {
                ApplyOutcome::Applied { .. } => store(conn, &mut stored, &id, origin)?,
                ApplyOutcome::Rejected { reason } => {
                    return Err(doorstep_core::error::invalid_doc(reason).into());
                }
                ApplyOutcome::MissingDependencies { .. } => {
                    return Err(doorstep_core::error::invalid_changes(
                        format!("户 {id} 的档案不完整"),
                        "",
                    )
                    .into());
                }
            }
        }
        Ok(())
    })
}

/// Runs a hub staff member's edit on one household (an edit of the core's [`HouseholdDoc`])
/// and stores it like a phone's push: checked with the core's access rules against the
/// household before, journaled for the phones, with an audit row, all in one transaction.
pub fn edit<T>(
    storage: &Storage,
    staff: &User,
    household_id: &str,
    now: DateTime<Utc>,
    change: impl FnMut(&mut HouseholdDoc, EditContext<'_>) -> Result<T, CoreError>,
) -> Result<T, StorageError> {
    edit_recorded(storage, staff, household_id, now, change, |_, _, _| Ok(()))
}

/// [`edit`], and `record` run in the same transaction with the household's village and what
/// the edit returned (rows that must commit with the edit, or not at all).
pub fn edit_recorded<T>(
    storage: &Storage,
    staff: &User,
    household_id: &str,
    now: DateTime<Utc>,
    mut change: impl FnMut(&mut HouseholdDoc, EditContext<'_>) -> Result<T, CoreError>,
    mut record: impl FnMut(&mut dyn Conn, &str, &T) -> Result<(), StorageError>,
) -> Result<T, StorageError> {
    let actor = staff_actor(&staff.id);
    let origin = actor.to_hex_string();
    let (value, stored) = storage.write(|conn| {
        let scope = accounts::scope_of_user(conn, staff)?;
        let mut stored = documents::load(conn, storage.cache(), household_id, actor.clone())?
            .ok_or_else(|| CoreError::NotFound {
                kind: "户".into(),
                id: household_id.to_string(),
            })?;
        let ctx = EditContext {
            user: staff,
            at: now,
        };
        let value = change(&mut stored.doc, ctx)?;
        let after = stored.doc.read()?;
        let actors = [origin.clone()];
        let writer = Writer {
            user: staff,
            actors: &actors,
            villages: &scope.villages,
        };
        // Hub staff edit the server's copy as it is: they have seen every event.
        check_write(&writer, stored.current(), &after, &UnseenEvents::new())?;
        store(conn, &mut stored, household_id, &origin)?;
        record(conn, &after.household.village_id, &value)?;
        accounts::audit(
            conn,
            &staff.id,
            &origin,
            "write",
            &[(household_id.to_string(), "镇中心操作".to_string())],
            now,
        )?;
        Ok((value, stored))
    })?;
    storage.cache().keep(household_id.to_string(), stored);
    Ok(value)
}
