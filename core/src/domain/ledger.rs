//! Ledger lines (特殊群体服务台账): a member's standing needs and reminders.

use chrono::{Datelike, NaiveDate};

use super::codes::code_enum;
use crate::time::{add_days, next_yearly};

code_enum! {
    /// How urgent a need is; the heat map colours. Orders red first.
    pub enum Urgency {
        /// 紧急 (red).
        Red => ("red", "紧急"),
        /// 较急 (amber).
        Amber => ("amber", "较急"),
        /// 常规 (green).
        Green => ("green", "常规"),
    }
}

impl Urgency {
    /// Sort rank: 0 for red, 1 for amber, 2 for green.
    pub fn rank(self) -> i64 {
        self as i64
    }
}

code_enum! {
    /// The status of a one-off need.
    pub enum NeedStatus {
        /// 待办.
        Open => ("open", "待办"),
        /// 办理中.
        InProgress => ("in_progress", "办理中"),
        /// 已办结.
        Done => ("done", "已办结"),
        /// 已撤销.
        Withdrawn => ("withdrawn", "已撤销"),
    }
}

impl NeedStatus {
    /// Whether the need still asks for work.
    pub fn is_active(self) -> bool {
        matches!(self, NeedStatus::Open | NeedStatus::InProgress)
    }
}

/// When a ledger line asks for attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Schedule {
    /// A one-off need (an assistive-device application), with a status and an optional target date.
    OneOff {
        /// Where the need stands.
        status: NeedStatus,
        /// The date it should be handled by, if any.
        due: Option<NaiveDate>,
    },
    /// A reminder every `days` days (a medication change cycle), first due on `first_due`.
    EveryNDays {
        /// The cycle length in days (at least 1).
        days: u32,
        /// The first due date.
        first_due: NaiveDate,
    },
    /// A reminder on the same date each year (a birthday).
    Yearly {
        /// Month, 1–12.
        month: u32,
        /// Day of month.
        day: u32,
    },
}

code_enum! {
    /// The kinds of ledger line an agent can add, for the add-a-line form.
    pub enum ScheduleKind {
        /// A one-off need (一次性需求).
        OneOff => ("one_off", "一次性需求"),
        /// A reminder every N days (medication).
        EveryNDays => ("every_n_days", "每隔几天提醒"),
        /// A reminder each year (a birthday).
        Yearly => ("yearly", "每年提醒"),
    }
}

/// How many days apart a new every-N-days reminder starts (a month's medication).
const DEFAULT_REMINDER_DAYS: u32 = 30;

impl ScheduleKind {
    /// A schedule of this kind as the add-a-line form starts it on `today`: an open need with
    /// no due date, a reminder every 30 days first due today, or a yearly one on today's date.
    pub fn starting(self, today: NaiveDate) -> Schedule {
        match self {
            ScheduleKind::OneOff => Schedule::OneOff {
                status: NeedStatus::Open,
                due: None,
            },
            ScheduleKind::EveryNDays => Schedule::EveryNDays {
                days: DEFAULT_REMINDER_DAYS,
                first_due: today,
            },
            ScheduleKind::Yearly => Schedule::Yearly {
                month: today.month(),
                day: today.day(),
            },
        }
    }
}

#[cfg(feature = "uniffi")]
#[uniffi::export]
impl ScheduleKind {
    /// [`ScheduleKind::starting`] (`starting(today)` in Kotlin and Swift).
    #[uniffi::method(name = "starting")]
    pub fn starting_on(&self, today: NaiveDate) -> Schedule {
        self.starting(today)
    }
}

impl Schedule {
    /// The schedule's kind.
    pub fn kind(&self) -> ScheduleKind {
        match self {
            Schedule::OneOff { .. } => ScheduleKind::OneOff,
            Schedule::EveryNDays { .. } => ScheduleKind::EveryNDays,
            Schedule::Yearly { .. } => ScheduleKind::Yearly,
        }
    }

    /// The stable code of the schedule's kind.
    pub fn kind_code(&self) -> &'static str {
        self.kind().code()
    }
}

