//! Jobs in the household document: creating one (with its Inform event) and appending steps.
//! Each event is immutable once written, so it is kept as one JSON text in the job's list:
//! one operation per step instead of one per field.

use std::collections::HashMap;

use automerge::hydrate::{List, Value};
use automerge::transaction::Transactable;
use automerge::{
    ActorId, AutoCommit, ChangeHash, ChangeMetadata, ObjId, ObjType, ReadDoc, ScalarValue,
};
use serde::{Deserialize, Serialize};

use super::fields::{self, Fields, put_opt_str};
use super::{EditContext, HouseholdDoc};
use crate::domain::catalogue::{self, ServiceMode};
use crate::domain::job::{Job, JobDetails, NewJob};
use crate::domain::ledger::Urgency;
use crate::domain::progress::JobProgress;
use crate::domain::step::{Actor, JobEvent, JobStep, Location};
use crate::error::{Result, invalid_doc, not_found};
use crate::time::{from_millis, to_millis};

/// An event as stored in the document.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredEvent {
    id: String,
    step: JobStep,
    by: Actor,
    /// Device time, milliseconds since the epoch.
    at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    loc: Option<Location>,
}

impl HouseholdDoc {
    /// Opens a job for a member: checks the item, the mode and the member, and records the
    /// Inform step as the job's first event.
    pub fn add_job(
        &mut self,
        id: &str,
        event_id: &str,
        input: &NewJob,
        ctx: EditContext<'_>,
    ) -> Result<()> {
        let item = catalogue::item(&input.item_code)?;
        item.check_mode(input.mode)?;
        self.require_member(&input.member_id)?;
        if let Some(v) = &input.visit_id {
            self.entity("visits", v, "走访记录")?;
        }
        let inform = JobStep::Inform {
            note: input.note.trim().to_string(),
        };
        JobProgress::derive(item, &[]).check(item, ctx.user.role, &inform)?;
        self.change(ctx, |this| {
            let j = this.new_entity("jobs", id)?;
            let d = &mut this.doc;
            d.put(&j, "member_id", input.member_id.as_str())?;
            d.put(&j, "item_code", item.code.as_str())?;
            d.put(&j, "mode", input.mode.code())?;
            d.put(&j, "urgency", input.urgency.code())?;
            d.put(&j, "note", input.note.trim())?;
            put_opt_str(d, &j, "visit_id", input.visit_id.as_deref())?;
            let events = d.put_object(&j, "events", ObjType::List)?;
            append_event(d, &events, event_id, &inform, None, ctx)
        })
    }

    /// Takes the next step of a job: checks the user's role and the job's current state with
    /// the core's rules, then appends the event. Returns the job's new progress.
    pub fn take_step(
        &mut self,
        job_id: &str,
        event_id: &str,
        step: &JobStep,
        location: Option<Location>,
        ctx: EditContext<'_>,
    ) -> Result<JobProgress> {
        let details = self.job(job_id)?;
        let item = catalogue::item(&details.job.item_code)?;
        if let JobStep::Reconcile { void_event_ids, .. } = step
            && let Some(unknown) = void_event_ids
                .iter()
                .find(|id| !details.job.events.iter().any(|e| &&e.id == id))
        {
            return Err(not_found("办件步骤", unknown));
        }
        details.progress.check(item, ctx.user.role, step)?;
        self.change(ctx, |this| {
            let j = this.entity("jobs", job_id, "办件")?;
            let events = fields::child(&this.doc, &j, "events", ObjType::List)?
                .ok_or_else(|| invalid_doc("办件缺少步骤列表"))?;
            append_event(&mut this.doc, &events, event_id, step, location, ctx)
        })?;
        Ok(self.job(job_id)?.progress)
    }

    /// One job with its derived progress.
    pub fn job(&self, job_id: &str) -> Result<JobDetails> {
        let j = self.entity("jobs", job_id, "办件")?;
        let value = super::tree::read(&self.doc, &j, ObjType::Map, 2, job_id)?;
        read_job(job_id, Fields::of(&value, "办件")?)
    }
}

/// Appends one event at the end of a job's event list.
fn append_event(
    doc: &mut AutoCommit,
    events: &ObjId,
    event_id: &str,
    step: &JobStep,
    location: Option<Location>,
    ctx: EditContext<'_>,
) -> Result<()> {
    let stored = StoredEvent {
        id: event_id.to_string(),
        step: step.clone(),
        by: Actor {
            user_id: ctx.user.id.clone(),
            user_name: ctx.user.name.clone(),
            role: ctx.user.role,
        },
        at: to_millis(ctx.at),
        loc: location,
    };
    let json = serde_json::to_string(&stored).map_err(|e| invalid_doc(e.to_string()))?;
    doc.insert(events, doc.length(events), json)?;
    Ok(())
}

/// Reads the events of a job's list, in list order.
fn read_events(list: &List) -> Result<Vec<JobEvent>> {
    list.iter()
        .map(|item| {
            let Value::Scalar(ScalarValue::Str(json)) = &item.value else {
                return Err(invalid_doc("办件步骤应为文本"));
            };
            let stored: StoredEvent = serde_json::from_str(json)
                .map_err(|err| invalid_doc(format!("无法识别的办件步骤：{err}")))?;
            Ok(JobEvent {
                id: stored.id,
                step: stored.step,
                actor: stored.by,
                at: from_millis(stored.at),
                location: stored.loc,
            })
        })
        .collect()
}

