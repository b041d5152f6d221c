//! Where a job stands, derived from its events in order: the state machine of a job's life,
//! the checks made before a step is recorded, and the dates the job asks for.

use chrono::{DateTime, NaiveDate, Utc};

use super::catalogue::{ItemTier, ServiceItem};
use super::codes::code_enum;
use super::region::Role;
use super::rules;
use super::step::{Actor, JobEvent, JobStep, JobStepKind, Rating};
use crate::error::{CoreError, Result};
use crate::time::{add_days, local_date};

code_enum! {
    /// Where a job stands, derived from its events.
    pub enum JobState {
        /// 已告知.
        Informed => ("informed", "已告知"),
        /// 已受理.
        Accepted => ("accepted", "已受理"),
        /// 已转办（待镇级接件）.
        HandedUp => ("handed_up", "已转办"),
        /// 镇级已接件.
        TownAccepted => ("town_accepted", "镇级已接件"),
        /// 已批准.
        Approved => ("approved", "已批准"),
        /// 已退回.
        Returned => ("returned", "已退回"),
        /// 不予办理.
        Rejected => ("rejected", "不予办理"),
        /// 已办结.
        Completed => ("completed", "已办结"),
        /// 政务包裹已领取，待送达.
        ParcelSignedOut => ("parcel_signed_out", "待送达"),
        /// 已送达.
        Delivered => ("delivered", "已送达"),
        /// 已评价.
        Rated => ("rated", "已评价"),
        /// 已销号.
        Closed => ("closed", "已销号"),
        /// 已撤销.
        Cancelled => ("cancelled", "已撤销"),
    }
}

impl JobState {
    /// The states in which a job waits for its result, due by its promised date.
    pub const AWAITING_RESULT: &'static [JobState] = &[
        JobState::Accepted,
        JobState::HandedUp,
        JobState::TownAccepted,
        JobState::Approved,
        JobState::Returned,
    ];

    /// The states in which a job's result waits to be taken to the resident's door (政务包裹):
    /// done, the parcel not yet fetched from the town or on its way.
    pub const AWAITING_DELIVERY: &'static [JobState] =
        &[JobState::Completed, JobState::ParcelSignedOut];

    /// Whether the job still asks the village or the town for work (not closed).
    pub fn is_open(self) -> bool {
        self != JobState::Closed
    }

    /// Whether a job in this state with this promised date is overdue on `today`: it still
    /// waits for its result and the promised date has passed.
    pub fn is_overdue(self, promised_due: Option<NaiveDate>, today: NaiveDate) -> bool {
        JobState::AWAITING_RESULT.contains(&self) && promised_due.is_some_and(|due| due < today)
    }
}

/// A step that could not be applied when deriving the state: two replicas took contradicting
/// steps (delivered and cancelled), or a step came from someone whose role may not take it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct JobConflict {
    /// The event that could not be applied.
    pub event_id: String,
    /// Its kind.
    pub step: JobStepKind,
    /// Who took it.
    pub actor: Actor,
    /// Why it does not fit (a Chinese sentence).
    pub message: String,
}

/// Everything derived from a job's events.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct JobProgress {
    /// Current state.
    pub state: JobState,
    /// Non-key materials still missing (容缺).
    pub missing_materials: Vec<String>,
    /// Deadline for the missing materials.
    pub supplement_deadline: Option<NaiveDate>,
    /// When it was accepted (device time).
    pub accepted_at: Option<DateTime<Utc>>,
    /// Acceptance date plus the item's promised time limit.
    pub promised_due: Option<NaiveDate>,
    /// When it was completed (device time).
    pub completed_at: Option<DateTime<Utc>>,
    /// The rotating village head carrying it, once handed up.
    pub carrier: Option<String>,
    /// The delivery date after nobody was home.
    pub reschedule_to: Option<NaiveDate>,
    /// The resident's rating.
    pub rating: Option<Rating>,
    /// When it was rated (device time).
    pub rated_at: Option<DateTime<Utc>>,
    /// The latest return, rejection or cancellation reason.
    pub reason: Option<String>,
    /// When the last applied step was taken (device time).
    pub last_step_at: Option<DateTime<Utc>>,
    /// Steps that could not be applied.
    pub conflicts: Vec<JobConflict>,
}

impl JobProgress {
    fn new() -> JobProgress {
        JobProgress {
            state: JobState::Informed,
            missing_materials: Vec::new(),
            supplement_deadline: None,
            accepted_at: None,
            promised_due: None,
            completed_at: None,
            carrier: None,
            reschedule_to: None,
            rating: None,
            rated_at: None,
            reason: None,
            last_step_at: None,
            conflicts: Vec::new(),
        }
    }

