//! Which change wrote what: the device (automerge actor), the change's number on that device
//! and the time its device recorded, for a job's events and a conflict's values. The server
//! keeps when it received each change by actor and number, so a person can see both times.

use automerge::{ActorId, ObjId, ObjType, ReadDoc};
use chrono::{DateTime, Utc};

use super::{HouseholdDoc, fields};
use crate::error::Result;

/// The change that wrote an event or a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The writing device's automerge actor (hex).
    pub actor: String,
    /// The change's number among that actor's changes (from 1).
    pub seq: u64,
    /// When, by the writing device's clock (untrusted; automerge keeps seconds).
    pub at: DateTime<Utc>,
}

impl HouseholdDoc {
    /// The change that made the operation `counter` of `actor`, if the document has it.
    fn origin_of(&mut self, counter: u64, actor: &ActorId) -> Option<Origin> {
        self.doc
            .get_changes(&[])
            .into_iter()
            .find(|c| {
                let start = c.start_op().get();
                c.actor_id() == actor && (start..start + c.len() as u64).contains(&counter)
            })
            .map(|c| Origin {
                actor: actor.to_hex_string(),
                seq: c.seq(),
                at: DateTime::from_timestamp(c.timestamp(), 0).unwrap_or_default(),
            })
    }

    /// For each event of a job, in list order, the change that wrote it.
    pub fn event_origins(&mut self, job_id: &str) -> Result<Vec<Option<Origin>>> {
        let job = self.entity("jobs", job_id, "办件")?;
        let Some(events) = fields::child(&self.doc, &job, "events", ObjType::List)? else {
            return Ok(Vec::new());
        };
        let ids: Vec<ObjId> = self
            .doc
            .list_range(&events, ..)
            .map(|item| item.id())
            .collect();
        Ok(ids
            .into_iter()
            .map(|id| match id {
                ObjId::Id(counter, actor, _) => self.origin_of(counter, &actor),
                ObjId::Root => None,
            })
            .collect())
    }

    /// The change that wrote a conflict's value (its `value_id`, `counter@actor`).
    pub fn value_origin(&mut self, value_id: &str) -> Option<Origin> {
        let (counter, actor) = value_id.split_once('@')?;
        let actor = ActorId::try_from(actor).ok()?;
        self.origin_of(counter.parse().ok()?, &actor)
    }
}
