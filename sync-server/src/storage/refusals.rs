//! Households still refused to a device: for each device and household, the latest outcome of
//! its pushes (from the audit log) when that is a refusal, so that hub staff see who is stuck
//! and why, and can act (a phone keeps refused changes and pushes them again later).

use chrono::{DateTime, Utc};
use doorstep_core::time::from_millis;

use super::accounts::Scope;
use super::sql::{Cols, Where};
use super::{Storage, StorageError};

/// The most refusals listed at once.
pub const MAX_REFUSALS_LISTED: i64 = 200;

/// One household whose latest push from one device was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedPush {
    /// The device.
    pub device_id: String,
    /// The device's name given at enrollment.
    pub device_name: String,
    /// Who uses it.
    pub user_name: String,
    /// The household.
    pub household_id: String,
    /// Its village, if the server holds the household.
    pub village_id: Option<String>,
    /// The reason the device was given, in Chinese.
    pub reason: String,
    /// When it was refused (server time).
    pub at: DateTime<Utc>,
}

impl Storage {
    /// Households within `scope` still refused to an active device, devices by name, at most
    /// [`MAX_REFUSALS_LISTED`]. A household the server does not hold is listed when the
    /// device's user works in the scope.
    pub fn refused_pushes(&self, scope: &Scope) -> Result<Vec<RefusedPush>, StorageError> {
        let villages = Where::within("doc.village_id", &scope.villages);
        let sql = format!(
            "SELECT a.device_id, d.name, u.name, u.region_ids, a.household_id, doc.village_id,
                    a.detail, a.at
               FROM audit a
               JOIN devices d ON d.device_id = a.device_id
               JOIN users u ON u.id = d.user_id
               LEFT JOIN documents doc ON doc.household_id = a.household_id
              WHERE a.action = 'refused' AND a.household_id <> '-' AND d.revoked_at IS NULL
                AND ({} OR doc.village_id IS NULL)
                AND a.seq = (SELECT max(b.seq) FROM audit b
                              WHERE b.household_id = a.household_id
                                AND b.device_id = a.device_id
                                AND b.action IN ('write', 'refused'))
              ORDER BY d.name, a.device_id, a.household_id
              LIMIT {MAX_REFUSALS_LISTED}",
            villages.sql()
        );
        let rows = self.read(|conn| conn.query(&sql, &villages.params()))?;
        let mut out = Vec::new();
        for row in rows {
            let mut c = Cols::of(row);
            let (device_id, device_name, user_name) =
                (c.take()?.text()?, c.take()?.text()?, c.take()?.text()?);
            let regions: Vec<String> = serde_json::from_str(&c.take()?.text()?).unwrap_or_default();
            let (household_id, village_id) = (c.take()?.text()?, c.take()?.opt_text()?);
            let (reason, at) = (c.take()?.text()?, from_millis(c.take()?.int()?));
            let works_here = || {
                regions
                    .iter()
                    .any(|r| scope.contains(r) || scope.towns.iter().any(|(town, _)| town == r))
            };
            if village_id.is_some() || works_here() {
                out.push(RefusedPush {
                    device_id,
                    device_name,
                    user_name,
                    household_id,
                    village_id,
                    reason,
                    at,
                });
            }
        }
        Ok(out)
    }
}
