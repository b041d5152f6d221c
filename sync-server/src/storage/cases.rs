//! What the hub console lists, read from the query tables within a staff member's villages:
//! cases (jobs) filtered, searched, sorted and paged; counts for the front page; households
//! with conflicts waiting.

use chrono::NaiveDate;
use doorstep_core::{JobState, SpecialTag};

use super::sql::{Bound, Cols, Conn, Where, like_escaped, placeholders, texts};
use super::{Storage, StorageError};

/// Cases per page.
pub const CASES_PER_PAGE: usize = 30;

/// What the case list is narrowed to; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    /// One village.
    pub village: Option<String>,
    /// One catalogue item, by code.
    pub item: Option<String>,
    /// One state, by code.
    pub state: Option<JobState>,
    /// One mode, by code.
    pub mode: Option<String>,
    /// Only jobs past their promised date and still waiting for their result.
    pub overdue: bool,
    /// Only members with this special-group tag.
    pub tag: Option<SpecialTag>,
    /// A Chinese name (or part), or the last digits of an identity or phone number.
    pub search: Option<String>,
}

/// How the case list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaseOrder {
    /// Most urgent first, then the earliest next due date.
    #[default]
    Urgency,
    /// The earliest next due date first.
    Due,
    /// The most recently told first.
    Newest,
    /// By village, then name.
    Village,
}

impl CaseOrder {
    /// Every order with its code and label.
    pub const ALL: &'static [(CaseOrder, &'static str, &'static str)] = &[
        (CaseOrder::Urgency, "urgency", "紧急程度"),
        (CaseOrder::Due, "due", "到期日"),
        (CaseOrder::Newest, "newest", "最新告知"),
        (CaseOrder::Village, "village", "村和姓名"),
    ];

    fn sql(self) -> &'static str {
        match self {
            CaseOrder::Urgency => "j.urgency, j.next_due, j.id",
            CaseOrder::Due => "j.next_due, j.urgency, j.id",
            CaseOrder::Newest => "j.informed_on DESC, j.id",
            CaseOrder::Village => "j.village_id, m.name, j.id",
        }
    }
}

/// One line of the case list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseLine {
    /// The job.
    pub job_id: String,
    /// Its household.
    pub household_id: String,
    /// Its village.
    pub village_id: String,
    /// The member it is for.
    pub member_name: String,
    /// The member's identity number, if kept (shown masked).
    pub id_number: Option<String>,
    /// The member's special-group tags.
    pub tag_mask: i64,
    /// The catalogue item's code.
    pub item_code: String,
    /// How it is done, by code.
    pub mode: String,
    /// Where it stands, by code.
    pub state: String,
    /// Urgency rank (lower is more urgent).
    pub urgency: i64,
    /// When the resident was told.
    pub informed_on: String,
    /// The promised date, once accepted.
    pub promised_due: Option<String>,
    /// The date it next asks for action.
    pub next_due: Option<String>,
    /// Conflicting steps or fields in it.
    pub conflicts: i64,
}

/// Counts for the front page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TodayCounts {
    /// Open jobs by village and state: (village, state code, count).
    pub by_village_state: Vec<(String, String, i64)>,
    /// Jobs past their promised date, still waiting for the result.
    pub overdue: i64,
    /// Households with conflicts waiting for the hub.
    pub conflicted_households: i64,
}

/// Narrows `filters` to jobs past their promised date and still waiting for their result
/// (the core's rule).
fn overdue(filters: &mut Where, today: NaiveDate) {
    let states = JobState::AWAITING_RESULT;
    let marks = vec!["?"; states.len()].join(", ");
    let mut values = vec![Bound::Text(today.to_string())];
    values.extend(states.iter().map(|s| Bound::Text(s.code().to_string())));
    filters.and(
        &format!("j.promised_due < ? AND j.state IN ({marks})"),
        values,
    );
}

