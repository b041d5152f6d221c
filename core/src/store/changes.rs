//! Exchanging a household document's changes with other replicas: heads, changes since given
//! heads, applying received changes (many households in one transaction), and snapshots.

use automerge::ChangeHash;

use super::persist::StoredDoc;
use super::{Inner, Store};
use crate::document::HouseholdDoc;
use crate::error::{CoreError, Result, not_found};

/// Changes received for one household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingChanges {
    /// The household the changes belong to.
    pub household_id: String,
    /// Encoded automerge changes.
    pub changes: Vec<Vec<u8>>,
}

/// What became of one household's received changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Merged and stored; `new_changes` of them were not here before (0 for a repeat).
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

impl Store {
    /// The current heads of a household's document.
    pub fn heads(&self, household_id: &str) -> Result<Vec<ChangeHash>> {
        self.read_doc(household_id, |doc| Ok(doc.heads()))
    }

    /// The encoded changes of a household's document that are not ancestors of `heads`.
    pub fn changes_since(&self, household_id: &str, heads: &[ChangeHash]) -> Result<Vec<Vec<u8>>> {
        self.read_doc(household_id, |doc| Ok(doc.changes_since(heads)))
    }

    /// The whole compacted document of a household (for a new device).
    pub fn export_snapshot(&self, household_id: &str) -> Result<Vec<u8>> {
        self.read_doc(household_id, |doc| Ok(doc.save()))
    }

    /// Imports a household from a snapshot (merging if the household is already here).
    pub fn import_snapshot(&self, snapshot: &[u8]) -> Result<String> {
        let doc = HouseholdDoc::load(snapshot, automerge::ActorId::random())?;
        let household_id = doc.household_id()?;
        match self.import_documents(vec![doc])?.into_iter().next() {
            Some(ApplyOutcome::Rejected { reason }) => Err(CoreError::InvalidChanges { reason }),
            _ => Ok(household_id),
        }
    }

    /// Imports whole documents (a generated demo town, snapshots from a server) in one
    /// transaction: new households are stored as they are, known ones are merged.
    pub fn import_documents(&self, docs: Vec<HouseholdDoc>) -> Result<Vec<ApplyOutcome>> {
        let mut inner = self.lock();
        let mut outcomes = Vec::with_capacity(docs.len());
        let mut to_commit = Vec::new();
        for mut doc in docs {
            let id = doc.household_id()?;
            let (stored, outcome) = match inner.take(&id)? {
                Some(mut existing) => {
                    let outcome = merge(&mut existing, &id, &doc.changes_since(&[]));
                    (existing, outcome)
                }
                None => {
                    doc.set_actor(inner.actor.clone());
                    let outcome = match check(&doc, &id) {
                        Ok(()) => ApplyOutcome::Applied {
                            new_changes: doc.changes_since(&[]).len(),
                        },
                        Err(err) => ApplyOutcome::Rejected {
                            reason: err.to_string(),
                        },
                    };
                    (StoredDoc::new(doc), outcome)
                }
            };
            inner.keep_merged(&id, stored, &outcome, &mut to_commit);
            outcomes.push(outcome);
        }
        inner.commit_docs(to_commit)?;
        Ok(outcomes)
    }

    /// Applies received changes for many households in one transaction. Each household is
    /// merged, checked against the schema and re-projected; a household whose changes are bad
    /// is reported as rejected and left as it was, without blocking the others.
    pub fn apply_changes(&self, batch: Vec<IncomingChanges>) -> Result<Vec<ApplyOutcome>> {
        let mut inner = self.lock();
        let actor = inner.actor.clone();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut to_commit = Vec::new();
        for incoming in batch {
            let id = incoming.household_id;
            let mut stored = match inner.take(&id)? {
                Some(stored) => stored,
                None => StoredDoc::new(HouseholdDoc::empty(actor.clone())),
            };
            let outcome = merge(&mut stored, &id, &incoming.changes);
            inner.keep_merged(&id, stored, &outcome, &mut to_commit);
            outcomes.push(outcome);
        }
        inner.commit_docs(to_commit)?;
        Ok(outcomes)
    }
}

impl Inner {
    /// After a merge: a changed document waits to be committed, an unchanged one goes back to
    /// the cache, a refused one is dropped (the stored copy is reloaded on next use).
    fn keep_merged(
        &mut self,
        id: &str,
        mut stored: StoredDoc,
        outcome: &ApplyOutcome,
        to_commit: &mut Vec<(String, StoredDoc)>,
    ) {
        if let ApplyOutcome::Applied { .. } = outcome {
            if stored.is_dirty() {
                to_commit.push((id.to_string(), stored));
            } else {
                self.cache.put(id.to_string(), stored);
            }
        }
    }
}

/// Applies changes to one document and checks the result.
fn merge(stored: &mut StoredDoc, household_id: &str, changes: &[Vec<u8>]) -> ApplyOutcome {
    let new_changes = match stored.doc.apply_changes(changes) {
        Ok(n) => n,
        Err(err) => {
            return ApplyOutcome::Rejected {
                reason: err.to_string(),
            };
        }
    };
    let missing = stored.doc.missing_deps();
    if !missing.is_empty() {
        return ApplyOutcome::MissingDependencies {
            missing: missing.iter().map(|h| h.to_string()).collect(),
        };
    }
    match check(&stored.doc, household_id) {
        Ok(()) => ApplyOutcome::Applied { new_changes },
        Err(err) => ApplyOutcome::Rejected {
            reason: err.to_string(),
        },
    }
}

/// Checks that a document reads under the schema and is the household it is filed under.
fn check(doc: &HouseholdDoc, household_id: &str) -> Result<()> {
    let data = doc.read()?;
    if data.household.id == household_id {
        Ok(())
    } else {
        Err(not_found("户", household_id))
    }
}
