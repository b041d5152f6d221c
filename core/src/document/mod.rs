//! One automerge document per household, holding its members, ledger lines, jobs (with their
//! events) and visits. Entities live in maps keyed by generated ids; a job's events are an
//! append-only list. Every edit is one automerge change, validated before it is written.

mod change_ops;
mod conflicts;
mod fields;
mod jobs;
mod origins;
mod read;
mod receive;
mod tree;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ObjId, ObjType, ROOT, ReadDoc};
use chrono::{DateTime, NaiveDate, Utc};

pub use change_ops::ops_in_change;
pub use conflicts::{ConflictValue, EntityKind, FieldConflict};
pub use origins::Origin;
pub use read::{DeviceAuthor, HouseholdData};
pub use receive::{ApplyOutcome, Incoming, group_by_household};

use crate::domain::household::{Gender, HouseholdPatch, MemberPatch, NewHousehold, NewMember};
use crate::domain::ledger::{NeedStatus, NewLedgerLine, Schedule};
use crate::domain::region::User;
use crate::domain::step::Location;
use crate::domain::visit::VisitRecord;
use crate::error::{CoreError, Result, invalid_changes, not_found, unreadable_doc};
use crate::time::local_date;
use crate::validate;
use fields::{put_opt_date, put_opt_str, put_time, req_map};

/// The document layout version this build writes and understands.
pub const SCHEMA_VERSION: i64 = 1;

/// Who is making an edit, and when by their device's clock.
#[derive(Debug, Clone, Copy)]
pub struct EditContext<'a> {
    /// The signed-in user.
    pub user: &'a User,
    /// The device's clock (for people to read and for due dates only).
    pub at: DateTime<Utc>,
}

impl EditContext<'_> {
    /// The device's date in Shanghai.
    pub fn today(&self) -> NaiveDate {
        local_date(self.at)
    }
}

/// A household's automerge document.
#[derive(Debug, Clone)]
pub struct HouseholdDoc {
    doc: AutoCommit,
}

impl HouseholdDoc {
    /// Starts the document of a new household, written by `actor`.
    pub fn create(
        id: &str,
        actor: ActorId,
        input: &NewHousehold,
        ctx: EditContext<'_>,
    ) -> Result<HouseholdDoc> {
        let village_id = validate::required(&input.village_id, "所属村")?;
        let address = validate::required(&input.address, "住址")?;
        let phone = input.phone.as_deref().map(validate::mobile).transpose()?;
        let mut this = HouseholdDoc {
            doc: AutoCommit::new().with_actor(actor),
        };
        let d = &mut this.doc;
        d.put(ROOT, "schema", SCHEMA_VERSION)?;
        let hh = d.put_object(ROOT, "household", ObjType::Map)?;
        d.put(&hh, "id", id)?;
        d.put(&hh, "village_id", village_id)?;
        d.put(&hh, "group_name", input.group_name.trim())?;
        d.put(&hh, "address", address)?;
        put_opt_str(d, &hh, "phone", phone.as_deref())?;
        for key in ["members", "ledger", "jobs", "visits", "authors"] {
            d.put_object(ROOT, key, ObjType::Map)?;
        }
        this.commit(ctx)?;
        Ok(this)
    }

    /// Loads a document from saved bytes (a snapshot, optionally followed by incremental saves).
    pub fn load(bytes: &[u8], actor: ActorId) -> Result<HouseholdDoc> {
        let doc = guarded(|| AutoCommit::load(bytes).map_err(unreadable_doc))?;
        Ok(HouseholdDoc {
            doc: doc.with_actor(actor),
        })
    }

    /// Loads a document from bytes this device wrote itself (its own store), trusting the heads
    /// recorded in them instead of recomputing every change hash. Received bytes go through
    /// [`HouseholdDoc::load`].
    pub fn load_trusted(bytes: &[u8], actor: ActorId) -> Result<HouseholdDoc> {
        let doc = AutoCommit::load_unverified_heads(bytes).map_err(unreadable_doc)?;
        Ok(HouseholdDoc {
            doc: doc.with_actor(actor),
        })
    }

    /// An empty document to apply received changes to (a household first seen through sync).
    pub fn empty(actor: ActorId) -> HouseholdDoc {
        HouseholdDoc {
            doc: AutoCommit::new().with_actor(actor),
        }
    }