impl Storage {
    /// A page (from 0) of the cases in `villages` that match `filter`, and how many match.
    pub fn cases(
        &self,
        villages: &[String],
        filter: &CaseFilter,
        order: CaseOrder,
        page: usize,
        today: NaiveDate,
    ) -> Result<(Vec<CaseLine>, i64), StorageError> {
        let mut filters = Where::within("j.village_id", villages);
        let text = |s: &str| Bound::Text(s.to_string());
        if let Some(village) = &filter.village {
            filters.and("j.village_id = ?", vec![text(village)]);
        }
        if let Some(item) = &filter.item {
            filters.and("j.item_code = ?", vec![text(item)]);
        }
        if let Some(state) = filter.state {
            filters.and("j.state = ?", vec![text(state.code())]);
        }
        if let Some(mode) = &filter.mode {
            filters.and("j.mode = ?", vec![text(mode)]);
        }
        if let Some(tag) = filter.tag {
            filters.and("(m.tag_mask & ?) <> 0", vec![Bound::Int(tag.bit())]);
        }
        if let Some(search) = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let escaped = like_escaped(search);
            filters.and(
                "(m.name LIKE ? ESCAPE '\\' OR m.id_number LIKE ? ESCAPE '\\' \
                  OR m.phone LIKE ? ESCAPE '\\')",
                vec![
                    text(&format!("%{escaped}%")),
                    text(&format!("%{escaped}")),
                    text(&format!("%{escaped}")),
                ],
            );
        }
        if filter.overdue {
            overdue(&mut filters, today);
        }
        let params = filters.params();
        let from = format!(
            "FROM jobs j JOIN members m ON m.id = j.member_id WHERE {}",
            filters.sql()
        );
        let offset = page * CASES_PER_PAGE;
        self.read(|conn| {
            let total = conn.query_int(&format!("SELECT count(*) {from}"), &params)?;
            let rows = conn.query(
                &format!(
                    "SELECT j.id, j.household_id, j.village_id, m.name, m.id_number, m.tag_mask,
                            j.item_code, j.mode, j.state, j.urgency, j.informed_on,
                            j.promised_due, j.next_due, j.conflict_count
                     {from} ORDER BY {} LIMIT {CASES_PER_PAGE} OFFSET {offset}",
                    order.sql()
                ),
                &params,
            )?;
            let lines = rows
                .into_iter()
                .map(|row| {
                    let mut c = Cols::of(row);
                    Ok(CaseLine {
                        job_id: c.take()?.text()?,
                        household_id: c.take()?.text()?,
                        village_id: c.take()?.text()?,
                        member_name: c.take()?.text()?,
                        id_number: c.take()?.opt_text()?,
                        tag_mask: c.take()?.int()?,
                        item_code: c.take()?.text()?,
                        mode: c.take()?.text()?,
                        state: c.take()?.text()?,
                        urgency: c.take()?.int()?,
                        informed_on: c.take()?.text()?,
                        promised_due: c.take()?.opt_text()?,
                        next_due: c.take()?.opt_text()?,
                        conflicts: c.take()?.int()?,
                    })
                })
                .collect::<Result<Vec<_>, StorageError>>()?;
            Ok((lines, total))
        })
    }

    /// The front page's counts within `villages`.
    pub fn today_counts(
        &self,
        villages: &[String],
        today: NaiveDate,
    ) -> Result<TodayCounts, StorageError> {
        let open = Where::within("j.village_id", villages);
        let mut overdue_jobs = Where::within("j.village_id", villages);
        overdue(&mut overdue_jobs, today);
        self.read(|conn| {
            let rows = conn.query(
                &format!(
                    "SELECT j.village_id, j.state, count(*) FROM jobs j
                     WHERE {} AND j.state <> 'closed'
                     GROUP BY j.village_id, j.state ORDER BY j.village_id, j.state",
                    open.sql()
                ),
                &open.params(),
            )?;
            let by_village_state = rows
                .into_iter()
                .map(|row| {
                    let mut c = Cols::of(row);
                    Ok((c.take()?.text()?, c.take()?.text()?, c.take()?.int()?))
                })
                .collect::<Result<Vec<_>, StorageError>>()?;
            let overdue = conn.query_int(
                &format!("SELECT count(*) FROM jobs j WHERE {}", overdue_jobs.sql()),
                &overdue_jobs.params(),
            )?;
            let conflicted_households = conflicted(conn, villages)?.len() as i64;
            Ok(TodayCounts {
                by_village_state,
                overdue,
                conflicted_households,
            })
        })
    }

    /// The households in `villages` with conflicts waiting for the hub (fields or job steps).
    pub fn conflicted_households(&self, villages: &[String]) -> Result<Vec<String>, StorageError> {
        self.read(|conn| conflicted(conn, villages))
    }

    /// The names of regions, by id.
    pub fn region_names(&self) -> Result<Vec<(String, String)>, StorageError> {
        self.read(|conn| {
            conn.query("SELECT id, name FROM regions ORDER BY id", &[])?
                .into_iter()
                .map(|row| {
                    let mut c = Cols::of(row);
                    Ok((c.take()?.text()?, c.take()?.text()?))
                })
                .collect()
        })
    }
}

fn conflicted(conn: &mut dyn Conn, villages: &[String]) -> Result<Vec<String>, StorageError> {
    if villages.is_empty() {
        return Ok(Vec::new());
    }
    let within = placeholders(1, villages.len());
    conn.query(
        &format!(
            "SELECT id FROM households WHERE village_id IN ({within}) AND conflict_count > 0
             UNION
             SELECT household_id FROM jobs WHERE village_id IN ({within}) AND conflict_count > 0
             ORDER BY 1"
        ),
        &texts(villages),
    )?
    .into_iter()
    .map(|row| Cols::of(row).take()?.text())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_marks_are_numbered_after_the_values_before_them() {
        let mut filters = Where::within("j.village_id", &["v1".to_string(), "v2".to_string()]);
        filters.and("j.item_code = ?", vec![Bound::Text("x".into())]);
        overdue(&mut filters, NaiveDate::from_ymd_opt(2026, 1, 2).unwrap());
        let sql = filters.sql();
        assert!(sql.starts_with("j.village_id IN ($1, $2) AND j.item_code = $3 AND j.promised_due < $4 AND j.state IN ($5"), "{sql}");
        assert_eq!(filters.params().len(), 4 + JobState::AWAITING_RESULT.len());
        assert_eq!(Where::within("j.village_id", &[]).sql(), "1 = 0");
    }
}
