//! The figures the work is measured by (需求响应率, 承诺办结率, 满意度, 平均办理时限, ...): what
//! each one counts, and the counting itself over the query tables ([`crate::projection`]).
//! Written once for the phone's store and the server's storage: both run [`statements`] (plain
//! SQL that SQLite and PostgreSQL share) and hand each row to [`Tally::absorb`].

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::domain::catalogue::{self, ServiceMode};
use crate::domain::ledger::NeedStatus;
use crate::domain::progress::JobState;
use crate::error::{CoreError, Result};

/// How a figure is defined, as shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    /// The figure's name.
    pub name: &'static str,
    /// What it counts (the numerator for a rate).
    pub counts: &'static str,
    /// What it is divided by, for a rate.
    pub out_of: Option<&'static str>,
}

/// Every figure's definition, in the order they are shown.
pub const DEFINITIONS: &[Definition] = &[
    Definition {
        name: "特殊群体需求响应率",
        counts: "时段内告知（登记）的、办理对象带有特殊群体标签的办件中，已受理的件数",
        out_of: Some("时段内告知的、办理对象带有特殊群体标签的办件数"),
    },
    Definition {
        name: "承诺办结率",
        counts: "时段内办结的办件中，办结日不晚于承诺办结日期的件数",
        out_of: Some("时段内办结的办件数"),
    },
    Definition {
        name: "群众满意度",
        counts: "时段内评价的办件中，好评与中评的件数（好评、中评、差评分别列出）",
        out_of: Some("时段内评价的办件数"),
    },
    Definition {
        name: "平均办理时长",
        counts: "时段内办结、且有受理时间的办件，从受理到办结的小时数之和",
        out_of: Some("这些办件的件数"),
    },
    Definition {
        name: "办件量（按事项、按方式）",
        counts: "时段内告知的办件数，按服务事项和帮办、代办、陪办、上门办、远程办分列",
        out_of: None,
    },
    Definition {
        name: "走访次数",
        counts: "时段内完成的入户走访次数",
        out_of: None,
    },
    Definition {
        name: "需求登记与销号",
        counts: "台账中时段内登记的一次性需求条数；时段内办结销号的条数",
        out_of: None,
    },
];

/// What the needs heat map counts.
pub const OPEN_NEEDS: Definition = Definition {
    name: "未结需求（热力图）",
    counts: "台账中待办或办理中的一次性需求，加上已告知未受理或已受理待出结果的办件，按紧急程度（紧急、较急、常规）分列",
    out_of: None,
};

/// The job states counted as open needs on the heat map: told and not yet accepted, or
/// waiting for their result.
pub fn open_need_states() -> impl Iterator<Item = JobState> {
    std::iter::once(JobState::Informed).chain(JobState::AWAITING_RESULT.iter().copied())
}

/// Open needs ([`OPEN_NEEDS`]) by village and urgency, within the villages
/// `village_condition` selects (placeholders from `$1` on); each row is: village id, urgency
/// rank ([`crate::Urgency::rank`]), count.
pub fn open_needs_statement(village_condition: &str) -> String {
    let quoted = |codes: Vec<&str>| {
        codes
            .iter()
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let need_states = quoted(
        NeedStatus::ALL
            .iter()
            .filter(|s| s.is_active())
            .map(|s| s.code())
            .collect(),
    );
    let job_states = quoted(open_need_states().map(|s| s.code()).collect());
    format!(
        "SELECT village_id, urgency, count(*) FROM (
             SELECT village_id, urgency FROM ledger_lines
              WHERE kind = 'one_off' AND status IN ({need_states}) AND ({village_condition})
             UNION ALL
             SELECT village_id, urgency FROM jobs
              WHERE state IN ({job_states}) AND ({village_condition})
         ) open_needs
         GROUP BY village_id, urgency"
    )
}

/// The period a figure row is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// The whole date range, as one period.
    Whole,
    /// Calendar months (`YYYY-MM`).
    Month,
}

impl Period {
    /// The SQL giving a row's period from its date column.
    fn of(self, column: &str) -> String {
        let len = match self {
            Period::Whole => 0,
            Period::Month => 7,
        };
        format!("substr({column}, 1, {len})")
    }
}