    /// Appends incremental saved bytes (as written by [`HouseholdDoc::save_after`]).
    pub fn load_incremental(&mut self, bytes: &[u8]) -> Result<()> {
        self.doc.load_incremental(bytes).map_err(unreadable_doc)?;
        Ok(())
    }

    /// Sets the actor that writes later changes (the device's own actor id).
    pub fn set_actor(&mut self, actor: ActorId) {
        self.doc.set_actor(actor);
    }

    /// The document's current heads.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The heads as one text (hashes in hex, sorted, comma-separated), for a page to send back
    /// with an edit so that [`HouseholdDoc::check_unchanged`] can tell whether it is stale.
    pub fn heads_text(&mut self) -> String {
        let mut heads: Vec<String> = self.heads().iter().map(ToString::to_string).collect();
        heads.sort();
        heads.join(",")
    }

    /// Refuses with [`CoreError::ChangedMeanwhile`] unless the document is exactly as it was
    /// when `seen` was taken with [`HouseholdDoc::heads_text`].
    pub fn check_unchanged(&mut self, seen: &str) -> Result<()> {
        if self.heads_text() == seen {
            Ok(())
        } else {
            Err(CoreError::ChangedMeanwhile)
        }
    }

    /// Whether the document has no changes at all.
    pub fn is_empty(&mut self) -> bool {
        self.doc.get_heads().is_empty()
    }

    /// The whole document, compacted.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes made since `heads`, in the compact incremental format.
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// The encoded changes the document has that are not ancestors of `heads`.
    pub fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<Vec<u8>> {
        self.doc
            .get_changes(heads)
            .into_iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect()
    }

    /// The encoded changes the document has that are not ancestors of `heads`, with the number
    /// of operations they hold in all.
    pub fn changes_and_ops_since(&mut self, heads: &[ChangeHash]) -> (Vec<Vec<u8>>, usize) {
        let changes = self.doc.get_changes(heads);
        let ops = changes.iter().map(|c| c.len()).sum();
        (
            changes.iter().map(|c| c.raw_bytes().to_vec()).collect(),
            ops,
        )
    }

    /// How many operations the document holds (what it costs in memory once loaded).
    pub fn op_count(&self) -> usize {
        usize::try_from(self.doc.stats().num_ops).unwrap_or(usize::MAX)
    }

    /// The changes the document holds that `heads` lack, each with its writer and number
    /// (read from the changes the document already holds, not decoded again).
    pub fn written_since(&mut self, heads: &[ChangeHash]) -> Vec<WrittenChange> {
        self.doc
            .get_changes(heads)
            .into_iter()
            .map(|c| WrittenChange {
                bytes: c.raw_bytes().to_vec(),
                actor: c.actor_id().to_hex_string(),
                seq: c.seq(),
            })
            .collect()
    }

    /// Applies encoded changes received from elsewhere. Changes whose dependencies are not yet
    /// here wait inside the document until they arrive. Returns how many changes were new.
    /// Received changes go through [`HouseholdDoc::receive`]; on an error this document must
    /// be discarded.
    pub fn apply_changes(&mut self, changes: &[Vec<u8>]) -> Result<usize> {
        let decoded = changes
            .iter()
            .map(|bytes| decode_change(bytes))
            .collect::<Result<Vec<_>>>()?;
        let before = self.doc.get_heads();
        let new = decoded
            .iter()
            .filter(|c| self.doc.get_change_by_hash(&c.hash()).is_none())
            .count();
        guarded(|| {
            self.doc
                .apply_changes(decoded)
                .map_err(|e| invalid_changes("无法合并", e))
        })?;
        if new > 0 && self.doc.get_heads() == before {
            // Every new change is waiting for a dependency; nothing visible changed yet.
            return Ok(0);
        }
        Ok(new)
    }

    /// Whether the document holds the change with `hash`.
    pub fn has_change(&self, hash: &ChangeHash) -> bool {
        self.doc.get_change_by_hash(hash).is_some()
    }

    /// Hashes of changes that applied changes depend on but that are not here yet.
    pub fn missing_deps(&mut self) -> Vec<ChangeHash> {
        self.doc.get_missing_deps(&[])
    }

