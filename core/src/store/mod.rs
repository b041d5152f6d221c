//! The phone's local store: one SQLite file (WAL) holding each household's automerge document
//! and the query tables derived from it. Every edit and every merge writes the document bytes
//! and the query tables in one transaction, so a crash at any point leaves both consistent.

mod changes;
mod persist;
mod projection;
mod queries;
mod schema;
mod screens;
mod sync_state;

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::ActorId;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use lru::LruCache;
use rusqlite::{Connection, OptionalExtension};

pub use changes::IncomingChanges;
pub use queries::{HandUpGroup, JobSummary, RosterEntry, SearchHit, WorkItem, WorkKind};
pub use screens::{HouseholdScreen, JobRow, LedgerRow};
pub use sync_state::{
    HouseholdSyncState, IncomingSnapshot, PendingPush, PushOutcome, RETRY_REFUSED_AFTER_HOURS,
    ReceivedRound, RejectedHousehold, RoundApplied, SET_ASIDE_AFTER, SyncStatus, refusal_text,
};

use crate::document::{EditContext, EntityKind, FieldConflict, HouseholdData, HouseholdDoc};
use crate::domain::catalogue::item;
use crate::domain::household::{HouseholdPatch, MemberPatch, NewHousehold, NewMember};
use crate::domain::job::{JobDetails, NewJob};
use crate::domain::ledger::{NeedStatus, NewLedgerLine};
use crate::domain::progress::JobProgress;
use crate::domain::region::User;
use crate::domain::step::{JobStep, JobStepKind, Location};
use crate::domain::visit::VisitRecord;
use crate::error::{CoreError, Result, not_found};
use crate::ids::new_id;
use crate::time::{Clock, SystemClock};
use persist::StoredDoc;

/// How many household documents stay loaded in memory.
const CACHED_DOCUMENTS: usize = 256;

/// The local store. Cheap to share between threads; calls are serialised inside.
pub struct Store {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
}

struct Inner {
    conn: Connection,
    /// The device's identity, generated on first open (what it enrolls with).
    device: ActorId,
    /// The actor this opening of the store writes with: new each time the store opens, so
    /// that a store restored from an old copy never writes two different changes under one
    /// identity.
    actor: ActorId,
    user: Option<User>,
    cache: LruCache<String, StoredDoc>,
}

/// Supplies the key of the encrypted store each time it opens. The app shell implements it
/// with the Android Keystore or the iOS Keychain; the core uses the key to open the file and
/// keeps no copy of it.
pub trait KeyProvider: Send + Sync {
    /// The raw key (32 random bytes are recommended), or why it cannot be had.
    fn database_key(&self) -> std::result::Result<Vec<u8>, String>;
}

/// How to open a store.
#[derive(Clone)]
pub struct StoreOptions {
    /// Where time comes from (the device clock in the app).
    pub clock: Arc<dyn Clock>,
    /// The key of an encrypted store (SQLCipher); `None` for a plain SQLite file.
    pub key: Option<Arc<dyn KeyProvider>>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            clock: Arc::new(SystemClock),
            key: None,
        }
    }
}

/// Applies the key (if any) and checks that the file can be read with it, before anything is
/// written: a wrong key leaves the file as it was.
fn unlock(conn: &Connection, key: Option<&Arc<dyn KeyProvider>>) -> Result<()> {
    if let Some(provider) = key {
        let raw = provider
            .database_key()
            .map_err(|reason| CoreError::KeyUnavailable { reason })?;
        if raw.is_empty() {
            return Err(CoreError::KeyUnavailable {
                reason: "密钥为空".into(),
            });
        }
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))?;
    }
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(CoreError::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}

/// Where changes being committed come from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Origin {
    /// Made on this store (by its signed-in user).
    Local,
    /// Received from another replica.
    Remote,
}