/// Reads a job map and derives its progress.
pub(super) fn read_job(id: &str, j: Fields<'_>) -> Result<JobDetails> {
    j.only(
        &[
            "member_id",
            "item_code",
            "mode",
            "urgency",
            "note",
            "visit_id",
            "events",
        ],
        "办件",
    )?;
    let events = match j.list("events")? {
        Some(list) => read_events(list)?,
        None => return Err(invalid_doc("办件缺少步骤列表")),
    };
    let job = Job {
        id: id.to_string(),
        member_id: j.req_str("member_id")?,
        item_code: j.req_str("item_code")?,
        mode: j.req_code("mode", ServiceMode::from_code)?,
        urgency: j.req_code("urgency", Urgency::from_code)?,
        note: j.str_or_empty("note")?,
        visit_id: j.opt_str("visit_id")?,
        events,
    };
    let item = catalogue::item(&job.item_code)?;
    let progress = JobProgress::derive(item, &job.events);
    Ok(JobDetails { job, progress })
}

/// Reads `lat`/`lon` when both are there.
pub(super) fn read_location(obj: Fields<'_>) -> Result<Option<Location>> {
    Ok(match (obj.opt_f64("lat")?, obj.opt_f64("lon")?) {
        (Some(latitude), Some(longitude)) => Some(Location {
            latitude,
            longitude,
        }),
        _ => None,
    })
}

impl HouseholdDoc {
    /// For each job with an event written by the changes `written` (what a device wrote and
    /// the server did not hold yet), which of its events (in list order) were unseen by every
    /// such new event placed before them: events from changes that are not ancestors of those
    /// new events' changes (steps taken meanwhile on another device). What the writer knew is
    /// taken from each new event's own change, never from what else a push carries: a phone
    /// that received another device's step after taking its own, concurrent one, and then
    /// edited again, still wrote its step without having seen the other. Jobs with no new
    /// event are left out. Guarded: the written changes came from elsewhere, and automerge can
    /// panic on a crafted change it accepted (the fuzzer found one whose dependency goes
    /// missing).
    pub fn events_unseen_by(
        &mut self,
        written: &[ChangeHash],
    ) -> Result<HashMap<String, Vec<bool>>> {
        super::guarded(|| self.unseen_events(written))
    }

    fn unseen_events(&mut self, written: &[ChangeHash]) -> Result<HashMap<String, Vec<bool>>> {
        let mut new_changes: Vec<OpRange> = Vec::new();
        for hash in written {
            if let Some(meta) = self.doc.get_change_meta_by_hash(hash) {
                new_changes.push(OpRange::of(&meta));
            }
        }
        let mut out = HashMap::new();
        if new_changes.is_empty() {
            return Ok(out);
        }
        let jobs = fields::req_map(&self.doc, &automerge::ROOT, "jobs")?;
        let ids: Vec<String> = self.doc.keys(&jobs).collect();
        // For each new change that adds an event: the changes that are not its ancestors.
        let mut unseen_by: HashMap<ChangeHash, Vec<OpRange>> = HashMap::new();
        for job in ids {
            let Some(j) = fields::child(&self.doc, &jobs, &job, ObjType::Map)? else {
                continue;
            };
            let Some(events) = fields::child(&self.doc, &j, "events", ObjType::List)? else {
                continue;
            };
            let ops: Vec<(ActorId, u64)> = self
                .doc
                .list_range(&events, ..)
                .filter_map(|item| match item.id() {
                    ObjId::Id(counter, actor, _) => Some((actor, counter)),
                    ObjId::Root => None,
                })
                .collect();
            let mut earlier_new: Vec<ChangeHash> = Vec::new();
            let mut flags = Vec::with_capacity(ops.len());
            for (actor, counter) in &ops {
                if let Some(change) = new_changes.iter().find(|c| c.holds(actor, *counter)) {
                    if !earlier_new.contains(&change.hash) {
                        let doc = &mut self.doc;
                        unseen_by.entry(change.hash).or_insert_with(|| {
                            doc.get_changes_meta(&change.deps)
                                .iter()
                                .map(OpRange::of)
                                .collect()
                        });
                        earlier_new.push(change.hash);
                    }
                    flags.push(true);
                    continue;
                }
                let unseen = earlier_new.iter().all(|hash| {
                    unseen_by[hash]
                        .iter()
                        .any(|range| range.holds(actor, *counter))
                });
                flags.push(unseen);
            }
            if !earlier_new.is_empty() {
                out.insert(job, flags);
            }
        }
        Ok(out)
    }
}

/// The operations of one change: its actor and the counters of its first and last operation.
struct OpRange {
    hash: ChangeHash,
    deps: Vec<ChangeHash>,
    actor: ActorId,
    first: u64,
    last: u64,
}

impl OpRange {
    fn of(meta: &ChangeMetadata<'_>) -> OpRange {
        OpRange {
            hash: meta.hash,
            deps: meta.deps.clone(),
            actor: meta.actor.clone().into_owned(),
            first: meta.start_op,
            last: meta.max_op,
        }
    }

    /// Whether the operation `counter` of `actor` is one of this change's.
    fn holds(&self, actor: &ActorId, counter: u64) -> bool {
        self.actor == *actor && (self.first..=self.last).contains(&counter)
    }
}
