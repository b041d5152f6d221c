//! The queries an agent's app needs, all on the indexed query tables.

use chrono::NaiveDate;
use rusqlite::{Row, params};

use super::Store;
use crate::domain::catalogue::item_name;
use crate::domain::household::SpecialTag;
use crate::domain::ledger::Urgency;
use crate::domain::progress::JobState;
use crate::error::Result;
use crate::figures::{self, FigureRow, Figures, Period, Tally};
use crate::validate::mask_id_number;

/// What a line of today's work is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum WorkKind {
    /// A job waiting for its next step.
    Job,
    /// A recurring reminder (medication cycle, birthday).
    Reminder,
    /// A one-off need on the ledger.
    Need,
}

/// One line of today's work.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct WorkItem {
    /// Job or ledger line.
    pub kind: WorkKind,
    /// The job's or ledger line's id.
    pub id: String,
    /// The household.
    pub household_id: String,
    /// The member.
    pub member_id: String,
    /// The member's name.
    pub member_name: String,
    /// The household's address.
    pub address: String,
    /// The item's name, or the ledger line's title.
    pub title: String,
    /// The job's state label, or the ledger kind.
    pub status: String,
    /// How urgent.
    pub urgency: Urgency,
    /// When it is (was) due.
    pub due: NaiveDate,
    /// Days past due (0 when due today).
    pub days_overdue: i64,
}

/// A member on a village's special-group roster.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RosterEntry {
    /// Member id.
    pub member_id: String,
    /// Household id.
    pub household_id: String,
    /// Name.
    pub name: String,
    /// Identity number, masked (first 6 and last 4 shown).
    pub id_number_masked: Option<String>,
    /// Mobile number.
    pub phone: Option<String>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Village group.
    pub group_name: String,
    /// Address.
    pub address: String,
    /// Special-group tags.
    pub tags: Vec<SpecialTag>,
}

/// A member found by name, phone tail or identity-number tail.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SearchHit {
    /// Member id.
    pub member_id: String,
    /// Household id.
    pub household_id: String,
    /// Village id.
    pub village_id: String,
    /// Name.
    pub name: String,
    /// Identity number, masked.
    pub id_number_masked: Option<String>,
    /// Mobile number.
    pub phone: Option<String>,
    /// Address.
    pub address: String,
}

/// A job in a list (waiting to be handed up, and similar).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct JobSummary {
    /// Job id.
    pub job_id: String,
    /// Household id.
    pub household_id: String,
    /// Member's name.
    pub member_name: String,
    /// Item code.
    pub item_code: String,
    /// Item name.
    pub item_name: String,
    /// State.
    pub state: JobState,
    /// How urgent.
    pub urgency: Urgency,
    /// Promised completion date.
    pub promised_due: Option<NaiveDate>,
    /// The household's village group (村民小组), where its group leader collects.
    pub group_name: String,
}

/// The jobs of one village group (村民小组) waiting to be handed up.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HandUpGroup {
    /// The group.
    pub group_name: String,
    /// Its jobs, most urgent first.
    pub jobs: Vec<JobSummary>,
}

fn date_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<NaiveDate>> {
    let text: Option<String> = row.get(idx)?;
    Ok(text.and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok()))
}

fn urgency_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<Urgency> {
    let rank: i64 = row.get(idx)?;
    Ok(Urgency::ALL
        .iter()
        .copied()
        .find(|u| u.rank() == rank)
        .unwrap_or(Urgency::Green))
}