impl Store {
    /// Opens (or creates) the store at `path`, with the system clock.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(path, StoreOptions::default())
    }

    /// Opens (or creates) the store at `path`, reading time from `clock`.
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Store> {
        Store::open_with(
            path,
            StoreOptions {
                clock,
                ..StoreOptions::default()
            },
        )
    }

    /// Opens (or creates) the store at `path` with `options`. Creates the schema, runs pending
    /// migrations and, if they changed the query tables, rebuilds them.
    pub fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        unlock(&conn, options.key.as_ref())?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut conn, schema::MIGRATIONS)?;
        let device = device_actor(&conn)?;
        let actor = ActorId::random();
        let user = conn
            .query_row("SELECT value FROM meta WHERE key = 'user'", [], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .optional()?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let store = Store {
            inner: Mutex::new(Inner {
                conn,
                device,
                actor,
                user,
                cache: LruCache::new(NonZeroUsize::new(CACHED_DOCUMENTS).expect("non-zero")),
            }),
            clock: options.clock,
        };
        let stale = store
            .lock()
            .conn
            .query_row(
                "SELECT 1 FROM meta WHERE key = ?1",
                [schema::PROJECTIONS_STALE],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if stale {
            store.rebuild_projections()?;
        }
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll
        // back), and cached documents are only replaced after a commit, so the data is usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// This device's id (hex): the automerge actor generated on the store's first open, which
    /// the device enrolls with.
    pub fn device_actor(&self) -> String {
        self.lock().device.to_hex_string()
    }

    /// The automerge actor (hex) the store writes with since it was opened: new at every
    /// opening, never reused.
    pub fn writing_actor(&self) -> String {
        self.lock().actor.to_hex_string()
    }

    /// Signs a user in on this device; their name and role go on every step they take.
    pub fn sign_in(&self, user: User) -> Result<()> {
        let mut inner = self.lock();
        let bytes = serde_json::to_vec(&user).map_err(crate::error::storage)?;
        inner.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('user', ?1)",
            [bytes],
        )?;
        inner.user = Some(user);
        Ok(())
    }

    /// Today in the town's time zone (Beijing time), by this store's clock: the day due dates
    /// and today's work are counted from, for every shell.
    pub fn today(&self) -> NaiveDate {
        crate::time::local_date(self.clock.now())
    }

    /// The first day of this month in the town's time zone: where "this month's figures" start.
    pub fn month_start(&self) -> NaiveDate {
        let today = self.today();
        today - chrono::Days::new(u64::from(today.day0()))
    }

    /// The time by this store's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The signed-in user, if any.
    pub fn current_user(&self) -> Option<User> {
        self.lock().user.clone()
    }

    /// Runs an edit on one household's document and persists it with its query tables in one
    /// transaction. On any error the document on disk and in memory is unchanged.
    fn edit<T>(
        &self,
        household_id: &str,
        edit: impl FnOnce(&mut HouseholdDoc, EditContext<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut inner = self.lock();
        let user = inner.user.clone().ok_or(CoreError::NotSignedIn)?;
        let ctx = EditContext {
            user: &user,
            at: self.clock.now(),
        };
        let mut stored = inner
            .take(household_id)?
            .ok_or_else(|| not_found("户", household_id))?;
        let value = match edit(&mut stored.doc, ctx) {
            Ok(value) => value,
            Err(err) => {
                inner.cache.put(household_id.to_string(), stored);
                return Err(err);
            }
        };
        inner.commit_docs(vec![(household_id.to_string(), stored)], Origin::Local)?;
        Ok(value)
    }

    /// Creates a household and returns its id.
    pub fn create_household(&self, input: NewHousehold) -> Result<String> {
        let mut inner = self.lock();
        let user = inner.user.clone().ok_or(CoreError::NotSignedIn)?;
        let ctx = EditContext {
            user: &user,
            at: self.clock.now(),
        };
        let id = new_id(&mut rand::rng());
        let doc = HouseholdDoc::create(&id, inner.actor.clone(), &input, ctx)?;
        inner.commit_docs(vec![(id.clone(), StoredDoc::new(doc))], Origin::Local)?;
        Ok(id)
    }

    /// Changes a household's group, address or phone.
    pub fn update_household(&self, household_id: &str, patch: HouseholdPatch) -> Result<()> {
        self.edit(household_id, |doc, ctx| doc.update_household(&patch, ctx))
    }

    /// Adds a member to a household and returns the member's id.
    pub fn add_member(&self, household_id: &str, input: NewMember) -> Result<String> {
        let id = new_id(&mut rand::rng());
        self.edit(household_id, |doc, ctx| doc.add_member(&id, &input, ctx))?;
        Ok(id)
    }

    /// Changes a member (only the fields given).
    pub fn update_member(&self, member_id: &str, patch: MemberPatch) -> Result<()> {
        let household_id = self.household_of("members", member_id, "成员")?;
        self.edit(&household_id, |doc, ctx| {
            doc.update_member(member_id, &patch, ctx)
        })
    }

    /// Adds a ledger line and returns its id.
    pub fn add_ledger_line(&self, input: NewLedgerLine) -> Result<String> {
        let household_id = self.household_of("members", &input.member_id, "成员")?;
        let id = new_id(&mut rand::rng());
        self.edit(&household_id, |doc, ctx| {
            doc.add_ledger_line(&id, &input, ctx)
        })?;
        Ok(id)
    }

    /// Records that a recurring reminder was done on `date`.
    pub fn mark_reminder_done(&self, line_id: &str, date: NaiveDate) -> Result<()> {
        let household_id = self.household_of("ledger_lines", line_id, "台账事项")?;
        self.edit(&household_id, |doc, ctx| {
            doc.mark_reminder_done(line_id, date, ctx)
        })
    }

    /// Sets the status of a one-off need.
    pub fn set_need_status(&self, line_id: &str, status: NeedStatus) -> Result<()> {
        let household_id = self.household_of("ledger_lines", line_id, "台账事项")?;
        self.edit(&household_id, |doc, ctx| {
            doc.set_need_status(line_id, status, ctx)
        })
    }

    /// Opens a job (recording the Inform step) and returns its id.
    pub fn open_job(&self, input: NewJob) -> Result<String> {
        let household_id = self.household_of("members", &input.member_id, "成员")?;
        let id = new_id(&mut rand::rng());
        let event_id = new_id(&mut rand::rng());
        self.edit(&household_id, |doc, ctx| {
            doc.add_job(&id, &event_id, &input, ctx)
        })?;
        Ok(id)
    }

    /// Hands up several jobs at once, carried by `carrier` (the rotating village head's duty
    /// day): each job on its own, so one that cannot be handed up does not hold back the rest.
    /// Returns, for each job in order, why it could not be handed up, or `None`.
    pub fn hand_up_jobs(&self, job_ids: &[String], carrier: &str) -> Vec<Option<String>> {
        let step = JobStep::HandUp {
            carrier: carrier.to_string(),
        };
        job_ids
            .iter()
            .map(|job_id| {
                self.take_step(job_id, step.clone(), None)
                    .err()
                    .map(|e| e.to_string())
            })
            .collect()
    }

    /// Takes the next step of a job, checked against the core's rules; returns the new progress.
    pub fn take_step(
        &self,
        job_id: &str,
        step: JobStep,
        location: Option<Location>,
    ) -> Result<JobProgress> {
        let household_id = self.household_of("jobs", job_id, "办件")?;
        let event_id = new_id(&mut rand::rng());
        self.edit(&household_id, |doc, ctx| {
            doc.take_step(job_id, &event_id, &step, location, ctx)
        })
    }

    /// Plans a visit to a household and returns its id.
    pub fn plan_visit(&self, household_id: &str, date: NaiveDate, purpose: &str) -> Result<String> {
        let id = new_id(&mut rand::rng());
        self.edit(household_id, |doc, ctx| {
            doc.plan_visit(&id, date, purpose, ctx)
        })?;
        Ok(id)
    }

    /// Records a visit as done: the planned visit `visit_id`, or a new one when `None`.
    /// Returns the visit's id.
    pub fn record_visit(
        &self,
        household_id: &str,
        visit_id: Option<&str>,
        record: VisitRecord,
    ) -> Result<String> {
        let id = match visit_id {
            Some(id) => id.to_string(),
            None => new_id(&mut rand::rng()),
        };
        self.edit(household_id, |doc, ctx| doc.record_visit(&id, &record, ctx))?;
        Ok(id)
    }

    /// Lists the fields of a household that hold concurrent values.
    pub fn conflicts(&self, household_id: &str) -> Result<Vec<FieldConflict>> {
        self.read_doc(household_id, |doc| doc.conflicts())
    }

    /// Settles a conflict by choosing one of its values (a change that syncs like any other).
    pub fn resolve_conflict(
        &self,
        household_id: &str,
        entity: EntityKind,
        entity_id: &str,
        field: &str,
        value_id: &str,
    ) -> Result<()> {
        self.edit(household_id, |doc, ctx| {
            doc.resolve_conflict(entity, entity_id, field, value_id, ctx)
        })
    }

    /// A household's full record: members, ledger, jobs with progress, visits.
    pub fn household(&self, household_id: &str) -> Result<HouseholdData> {
        self.read_doc(household_id, |doc| doc.read())
    }

    /// One job with its derived progress.
    pub fn job(&self, job_id: &str) -> Result<JobDetails> {
        let household_id = self.household_of("jobs", job_id, "办件")?;
        self.read_doc(&household_id, |doc| doc.job(job_id))
    }

    /// The steps the signed-in user may take next on a job (for the app's step buttons).
    pub fn possible_steps(&self, job_id: &str) -> Result<Vec<JobStepKind>> {
        let role = self.current_user().ok_or(CoreError::NotSignedIn)?.role;
        let details = self.job(job_id)?;
        let item = item(&details.job.item_code)?;
        Ok(details.progress.possible_steps(item, role))
    }

    /// Ids of every household in the store.
    pub fn household_ids(&self) -> Result<Vec<String>> {
        persist::household_ids(&self.lock().conn)
    }

    /// Reads from one household's document.
    fn read_doc<T>(
        &self,
        household_id: &str,
        read: impl FnOnce(&mut HouseholdDoc) -> Result<T>,
    ) -> Result<T> {
        let mut inner = self.lock();
        let mut stored = inner
            .take(household_id)?
            .ok_or_else(|| not_found("户", household_id))?;
        let result = read(&mut stored.doc);
        inner.cache.put(household_id.to_string(), stored);
        result
    }

    /// The household holding a member, ledger line or job, from the query tables.
    fn household_of(&self, table: &str, id: &str, kind: &str) -> Result<String> {
        self.lock()
            .conn
            .prepare_cached(&format!("SELECT household_id FROM {table} WHERE id = ?1"))?
            .query_row([id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| not_found(kind, id))
    }

    /// The query tables as text, rows in id order: for checking that replicas agree (tests,
    /// support staff).
    pub fn dump_query_tables(&self) -> Result<String> {
        let inner = self.lock();
        let mut out = String::new();
        for table in crate::projection::TABLES.map(|t| t.name) {
            let mut stmt = inner
                .conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY id"))?;
            let columns = stmt.column_count();
            out.push_str(&format!("## {table}\n"));
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let cells: Vec<String> = (0..columns)
                    .map(|i| row.get_ref(i).map(|v| format!("{v:?}")))
                    .collect::<Result<_, _>>()?;
                out.push_str(&cells.join("|"));
                out.push('\n');
            }
        }
        Ok(out)
    }

    /// Re-derives every query table from the documents, in one transaction. Documents are
    /// decoded and read on all cores, a batch at a time; rows are written on this thread.
    pub fn rebuild_projections(&self) -> Result<()> {
        let mut inner = self.lock();
        let ids = persist::household_ids(&inner.conn)?;
        let actor = inner.actor.clone();
        let tx = inner.conn.transaction()?;
        for table in crate::projection::TABLES {
            tx.execute(&format!("DELETE FROM {}", table.name), [])?;
        }
        for batch in ids.chunks(REBUILD_BATCH) {
            let bytes = batch
                .iter()
                .map(|id| persist::read_bytes(&tx, id)?.ok_or_else(|| not_found("户", id)))
                .collect::<Result<Vec<_>>>()?;
            let derived = parallel_map(bytes, |b| b.decode(&actor)?.doc.read_with_conflicts());
            for result in derived {
                let (data, conflicts) = result?;
                projection::insert(&tx, &data, conflicts.len())?;
            }
        }
        tx.execute(
            "DELETE FROM meta WHERE key = ?1",
            [schema::PROJECTIONS_STALE],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Households decoded at a time while rebuilding (bounds the memory used).
const REBUILD_BATCH: usize = 512;

/// Maps `work` over `items` on every available core, keeping the order.
fn parallel_map<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = items.len().div_ceil(threads).max(1);
    let mut parts: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        parts.push(items.by_ref().take(per_thread).collect());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(|| part.into_iter().map(&work).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("rebuild worker panicked"))
            .collect()
    })
}

impl Inner {
    /// Takes a household's document out of the cache, or loads it from disk.
    fn take(&mut self, household_id: &str) -> Result<Option<StoredDoc>> {
        if let Some(stored) = self.cache.pop(household_id) {
            return Ok(Some(stored));
        }
        persist::load(&self.conn, household_id, &self.actor)
    }

    /// Validates and writes documents and their query tables in one transaction, then caches
    /// them. On failure nothing is written and the documents are dropped from memory (the next
    /// read reloads them from disk).
    fn commit_docs(&mut self, docs: Vec<(String, StoredDoc)>, origin: Origin) -> Result<()> {
        let failed = self.commit_with(docs, origin, |_| Ok(()), |_, _| Ok(()))?;
        match failed.into_iter().next() {
            Some((_, err)) => Err(err),
            None => Ok(()),
        }
    }

    /// Writes documents like [`Inner::commit_docs`], running `before` first and `after` last
    /// in the same transaction. A local edit that cannot be written fails the whole
    /// transaction. Received documents are written each in a savepoint of its own: one that
    /// cannot be written is left as it was on disk and returned with the reason (and given to
    /// `after`), and the others are committed.
    fn commit_with(
        &mut self,
        docs: Vec<(String, StoredDoc)>,
        origin: Origin,
        before: impl FnOnce(&Connection) -> Result<()>,
        after: impl FnOnce(&Connection, &[(String, CoreError)]) -> Result<()>,
    ) -> Result<Vec<(String, CoreError)>> {
        let mut tx = self.conn.transaction()?;
        before(&tx)?;
        let mut written = Vec::with_capacity(docs.len());
        let mut failed = Vec::new();
        for (id, mut stored) in docs {
            let result = tx.savepoint().map_err(CoreError::from).and_then(|sp| {
                write_doc(&sp, &id, &mut stored, origin)?;
                sp.commit()?;
                Ok(())
            });
            match (result, origin) {
                (Ok(()), _) => written.push((id, stored)),
                (Err(err), Origin::Remote) => failed.push((id, err)),
                (Err(err), Origin::Local) => return Err(err),
            }
        }
        after(&tx, &failed)?;
        tx.commit()?;
        for (id, stored) in written {
            self.cache.put(id, stored);
        }
        Ok(failed)
    }
}

/// Writes one document's new bytes, its query tables, and what it means for sync: the
/// device counts its own changes, or notes what the server has.
fn write_doc(conn: &Connection, id: &str, stored: &mut StoredDoc, origin: Origin) -> Result<()> {
    let (data, conflicts) = stored.doc.read_with_conflicts()?;
    let local_changes = match origin {
        Origin::Local => stored.doc.changes_since(&stored.persisted_heads).len(),
        Origin::Remote => 0,
    };
    persist::save(conn, id, stored)?;
    projection::write(conn, &data, conflicts.len())?;
    match origin {
        Origin::Local => sync_state::note_local(conn, id, local_changes),
        Origin::Remote => sync_state::note_remote(conn, id, &stored.persisted_heads),
    }
}

/// The device's actor id from the meta table, generated and stored on first open.
fn device_actor(conn: &Connection) -> Result<ActorId> {
    let existing: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = 'actor'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(bytes) = existing {
        return Ok(ActorId::from(bytes));
    }
    let actor = ActorId::random();
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('actor', ?1)",
        [actor.to_bytes()],
    )?;
    Ok(actor)
}