    /// Commits the pending operations as one change, stamped with the device time and with the
    /// author recorded under the device's actor id.
    fn commit(&mut self, ctx: EditContext<'_>) -> Result<()> {
        self.note_author(ctx.user)?;
        self.doc.commit_with(
            automerge::transaction::CommitOptions::default().with_time(ctx.at.timestamp()),
        );
        Ok(())
    }

    /// Records which user writes with this document's actor, once per device and user.
    fn note_author(&mut self, user: &User) -> Result<()> {
        let authors = req_map(&self.doc, &ROOT, "authors")?;
        let actor = self.doc.get_actor().to_hex_string();
        if let Some(existing) = fields::child(&self.doc, &authors, &actor, ObjType::Map)?
            && fields::live_str(&self.doc, &existing, "user_id")?.as_deref() == Some(&user.id)
        {
            return Ok(());
        }
        let entry = self
            .doc
            .put_object(&authors, actor.as_str(), ObjType::Map)?;
        self.doc.put(&entry, "user_id", user.id.as_str())?;
        self.doc.put(&entry, "user_name", user.name.as_str())?;
        self.doc.put(&entry, "role", user.role.code())?;
        Ok(())
    }

    /// The map of an entity in one of the root collections.
    fn entity(&self, collection: &str, id: &str, kind: &str) -> Result<ObjId> {
        let coll = req_map(&self.doc, &ROOT, collection)?;
        fields::child(&self.doc, &coll, id, ObjType::Map)?.ok_or_else(|| not_found(kind, id))
    }

    /// A new entity map in one of the root collections.
    fn new_entity(&mut self, collection: &str, id: &str) -> Result<ObjId> {
        let coll = req_map(&self.doc, &ROOT, collection)?;
        if self.doc.get(&coll, id)?.is_some() {
            return Err(CoreError::InvalidValue {
                field: "编号".into(),
                reason: format!("编号 {id} 已存在"),
            });
        }
        Ok(self.doc.put_object(&coll, id, ObjType::Map)?)
    }

    /// Runs `edit`, then commits it as one change; on error nothing is kept.
    fn change<T>(
        &mut self,
        ctx: EditContext<'_>,
        edit: impl FnOnce(&mut HouseholdDoc) -> Result<T>,
    ) -> Result<T> {
        match edit(self) {
            Ok(value) => {
                self.commit(ctx)?;
                Ok(value)
            }
            Err(err) => {
                self.doc.rollback();
                Err(err)
            }
        }
    }

    /// Changes the household's group, address or phone (only the given fields are written).
    pub fn update_household(&mut self, patch: &HouseholdPatch, ctx: EditContext<'_>) -> Result<()> {
        let address = patch
            .address
            .as_deref()
            .map(|a| validate::required(a, "住址"))
            .transpose()?;
        let phone = patch.phone.as_deref().map(validate::mobile).transpose()?;
        self.change(ctx, |this| {
            let hh = req_map(&this.doc, &ROOT, "household")?;
            if let Some(g) = &patch.group_name {
                this.doc.put(&hh, "group_name", g.trim())?;
            }
            if let Some(a) = address {
                this.doc.put(&hh, "address", a)?;
            }
            if let Some(p) = phone {
                this.doc.put(&hh, "phone", p)?;
            }
            Ok(())
        })
    }

    /// Adds a member after checking the name, identity number and phone.
    pub fn add_member(&mut self, id: &str, input: &NewMember, ctx: EditContext<'_>) -> Result<()> {
        let name = validate::required(&input.name, "姓名")?;
        let id_number = input
            .id_number
            .as_deref()
            .map(validate::id_number)
            .transpose()?;
        let phone = input.phone.as_deref().map(validate::mobile).transpose()?;
        let birth_date = input
            .birth_date
            .or_else(|| id_number.as_deref().and_then(validate::birth_date_from_id));
        self.change(ctx, |this| {
            let m = this.new_entity("members", id)?;
            let d = &mut this.doc;
            d.put(&m, "name", name)?;
            put_opt_str(d, &m, "id_number", id_number.as_deref())?;
            put_opt_str(d, &m, "phone", phone.as_deref())?;
            put_opt_str(d, &m, "gender", input.gender.map(Gender::code))?;
            put_opt_date(d, &m, "birth_date", birth_date)?;
            d.put(&m, "relation", input.relation.trim())?;
            d.put(&m, "status", "present")?;
            let tags = d.put_object(&m, "tags", ObjType::Map)?;
            for tag in &input.tags {
                d.put(&tags, tag.code(), true)?;
            }
            Ok(())
        })
    }

