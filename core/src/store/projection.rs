//! Query tables derived from a household's document, rewritten whole for that household in the
//! same transaction as the document bytes.

use rusqlite::{Connection, params};

use crate::document::HouseholdData;
use crate::domain::catalogue;
use crate::domain::household::SpecialTag;
use crate::error::Result;
use crate::time::{local_date, to_millis};

/// The projection tables, each with a `household_id` column.
pub(crate) const TABLES: &[&str] = &["households", "members", "ledger_lines", "jobs", "visits"];

/// Deletes a household's rows from every projection table.
fn clear(conn: &Connection, household_id: &str) -> Result<()> {
    for table in TABLES {
        let key = if *table == "households" {
            "id"
        } else {
            "household_id"
        };
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE {key} = ?1"))?
            .execute([household_id])?;
    }
    Ok(())
}

/// Rewrites a household's rows from its document data.
pub(crate) fn write(conn: &Connection, data: &HouseholdData, conflict_count: usize) -> Result<()> {
    clear(conn, &data.household.id)?;
    insert(conn, data, conflict_count)
}

/// Inserts a household's rows (it has none yet).
pub(crate) fn insert(conn: &Connection, data: &HouseholdData, conflict_count: usize) -> Result<()> {
    let hh = &data.household;
    conn.prepare_cached(
        "INSERT INTO households (id, village_id, group_name, address, phone, member_count, conflict_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        hh.id,
        hh.village_id,
        hh.group_name,
        hh.address,
        hh.phone,
        data.members.len() as i64,
        conflict_count as i64
    ])?;

    let mut member_stmt = conn.prepare_cached(
        "INSERT INTO members (id, household_id, village_id, name, id_number, phone, gender,
                              birth_date, relation, tag_mask, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for m in &data.members {
        member_stmt.execute(params![
            m.id,
            hh.id,
            hh.village_id,
            m.name,
            m.id_number,
            m.phone,
            m.gender.map(|g| g.code()),
            m.birth_date.map(|d| d.to_string()),
            m.relation,
            SpecialTag::mask(&m.tags),
            m.status.code()
        ])?;
    }

    let mut line_stmt = conn.prepare_cached(
        "INSERT INTO ledger_lines (id, household_id, village_id, member_id, title, kind, status,
                                   urgency, next_due, created_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for l in &data.ledger {
        let status = match l.schedule {
            crate::domain::ledger::Schedule::OneOff { status, .. } => Some(status.code()),
            _ => None,
        };
        line_stmt.execute(params![
            l.id,
            hh.id,
            hh.village_id,
            l.member_id,
            l.title,
            l.schedule.kind_code(),
            status,
            l.urgency.rank(),
            l.next_due().map(|d| d.to_string()),
            l.created_on.to_string()
        ])?;
    }

    let mut job_stmt = conn.prepare_cached(
        "INSERT INTO jobs (id, household_id, village_id, member_id, special, item_code, item_tier,
                           mode, urgency, state, informed_on, accepted_at, promised_due,
                           completed_at, completed_on, on_time, rating, rated_on, next_due,
                           conflict_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20)",
    )?;
    for details in &data.jobs {
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
        job_stmt.execute(params![
            job.id,
            hh.id,
            hh.village_id,
            job.member_id,
            special,
            job.item_code,
            tier,
            job.mode.code(),
            job.urgency.rank(),
            p.state.code(),
            informed_on.to_string(),
            p.accepted_at.map(to_millis),
            p.promised_due.map(|d| d.to_string()),
            p.completed_at.map(to_millis),
            p.completed_at.map(|t| local_date(t).to_string()),
            p.on_time(),
            p.rating.map(|r| r.code()),
            p.rated_at.map(|t| local_date(t).to_string()),
            p.next_due(informed_on).map(|d| d.to_string()),
            p.conflicts.len() as i64
        ])?;
    }

    let mut visit_stmt = conn.prepare_cached(
        "INSERT INTO visits (id, household_id, village_id, planned_for, done_on, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for v in &data.visits {
        visit_stmt.execute(params![
            v.id,
            hh.id,
            hh.village_id,
            v.planned_for.map(|d| d.to_string()),
            v.done_at.map(|t| local_date(t).to_string()),
            v.outcome.map(|o| o.code())
        ])?;
    }
    Ok(())
}
