//! The store object: every read and edit an agent's app makes, forwarded to the core's
//! [`Store`]. Calls are synchronous and quick (milliseconds); apps call them off the UI thread.

use std::sync::Arc;

use chrono::NaiveDate;
use doorstep_core::{
    CoreError, EntityKind, FieldConflict, Figures, HandUpGroup, HouseholdData, HouseholdPatch,
    HouseholdScreen, HouseholdSyncState, JobDetails, JobProgress, JobStep, JobStepKind, JobSummary,
    Location, MemberPatch, NeedStatus, NewHousehold, NewJob, NewLedgerLine, NewMember,
    RejectedHousehold, RosterEntry, SearchHit, ServiceItem, SpecialTag, StepForm, StepInput, Store,
    StoreOptions, SyncStatus, User, VisitRecord, WorkItem, catalogue,
    sync::{SyncDecision, SyncPolicy},
    validate,
};

use crate::key::{DatabaseKey, KeyFromApp};

/// One agent's local store: the households of their villages, kept in an encrypted SQLite
/// file on the phone. Safe to share between threads.
#[derive(uniffi::Object)]
pub struct DoorstepStore {
    pub(crate) store: Arc<Store>,
}

type Result<T> = std::result::Result<T, CoreError>;

#[uniffi::export]
impl DoorstepStore {
    /// Opens (or creates) the store file at `path`. With `key`, the file is encrypted with the
    /// key the app supplies; a wrong key fails with `WrongKey` and leaves the file untouched.
    #[uniffi::constructor]
    pub fn open(path: String, key: Option<Box<dyn DatabaseKey>>) -> Result<Arc<DoorstepStore>> {
        let options = StoreOptions {
            key: key.map(|k| Arc::new(KeyFromApp(k)) as _),
            ..StoreOptions::default()
        };
        Ok(Arc::new(DoorstepStore {
            store: Arc::new(Store::open_with(path, options)?),
        }))
    }

    /// This device's id (sent when it enrolls).
    pub fn device_id(&self) -> String {
        self.store.device_actor()
    }

    /// Signs a user in; enrolling does this, so apps rarely call it.
    pub fn sign_in(&self, user: User) -> Result<()> {
        self.store.sign_in(user)
    }

    /// The signed-in user, if any.
    pub fn current_user(&self) -> Option<User> {
        self.store.current_user()
    }

    /// Today's work, most urgent and most overdue first: jobs waiting for their next step,
    /// reminders and needs due on or before `today`, in one village or all.
    pub fn today_work(
        &self,
        today: NaiveDate,
        village_id: Option<String>,
        limit: u32,
    ) -> Result<Vec<WorkItem>> {
        self.store.today_work(today, village_id.as_deref(), limit)
    }

    /// A village's members with any of `tags` (all members when `tags` is empty).
    pub fn roster(&self, village_id: String, tags: Vec<SpecialTag>) -> Result<Vec<RosterEntry>> {
        self.store.roster(&village_id, &tags)
    }

    /// Finds members by name, phone tail or identity-number tail.
    pub fn search(&self, text: String, limit: u32) -> Result<Vec<SearchHit>> {
        self.store.search(&text, limit)
    }

    /// Ids of every household in the store.
    pub fn household_ids(&self) -> Result<Vec<String>> {
        self.store.household_ids()
    }

    /// Today in the town's time zone (Beijing time), by the store's clock.
    pub fn today(&self) -> NaiveDate {
        self.store.today()
    }

    /// The first day of this month in the town's time zone (where this month's figures start).
    pub fn month_start(&self) -> NaiveDate {
        self.store.month_start()
    }

    /// A household's full record: members, ledger, jobs with progress, visits.
    pub fn household(&self, household_id: String) -> Result<HouseholdData> {
        self.store.household(&household_id)
    }

    /// Everything the household screen shows, in one call: members, ledger lines with their
    /// due dates, jobs with the steps this user may take now, visits, conflicts, sync state.
    pub fn household_screen(&self, household_id: String) -> Result<HouseholdScreen> {
        self.store.household_screen(&household_id)
    }

    /// Adds a household and returns its id.
    pub fn create_household(&self, input: NewHousehold) -> Result<String> {
        self.store.create_household(input)
    }

    /// Changes a household's group, address or phone.
    pub fn update_household(&self, household_id: String, patch: HouseholdPatch) -> Result<()> {
        self.store.update_household(&household_id, patch)
    }

    /// Adds a member (the identity number and phone are checked) and returns their id.
    pub fn add_member(&self, household_id: String, input: NewMember) -> Result<String> {
        self.store.add_member(&household_id, input)
    }

    /// Changes a member (only the fields given).
    pub fn update_member(&self, member_id: String, patch: MemberPatch) -> Result<()> {
        self.store.update_member(&member_id, patch)
    }

    /// Adds a ledger line (a need or a reminder) and returns its id.
    pub fn add_ledger_line(&self, input: NewLedgerLine) -> Result<String> {
        self.store.add_ledger_line(input)
    }

    /// Records that a recurring reminder was done on `date`.
    pub fn mark_reminder_done(&self, line_id: String, date: NaiveDate) -> Result<()> {
        self.store.mark_reminder_done(&line_id, date)
    }

    /// Sets the status of a one-off need.
    pub fn set_need_status(&self, line_id: String, status: NeedStatus) -> Result<()> {
        self.store.set_need_status(&line_id, status)
    }

    /// Opens a job for a member (its first step, Inform, is recorded) and returns its id.
    pub fn open_job(&self, input: NewJob) -> Result<String> {
        self.store.open_job(input)
    }

