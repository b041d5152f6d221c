//! Needs registered at the hub (from the 12345 hotline, the secretary's mailbox, a resident's
//! call), each kept with the ledger line or job it became, so that the console can follow it
//! to its end; and finding the member a need is about.

use chrono::{DateTime, Utc};
use doorstep_core::IntakeSource;

use super::sql::{Bound, Cols, Conn, Where, like_escaped, placeholders, texts};
use super::{Storage, StorageError};
use doorstep_core::validate::mask_id_number;

/// What an intake became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeKind {
    /// A one-off need on the household's ledger.
    Ledger,
    /// An informed job for the village.
    Job,
}

impl IntakeKind {
    fn code(self) -> &'static str {
        match self {
            IntakeKind::Ledger => "ledger",
            IntakeKind::Job => "job",
        }
    }
}

/// A need registered at the hub, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntake<'a> {
    /// Its id.
    pub id: &'a str,
    /// The household.
    pub household_id: &'a str,
    /// The household's village.
    pub village_id: &'a str,
    /// The member it is about.
    pub member_id: &'a str,
    /// What it became.
    pub kind: IntakeKind,
    /// The ledger line's or the job's id.
    pub entity_id: &'a str,
    /// Where it came from.
    pub source: IntakeSource,
    /// What it is, in a few words.
    pub summary: &'a str,
    /// Who registered it.
    pub registered_by: &'a str,
}

/// An intake with where it stands now (from the query tables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeLine {
    /// The household.
    pub household_id: String,
    /// The village.
    pub village_id: String,
    /// The member's name.
    pub member_name: String,
    /// `ledger` or `job`.
    pub kind: String,
    /// The ledger line's or the job's id.
    pub entity_id: String,
    /// The source's code.
    pub source: String,
    /// What it is.
    pub summary: String,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// The job's state code, or the need's status code.
    pub state: Option<String>,
    /// The resident's rating, once rated.
    pub rating: Option<String>,
}

/// A member found for an intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberHit {
    /// The member.
    pub member_id: String,
    /// The household.
    pub household_id: String,
    /// The village.
    pub village_id: String,
    /// The name.
    pub name: String,
    /// The identity number, masked.
    pub masked_id: String,
}

/// Records an intake in the caller's transaction (the one that writes its household).
pub fn record(
    conn: &mut dyn Conn,
    intake: &NewIntake<'_>,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO intakes (id, household_id, village_id, member_id, kind, entity_id, source,
            summary, registered_by, registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            intake.id.into(),
            intake.household_id.into(),
            intake.village_id.into(),
            intake.member_id.into(),
            intake.kind.code().into(),
            intake.entity_id.into(),
            intake.source.code().into(),
            intake.summary.into(),
            intake.registered_by.into(),
            now.timestamp_millis().into(),
        ],
    )?;
    Ok(())
}

impl Storage {
    /// The latest `limit` intakes in `villages`, newest first, with where each stands.
    pub fn intakes(
        &self,
        villages: &[String],
        limit: usize,
    ) -> Result<Vec<IntakeLine>, StorageError> {
        if villages.is_empty() {
            return Ok(Vec::new());
        }
        let within = placeholders(1, villages.len());
        self.read(|conn| {
            conn.query(
                &format!(
                    "SELECT i.household_id, i.village_id, m.name, i.kind, i.entity_id, i.source,
                            i.summary, i.registered_at, COALESCE(j.state, l.status), j.rating
                     FROM intakes i JOIN members m ON m.id = i.member_id
                     LEFT JOIN jobs j ON i.kind = 'job' AND j.id = i.entity_id
                     LEFT JOIN ledger_lines l ON i.kind = 'ledger' AND l.id = i.entity_id
                     WHERE i.village_id IN ({within})
                     ORDER BY i.registered_at DESC, i.id LIMIT {limit}"
                ),
                &texts(villages),
            )?
            .into_iter()
            .map(|row| {
                let mut c = Cols::of(row);
                Ok(IntakeLine {
                    household_id: c.take()?.text()?,
                    village_id: c.take()?.text()?,
                    member_name: c.take()?.text()?,
                    kind: c.take()?.text()?,
                    entity_id: c.take()?.text()?,
                    source: c.take()?.text()?,
                    summary: c.take()?.text()?,
                    registered_at: DateTime::from_timestamp_millis(c.take()?.int()?)
                        .unwrap_or_default(),
                    state: c.take()?.opt_text()?,
                    rating: c.take()?.opt_text()?,
                })
            })
            .collect()
        })
    }

    /// Members in `villages` whose name contains `text`, or whose identity or phone number
    /// ends with it; at most `limit`.
    pub fn find_members(
        &self,
        villages: &[String],
        text: &str,
        limit: usize,
    ) -> Result<Vec<MemberHit>, StorageError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let escaped = like_escaped(text);
        let (contains, ends) = (format!("%{escaped}%"), format!("%{escaped}"));
        members(
            self,
            villages,
            "(name LIKE ? ESCAPE '\\' OR id_number LIKE ? ESCAPE '\\' OR phone LIKE ? ESCAPE '\\')",
            &[&contains, &ends, &ends],
            limit,
        )
    }

    /// A member by id, if they are in `villages`.
    pub fn member_in(
        &self,
        villages: &[String],
        member_id: &str,
    ) -> Result<Option<MemberHit>, StorageError> {
        Ok(members(self, villages, "id = ?", &[member_id], 1)?.pop())
    }
}

/// Members in `villages` matching `clause`, whose `?` marks take `values` in order.
fn members(
    storage: &Storage,
    villages: &[String],
    clause: &str,
    values: &[&str],
    limit: usize,
) -> Result<Vec<MemberHit>, StorageError> {
    let mut filters = Where::within("village_id", villages);
    filters.and(
        clause,
        values.iter().map(|v| Bound::Text(v.to_string())).collect(),
    );
    let limit = limit.min(1000);
    storage.read(|conn| {
        conn.query(
            &format!(
                "SELECT id, household_id, village_id, name, id_number FROM members
                 WHERE {} ORDER BY village_id, name, id LIMIT {limit}",
                filters.sql()
            ),
            &filters.params(),
        )?
        .into_iter()
        .map(|row| {
            let mut c = Cols::of(row);
            Ok(MemberHit {
                member_id: c.take()?.text()?,
                household_id: c.take()?.text()?,
                village_id: c.take()?.text()?,
                name: c.take()?.text()?,
                masked_id: c
                    .take()?
                    .opt_text()?
                    .as_deref()
                    .map(mask_id_number)
                    .unwrap_or_default(),
            })
        })
        .collect()
    })
}
