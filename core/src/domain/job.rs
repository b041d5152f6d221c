//! Jobs (帮代办件): one catalogue item for one member in one mode. A job's life is an
//! append-only list of events ([`super::step`]); its state is derived from them
//! ([`super::progress`]), so steps taken concurrently on two phones all survive a merge and an
//! impossible combination is reported, never hidden.

use super::catalogue::ServiceMode;
use super::ledger::Urgency;
use super::progress::JobProgress;
use super::step::JobEvent;

/// A job as kept in its household's document.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Job {
    /// Generated id.
    pub id: String,
    /// The member it is for.
    pub member_id: String,
    /// The catalogue item's code.
    pub item_code: String,
    /// How it is done.
    pub mode: ServiceMode,
    /// How urgent it is.
    pub urgency: Urgency,
    /// Free notes.
    pub note: String,
    /// The visit it came out of, if any.
    pub visit_id: Option<String>,
    /// Its events, in document order (a causal order, identical on every replica).
    pub events: Vec<JobEvent>,
}

/// Input for a new job.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewJob {
    /// The member it is for.
    pub member_id: String,
    /// The catalogue item's code.
    pub item_code: String,
    /// How it is done.
    pub mode: ServiceMode,
    /// How urgent it is.
    pub urgency: Urgency,
    /// What the resident was told (the Inform step's note).
    pub note: String,
    /// The visit it came out of, if any.
    pub visit_id: Option<String>,
}

/// A job together with what its events say.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct JobDetails {
    /// The job as kept.
    pub job: Job,
    /// Derived state and dates.
    pub progress: JobProgress,
}