    /// Changes a member: only the fields given in `patch` are written.
    pub fn update_member(
        &mut self,
        member_id: &str,
        patch: &MemberPatch,
        ctx: EditContext<'_>,
    ) -> Result<()> {
        let name = patch
            .name
            .as_deref()
            .map(|n| validate::required(n, "姓名"))
            .transpose()?;
        let id_number = patch
            .id_number
            .as_deref()
            .map(validate::id_number)
            .transpose()?;
        let phone = patch.phone.as_deref().map(validate::mobile).transpose()?;
        self.change(ctx, |this| {
            let m = this.entity("members", member_id, "成员")?;
            let tags = req_map(&this.doc, &m, "tags")?;
            let d = &mut this.doc;
            if let Some(v) = name {
                d.put(&m, "name", v)?;
            }
            if let Some(v) = id_number {
                if let Some(birth) = validate::birth_date_from_id(&v) {
                    put_opt_date(d, &m, "birth_date", Some(birth))?;
                }
                d.put(&m, "id_number", v)?;
            }
            if let Some(v) = phone {
                d.put(&m, "phone", v)?;
            }
            if let Some(v) = &patch.relation {
                d.put(&m, "relation", v.trim())?;
            }
            if let Some(v) = patch.status {
                d.put(&m, "status", v.code())?;
            }
            for tag in &patch.add_tags {
                d.put(&tags, tag.code(), true)?;
            }
            for tag in &patch.remove_tags {
                d.delete(&tags, tag.code())?;
            }
            Ok(())
        })
    }

    fn require_member(&self, member_id: &str) -> Result<()> {
        self.entity("members", member_id, "成员").map(|_| ())
    }

    /// Adds a ledger line for a member.
    pub fn add_ledger_line(
        &mut self,
        id: &str,
        input: &NewLedgerLine,
        ctx: EditContext<'_>,
    ) -> Result<()> {
        let title = validate::required(&input.title, "台账事项")?;
        self.require_member(&input.member_id)?;
        if let Some(v) = &input.visit_id {
            self.entity("visits", v, "走访记录")?;
        }
        match input.schedule {
            Schedule::EveryNDays { days: 0, .. } => {
                return Err(CoreError::InvalidValue {
                    field: "提醒周期".into(),
                    reason: "周期天数至少为1天".into(),
                });
            }
            Schedule::Yearly { month, day }
                if NaiveDate::from_ymd_opt(2000, month, day).is_none() =>
            {
                return Err(CoreError::InvalidValue {
                    field: "每年提醒日期".into(),
                    reason: format!("{month}月{day}日不是有效日期"),
                });
            }
            _ => {}
        }
        let today = ctx.today();
        self.change(ctx, |this| {
            let l = this.new_entity("ledger", id)?;
            let d = &mut this.doc;
            d.put(&l, "member_id", input.member_id.as_str())?;
            d.put(&l, "title", title)?;
            d.put(&l, "kind", input.schedule.kind_code())?;
            match input.schedule {
                Schedule::OneOff { status, due } => {
                    d.put(&l, "status", status.code())?;
                    put_opt_date(d, &l, "due", due)?;
                }
                Schedule::EveryNDays { days, first_due } => {
                    d.put(&l, "days", i64::from(days))?;
                    put_opt_date(d, &l, "first_due", Some(first_due))?;
                }
                Schedule::Yearly { month, day } => {
                    d.put(&l, "month", i64::from(month))?;
                    d.put(&l, "day", i64::from(day))?;
                }
            }
            d.put(&l, "urgency", input.urgency.code())?;
            d.put(&l, "note", input.note.trim())?;
            put_opt_date(d, &l, "created_on", Some(today))?;
            put_opt_str(d, &l, "visit_id", input.visit_id.as_deref())?;
            Ok(())
        })
    }