/// What one statement counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Jobs told in the period: all, for special-group members, and those of them accepted.
    Opened,
    /// Jobs completed in the period: all, on time, with a handling time, and its total.
    Completed,
    /// Jobs rated in the period: good, average, bad.
    Rated,
    /// Jobs told in the period by item (the key).
    ByItem,
    /// Jobs told in the period by mode (the key).
    ByMode,
    /// Visits done in the period.
    Visits,
    /// One-off needs written in the period.
    NeedsRaised,
    /// One-off needs closed (销号) in the period.
    NeedsClosed,
}

/// One statement to run: its SQL, with `$1` and `$2` the first and last day (`YYYY-MM-DD`)
/// and the caller's village condition after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// What the rows count.
    pub measure: Measure,
    /// The SQL; each row is: village id, period, key (text), then integer counts.
    pub sql: String,
}

/// The statements for `period`, within the villages `village_condition` selects (SQL over the
/// column `village_id`, with placeholders from `$3` on).
pub fn statements(period: Period, village_condition: &str) -> Vec<Statement> {
    let count_if = |condition: &str| format!("sum(CASE WHEN {condition} THEN 1 ELSE 0 END)");
    // `key` is a column, or None for the empty key (PostgreSQL refuses a constant in GROUP BY).
    let select = |measure, table: &str, date: &str, key: Option<&str>, counts: Vec<String>| {
        let period = period.of(date);
        let (key, group_key) = match key {
            Some(column) => (column.to_string(), format!(", {column}")),
            None => ("''".to_string(), String::new()),
        };
        Statement {
            measure,
            sql: format!(
                "SELECT village_id, {period} AS period, {key} AS figure_key, {counts}
                   FROM {table}
                  WHERE {date} BETWEEN $1 AND $2 AND ({village_condition})
                  GROUP BY village_id, {period}{group_key}",
                counts = counts.join(", "),
            ),
        }
    };
    let all = "count(*)".to_string();
    vec![
        select(
            Measure::Opened,
            "jobs",
            "informed_on",
            None,
            vec![
                all.clone(),
                count_if("special = 1"),
                count_if("special = 1 AND accepted_at IS NOT NULL"),
            ],
        ),
        select(
            Measure::Completed,
            "jobs",
            "completed_on",
            None,
            vec![
                all.clone(),
                count_if("on_time = 1"),
                count_if("accepted_at IS NOT NULL AND completed_at IS NOT NULL"),
                "CAST(coalesce(sum(completed_at - accepted_at), 0) AS BIGINT)".into(),
            ],
        ),
        select(
            Measure::Rated,
            "jobs",
            "rated_on",
            None,
            vec![
                count_if("rating = 'good'"),
                count_if("rating = 'average'"),
                count_if("rating = 'bad'"),
            ],
        ),
        select(
            Measure::ByItem,
            "jobs",
            "informed_on",
            Some("item_code"),
            vec![all.clone()],
        ),
        select(
            Measure::ByMode,
            "jobs",
            "informed_on",
            Some("mode"),
            vec![all.clone()],
        ),
        select(
            Measure::Visits,
            "visits",
            "done_on",
            None,
            vec![all.clone()],
        ),
        select(
            Measure::NeedsRaised,
            "ledger_lines",
            "created_on",
            None,
            vec![count_if("kind = 'one_off'")],
        ),
        select(
            Measure::NeedsClosed,
            "ledger_lines",
            "closed_on",
            None,
            vec![all],
        ),
    ]
}

