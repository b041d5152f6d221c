//! The query tables derived from a household's document: the rows one household gives each
//! table. The rule is written once, here; the phone's store and the server's storage both write
//! exactly these rows (each in its own SQL dialect), rewritten whole for a household in the same
//! transaction as its document.

use crate::document::HouseholdData;
use crate::domain::catalogue;
use crate::domain::household::SpecialTag;
use crate::domain::ledger::Schedule;
use crate::time::{local_date, to_millis};

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Null,
    /// An integer (also flags, as 0 and 1).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text (also dates, as `YYYY-MM-DD`).
    Text(String),
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}

impl From<bool> for Cell {
    fn from(v: bool) -> Cell {
        Cell::Int(i64::from(v))
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_string())
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Null, Into::into)
    }
}

/// A query table: its name, the column naming the household, and its columns in order.
#[derive(Debug)]
pub struct Table {
    /// The table's name.
    pub name: &'static str,
    /// The column that holds the household's id (`id` for `households`).
    pub household_column: &'static str,
    /// The columns, in the order of a row's cells.
    pub columns: &'static [&'static str],
}

/// The households table.
pub const HOUSEHOLDS: Table = Table {
    name: "households",
    household_column: "id",
    columns: &[
        "id",
        "village_id",
        "group_name",
        "address",
        "phone",
        "member_count",
        "conflict_count",
    ],
};

/// The members table.
pub const MEMBERS: Table = Table {
    name: "members",
    household_column: "household_id",
    columns: &[
        "id",
        "household_id",
        "village_id",
        "name",
        "id_number",
        "phone",
        "gender",
        "birth_date",
        "relation",
        "tag_mask",
        "status",
    ],
};

/// The ledger lines table.
pub const LEDGER_LINES: Table = Table {
    name: "ledger_lines",
    household_column: "household_id",
    columns: &[
        "id",
        "household_id",
        "village_id",
        "member_id",
        "title",
        "kind",
        "status",
        "urgency",
        "next_due",
        "created_on",
        "closed_on",
    ],
};

/// The jobs table.
pub const JOBS: Table = Table {
    name: "jobs",
    household_column: "household_id",
    columns: &[
        "id",
        "household_id",
        "village_id",
        "member_id",
        "special",
        "item_code",
        "item_tier",
        "mode",
        "urgency",
        "state",
        "informed_on",
        "accepted_at",
        "promised_due",
        "completed_at",
        "completed_on",
        "on_time",
        "rating",
        "rated_on",
        "next_due",
        "conflict_count",
    ],
};

/// The visits table.
pub const VISITS: Table = Table {
    name: "visits",
    household_column: "household_id",
    columns: &[
        "id",
        "household_id",
        "village_id",
        "planned_for",
        "done_on",
        "outcome",
    ],
};

/// Every query table, in the order rows are written.
pub const TABLES: [&Table; 5] = [&HOUSEHOLDS, &MEMBERS, &LEDGER_LINES, &JOBS, &VISITS];

/// The rows of one table for one household.
#[derive(Debug)]
pub struct TableRows {
    /// The table.
    pub table: &'static Table,
    /// Its rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

fn date(d: Option<chrono::NaiveDate>) -> Cell {
    d.map(|d| d.to_string()).into()
}

/// The rows a household gives every query table, from its document data and the number of
/// its conflicting fields.
pub fn rows(data: &HouseholdData, conflict_count: usize) -> Vec<TableRows> {
    let hh = &data.household;
    let households = vec![vec![
        hh.id.as_str().into(),
        hh.village_id.as_str().into(),
        hh.group_name.as_str().into(),
        hh.address.as_str().into(),
        hh.phone.as_deref().into(),
        (data.members.len() as i64).into(),
        (conflict_count as i64).into(),
    ]];
    let members = data
        .members
        .iter()
        .map(|m| {
            vec![
                m.id.as_str().into(),
                hh.id.as_str().into(),
                hh.village_id.as_str().into(),
                m.name.as_str().into(),
                m.id_number.as_deref().into(),
                m.phone.as_deref().into(),
                m.gender.map(|g| g.code()).into(),
                date(m.birth_date),
                m.relation.as_str().into(),
                SpecialTag::mask(&m.tags).into(),
                m.status.code().into(),
            ]
        })
        .collect();
    let ledger = data
        .ledger
        .iter()
        .map(|l| {
            let status = match l.schedule {
                Schedule::OneOff { status, .. } => Some(status.code()),
                _ => None,
            };
            vec![
                l.id.as_str().into(),
                hh.id.as_str().into(),
                hh.village_id.as_str().into(),
                l.member_id.as_str().into(),
                l.title.as_str().into(),
                l.schedule.kind_code().into(),
                status.into(),
                l.urgency.rank().into(),
                date(l.next_due()),
                l.created_on.to_string().into(),
                date(l.closed_on()),
            ]
        })
        .collect();
    let jobs = data
        .jobs
        .iter()
        .map(|details| {
            let (job, p) = (&details.job, &details.progress);
            let special = data
                .member(&job.member_id)
                .is_some_and(|m| !m.tags.is_empty());
            let tier = catalogue::item(&job.item_code)
                .map(|i| i.tier.code())
                .unwrap_or("");
            let informed_on = job
                .events
                .first()
                .map(|e| local_date(e.at))
                .unwrap_or_default();
            vec![
                job.id.as_str().into(),
                hh.id.as_str().into(),
                hh.village_id.as_str().into(),
                job.member_id.as_str().into(),
                special.into(),
                job.item_code.as_str().into(),
                tier.into(),
                job.mode.code().into(),
                job.urgency.rank().into(),
                p.state.code().into(),
                informed_on.to_string().into(),
                p.accepted_at.map(to_millis).into(),
                date(p.promised_due),
                p.completed_at.map(to_millis).into(),
                date(p.completed_at.map(local_date)),
                p.on_time().into(),
                p.rating.map(|r| r.code()).into(),
                date(p.rated_at.map(local_date)),
                date(p.next_due(informed_on)),
                (p.conflicts.len() as i64).into(),
            ]
        })
        .collect();
    let visits = data
        .visits
        .iter()
        .map(|v| {
            vec![
                v.id.as_str().into(),
                hh.id.as_str().into(),
                hh.village_id.as_str().into(),
                date(v.planned_for),
                date(v.done_at.map(local_date)),
                v.outcome.map(|o| o.code()).into(),
            ]
        })
        .collect();
    vec![
        TableRows {
            table: &HOUSEHOLDS,
            rows: households,
        },
        TableRows {
            table: &MEMBERS,
            rows: members,
        },
        TableRows {
            table: &LEDGER_LINES,
            rows: ledger,
        },
        TableRows {
            table: &JOBS,
            rows: jobs,
        },
        TableRows {
            table: &VISITS,
            rows: visits,
        },
    ]
}