    /// Derives the progress from the events, in order. Events voided by a reconcile step are
    /// skipped; an event that does not fit the state or its author's role becomes a conflict.
    pub fn derive(item: &ServiceItem, events: &[JobEvent]) -> JobProgress {
        let voided: Vec<&str> = events
            .iter()
            .filter(|e| rules::authorize(e.actor.role, JobStepKind::Reconcile, item.tier).is_ok())
            .filter_map(|e| match &e.step {
                JobStep::Reconcile { void_event_ids, .. } => Some(void_event_ids),
                _ => None,
            })
            .flatten()
            .map(String::as_str)
            .collect();
        let mut progress = JobProgress::new();
        let mut informed = false;
        for event in events {
            if voided.contains(&event.id.as_str()) && event.step.kind() != JobStepKind::Reconcile {
                continue;
            }
            let applied = if informed || event.step.kind() == JobStepKind::Inform {
                progress.check_and_apply(item, event, informed)
            } else {
                Err(CoreError::StepNotAllowed {
                    step: event.step.kind().label().to_string(),
                    state: "未告知".to_string(),
                })
            };
            match applied {
                Ok(()) => {
                    informed = true;
                    progress.last_step_at = Some(event.at);
                }
                Err(err) => progress.conflicts.push(JobConflict {
                    event_id: event.id.clone(),
                    step: event.step.kind(),
                    actor: event.actor.clone(),
                    message: err.to_string(),
                }),
            }
        }
        progress
    }

    /// Checks that `role` may take `step` now, without changing anything. This is the check
    /// made before a step is recorded (on a job with no applied step, only Inform fits).
    pub fn check(&self, item: &ServiceItem, role: Role, step: &JobStep) -> Result<()> {
        let mut probe = self.clone();
        let event = JobEvent {
            id: String::new(),
            step: step.clone(),
            actor: Actor {
                user_id: String::new(),
                user_name: String::new(),
                role,
            },
            at: self.last_step_at.unwrap_or_default(),
            location: None,
        };
        let informed = self.last_step_at.is_some();
        probe.check_and_apply(item, &event, informed)
    }

    /// The steps `role` may take now, each checked as [`JobProgress::check`] would check it.
    /// Inform (which opens a job) and the hub's Reconcile (which names events) are not listed.
    pub fn possible_steps(&self, item: &ServiceItem, role: Role) -> Vec<JobStepKind> {
        JobStepKind::ALL
            .iter()
            .copied()
            .filter(|&kind| {
                self.sample_step(kind)
                    .is_some_and(|step| self.check(item, role, &step).is_ok())
            })
            .collect()
    }

    /// A step of `kind` with its fields filled in the simplest valid way, to ask whether
    /// such a step fits now.
    fn sample_step(&self, kind: JobStepKind) -> Option<JobStep> {
        use JobStepKind as K;
        let text = || "-".to_string();
        Some(match kind {
            K::Inform | K::Reconcile => return None,
            K::Accept => JobStep::Accept {
                missing_materials: Vec::new(),
                supplement_deadline: None,
            },
            K::Supplement => JobStep::Supplement {
                materials: self.missing_materials.clone(),
            },
            K::HandUp => JobStep::HandUp { carrier: text() },
            K::TownAccept => JobStep::TownAccept,
            K::Approve => JobStep::Approve,
            K::Return => JobStep::Return { reason: text() },
            K::Reject => JobStep::Reject { reason: text() },
            K::Complete => JobStep::Complete { result: text() },
            K::SignOutParcel => JobStep::SignOutParcel,
            K::Deliver => JobStep::Deliver { signed_by: text() },
            K::NobodyHome => JobStep::NobodyHome {
                reschedule_to: NaiveDate::default(),
            },
            K::Rate => JobStep::Rate {
                rating: Rating::Good,
                comment: String::new(),
            },
            K::Close => JobStep::Close,
            K::Cancel => JobStep::Cancel { reason: text() },
        })
    }

    fn check_and_apply(
        &mut self,
        item: &ServiceItem,
        event: &JobEvent,
        informed: bool,
    ) -> Result<()> {
        let step = &event.step;
        rules::authorize(event.actor.role, step.kind(), item.tier)?;
        step.check_fields()?;
        let next = self.next_state(item, step, informed)?;
        self.record(item, event);
        self.state = next;
        Ok(())
    }

