//! Visits (走访): door-to-door calls, planned or done. Jobs and ledger lines that come out of a
//! visit name it (discover → report → handle → feedback).

use chrono::{DateTime, NaiveDate, Utc};

use super::codes::code_enum;
use super::step::Location;

code_enum! {
    /// What happened at the door.
    pub enum VisitOutcome {
        /// 见到本人.
        Met => ("met", "见到本人"),
        /// 家属接待.
        MetFamily => ("met_family", "家属接待"),
        /// 无人在家.
        NobodyHome => ("nobody_home", "无人在家"),
        /// 视频或电话联系.
        Remote => ("remote", "视频或电话联系"),
    }
}

/// A visit as kept in the household's document.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Visit {
    /// Generated id.
    pub id: String,
    /// The date it was planned for, if it was planned.
    pub planned_for: Option<NaiveDate>,
    /// Why (for example 季度走访, 送药提醒).
    pub purpose: String,
    /// When it was done (device time), once done.
    pub done_at: Option<DateTime<Utc>>,
    /// What happened, once done.
    pub outcome: Option<VisitOutcome>,
    /// Notes from the visit.
    pub notes: String,
    /// Who did it (user name), once done.
    pub visitor: Option<String>,
    /// Where it was recorded, if known.
    pub location: Option<Location>,
}

impl Visit {
    /// Whether the visit has been done.
    pub fn is_done(&self) -> bool {
        self.outcome.is_some()
    }
}

/// Input for recording a visit that has just been done.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct VisitRecord {
    /// Why.
    pub purpose: String,
    /// What happened.
    pub outcome: VisitOutcome,
    /// Notes.
    pub notes: String,
    /// Where, if known.
    pub location: Option<Location>,
}

impl VisitRecord {
    /// A visit record with no notes and no location.
    pub fn new(purpose: impl Into<String>, outcome: VisitOutcome) -> VisitRecord {
        VisitRecord {
            purpose: purpose.into(),
            outcome,
            notes: String::new(),
            location: None,
        }
    }
}