/// The counts behind the figures of one village (or several added up) in one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Jobs told in the period.
    pub jobs_opened: i64,
    /// Of those, for members with a special-group tag.
    pub special_needs: i64,
    /// Of those, accepted.
    pub special_needs_responded: i64,
    /// Jobs completed in the period.
    pub jobs_completed: i64,
    /// Of those, by the promised date.
    pub completed_on_time: i64,
    /// Of those, the ones with an acceptance time (their handling time is known).
    pub jobs_timed: i64,
    /// Their handling times added up, in milliseconds.
    pub handling_millis: i64,
    /// Jobs rated good in the period.
    pub rated_good: i64,
    /// Rated average.
    pub rated_average: i64,
    /// Rated bad.
    pub rated_bad: i64,
    /// Visits done.
    pub visits_done: i64,
    /// One-off needs written.
    pub needs_raised: i64,
    /// One-off needs closed.
    pub needs_closed: i64,
    /// Jobs told, by item code.
    pub by_item: BTreeMap<String, i64>,
    /// Jobs told, by mode code.
    pub by_mode: BTreeMap<String, i64>,
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Counts {
    /// Adds another village's or period's counts to these.
    pub fn add(&mut self, other: &Counts) {
        self.jobs_opened += other.jobs_opened;
        self.special_needs += other.special_needs;
        self.special_needs_responded += other.special_needs_responded;
        self.jobs_completed += other.jobs_completed;
        self.completed_on_time += other.completed_on_time;
        self.jobs_timed += other.jobs_timed;
        self.handling_millis += other.handling_millis;
        self.rated_good += other.rated_good;
        self.rated_average += other.rated_average;
        self.rated_bad += other.rated_bad;
        self.visits_done += other.visits_done;
        self.needs_raised += other.needs_raised;
        self.needs_closed += other.needs_closed;
        for (code, n) in &other.by_item {
            *self.by_item.entry(code.clone()).or_default() += n;
        }
        for (code, n) in &other.by_mode {
            *self.by_mode.entry(code.clone()).or_default() += n;
        }
    }

    /// Jobs rated in the period.
    pub fn jobs_rated(&self) -> i64 {
        self.rated_good + self.rated_average + self.rated_bad
    }

    /// Special-group need response rate (`None` when there was no such need).
    pub fn response_rate(&self) -> Option<f64> {
        ratio(self.special_needs_responded, self.special_needs)
    }

    /// On-time completion rate.
    pub fn on_time_rate(&self) -> Option<f64> {
        ratio(self.completed_on_time, self.jobs_completed)
    }

    /// Satisfaction: good and average ratings out of all ratings.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        ratio(self.rated_good + self.rated_average, self.jobs_rated())
    }

    /// Mean hours from acceptance to completion.
    pub fn average_handling_hours(&self) -> Option<f64> {
        (self.jobs_timed > 0)
            .then(|| self.handling_millis as f64 / self.jobs_timed as f64 / 3_600_000.0)
    }

    /// Jobs by item: (code, name, count), most first.
    pub fn items(&self) -> Vec<(String, String, i64)> {
        let mut items: Vec<_> = self
            .by_item
            .iter()
            .map(|(code, n)| (code.clone(), catalogue::item_name(code), *n))
            .collect();
        items.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        items
    }

    /// Jobs by mode, every mode in catalogue order (zero included).
    pub fn modes(&self) -> Vec<(ServiceMode, i64)> {
        ServiceMode::ALL
            .iter()
            .map(|m| (*m, self.by_mode.get(m.code()).copied().unwrap_or(0)))
            .collect()
    }
}

/// Jobs counted for one catalogue item.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ItemCount {
    /// Item code.
    pub item_code: String,
    /// Item name.
    pub item_name: String,
    /// Jobs told in the period.
    pub jobs: i64,
}

/// Jobs counted for one way of handling.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ModeCount {
    /// The mode.
    pub mode: ServiceMode,
    /// Jobs told in the period.
    pub jobs: i64,
}

