//! Exchanging a household document's changes with other replicas: heads, changes since given
//! heads, applying received changes or whole documents (many households in one transaction).

use automerge::ChangeHash;

use super::persist::StoredDoc;
use super::{Inner, Origin, Store};
use crate::document::{ApplyOutcome, HouseholdDoc, Incoming, group_by_household};
use crate::error::Result;

/// Changes received for one household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingChanges {
    /// The household the changes belong to.
    pub household_id: String,
    /// Encoded automerge changes.
    pub changes: Vec<Vec<u8>>,
}

/// Received data for several households, merged but not yet committed.
pub(crate) struct Merged {
    /// Changed documents to write.
    pub to_commit: Vec<(String, StoredDoc)>,
    /// One outcome per household, in the order each first appears.
    pub outcomes: Vec<(String, ApplyOutcome)>,
}

impl Store {
    /// The current heads of a household's document.
    pub fn heads(&self, household_id: &str) -> Result<Vec<ChangeHash>> {
        self.read_doc(household_id, |doc| Ok(doc.heads()))
    }

    /// The encoded changes of a household's document that are not ancestors of `heads`.
    pub fn changes_since(&self, household_id: &str, heads: &[ChangeHash]) -> Result<Vec<Vec<u8>>> {
        self.read_doc(household_id, |doc| Ok(doc.changes_since(heads)))
    }

    /// The whole compacted document of a household.
    pub fn export_snapshot(&self, household_id: &str) -> Result<Vec<u8>> {
        self.read_doc(household_id, |doc| Ok(doc.save()))
    }

    /// Imports whole documents (a generated demo town, a backup) in one transaction: new
    /// households are stored as they are, known ones are merged.
    pub fn import_documents(&self, docs: Vec<HouseholdDoc>) -> Result<Vec<ApplyOutcome>> {
        let batch = docs
            .into_iter()
            .map(|doc| Ok((doc.household_id()?, Incoming::Document(Box::new(doc)))))
            .collect::<Result<Vec<_>>>()?;
        self.receive(batch)
    }

    /// Applies received changes for many households in one transaction. Each household is
    /// merged, checked against the schema and re-projected; a household whose changes are bad
    /// is reported as rejected and left as it was, without blocking the others. Returns one
    /// outcome per household, in the order each first appears (a household listed twice is
    /// merged once).
    pub fn apply_changes(&self, batch: Vec<IncomingChanges>) -> Result<Vec<ApplyOutcome>> {
        let batch = batch
            .into_iter()
            .map(|c| (c.household_id, Incoming::Changes(c.changes)))
            .collect();
        self.receive(batch)
    }

    fn receive(&self, batch: Vec<(String, Incoming)>) -> Result<Vec<ApplyOutcome>> {
        let mut inner = self.lock();
        let merged = inner.merge_all(batch)?;
        let failed =
            inner.commit_with(merged.to_commit, Origin::Remote, |_| Ok(()), |_, _| Ok(()))?;
        Ok(merged
            .outcomes
            .into_iter()
            .map(
                |(id, outcome)| match failed.iter().find(|(f, _)| *f == id) {
                    Some((_, err)) => ApplyOutcome::Rejected {
                        reason: err.to_string(),
                    },
                    None => outcome,
                },
            )
            .collect())
    }
}

impl Inner {
    /// Merges received data into each household's document, without committing. Several
    /// entries for one household (a snapshot and changes, or changes listed twice) are merged
    /// into one document, so each household is written once. A changed document waits to be
    /// committed, an unchanged one goes back to the cache, a refused one is dropped (the stored
    /// copy is reloaded on next use).
    pub(crate) fn merge_all(&mut self, batch: Vec<(String, Incoming)>) -> Result<Merged> {
        let households = group_by_household(batch);
        let mut merged = Merged {
            to_commit: Vec::new(),
            outcomes: Vec::with_capacity(households.len()),
        };
        for (id, parts) in households {
            let mut stored = match self.take(&id)? {
                Some(existing) => existing,
                None => StoredDoc::new(HouseholdDoc::empty(self.actor.clone())),
            };
            let (mut outcome, _) = stored.doc.receive(&id, parts);
            if let ApplyOutcome::Applied { new_changes } = &mut outcome {
                if stored.persisted_heads.is_empty() {
                    // Not stored here before: every change is new.
                    *new_changes = stored.doc.changes_since(&[]).len();
                }
                if stored.is_dirty() {
                    merged.to_commit.push((id.clone(), stored));
                } else {
                    self.cache.put(id.clone(), stored);
                }
            }
            merged.outcomes.push((id, outcome));
        }
        Ok(merged)
    }
}
