//! Households still refused to a device: the latest outcome of each device's pushes of each
//! household when that is a refusal, kept beside the audit log in the same transaction, so
//! that hub staff see which phones are stuck and why (a phone keeps refused changes and pushes
//! them again later). Bounded per device, read per device: one flooding device neither slows
//! the page nor hides the others.

use chrono::{DateTime, Utc};
use doorstep_core::time::from_millis;

use super::accounts::Scope;
use super::sql::{Cols, Conn};
use super::{Storage, StorageError};

/// The most households kept as refused for one device (a flood of refusals stops counting
/// there; the audit log still has every one).
pub const MAX_REFUSALS_PER_DEVICE: i64 = 1_000;

/// A device with households whose latest push it made was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedDevice {
    /// The device.
    pub device_id: String,
    /// The device's name given at enrollment.
    pub device_name: String,
    /// Who uses it.
    pub user_name: String,
    /// How many households are refused to it (at most [`MAX_REFUSALS_PER_DEVICE`]).
    pub households: i64,
    /// The household refused last.
    pub latest_household: String,
    /// The reason it was given, in Chinese.
    pub latest_reason: String,
    /// When (server time).
    pub at: DateTime<Utc>,
}

/// Records what became of one device's pushed households: `written` are stored (no longer
/// refused), `refused` carry their reasons. A push of a device with nothing refused costs one
/// indexed read.
pub fn record(
    conn: &mut dyn Conn,
    device_id: &str,
    written: &[(String, String)],
    refused: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let listed: Vec<String> = conn
        .query(
            "SELECT household_id FROM refused_pushes WHERE device_id = $1",
            &[device_id.into()],
        )?
        .into_iter()
        .map(|row| Cols::of(row).take()?.text())
        .collect::<Result<_, _>>()?;
    for (household, _) in written.iter().filter(|(h, _)| listed.contains(h)) {
        conn.execute(
            "DELETE FROM refused_pushes WHERE device_id = $1 AND household_id = $2",
            &[device_id.into(), household.into()],
        )?;
    }
    let mut kept = listed.len() as i64;
    for (household, reason) in refused {
        let at = now.timestamp_millis();
        if listed.contains(household) {
            conn.execute(
                "UPDATE refused_pushes SET reason = $1, at = $2
                  WHERE device_id = $3 AND household_id = $4",
                &[reason.into(), at.into(), device_id.into(), household.into()],
            )?;
        } else if kept < MAX_REFUSALS_PER_DEVICE {
            conn.execute(
                "INSERT INTO refused_pushes (device_id, household_id, reason, at)
                 VALUES ($1, $2, $3, $4)",
                &[device_id.into(), household.into(), reason.into(), at.into()],
            )?;
            kept += 1;
        }
    }
    Ok(())
}

impl Storage {
    /// The active devices of users working in `scope` with households still refused to them,
    /// the most recently refused first.
    pub fn refused_devices(&self, scope: &Scope) -> Result<Vec<RefusedDevice>, StorageError> {
        self.read(|conn| {
            let rows = conn.query(
                "SELECT r.device_id, d.name, u.name, u.region_ids, count(*), max(r.at)
                   FROM refused_pushes r
                   JOIN devices d ON d.device_id = r.device_id
                   JOIN users u ON u.id = d.user_id
                  WHERE d.revoked_at IS NULL
                  GROUP BY r.device_id, d.name, u.name, u.region_ids
                  ORDER BY max(r.at) DESC, r.device_id",
                &[],
            )?;
            let mut out = Vec::new();
            for row in rows {
                let mut c = Cols::of(row);
                let (device_id, device_name, user_name) =
                    (c.take()?.text()?, c.take()?.text()?, c.take()?.text()?);
                let regions: Vec<String> =
                    serde_json::from_str(&c.take()?.text()?).unwrap_or_default();
                let households = c.take()?.int()?;
                let works_here = regions
                    .iter()
                    .any(|r| scope.contains(r) || scope.towns.iter().any(|(town, _)| town == r));
                if !works_here {
                    continue;
                }
                let latest = conn
                    .query_opt(
                        "SELECT household_id, reason, at FROM refused_pushes
                          WHERE device_id = $1 ORDER BY at DESC, household_id LIMIT 1",
                        &[device_id.as_str().into()],
                    )?
                    .ok_or_else(|| StorageError::Schema("拒收记录在读取时消失".into()))?;
                let mut l = Cols::of(latest);
                out.push(RefusedDevice {
                    device_id,
                    device_name,
                    user_name,
                    households,
                    latest_household: l.take()?.text()?,
                    latest_reason: l.take()?.text()?,
                    at: from_millis(l.take()?.int()?),
                });
            }
            Ok(out)
        })
    }
}