/// A village's figures over a period (device dates, inclusive), as the app shows them; each is
/// defined in [`DEFINITIONS`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Figures {
    /// Jobs told in the period.
    pub jobs_opened: i64,
    /// Of those, for special-group members.
    pub special_needs: i64,
    /// Of those, accepted (responded to).
    pub special_needs_responded: i64,
    /// special_needs_responded / special_needs (`None` when there were none).
    pub response_rate: Option<f64>,
    /// Jobs completed in the period.
    pub jobs_completed: i64,
    /// Of those, completed by the promised date.
    pub completed_on_time: i64,
    /// completed_on_time / jobs_completed.
    pub on_time_rate: Option<f64>,
    /// Jobs rated in the period.
    pub jobs_rated: i64,
    /// Of those, rated good (好评).
    pub rated_good: i64,
    /// Rated average (中评).
    pub rated_average: i64,
    /// Rated bad (差评).
    pub rated_bad: i64,
    /// (good + average) / rated.
    pub satisfaction_rate: Option<f64>,
    /// Mean hours from acceptance to completion, for jobs completed in the period.
    pub average_handling_hours: Option<f64>,
    /// Visits done in the period.
    pub visits_done: i64,
    /// One-off needs written in the period.
    pub needs_raised: i64,
    /// One-off needs closed (销号) in the period.
    pub needs_closed: i64,
    /// Jobs told in the period, by item, most first.
    pub jobs_by_item: Vec<ItemCount>,
    /// Jobs told in the period, by mode.
    pub jobs_by_mode: Vec<ModeCount>,
}

impl From<&Counts> for Figures {
    fn from(c: &Counts) -> Figures {
        Figures {
            jobs_opened: c.jobs_opened,
            special_needs: c.special_needs,
            special_needs_responded: c.special_needs_responded,
            response_rate: c.response_rate(),
            jobs_completed: c.jobs_completed,
            completed_on_time: c.completed_on_time,
            on_time_rate: c.on_time_rate(),
            jobs_rated: c.jobs_rated(),
            rated_good: c.rated_good,
            rated_average: c.rated_average,
            rated_bad: c.rated_bad,
            satisfaction_rate: c.satisfaction_rate(),
            average_handling_hours: c.average_handling_hours(),
            visits_done: c.visits_done,
            needs_raised: c.needs_raised,
            needs_closed: c.needs_closed,
            jobs_by_item: c
                .items()
                .into_iter()
                .map(|(item_code, item_name, jobs)| ItemCount {
                    item_code,
                    item_name,
                    jobs,
                })
                .collect(),
            jobs_by_mode: c
                .modes()
                .into_iter()
                .map(|(mode, jobs)| ModeCount { mode, jobs })
                .collect(),
        }
    }
}

/// One row a statement gave: the village, the period, the key and the counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureRow {
    /// The village.
    pub village_id: String,
    /// The period (`""` for the whole range, `YYYY-MM` for a month).
    pub period: String,
    /// The item or mode code, `""` otherwise.
    pub key: String,
    /// The counts, in the statement's order.
    pub counts: Vec<i64>,
}

/// Counts per village and period, gathered from statement rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// (village id, period) → counts.
    pub cells: BTreeMap<(String, String), Counts>,
}

impl Tally {
    /// Adds one row of `measure`'s statement. A row with fewer counts than its statement
    /// selects is a bug in the caller.
    pub fn absorb(&mut self, measure: Measure, row: FigureRow) -> Result<()> {
        let wanted = match measure {
            Measure::Opened | Measure::Rated => 3,
            Measure::Completed => 4,
            _ => 1,
        };
        if row.counts.len() != wanted {
            return Err(crate::error::storage(format!(
                "统计行应有 {wanted} 个数，实际 {}",
                row.counts.len()
            )));
        }
        let n = &row.counts;
        let c = self.cells.entry((row.village_id, row.period)).or_default();
        match measure {
            Measure::Opened => {
                c.jobs_opened += n[0];
                c.special_needs += n[1];
                c.special_needs_responded += n[2];
            }
            Measure::Completed => {
                c.jobs_completed += n[0];
                c.completed_on_time += n[1];
                c.jobs_timed += n[2];
                c.handling_millis += n[3];
            }
            Measure::Rated => {
                c.rated_good += n[0];
                c.rated_average += n[1];
                c.rated_bad += n[2];
            }
            Measure::ByItem => *c.by_item.entry(row.key).or_default() += n[0],
            Measure::ByMode => *c.by_mode.entry(row.key).or_default() += n[0],
            Measure::Visits => c.visits_done += n[0],
            Measure::NeedsRaised => c.needs_raised += n[0],
            Measure::NeedsClosed => c.needs_closed += n[0],
        }
        Ok(())
    }