    /// Records that a recurring reminder was done on `date` (its next due date moves on).
    pub fn mark_reminder_done(
        &mut self,
        line_id: &str,
        date: NaiveDate,
        ctx: EditContext<'_>,
    ) -> Result<()> {
        self.change(ctx, |this| {
            let l = this.entity("ledger", line_id, "台账事项")?;
            if fields::live_str(&this.doc, &l, "kind")?.as_deref() == Some("one_off") {
                return Err(CoreError::InvalidValue {
                    field: "台账事项".into(),
                    reason: "一次性需求请更新办理状态，而不是标记提醒已完成".into(),
                });
            }
            put_opt_date(&mut this.doc, &l, "last_done", Some(date))
        })
    }

    /// Sets the status of a one-off need; setting it done records today as the day it was
    /// closed (销号), any other status clears that day.
    pub fn set_need_status(
        &mut self,
        line_id: &str,
        status: NeedStatus,
        ctx: EditContext<'_>,
    ) -> Result<()> {
        let today = ctx.today();
        self.change(ctx, |this| {
            let l = this.entity("ledger", line_id, "台账事项")?;
            if fields::live_str(&this.doc, &l, "kind")?.as_deref() != Some("one_off") {
                return Err(CoreError::InvalidValue {
                    field: "台账事项".into(),
                    reason: "周期提醒没有办理状态，请标记提醒已完成".into(),
                });
            }
            this.doc.put(&l, "status", status.code())?;
            let closed = (status == NeedStatus::Done).then_some(today);
            put_opt_date(&mut this.doc, &l, "last_done", closed)
        })
    }

    /// Plans a visit for a date.
    pub fn plan_visit(
        &mut self,
        id: &str,
        date: NaiveDate,
        purpose: &str,
        ctx: EditContext<'_>,
    ) -> Result<()> {
        let purpose = validate::required(purpose, "走访事由")?;
        self.change(ctx, |this| {
            let v = this.new_entity("visits", id)?;
            put_opt_date(&mut this.doc, &v, "planned_for", Some(date))?;
            this.doc.put(&v, "purpose", purpose)?;
            Ok(())
        })
    }

    /// Records a visit as done: a planned one (`id` exists) or a new unplanned one.
    pub fn record_visit(
        &mut self,
        id: &str,
        record: &VisitRecord,
        ctx: EditContext<'_>,
    ) -> Result<()> {
        let purpose = validate::required(&record.purpose, "走访事由")?;
        self.change(ctx, |this| {
            let v = match this.entity("visits", id, "走访记录") {
                Ok(v) => v,
                Err(CoreError::NotFound { .. }) => this.new_entity("visits", id)?,
                Err(e) => return Err(e),
            };
            let d = &mut this.doc;
            d.put(&v, "purpose", purpose)?;
            d.put(&v, "outcome", record.outcome.code())?;
            d.put(&v, "notes", record.notes.trim())?;
            d.put(&v, "visitor", ctx.user.name.as_str())?;
            put_time(d, &v, "done_at", ctx.at)?;
            put_location(d, &v, record.location)
        })
    }
}

/// Writes a location as `lat`/`lon`, or nothing.
fn put_location(doc: &mut AutoCommit, obj: &ObjId, location: Option<Location>) -> Result<()> {
    if let Some(loc) = location {
        doc.put(obj, "lat", loc.latitude)?;
        doc.put(obj, "lon", loc.longitude)?;
    }
    Ok(())
}

/// A change the document holds, with its writer (automerge actor, hex) and its number among
/// that writer's changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenChange {
    /// The encoded change.
    pub bytes: Vec<u8>,
    /// The writer's actor.
    pub actor: String,
    /// Its number among the writer's changes (from 1).
    pub seq: u64,
}

/// Decodes one encoded change received from elsewhere.
pub fn decode_change(bytes: &[u8]) -> Result<Change> {
    guarded(|| Change::from_bytes(bytes.to_vec()).map_err(|e| invalid_changes("无法解码", e)))
}

/// Runs automerge on data received from elsewhere, turning a panic inside it into an error:
/// automerge can panic on crafted input (the fuzzer found a change whose actor index is out of
/// range), and a phone or the server must refuse such data, not stop. Whatever document the
/// work was changing must then be discarded, as after any failed merge.
pub(crate) fn guarded<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(invalid_changes("数据结构异常，无法合并（已拒收）", "")))
}
