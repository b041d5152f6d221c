//! Receiving data for household documents from another replica: encoded changes or whole
//! documents, grouped so that each household is merged once however often it is named, then
//! checked against the schema. Used by the phone's store and by the sync server alike.

use std::collections::HashMap;

use super::read::HouseholdData;
use super::{HouseholdDoc, guarded};
use crate::error::{Result, not_found};

/// What arrived for one household.
pub enum Incoming {
    /// Encoded automerge changes.
    Changes(Vec<Vec<u8>>),
    /// A whole document (a snapshot).
    Document(Box<HouseholdDoc>),
}

/// What became of one household's received data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Merged (and, in a store, stored); `new_changes` of them were not there before (0 for a
    /// repeat).
    Applied {
        /// How many changes were new.
        new_changes: usize,
    },
    /// Some changes depend on changes not received yet; nothing was stored for this household.
    MissingDependencies {
        /// Hashes (hex) of the changes still needed.
        missing: Vec<String>,
    },
    /// The changes could not be decoded, or the merged document breaks the schema; nothing was
    /// stored for this household.
    Rejected {
        /// Why, in Chinese.
        reason: String,
    },
}

impl ApplyOutcome {
    /// Whether the household's data is now stored.
    pub fn is_applied(&self) -> bool {
        matches!(self, ApplyOutcome::Applied { .. })
    }
}

/// Groups received entries by household, in the order each household first appears; a
/// household's parts keep their order.
pub fn group_by_household(batch: Vec<(String, Incoming)>) -> Vec<(String, Vec<Incoming>)> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<(String, Vec<Incoming>)> = Vec::new();
    for (id, part) in batch {
        match index.get(&id) {
            Some(&at) => out[at].1.push(part),
            None => {
                index.insert(id.clone(), out.len());
                out.push((id, vec![part]));
            }
        }
    }
    out
}

impl HouseholdDoc {
    /// Merges every part received for the household `household_id` into this document (which
    /// may be empty: a household not seen before takes a whole document as it is), then reads
    /// the result under the schema, checking it is that household. On `Applied` the data read
    /// and the number of conflicting fields are returned too; on any other outcome the document
    /// must be discarded.
    pub fn receive(
        &mut self,
        household_id: &str,
        parts: Vec<Incoming>,
    ) -> (ApplyOutcome, Option<(HouseholdData, usize)>) {
        match guarded(|| self.merge(household_id, parts)) {
            Ok(merged) => merged,
            Err(err) => {
                let reason = err.to_string();
                (ApplyOutcome::Rejected { reason }, None)
            }
        }
    }

    /// [`HouseholdDoc::receive`], with what cannot be merged or read as an error.
    fn merge(
        &mut self,
        household_id: &str,
        parts: Vec<Incoming>,
    ) -> Result<(ApplyOutcome, Option<(HouseholdData, usize)>)> {
        let mut changes = Vec::new();
        for part in parts {
            match part {
                Incoming::Changes(more) => changes.extend(more),
                Incoming::Document(doc) if self.is_empty() => {
                    let actor = self.doc.get_actor().clone();
                    *self = *doc;
                    self.set_actor(actor);
                }
                Incoming::Document(mut doc) => changes.extend(doc.changes_since(&[])),
            }
        }
        let new_changes = self.apply_changes(&changes)?;
        let missing = self.missing_deps();
        if !missing.is_empty() {
            let missing = missing.iter().map(|h| h.to_string()).collect();
            return Ok((ApplyOutcome::MissingDependencies { missing }, None));
        }
        let read = self.read_checked(household_id)?;
        Ok((ApplyOutcome::Applied { new_changes }, Some(read)))
    }

    /// Reads the document under the schema, with the number of its conflicting fields,
    /// checking it is the household it is filed under.
    pub fn read_checked(&self, household_id: &str) -> Result<(HouseholdData, usize)> {
        let (data, conflicts) = self.read_with_conflicts()?;
        if data.household.id == household_id {
            Ok((data, conflicts.len()))
        } else {
            Err(not_found("户", household_id))
        }
    }
}
