//! Doorstep (家门口办) core: the library every village agent's phone runs.
//!
//! - [`domain`]: households, members, ledger lines, the service catalogue, jobs and their
//!   rules, visits; no storage or network.
//! - [`document`]: one automerge document per household, the truth that replicas merge.
//! - [`store`]: the local SQLite store with query tables derived from the documents.
//! - [`projection`]: the query tables' rows derived from a document, for phone and server.
//! - [`figures`]: the figures the work is measured by, counted over those tables.
//! - [`access`]: what a user may write, checked by the server on every pushed household.
//! - [`sync`]: the sync client and the wire protocol shared with the server.
//!
//! Everything works with no network. Device clocks are recorded for people and due dates only.

pub mod access;
pub mod document;
pub mod domain;
pub mod error;
#[cfg(feature = "uniffi")]
pub mod ffi;
pub mod figures;
pub mod ids;
pub mod projection;
pub mod store;
pub mod sync;
pub mod time;
pub mod validate;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("doorstep_core");

pub use document::{
    ApplyOutcome, ConflictValue, EntityKind, FieldConflict, HouseholdData, HouseholdDoc,
};
pub use domain::catalogue::{ItemTier, Material, ServiceItem, ServiceMode, catalogue};
pub use domain::household::{
    Gender, Household, HouseholdPatch, Member, MemberPatch, MemberStatus, NewHousehold, NewMember,
    SpecialTag,
};
pub use domain::intake::IntakeSource;
pub use domain::job::{Job, JobDetails, NewJob};
pub use domain::ledger::{LedgerLine, NeedStatus, NewLedgerLine, Schedule, ScheduleKind, Urgency};
pub use domain::progress::{JobConflict, JobProgress, JobState};
pub use domain::region::{Region, RegionTier, Role, User};
pub use domain::step::{Actor, JobEvent, JobStep, JobStepKind, Location, Rating};
pub use domain::step_form::{StepField, StepFieldKind, StepForm, StepInput};
pub use domain::visit::{Visit, VisitOutcome, VisitRecord};
pub use error::{CoreError, Result};
pub use figures::{Figures, ItemCount, ModeCount};
pub use store::{
    HandUpGroup, HouseholdScreen, HouseholdSyncState, IncomingChanges, JobRow, JobSummary,
    KeyProvider, LedgerRow, RejectedHousehold, RosterEntry, SearchHit, Store, StoreOptions,
    SyncStatus, WorkItem, WorkKind,
};
pub use time::{Clock, FixedClock, SystemClock};