    fn refuse(&self, step: &JobStep) -> CoreError {
        CoreError::StepNotAllowed {
            step: step.kind().label().to_string(),
            state: self.state.label().to_string(),
        }
    }

    /// The state after `step`, or why the step is not possible now.
    fn next_state(&self, item: &ServiceItem, step: &JobStep, informed: bool) -> Result<JobState> {
        use JobState as S;
        let state = self.state;
        let town_tier = item.tier != ItemTier::Village;
        let allowed = |from: &[JobState], to: JobState| {
            if from.contains(&state) {
                Ok(to)
            } else {
                Err(self.refuse(step))
            }
        };
        match step {
            JobStep::Inform { .. } if informed => Err(self.refuse(step)),
            JobStep::Inform { .. } => Ok(S::Informed),
            JobStep::Accept {
                missing_materials, ..
            } => {
                item.check_missing_materials(missing_materials)?;
                allowed(&[S::Informed], S::Accepted)
            }
            JobStep::Supplement { materials } => {
                if let Some(m) = materials
                    .iter()
                    .find(|m| !self.missing_materials.contains(m))
                {
                    return Err(CoreError::InvalidValue {
                        field: "补齐的材料".into(),
                        reason: format!("“{m}”不在容缺材料清单中"),
                    });
                }
                allowed(
                    &[
                        S::Accepted,
                        S::HandedUp,
                        S::TownAccepted,
                        S::Approved,
                        S::Returned,
                    ],
                    state,
                )
            }
            JobStep::HandUp { .. } if !town_tier => Err(CoreError::InvalidValue {
                field: "转办".into(),
                reason: format!("“{}”是村级可办结事项，无需转办到镇", item.name),
            }),
            JobStep::HandUp { .. } => allowed(&[S::Accepted, S::Returned], S::HandedUp),
            JobStep::TownAccept => allowed(&[S::HandedUp], S::TownAccepted),
            JobStep::Approve => allowed(&[S::TownAccepted], S::Approved),
            JobStep::Return { .. } => allowed(&[S::HandedUp, S::TownAccepted], S::Returned),
            JobStep::Reject { .. } => allowed(&[S::HandedUp, S::TownAccepted], S::Rejected),
            JobStep::Complete { .. } => {
                let from = if town_tier { S::Approved } else { S::Accepted };
                let next = allowed(&[from], S::Completed)?;
                if !self.missing_materials.is_empty() {
                    return Err(CoreError::MaterialsOutstanding {
                        materials: self.missing_materials.join("、"),
                    });
                }
                Ok(next)
            }
            JobStep::SignOutParcel if !town_tier => Err(CoreError::InvalidValue {
                field: "领取政务包裹".into(),
                reason: format!("“{}”在村里办结，没有政务包裹", item.name),
            }),
            JobStep::SignOutParcel => allowed(&[S::Completed], S::ParcelSignedOut),
            JobStep::Deliver { .. } | JobStep::NobodyHome { .. } => {
                let from = if town_tier {
                    S::ParcelSignedOut
                } else {
                    S::Completed
                };
                let to = match step {
                    JobStep::Deliver { .. } => S::Delivered,
                    _ => state,
                };
                allowed(&[from], to)
            }
            JobStep::Rate { .. } => allowed(&[S::Delivered], S::Rated),
            JobStep::Close => allowed(
                &[S::Delivered, S::Rated, S::Rejected, S::Cancelled],
                S::Closed,
            ),
            JobStep::Cancel { .. } => allowed(
                &[
                    S::Informed,
                    S::Accepted,
                    S::HandedUp,
                    S::TownAccepted,
                    S::Approved,
                    S::Returned,
                ],
                S::Cancelled,
            ),
            JobStep::Reconcile { .. } => Ok(state),
        }
    }

    /// Records what an applied step says (dates, materials, reasons).
    fn record(&mut self, item: &ServiceItem, event: &JobEvent) {
        match &event.step {
            JobStep::Accept {
                missing_materials,
                supplement_deadline,
            } => {
                self.missing_materials = missing_materials.clone();
                self.supplement_deadline = *supplement_deadline;
                self.accepted_at = Some(event.at);
                self.promised_due = Some(add_days(local_date(event.at), item.time_limit_days));
            }
            JobStep::Supplement { materials } => {
                self.missing_materials.retain(|m| !materials.contains(m));
                if self.missing_materials.is_empty() {
                    self.supplement_deadline = None;
                }
            }
            JobStep::HandUp { carrier } => self.carrier = Some(carrier.clone()),
            JobStep::Return { reason }
            | JobStep::Reject { reason }
            | JobStep::Cancel { reason } => self.reason = Some(reason.clone()),
            JobStep::Complete { .. } => self.completed_at = Some(event.at),
            JobStep::NobodyHome { reschedule_to } => self.reschedule_to = Some(*reschedule_to),
            JobStep::Rate { rating, .. } => {
                self.rating = Some(*rating);
                self.rated_at = Some(event.at);
            }
            _ => {}
        }
    }

