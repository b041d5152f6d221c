//! The figures and the needs heat map of a staff member's villages, counted by the core's
//! statements ([`doorstep_core::figures`]) over the same query tables the phones keep.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use doorstep_core::figures::{self, FigureRow, Period, Tally};

use super::sql::{Cols, Param, placeholders, texts};
use super::{Storage, StorageError};

/// `village_id IN (...)` with its marks numbered from `first`; nothing when there are no villages.
fn within(villages: &[String], first: usize) -> String {
    if villages.is_empty() {
        // PostgreSQL refuses an empty `IN ()`.
        return "1 = 0".into();
    }
    format!("village_id IN ({})", placeholders(first, villages.len()))
}

/// Open needs of one village by urgency: red, amber, green.
pub type NeedsByUrgency = [i64; 3];

impl Storage {
    /// The counts behind the figures of `villages` for the days `from..=to`, per village and
    /// `period`.
    pub fn tally(
        &self,
        villages: &[String],
        period: Period,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Tally, StorageError> {
        figures::check_range(from, to)?;
        let (from, to) = (from.to_string(), to.to_string());
        let mut params: Vec<Param<'_>> = vec![Param::Text(&from), Param::Text(&to)];
        params.extend(texts(villages));
        let statements = figures::statements(period, &within(villages, 3));
        self.read(|conn| {
            let mut tally = Tally::default();
            for statement in &statements {
                for row in conn.query(&statement.sql, &params)? {
                    let width = row.len();
                    let mut c = Cols::of(row);
                    let (village_id, period, key) =
                        (c.take()?.text()?, c.take()?.text()?, c.take()?.text()?);
                    let counts = (3..width)
                        .map(|_| c.take()?.int())
                        .collect::<Result<_, _>>()?;
                    let row = FigureRow {
                        village_id,
                        period,
                        key,
                        counts,
                    };
                    tally
                        .absorb(statement.measure, row)
                        .map_err(|e| StorageError::Schema(e.to_string()))?;
                }
            }
            Ok(tally)
        })
    }

    /// Open needs ([`figures::OPEN_NEEDS`]) of each of `villages` that has any, by urgency.
    pub fn open_needs(
        &self,
        villages: &[String],
    ) -> Result<BTreeMap<String, NeedsByUrgency>, StorageError> {
        let sql = figures::open_needs_statement(&within(villages, 1));
        self.read(|conn| {
            let mut needs: BTreeMap<String, NeedsByUrgency> = BTreeMap::new();
            for row in conn.query(&sql, &texts(villages))? {
                let mut c = Cols::of(row);
                let village = c.take()?.text()?;
                let rank = c.take()?.int()?;
                let count = c.take()?.int()?;
                if let Some(cell) = needs.entry(village).or_default().get_mut(rank as usize) {
                    *cell += count;
                }
            }
            Ok(needs)
        })
    }
}