    /// One village's counts over the whole range (what [`Period::Whole`] gave).
    pub fn village(&self, village_id: &str) -> Counts {
        self.sum(|v, _| v == village_id)
    }

    /// The counts of every cell `keep` selects (by village and period), added up.
    pub fn sum(&self, keep: impl Fn(&str, &str) -> bool) -> Counts {
        let mut total = Counts::default();
        for ((village, period), counts) in &self.cells {
            if keep(village, period) {
                total.add(counts);
            }
        }
        total
    }
}

/// Checks a date range for figures: the first day not after the last.
pub fn check_range(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if from > to {
        return Err(CoreError::InvalidValue {
            field: "统计时间段".into(),
            reason: "开始日期晚于结束日期".into(),
        });
    }
    Ok(())
}

/// The twelve months ending with `today`'s: their `YYYY-MM` names (oldest first) and the
/// first day of the oldest.
pub fn last_twelve_months(today: NaiveDate) -> (Vec<String>, NaiveDate) {
    let index = today.year() * 12 + today.month0() as i32;
    let months: Vec<(i32, u32)> = (index - 11..=index)
        .map(|i| (i.div_euclid(12), i.rem_euclid(12) as u32 + 1))
        .collect();
    let (y, m) = months[0];
    let first = NaiveDate::from_ymd_opt(y, m, 1).expect("first of a month");
    (
        months
            .into_iter()
            .map(|(y, m)| format!("{y:04}-{m:02}"))
            .collect(),
        first,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(village: &str, period: &str, key: &str, counts: &[i64]) -> FigureRow {
        FigureRow {
            village_id: village.into(),
            period: period.into(),
            key: key.into(),
            counts: counts.to_vec(),
        }
    }

    #[test]
    fn rows_add_up_per_village_and_rates_divide_sums() {
        let mut t = Tally::default();
        t.absorb(Measure::Opened, row("a", "", "", &[4, 2, 1]))
            .unwrap();
        t.absorb(Measure::Opened, row("b", "", "", &[2, 2, 2]))
            .unwrap();
        t.absorb(Measure::Completed, row("a", "", "", &[2, 1, 2, 7_200_000]))
            .unwrap();
        t.absorb(Measure::Rated, row("a", "", "", &[3, 1, 1]))
            .unwrap();
        t.absorb(Measure::ByItem, row("a", "", "pension-certification", &[3]))
            .unwrap();
        t.absorb(Measure::ByMode, row("a", "", "proxy", &[3]))
            .unwrap();
        let a = t.village("a");
        assert_eq!(a.response_rate(), Some(0.5));
        assert_eq!(a.on_time_rate(), Some(0.5));
        assert_eq!(a.satisfaction_rate(), Some(0.8));
        assert_eq!(a.average_handling_hours(), Some(1.0));
        assert_eq!(a.items()[0].1, "养老认证");
        assert_eq!(a.modes()[1], (ServiceMode::Proxy, 3));
        let both = t.sum(|_, _| true);
        assert_eq!(both.response_rate(), Some(0.75));
        assert_eq!(both.jobs_opened, 6);
        assert_eq!(Counts::default().response_rate(), None);
        assert!(
            t.absorb(Measure::Completed, row("a", "", "", &[1]))
                .is_err()
        );
    }

    #[test]
    fn twelve_months_cross_the_year() {
        let (months, first) = last_twelve_months(NaiveDate::from_ymd_opt(2026, 3, 9).unwrap());
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], "2025-04");
        assert_eq!(months[11], "2026-03");
        assert_eq!(first, NaiveDate::from_ymd_opt(2025, 4, 1).unwrap());
    }

    #[test]
    fn statements_group_by_village_and_period() {
        let s = statements(Period::Month, "village_id = $3");
        assert_eq!(s.len(), 8);
        assert!(s[0].sql.contains("substr(informed_on, 1, 7)"));
        assert!(s.iter().all(|s| s.sql.contains("(village_id = $3)")));
        let open = open_needs_statement("village_id = $1");
        assert!(open.contains("status IN ('open', 'in_progress')"), "{open}");
        assert!(open.contains("'informed', 'accepted'"), "{open}");
    }
}