    /// The date the job next asks for someone's action, or `None` once it is closed.
    ///
    /// A job just told about needs accepting the same day; missing materials are due by their
    /// deadline; a job in the pipeline is due by its promised date; a finished result is due at
    /// the door (on the rescheduled date after nobody was home); a delivered, rated, refused or
    /// cancelled job is due to be closed on the ledger.
    pub fn next_due(&self, informed_on: NaiveDate) -> Option<NaiveDate> {
        use JobState as S;
        let last = self.last_step_at.map(local_date).unwrap_or(informed_on);
        match self.state {
            S::Informed => Some(informed_on),
            S::Accepted | S::HandedUp | S::TownAccepted | S::Approved | S::Returned => {
                match (self.supplement_deadline, self.promised_due) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            S::Completed | S::ParcelSignedOut => Some(self.reschedule_to.unwrap_or(last)),
            S::Delivered | S::Rated | S::Rejected | S::Cancelled => Some(last),
            S::Closed => None,
        }
    }

    /// Whether the job was completed within its promised time limit (`None` until completed).
    pub fn on_time(&self) -> Option<bool> {
        let done = local_date(self.completed_at?);
        Some(done <= self.promised_due?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalogue::item;

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-03-{day:02}T02:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn event(n: usize, step: JobStep, role: Role, day: u32) -> JobEvent {
        JobEvent {
            id: format!("e{n}"),
            step,
            actor: Actor {
                user_id: format!("{role:?}"),
                user_name: role.label().to_string(),
                role,
            },
            at: at(day),
            location: None,
        }
    }

    /// Events for `steps` in order, one day apart from 1 March.
    fn events(steps: Vec<(JobStep, Role)>) -> Vec<JobEvent> {
        let mut all = vec![(
            JobStep::Inform {
                note: String::new(),
            },
            Role::Agent,
        )];
        all.extend(steps);
        all.into_iter()
            .enumerate()
            .map(|(n, (s, r))| event(n, s, r, 1 + n as u32))
            .collect()
    }

    fn accept() -> (JobStep, Role) {
        (
            JobStep::Accept {
                missing_materials: vec![],
                supplement_deadline: None,
            },
            Role::Agent,
        )
    }

    fn town_path() -> Vec<(JobStep, Role)> {
        vec![
            accept(),
            (
                JobStep::HandUp {
                    carrier: "王建国".into(),
                },
                Role::Agent,
            ),
            (JobStep::TownAccept, Role::TownStaff),
            (JobStep::Approve, Role::TownStaff),
            (
                JobStep::Complete {
                    result: "已制卡".into(),
                },
                Role::TownStaff,
            ),
            (JobStep::SignOutParcel, Role::VillageHead),
            (
                JobStep::Deliver {
                    signed_by: "本人".into(),
                },
                Role::Agent,
            ),
            (
                JobStep::Rate {
                    rating: Rating::Good,
                    comment: "很方便".into(),
                },
                Role::Agent,
            ),
            (JobStep::Close, Role::Agent),
        ]
    }

    #[test]
    fn possible_steps_follow_the_state_and_the_role() {
        use JobStepKind as K;
        let card = item("social-security-card-application").unwrap();
        let path = town_path();
        let after = |n: usize| JobProgress::derive(card, &events(path[..n].to_vec()));
        assert_eq!(
            after(0).possible_steps(card, Role::Agent),
            [K::Accept, K::Cancel]
        );
        assert_eq!(
            after(1).possible_steps(card, Role::Agent),
            [K::HandUp, K::Cancel]
        );
        assert_eq!(
            after(2).possible_steps(card, Role::TownStaff),
            [K::TownAccept, K::Return, K::Reject, K::Cancel]
        );
        assert_eq!(
            after(2).possible_steps(card, Role::Agent),
            [K::Cancel],
            "an agent may only withdraw while the town handles the job"
        );
        assert_eq!(
            after(path.len() - 2).possible_steps(card, Role::Agent),
            [K::Rate, K::Close]
        );
        assert!(
            after(path.len())
                .possible_steps(card, Role::Agent)
                .is_empty()
        );
    }

    #[test]
    fn a_town_item_walks_its_whole_life() {
        let card = item("social-security-card-application").unwrap();
        let path = town_path();
        let expected = [
            JobState::Accepted,
            JobState::HandedUp,
            JobState::TownAccepted,
            JobState::Approved,
            JobState::Completed,
            JobState::ParcelSignedOut,
            JobState::Delivered,
            JobState::Rated,
            JobState::Closed,
        ];
        for n in 1..=path.len() {
            let p = JobProgress::derive(card, &events(path[..n].to_vec()));
            assert_eq!(p.state, expected[n - 1], "after {n} steps");
            assert!(p.conflicts.is_empty(), "{:?}", p.conflicts);
        }
        let done = JobProgress::derive(card, &events(path));
        assert_eq!(done.carrier.as_deref(), Some("王建国"));
        assert_eq!(done.rating, Some(Rating::Good));
        // Accepted on 2 March (Shanghai), 15 days promised, completed on 6 March.
        assert_eq!(done.promised_due, NaiveDate::from_ymd_opt(2026, 3, 17));
        assert_eq!(done.on_time(), Some(true));
        assert_eq!(
            done.next_due(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
            None
        );
    }

    #[test]
    fn village_items_finish_in_the_village_without_a_parcel() {
        let cert = item("pension-certification").unwrap();
        let steps = vec![
            accept(),
            (
                JobStep::Complete {
                    result: "认证成功".into(),
                },
                Role::Agent,
            ),
            (
                JobStep::Deliver {
                    signed_by: "本人".into(),
                },
                Role::Agent,
            ),
        ];
        let p = JobProgress::derive(cert, &events(steps));
        assert_eq!(p.state, JobState::Delivered);
        let hand_up = JobStep::HandUp {
            carrier: "王建国".into(),
        };
        let err = JobProgress::derive(cert, &events(vec![accept()]))
            .check(cert, Role::Agent, &hand_up)
            .unwrap_err();
        assert!(err.to_string().contains("无需转办"));
    }

    #[test]
    fn missing_non_key_materials_must_be_supplied_before_completion() {
        let card = item("social-security-card-application").unwrap();
        let photo = card.materials.iter().find(|m| !m.key).unwrap().name.clone();
        let accept_missing = JobStep::Accept {
            missing_materials: vec![photo.clone()],
            supplement_deadline: NaiveDate::from_ymd_opt(2026, 3, 10),
        };
        let mut steps = vec![(accept_missing, Role::Agent)];
        steps.extend(town_path()[1..4].to_vec());
        let p = JobProgress::derive(card, &events(steps.clone()));
        assert_eq!(p.state, JobState::Approved);
        assert_eq!(p.missing_materials, vec![photo.clone()]);
        assert_eq!(
            p.next_due(NaiveDate::MIN),
            NaiveDate::from_ymd_opt(2026, 3, 10)
        );
        let complete = JobStep::Complete {
            result: "已制卡".into(),
        };
        assert!(matches!(
            p.check(card, Role::TownStaff, &complete),
            Err(CoreError::MaterialsOutstanding { .. })
        ));
        steps.push((
            JobStep::Supplement {
                materials: vec![photo],
            },
            Role::Agent,
        ));
        let p = JobProgress::derive(card, &events(steps));
        assert!(p.missing_materials.is_empty());
        assert!(p.check(card, Role::TownStaff, &complete).is_ok());
    }

    #[test]
    fn missing_deadline_and_key_materials_are_refused() {
        let card = item("social-security-card-application").unwrap();
        let informed = JobProgress::derive(card, &events(vec![]));
        let non_key = card.materials.iter().find(|m| !m.key).unwrap().name.clone();
        let no_deadline = JobStep::Accept {
            missing_materials: vec![non_key],
            supplement_deadline: None,
        };
        assert!(matches!(
            informed.check(card, Role::Agent, &no_deadline),
            Err(CoreError::MissingField { .. })
        ));
        let key = card.materials.iter().find(|m| m.key).unwrap().name.clone();
        let key_missing = JobStep::Accept {
            missing_materials: vec![key],
            supplement_deadline: NaiveDate::from_ymd_opt(2026, 3, 10),
        };
        assert!(matches!(
            informed.check(card, Role::Agent, &key_missing),
            Err(CoreError::KeyMaterialMissing { .. })
        ));
    }

    #[test]
    fn forbidden_steps_are_typed_errors() {
        let card = item("social-security-card-application").unwrap();
        let informed = JobProgress::derive(card, &events(vec![]));
        assert!(matches!(
            informed.check(card, Role::Agent, &JobStep::Close),
            Err(CoreError::StepNotAllowed { .. })
        ));
        let handed = JobProgress::derive(card, &events(town_path()[..3].to_vec()));
        assert!(matches!(
            handed.check(card, Role::Agent, &JobStep::Approve),
            Err(CoreError::RoleNotAllowed { .. })
        ));
        let empty_reason = JobStep::Return { reason: " ".into() };
        assert!(matches!(
            handed.check(card, Role::TownStaff, &empty_reason),
            Err(CoreError::MissingField { .. })
        ));
        let inform_again = JobStep::Inform {
            note: String::new(),
        };
        assert!(informed.check(card, Role::Agent, &inform_again).is_err());
    }

    #[test]
    fn returned_jobs_go_back_up_and_nobody_home_reschedules() {
        let card = item("social-security-card-application").unwrap();
        let mut steps = town_path()[..2].to_vec();
        steps.push((
            JobStep::Return {
                reason: "照片不清晰".into(),
            },
            Role::TownStaff,
        ));
        let p = JobProgress::derive(card, &events(steps.clone()));
        assert_eq!(p.state, JobState::Returned);
        assert_eq!(p.reason.as_deref(), Some("照片不清晰"));
        steps.extend(town_path()[1..6].to_vec());
        let later = NaiveDate::from_ymd_opt(2026, 4, 2).unwrap();
        steps.push((
            JobStep::NobodyHome {
                reschedule_to: later,
            },
            Role::Agent,
        ));
        let p = JobProgress::derive(card, &events(steps));
        assert!(p.conflicts.is_empty(), "{:?}", p.conflicts);
        assert_eq!(p.state, JobState::ParcelSignedOut);
        assert_eq!(p.next_due(NaiveDate::MIN), Some(later));
    }

    #[test]
    fn contradicting_steps_are_reported_and_can_be_reconciled() {
        let card = item("social-security-card-application").unwrap();
        // One phone delivered while another, offline, cancelled: both events are kept.
        let mut steps = town_path()[..7].to_vec();
        steps.push((
            JobStep::Cancel {
                reason: "群众撤回".into(),
            },
            Role::Agent,
        ));
        let evs = events(steps.clone());
        let p = JobProgress::derive(card, &evs);
        assert_eq!(p.state, JobState::Delivered);
        assert_eq!(p.conflicts.len(), 1);
        assert_eq!(p.conflicts[0].step, JobStepKind::Cancel);
        assert!(p.conflicts[0].message.contains("已送达"));

        // Hub staff void the cancellation: the history keeps it, the conflict is gone.
        let mut evs = evs;
        let cancel_id = evs.last().unwrap().id.clone();
        evs.push(event(
            99,
            JobStep::Reconcile {
                void_event_ids: vec![cancel_id],
                note: "已电话核实送达".into(),
            },
            Role::TownStaff,
            20,
        ));
        let p = JobProgress::derive(card, &evs);
        assert_eq!(p.state, JobState::Delivered);
        assert!(p.conflicts.is_empty());
        assert_eq!(evs.len(), 10);
    }

    #[test]
    fn a_reconcile_from_an_agent_voids_nothing() {
        let card = item("social-security-card-application").unwrap();
        let mut evs = events(town_path()[..1].to_vec());
        let accept_id = evs[1].id.clone();
        evs.push(event(
            9,
            JobStep::Reconcile {
                void_event_ids: vec![accept_id],
                note: String::new(),
            },
            Role::Agent,
            9,
        ));
        let p = JobProgress::derive(card, &evs);
        assert_eq!(p.state, JobState::Accepted);
        assert_eq!(p.conflicts.len(), 1);
        assert_eq!(p.conflicts[0].step, JobStepKind::Reconcile);
    }

    #[test]
    fn steps_serialise_with_a_tag() {
        let step = JobStep::NobodyHome {
            reschedule_to: NaiveDate::from_ymd_opt(2026, 4, 2).unwrap(),
        };
        let json = serde_json::to_string(&step).unwrap();
        assert_eq!(
            json,
            r#"{"step":"nobody_home","reschedule_to":"2026-04-02"}"#
        );
        assert_eq!(serde_json::from_str::<JobStep>(&json).unwrap(), step);
    }
}
