//! A step in a job's life: its kind, what it records, who took it, when and where. Steps are
//! the events of a job's append-only history (see [`super::progress`] for what they add up to).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::codes::code_enum;
use super::region::Role;
use crate::error::{Result, missing};

code_enum! {
    /// The kinds of step in a job's life.
    pub enum JobStepKind {
        /// 告知.
        Inform => ("inform", "告知"),
        /// 受理 (possibly 容缺受理).
        Accept => ("accept", "受理"),
        /// 补齐材料.
        Supplement => ("supplement", "补齐材料"),
        /// 转办 to the town, carried by the rotating village head.
        HandUp => ("hand_up", "转办"),
        /// 镇级接件.
        TownAccept => ("town_accept", "镇级接件"),
        /// 批准.
        Approve => ("approve", "批准"),
        /// 退回.
        Return => ("return", "退回"),
        /// 不予办理.
        Reject => ("reject", "不予办理"),
        /// 办结.
        Complete => ("complete", "办结"),
        /// 领取政务包裹.
        SignOutParcel => ("sign_out_parcel", "领取政务包裹"),
        /// 送达签收.
        Deliver => ("deliver", "送达签收"),
        /// 无人在家，改期送达.
        NobodyHome => ("nobody_home", "无人在家改期"),
        /// 好差评.
        Rate => ("rate", "评价"),
        /// 销号.
        Close => ("close", "销号"),
        /// 撤销.
        Cancel => ("cancel", "撤销"),
        /// 协调处理冲突 (hub staff void contradicting steps).
        Reconcile => ("reconcile", "协调处理冲突"),
    }
}
code_enum! {
    /// The resident's rating (好差评).
    pub enum Rating {
        /// 好评.
        Good => ("good", "好评"),
        /// 中评.
        Average => ("average", "中评"),
        /// 差评.
        Bad => ("bad", "差评"),
    }
}

/// One step in a job's life, with what that step records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum JobStep {
    /// Tell the resident what the item needs (always the first event).
    Inform {
        /// What was said.
        note: String,
    },
    /// Accept the job; non-key materials may be missing, with a deadline to supply them.
    Accept {
        /// Names of the non-key materials not yet in hand (容缺).
        missing_materials: Vec<String>,
        /// When they must be supplied; required when any are missing.
        supplement_deadline: Option<NaiveDate>,
    },
    /// Supply materials that were missing at acceptance.
    Supplement {
        /// Names of the materials now in hand.
        materials: Vec<String>,
    },
    /// Hand the job up to the town, carried by the rotating village head.
    HandUp {
        /// Name of the rotating village head who carries it.
        carrier: String,
    },
    /// The town service centre receives the handed-up job.
    TownAccept,
    /// Approve it.
    Approve,
    /// Send it back to the village, with the reason.
    Return {
        /// Why.
        reason: String,
    },
    /// Refuse it, with the reason.
    Reject {
        /// Why.
        reason: String,
    },
    /// Finish it (办结).
    Complete {
        /// The result, for example 社保卡已制卡.
        result: String,
    },
    /// Sign the result out at the centre as a "government parcel" to take to the door.
    SignOutParcel,
    /// Deliver to the door and have it signed for.
    Deliver {
        /// Who signed.
        signed_by: String,
    },
    /// Nobody was home; try again on another date.
    NobodyHome {
        /// The new delivery date.
        reschedule_to: NaiveDate,
    },
    /// Record the resident's rating.
    Rate {
        /// Good, average or bad.
        rating: Rating,
        /// What they said.
        comment: String,
    },
    /// Close the job on the ledger (销号).
    Close,
    /// Cancel it (the resident withdrew, or it was opened by mistake).
    Cancel {
        /// Why.
        reason: String,
    },
    /// Hub staff settle contradicting steps by voiding some of them (history is kept).
    Reconcile {
        /// Ids of the events to disregard when deriving the state.
        void_event_ids: Vec<String>,
        /// Why.
        note: String,
    },
}