/// A line of the special-group ledger.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LedgerLine {
    /// Generated id.
    pub id: String,
    /// The member it is about.
    pub member_id: String,
    /// What it is, for example 降压药更换 or 轮椅申领.
    pub title: String,
    /// When it asks for attention.
    pub schedule: Schedule,
    /// How urgent it is.
    pub urgency: Urgency,
    /// Free notes.
    pub note: String,
    /// The last date the reminder was done (recurring lines); for a one-off need, the date it
    /// was closed (销号).
    pub last_done: Option<NaiveDate>,
    /// The date the line was written (device date).
    pub created_on: NaiveDate,
    /// The visit it came out of, if any.
    pub visit_id: Option<String>,
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
impl LedgerLine {
    /// The next date this line asks for attention, or `None` when it asks for nothing more.
    ///
    /// One-off needs are due on their target date (or the day they were written) while active.
    /// Cycles are due `days` after the last time they were done, or on their first due date.
    /// Yearly reminders are due on the first matching date after the last time they were done,
    /// or on/after the day the line was written.
    pub fn next_due(&self) -> Option<NaiveDate> {
        match self.schedule {
            Schedule::OneOff { status, due } => {
                status.is_active().then(|| due.unwrap_or(self.created_on))
            }
            Schedule::EveryNDays { days, first_due } => Some(match self.last_done {
                Some(done) => add_days(done, days),
                None => first_due,
            }),
            Schedule::Yearly { month, day } => {
                let from = match self.last_done {
                    Some(done) => add_days(done, 1),
                    None => self.created_on,
                };
                next_yearly(from, month, day)
            }
        }
    }

    /// The date a one-off need was closed (销号: its status set to done), if it is.
    pub fn closed_on(&self) -> Option<NaiveDate> {
        match self.schedule {
            Schedule::OneOff {
                status: NeedStatus::Done,
                ..
            } => self.last_done,
            _ => None,
        }
    }

    /// Whether the line is a recurring reminder (as opposed to a one-off need).
    pub fn is_reminder(&self) -> bool {
        !matches!(self.schedule, Schedule::OneOff { .. })
    }
}

/// Input for a new ledger line.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewLedgerLine {
    /// The member it is about.
    pub member_id: String,
    /// What it is (required).
    pub title: String,
    /// When it asks for attention.
    pub schedule: Schedule,
    /// How urgent it is.
    pub urgency: Urgency,
    /// Free notes.
    pub note: String,
    /// The visit it came out of, if any.
    pub visit_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn line(schedule: Schedule, last_done: Option<NaiveDate>) -> LedgerLine {
        LedgerLine {
            id: "l".into(),
            member_id: "m".into(),
            title: "降压药更换".into(),
            schedule,
            urgency: Urgency::Amber,
            note: String::new(),
            last_done,
            created_on: d(2026, 3, 10),
            visit_id: None,
        }
    }

    #[test]
    fn cycle_is_due_n_days_after_last_done() {
        let s = Schedule::EveryNDays {
            days: 30,
            first_due: d(2026, 3, 15),
        };
        assert_eq!(line(s, None).next_due(), Some(d(2026, 3, 15)));
        assert_eq!(
            line(s, Some(d(2026, 3, 20))).next_due(),
            Some(d(2026, 4, 19))
        );
    }

    #[test]
    fn birthday_is_due_yearly() {
        let s = Schedule::Yearly { month: 1, day: 5 };
        assert_eq!(line(s, None).next_due(), Some(d(2027, 1, 5)));
        assert_eq!(line(s, Some(d(2027, 1, 5))).next_due(), Some(d(2028, 1, 5)));
        let s = Schedule::Yearly { month: 3, day: 10 };
        assert_eq!(line(s, None).next_due(), Some(d(2026, 3, 10)));
    }

    #[test]
    fn one_off_need_is_due_while_active() {
        let open = Schedule::OneOff {
            status: NeedStatus::Open,
            due: Some(d(2026, 4, 1)),
        };
        assert_eq!(line(open, None).next_due(), Some(d(2026, 4, 1)));
        let undated = Schedule::OneOff {
            status: NeedStatus::InProgress,
            due: None,
        };
        assert_eq!(line(undated, None).next_due(), Some(d(2026, 3, 10)));
        let done = Schedule::OneOff {
            status: NeedStatus::Done,
            due: Some(d(2026, 4, 1)),
        };
        assert_eq!(line(done, None).next_due(), None);
    }

    #[test]
    fn urgency_orders_red_first() {
        assert!(Urgency::Red.rank() < Urgency::Amber.rank());
        assert!(Urgency::Amber.rank() < Urgency::Green.rank());
    }
}
