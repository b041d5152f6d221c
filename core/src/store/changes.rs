//! Exchanging a household document's changes with other replicas: heads, changes since given
//! heads, applying received changes or whole documents (many households in one transaction).

use std::collections::HashMap;

use automerge::ChangeHash;

use super::persist::StoredDoc;
use super::{Inner, Origin, Store};
use crate::document::{HouseholdData, HouseholdDoc};
use crate::error::{Result, not_found};

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

impl ApplyOutcome {
    /// Whether the household's data is now stored.
    pub fn is_applied(&self) -> bool {
        matches!(self, ApplyOutcome::Applied { .. })
    }
}

/// A check of what received changes did to a household (before, if it was here, and after);
/// an error refuses that household's changes. The sync server passes the access rules.
pub type WriteGuard<'a> = &'a dyn Fn(Option<&HouseholdData>, &HouseholdData) -> Result<()>;

/// What arrived for one household.
pub(crate) enum Incoming {
    /// Encoded changes.
    Changes(Vec<Vec<u8>>),
    /// A whole document.
    Document(Box<HouseholdDoc>),
}

/// Received data for several households, merged but not yet committed.
pub(crate) struct Merged {
    /// Changed documents to write.
    pub to_commit: Vec<(String, StoredDoc)>,
    /// One outcome per household, in the order received.
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

    /// The whole compacted document of a household (for a new device).
    pub fn export_snapshot(&self, household_id: &str) -> Result<Vec<u8>> {
        self.read_doc(household_id, |doc| Ok(doc.save()))
    }

    /// Imports whole documents (a generated demo town) in one transaction: new households are
    /// stored as they are, known ones are merged.
    pub fn import_documents(&self, docs: Vec<HouseholdDoc>) -> Result<Vec<ApplyOutcome>> {
        self.import_documents_from("import", docs)
    }

    /// Imports whole documents received from `origin` (a device id or a label).
    pub fn import_documents_from(
        &self,
        origin: &str,
        docs: Vec<HouseholdDoc>,
    ) -> Result<Vec<ApplyOutcome>> {
        let batch = docs
            .into_iter()
            .map(|doc| Ok((doc.household_id()?, Incoming::Document(Box::new(doc)))))
            .collect::<Result<Vec<_>>>()?;
        self.receive(origin, batch, None)
    }

    /// Applies received changes for many households in one transaction. Each household is
    /// merged, checked against the schema and re-projected; a household whose changes are bad
    /// is reported as rejected and left as it was, without blocking the others. Returns one
    /// outcome per household, in the order each first appears (a household listed twice is
    /// merged once).
    pub fn apply_changes(&self, batch: Vec<IncomingChanges>) -> Result<Vec<ApplyOutcome>> {
        self.apply_changes_from("peer", batch)
    }

    /// Applies received changes from `origin` (a device id). Journaled stores record the
    /// origin with each change.
    pub fn apply_changes_from(
        &self,
        origin: &str,
        batch: Vec<IncomingChanges>,
    ) -> Result<Vec<ApplyOutcome>> {
        let batch = batch
            .into_iter()
            .map(|c| (c.household_id, Incoming::Changes(c.changes)))
            .collect();
        self.receive(origin, batch, None)
    }

    /// Like [`Store::apply_changes_from`], refusing each household whose changes `guard`
    /// rejects: what a sync server does with a device's push.
    pub fn apply_changes_checked(
        &self,
        origin: &str,
        batch: Vec<IncomingChanges>,
        guard: WriteGuard<'_>,
    ) -> Result<Vec<ApplyOutcome>> {
        let batch = batch
            .into_iter()
            .map(|c| (c.household_id, Incoming::Changes(c.changes)))
            .collect();
        self.receive(origin, batch, Some(guard))
    }

    fn receive(
        &self,
        origin: &str,
        batch: Vec<(String, Incoming)>,
        guard: Option<WriteGuard<'_>>,
    ) -> Result<Vec<ApplyOutcome>> {
        let mut inner = self.lock();
        let merged = inner.merge_all(batch, guard)?;
        let failed = inner.commit_with(
            merged.to_commit,
            Origin::Remote(origin),
            |_| Ok(()),
            |_, _| Ok(()),
        )?;
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
    pub(crate) fn merge_all(
        &mut self,
        batch: Vec<(String, Incoming)>,
        guard: Option<WriteGuard<'_>>,
    ) -> Result<Merged> {
        let households = coalesce(batch);
        let mut merged = Merged {
            to_commit: Vec::new(),
            outcomes: Vec::with_capacity(households.len()),
        };
        for (id, parts) in households {
            let (mut stored, before) = match self.take(&id)? {
                Some(existing) => {
                    // Read only when a guard will compare before and after.
                    let before = guard.and_then(|_| existing.doc.read().ok());
                    (existing, before)
                }
                None => (
                    StoredDoc::new(HouseholdDoc::empty(self.actor.clone())),
                    None,
                ),
            };
            let mut changes = Vec::new();
            for part in parts {
                match part {
                    Incoming::Changes(more) => changes.extend(more),
                    Incoming::Document(mut doc)
                        if stored.persisted_heads.is_empty() && stored.doc.is_empty() =>
                    {
                        // A whole document for a household not here yet: keep it as it is.
                        doc.set_actor(self.actor.clone());
                        stored = StoredDoc::new(*doc);
                    }
                    Incoming::Document(mut doc) => changes.extend(doc.changes_since(&[])),
                }
            }
            let outcome = merge(&mut stored, &id, &changes, before.as_ref(), guard);
            if outcome.is_applied() {
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

/// Groups received entries by household, in the order each household first appears; a
/// household's parts keep their order.
fn coalesce(batch: Vec<(String, Incoming)>) -> Vec<(String, Vec<Incoming>)> {
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

/// Applies changes to one document and checks the result against the schema and the guard.
/// A document that is not on disk yet counts all its changes as new.
fn merge(
    stored: &mut StoredDoc,
    household_id: &str,
    changes: &[Vec<u8>],
    before: Option<&HouseholdData>,
    guard: Option<WriteGuard<'_>>,
) -> ApplyOutcome {
    let mut new_changes = match stored.doc.apply_changes(changes) {
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
    if stored.persisted_heads.is_empty() {
        new_changes = stored.doc.changes_since(&[]).len();
    }
    let checked = check(&stored.doc, household_id)
        .and_then(|after| guard.map_or(Ok(()), |guard| guard(before, &after)));
    match checked {
        Ok(()) => ApplyOutcome::Applied { new_changes },
        Err(err) => ApplyOutcome::Rejected {
            reason: err.to_string(),
        },
    }
}

/// Reads a document under the schema, checking it is the household it is filed under.
fn check(doc: &HouseholdDoc, household_id: &str) -> Result<HouseholdData> {
    let data = doc.read()?;
    if data.household.id == household_id {
        Ok(data)
    } else {
        Err(not_found("户", household_id))
    }
}