    /// One job with its events and derived progress.
    pub fn job(&self, job_id: String) -> Result<JobDetails> {
        self.store.job(&job_id)
    }

    /// The steps the signed-in user may take next on a job.
    pub fn possible_steps(&self, job_id: String) -> Result<Vec<JobStepKind>> {
        self.store.possible_steps(&job_id)
    }

    /// Takes a job's next step (checked against the role and the job's state) and returns
    /// the new progress.
    pub fn take_step(
        &self,
        job_id: String,
        step: JobStep,
        location: Option<Location>,
    ) -> Result<JobProgress> {
        self.store.take_step(&job_id, step, location)
    }

    /// The form of a step on a job: its fields, their labels, which are required, and the
    /// materials that may be ticked for this job.
    pub fn step_form(&self, job_id: String, kind: JobStepKind) -> Result<StepForm> {
        self.store.step_form(&job_id, kind)
    }

    /// Takes a step from its filled-in form (checked, with the reason in Chinese) and returns
    /// the new progress.
    pub fn take_step_from_form(
        &self,
        job_id: String,
        kind: JobStepKind,
        input: StepInput,
        location: Option<Location>,
    ) -> Result<JobProgress> {
        self.store
            .take_step_from_form(&job_id, kind, &input, location)
    }

    /// Jobs accepted in the village and waiting to be carried to the town.
    pub fn jobs_to_hand_up(&self, village_id: Option<String>) -> Result<Vec<JobSummary>> {
        self.store.jobs_to_hand_up(village_id.as_deref())
    }

    /// The jobs waiting to be handed up, grouped by village group (村民小组).
    pub fn hand_up_groups(&self, village_id: Option<String>) -> Result<Vec<HandUpGroup>> {
        self.store.hand_up_groups(village_id.as_deref())
    }

    /// Hands up several jobs at once, carried by `carrier`; for each job in order, why it could
    /// not be handed up (the core's words), or nothing when it was.
    pub fn hand_up_jobs(&self, job_ids: Vec<String>, carrier: String) -> Vec<Option<String>> {
        self.store.hand_up_jobs(&job_ids, &carrier)
    }

    /// Results to take to the residents' doors (政务包裹), most urgent first.
    pub fn deliveries(&self, village_id: Option<String>) -> Result<Vec<JobSummary>> {
        self.store.deliveries(village_id.as_deref())
    }

    /// Plans a visit and returns its id.
    pub fn plan_visit(
        &self,
        household_id: String,
        date: NaiveDate,
        purpose: String,
    ) -> Result<String> {
        self.store.plan_visit(&household_id, date, &purpose)
    }

    /// Records a visit as done (the planned `visit_id`, or a new visit) and returns its id.
    pub fn record_visit(
        &self,
        household_id: String,
        visit_id: Option<String>,
        record: VisitRecord,
    ) -> Result<String> {
        self.store
            .record_visit(&household_id, visit_id.as_deref(), record)
    }

    /// Fields of a household changed differently on two devices, with every value and who
    /// wrote it.
    pub fn conflicts(&self, household_id: String) -> Result<Vec<FieldConflict>> {
        self.store.conflicts(&household_id)
    }

    /// Settles a conflict by choosing one of its values; the choice syncs like any edit.
    pub fn resolve_conflict(
        &self,
        household_id: String,
        entity: EntityKind,
        entity_id: String,
        field: String,
        value_id: String,
    ) -> Result<()> {
        self.store
            .resolve_conflict(&household_id, entity, &entity_id, &field, &value_id)
    }

    /// A village's figures between two dates (inclusive): response, on-time and satisfaction.
    pub fn figures(&self, village_id: String, from: NaiveDate, to: NaiveDate) -> Result<Figures> {
        self.store.figures(&village_id, from, to)
    }

    /// What the app shows about sync: last success, pending changes, last error.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        self.store.sync_status()
    }

    /// What the background sync should do now (sync, wait for the network, wait a while,
    /// or stop), by the core's one retry policy; `connected` is whether the phone has a network.
    pub fn next_sync(&self, connected: bool) -> Result<SyncDecision> {
        let status = self.store.sync_status()?;
        Ok(SyncPolicy::default().decide(&status, connected, self.store.now()))
    }

    /// Where one household stands with the server.
    pub fn household_sync_state(&self, household_id: String) -> Result<HouseholdSyncState> {
        self.store.household_sync_state(&household_id)
    }

    /// Households set aside (what the server sent could not be stored, twice), with reasons.
    pub fn set_aside_households(&self) -> Result<Vec<RejectedHousehold>> {
        self.store.set_aside_households()
    }

    /// Asks again for the households set aside on the next sync.
    pub fn retry_set_aside(&self) -> Result<()> {
        self.store.retry_set_aside()
    }
}

/// The service catalogue shipped with the app (事项清单).
#[uniffi::export]
pub fn service_catalogue() -> Vec<ServiceItem> {
    catalogue().to_vec()
}

/// Catalogue items by name or pinyin initials (`ylrz` finds 养老认证), best matches first.
#[uniffi::export]
pub fn search_catalogue(query: String) -> Vec<ServiceItem> {
    doorstep_core::domain::catalogue::search(&query)
}

/// Checks an identity number as the store will (GB 11643) and returns it normalised, for
/// checking a form field before saving.
#[uniffi::export]
pub fn check_id_number(text: String) -> Result<String> {
    validate::id_number(&text)
}

/// Checks a mainland mobile number as the store will and returns it normalised.
#[uniffi::export]
pub fn check_mobile(text: String) -> Result<String> {
    validate::mobile(&text)
}