fn tags_from_mask(mask: i64) -> Vec<SpecialTag> {
    SpecialTag::ALL
        .iter()
        .copied()
        .filter(|t| mask & t.bit() != 0)
        .collect()
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Store {
    /// Today's work: jobs and ledger lines due on or before `today`, most urgent first, then
    /// by due date; at most `limit` lines (a screenful or a page). `village_id` narrows it to
    /// one village.
    pub fn today_work(
        &self,
        today: NaiveDate,
        village_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WorkItem>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "WITH due AS (
                 SELECT 'job' AS kind, id, household_id, member_id, item_code AS title, state,
                        urgency, next_due
                   FROM jobs WHERE next_due <= ?1 AND (?2 IS NULL OR village_id = ?2)
                 UNION ALL
                 SELECT kind, id, household_id, member_id, title, kind, urgency, next_due
                   FROM ledger_lines WHERE next_due <= ?1 AND (?2 IS NULL OR village_id = ?2)
                 ORDER BY urgency, next_due, id
                 LIMIT ?3)
             SELECT d.kind, d.id, d.household_id, d.member_id, m.name, h.address, d.title, d.state,
                    d.urgency, d.next_due
               FROM due d JOIN members m ON m.id = d.member_id JOIN households h ON h.id = d.household_id
              ORDER BY d.urgency, d.next_due, d.id",
        )?;
        let rows = stmt.query_map(params![today.to_string(), village_id, limit], |r| {
            let kind: String = r.get(0)?;
            let code: String = r.get(6)?;
            let status: String = r.get(7)?;
            let due = date_col(r, 9)?.unwrap_or(today);
            let (kind, title, status) = match kind.as_str() {
                "job" => (
                    WorkKind::Job,
                    item_name(&code),
                    JobState::from_code(&status).map_or(status.clone(), |s| s.label().to_string()),
                ),
                "one_off" => (WorkKind::Need, code, "待办需求".to_string()),
                _ => (WorkKind::Reminder, code, "到期提醒".to_string()),
            };
            Ok(WorkItem {
                kind,
                id: r.get(1)?,
                household_id: r.get(2)?,
                member_id: r.get(3)?,
                member_name: r.get(4)?,
                address: r.get(5)?,
                title,
                status,
                urgency: urgency_col(r, 8)?,
                due,
                days_overdue: (today - due).num_days(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The special-group roster of a village: members having every tag in `tags` (any special
    /// tag when `tags` is empty), by group, address and name.
    pub fn roster(&self, village_id: &str, tags: &[SpecialTag]) -> Result<Vec<RosterEntry>> {
        let inner = self.lock();
        let mask = SpecialTag::mask(tags);
        let mut stmt = inner.conn.prepare_cached(
            "SELECT m.id, m.household_id, m.name, m.id_number, m.phone, m.birth_date, h.group_name,
                    h.address, m.tag_mask
               FROM members m JOIN households h ON h.id = m.household_id
              WHERE m.village_id = ?1 AND m.tag_mask != 0 AND (m.tag_mask & ?2) = ?2
                AND m.status = 'present'
              ORDER BY h.group_name, h.address, m.name, m.id",
        )?;
        let rows = stmt.query_map(params![village_id, mask], |r| {
            Ok(RosterEntry {
                member_id: r.get(0)?,
                household_id: r.get(1)?,
                name: r.get(2)?,
                id_number_masked: r.get::<_, Option<String>>(3)?.map(|n| mask_id_number(&n)),
                phone: r.get(4)?,
                birth_date: date_col(r, 5)?,
                group_name: r.get(6)?,
                address: r.get(7)?,
                tags: tags_from_mask(r.get(8)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Finds members by a Chinese name substring, or by the tail of a phone or identity number.
    /// At most `limit` hits, by name.
    pub fn search(&self, text: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let query = text.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let inner = self.lock();
        let pattern = like_escape(&query.to_uppercase());
        let mut stmt = inner.conn.prepare_cached(
            "SELECT m.id, m.household_id, m.village_id, m.name, m.id_number, m.phone, h.address
               FROM members m JOIN households h ON h.id = m.household_id
              WHERE m.name LIKE '%' || ?1 || '%' ESCAPE '\\'
                 OR m.phone LIKE '%' || ?1 ESCAPE '\\'
                 OR m.id_number LIKE '%' || ?1 ESCAPE '\\'
              ORDER BY m.name, m.id
              LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![pattern, limit], |r| {
            Ok(SearchHit {
                member_id: r.get(0)?,
                household_id: r.get(1)?,
                village_id: r.get(2)?,
                name: r.get(3)?,
                id_number_masked: r.get::<_, Option<String>>(4)?.map(|n| mask_id_number(&n)),
                phone: r.get(5)?,
                address: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Jobs accepted (or returned) in the village and waiting to be handed up to the town.
    pub fn jobs_to_hand_up(&self, village_id: Option<&str>) -> Result<Vec<JobSummary>> {
        self.job_list(
            "j.state IN ('accepted', 'returned') AND j.item_tier IN ('town', 'district')",
            village_id,
        )
    }

    /// Results to take to the residents' doors (政务包裹): jobs done whose result has not been
    /// delivered, most urgent first.
    pub fn deliveries(&self, village_id: Option<&str>) -> Result<Vec<JobSummary>> {
        let states: Vec<String> = JobState::AWAITING_DELIVERY
            .iter()
            .map(|s| format!("'{}'", s.code()))
            .collect();
        self.job_list(&format!("j.state IN ({})", states.join(", ")), village_id)
    }

    /// Jobs matching `condition` (SQL over `jobs j`), in a village or all, most urgent first.
    fn job_list(&self, condition: &str, village_id: Option<&str>) -> Result<Vec<JobSummary>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(&format!(
            "SELECT j.id, j.household_id, m.name, j.item_code, j.state, j.urgency, j.promised_due,
                    h.group_name
               FROM jobs j JOIN members m ON m.id = j.member_id
                    JOIN households h ON h.id = j.household_id
              WHERE {condition} AND (?1 IS NULL OR j.village_id = ?1)
              ORDER BY j.urgency, j.promised_due, j.id"
        ))?;
        let rows = stmt.query_map(params![village_id], |r| {
            let code: String = r.get(3)?;
            let state: String = r.get(4)?;
            Ok(JobSummary {
                job_id: r.get(0)?,
                household_id: r.get(1)?,
                member_name: r.get(2)?,
                item_name: item_name(&code),
                item_code: code,
                state: JobState::from_code(&state).unwrap_or(JobState::Accepted),
                urgency: urgency_col(r, 5)?,
                promised_due: date_col(r, 6)?,
                group_name: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The jobs waiting to be handed up ([`Store::jobs_to_hand_up`]), grouped by village group
    /// (村民小组, in name order), for the rotating village head's duty day.
    pub fn hand_up_groups(&self, village_id: Option<&str>) -> Result<Vec<HandUpGroup>> {
        let mut groups: Vec<HandUpGroup> = Vec::new();
        let mut jobs = self.jobs_to_hand_up(village_id)?;
        jobs.sort_by(|a, b| a.group_name.cmp(&b.group_name));
        for job in jobs {
            match groups.last_mut() {
                Some(group) if group.group_name == job.group_name => group.jobs.push(job),
                _ => groups.push(HandUpGroup {
                    group_name: job.group_name.clone(),
                    jobs: vec![job],
                }),
            }
        }
        Ok(groups)
    }

    /// A village's figures for the days `from..=to` (the core's [`crate::figures`]).
    pub fn figures(&self, village_id: &str, from: NaiveDate, to: NaiveDate) -> Result<Figures> {
        figures::check_range(from, to)?;
        let inner = self.lock();
        let mut tally = Tally::default();
        let (from, to) = (from.to_string(), to.to_string());
        for statement in figures::statements(Period::Whole, "village_id = $3") {
            let mut stmt = inner.conn.prepare_cached(&statement.sql)?;
            let mut rows = stmt.query(params![from, to, village_id])?;
            while let Some(row) = rows.next()? {
                let counts = (3..row.as_ref().column_count())
                    .map(|i| row.get(i))
                    .collect::<rusqlite::Result<_>>()?;
                let row = FigureRow {
                    village_id: row.get(0)?,
                    period: row.get(1)?,
                    key: row.get(2)?,
                    counts,
                };
                tally.absorb(statement.measure, row)?;
            }
        }
        Ok(Figures::from(&tally.village(village_id)))
    }
}
