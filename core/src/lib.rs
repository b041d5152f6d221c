//! Doorstep (家门口办) core: the library every village agent's phone runs.
//!
//! - [`domain`]: households, members, ledger lines, the service catalogue, jobs and their
//!   rules, visits; no storage or network.
//! - [`document`]: one automerge document per household, the truth that replicas merge.
//! - [`store`]: the local SQLite store with query tables derived from the documents.
//! - [`sync`]: the sync client and the wire protocol shared with the server.
//! - [`demo`]: a seeded generator of a realistic town for tests, benchmarks and demos.
//!
//! Everything works with no network. Device clocks are recorded for people and due dates only.

pub mod demo;
pub mod document;
pub mod domain;
pub mod error;
#[cfg(feature = "uniffi")]
pub mod ffi;
pub mod ids;
pub mod store;
pub mod sync;
pub mod time;
pub mod validate;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("doorstep_core");

pub use document::{ConflictValue, EntityKind, FieldConflict, HouseholdData, HouseholdDoc};
pub use domain::catalogue::{ItemTier, Material, ServiceItem, ServiceMode, catalogue};
pub use domain::household::{
    Gender, Household, HouseholdPatch, Member, MemberPatch, MemberStatus, NewHousehold, NewMember,
    SpecialTag,
};
pub use domain::job::{
    Actor, Job, JobConflict, JobDetails, JobEvent, JobProgress, JobState, JobStep, JobStepKind,
    Location, NewJob, Rating,
};
pub use domain::ledger::{LedgerLine, NeedStatus, NewLedgerLine, Schedule, Urgency};
pub use domain::region::{Region, RegionTier, Role, User};
pub use domain::visit::{Visit, VisitOutcome, VisitRecord};
pub use error::{CoreError, Result};
pub use store::{
    ApplyOutcome, Figures, HouseholdSyncState, IncomingChanges, ItemCount, JobSummary, KeyProvider,
    RejectedHousehold, RosterEntry, SearchHit, Store, StoreOptions, SyncStatus, WorkItem, WorkKind,
};
pub use time::{Clock, FixedClock, SystemClock};