impl JobStep {
    /// What the step records, in words (empty for steps that record nothing more).
    pub fn detail(&self) -> String {
        match self {
            JobStep::Inform { note } => note.clone(),
            JobStep::Accept {
                missing_materials,
                supplement_deadline,
            } if !missing_materials.is_empty() => format!(
                "容缺受理，待补：{}（{} 前补齐）",
                missing_materials.join("、"),
                supplement_deadline
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
            JobStep::Supplement { materials } => format!("补齐：{}", materials.join("、")),
            JobStep::HandUp { carrier } => format!("由 {carrier} 带件"),
            JobStep::Return { reason }
            | JobStep::Reject { reason }
            | JobStep::Cancel { reason } => reason.clone(),
            JobStep::Complete { result } => result.clone(),
            JobStep::Deliver { signed_by } => format!("签收人：{signed_by}"),
            JobStep::NobodyHome { reschedule_to } => format!("改期到 {reschedule_to}"),
            JobStep::Rate { rating, comment } => format!("{}：{comment}", rating.label()),
            JobStep::Reconcile {
                void_event_ids,
                note,
            } => format!("作废 {} 个步骤：{note}", void_event_ids.len()),
            _ => String::new(),
        }
    }

    /// The step's kind.
    pub fn kind(&self) -> JobStepKind {
        use JobStepKind as K;
        match self {
            JobStep::Inform { .. } => K::Inform,
            JobStep::Accept { .. } => K::Accept,
            JobStep::Supplement { .. } => K::Supplement,
            JobStep::HandUp { .. } => K::HandUp,
            JobStep::TownAccept => K::TownAccept,
            JobStep::Approve => K::Approve,
            JobStep::Return { .. } => K::Return,
            JobStep::Reject { .. } => K::Reject,
            JobStep::Complete { .. } => K::Complete,
            JobStep::SignOutParcel => K::SignOutParcel,
            JobStep::Deliver { .. } => K::Deliver,
            JobStep::NobodyHome { .. } => K::NobodyHome,
            JobStep::Rate { .. } => K::Rate,
            JobStep::Close => K::Close,
            JobStep::Cancel { .. } => K::Cancel,
            JobStep::Reconcile { .. } => K::Reconcile,
        }
    }

    /// Checks the step's own fields (required reasons, names, deadlines), naming each by its
    /// label on the step's form ([`JobStepKind::form`]).
    pub fn check_fields(&self) -> Result<()> {
        let kind = self.kind();
        let label = |of: fn(JobStepKind) -> Option<&'static str>| of(kind).unwrap_or_default();
        let non_empty = |value: &str| {
            if value.trim().is_empty() {
                Err(missing(label(JobStepKind::text_label)))
            } else {
                Ok(())
            }
        };
        match self {
            JobStep::Accept {
                missing_materials,
                supplement_deadline,
            } if !missing_materials.is_empty() && supplement_deadline.is_none() => {
                Err(missing(label(JobStepKind::date_label)))
            }
            JobStep::Supplement { materials } if materials.is_empty() => {
                Err(missing(label(JobStepKind::materials_label)))
            }
            JobStep::HandUp { carrier: value }
            | JobStep::Return { reason: value }
            | JobStep::Reject { reason: value }
            | JobStep::Cancel { reason: value }
            | JobStep::Complete { result: value }
            | JobStep::Deliver { signed_by: value } => non_empty(value),
            JobStep::Reconcile { void_event_ids, .. } if void_event_ids.is_empty() => {
                Err(missing("要作废的步骤"))
            }
            _ => Ok(()),
        }
    }
}

/// Who took a step, as recorded in the event (name and role at the time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Actor {
    /// User id.
    pub user_id: String,
    /// Name at the time.
    pub user_name: String,
    /// Role at the time.
    pub role: Role,
}

/// Where a step was taken (the phone's position, when it had one).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Location {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
}

/// One recorded step: what, who, when (device clock, for people only) and where.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct JobEvent {
    /// Generated id.
    pub id: String,
    /// The step.
    pub step: JobStep,
    /// Who took it.
    pub actor: Actor,
    /// When, by the device's clock (untrusted; never used for ordering).
    pub at: DateTime<Utc>,
    /// Where, if known.
    pub location: Option<Location>,
}
