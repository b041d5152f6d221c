//! Accounts in the server's database: regions, users with a role and regions, one-time
//! enrollment codes, devices with their tokens (stored only as hashes), and the append-only
//! audit log of who read or changed which household, when and from which device.

use chrono::{DateTime, Duration, Utc};
use doorstep_core::sync::protocol::EnrollRequest;
use doorstep_core::{Region, RegionTier, Role, User};
use rand::Rng;
use sha2::{Digest, Sha256};

use thiserror::Error;

use super::sql::{Cols, Conn, Param, ROWS_PER_INSERT, insert_rows};
use super::{Storage, StorageError};

/// What can go wrong with accounts.
#[derive(Debug, Error)]
pub enum AccountError {
    /// The code is unknown, used or expired.
    #[error("登记码无效、已使用或已过期（有效期24小时），请向镇便民服务中心重新申请")]
    BadCode,
    /// A console sign-in with an unknown account or a wrong password.
    #[error("工号或密码不正确")]
    BadPassword,
    /// The token is unknown or its device was revoked.
    #[error("设备未登记或已被注销，请向镇便民服务中心申请新的登记码后重新登记")]
    BadToken,
    /// A user, region or device that does not exist.
    #[error("找不到{0}")]
    NotFound(String),
    /// Bad input to an admin command or an enrollment.
    #[error("{0}")]
    Invalid(String),
    /// The device id is already enrolled for another user: an enrollment never takes over
    /// another user's device.
    #[error("本机编号已登记在另一位用户名下，不能再次登记；请清除应用数据后用新的登记码登记")]
    DeviceTaken,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// How long an enrollment code stays valid.
pub const CODE_LIFETIME_HOURS: i64 = 24;
/// Characters of enrollment codes: no 0/O, 1/I/L.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Length of an enrollment code (31^8 ≈ 8.5 × 10^11 codes).
const CODE_LENGTH: usize = 8;

/// The villages a user may read and write, and the town of each.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// Every village, sorted.
    pub villages: Vec<String>,
    /// The villages grouped by town, towns sorted.
    pub towns: Vec<(String, Vec<String>)>,
}

impl Scope {
    /// Whether `village` is in the scope.
    pub fn contains(&self, village: &str) -> bool {
        self.villages
            .binary_search_by(|v| v.as_str().cmp(village))
            .is_ok()
    }

    /// The town of a village of the scope.
    pub fn town_of(&self, village: &str) -> Option<&str> {
        self.towns
            .iter()
            .find(|(_, villages)| villages.iter().any(|v| v == village))
            .map(|(town, _)| town.as_str())
    }
}

/// Who is behind a device token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user.
    pub user: User,
    /// The device id (the phone's automerge actor id).
    pub device_id: String,
    /// The villages the user may read and write.
    pub scope: Scope,
    /// How many of the device's pushes the server has stored.
    pub pushes: u64,
}

/// An enrolled device, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Device id.
    pub device_id: String,
    /// Its user.
    pub user_id: String,
    /// The name given at enrollment.
    pub name: String,
    /// When it enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (server clock).
    pub at: DateTime<Utc>,
    /// Who.
    pub user_id: String,
    /// From which device (or console session).
    pub device_id: String,
    /// Which household.
    pub household_id: String,
    /// `read`, `write` or `refused`.
    pub action: String,
    /// What was read or written, or why it was refused.
    pub detail: String,
}

/// The SHA-256 of a text (tokens are stored only as hashes).
pub(super) fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[(rng.next_u32() as usize) % alphabet.len()] as char)
        .collect()
}

/// A fresh secret token: 256 random bits as 64 hex digits.
pub fn random_token() -> String {
    random_string(b"0123456789abcdef", 64)
}

fn time(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// A user by id.
pub(super) fn user(conn: &mut dyn Conn, id: &str) -> Result<User, AccountError> {
    let row = conn
        .query_opt(
            "SELECT name, role, region_ids FROM users WHERE id = $1",
            &[id.into()],
        )?
        .ok_or_else(|| AccountError::NotFound(format!("用户 {id}")))?;
    let mut cols = Cols::of(row);
    let name = cols.take()?.text()?;
    let role = cols.take()?.text()?;
    let regions = cols.take()?.text()?;
    Ok(User {
        id: id.to_string(),
        name,
        role: Role::from_code(&role)
            .ok_or_else(|| AccountError::Invalid(format!("未知角色 {role}")))?,
        region_ids: serde_json::from_str(&regions).unwrap_or_default(),
    })
}

/// The villages under the user's regions (their villages, every village of their towns and
/// districts), each with its town.
pub fn scope_of_user(conn: &mut dyn Conn, user: &User) -> Result<Scope, StorageError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for region in &user.region_ids {
        let rows = conn.query(
            "WITH RECURSIVE below(id, tier, parent_id) AS (
                 SELECT id, tier, parent_id FROM regions WHERE id = $1
                 UNION ALL
                 SELECT r.id, r.tier, r.parent_id FROM regions r JOIN below b ON r.parent_id = b.id)
             SELECT id, parent_id FROM below WHERE tier = $2",
            &[region.into(), RegionTier::Village.code().into()],
        )?;
        for row in rows {
            let mut cols = Cols::of(row);
            let village = cols.take()?.text()?;
            let town = cols.take()?.opt_text()?.unwrap_or_else(|| village.clone());
            pairs.push((town, village));
        }
    }
    pairs.sort();
    pairs.dedup();
    let mut scope = Scope::default();
    for (town, village) in pairs {
        scope.villages.push(village.clone());
        match scope.towns.last_mut() {
            Some((last, villages)) if *last == town => villages.push(village),
            _ => scope.towns.push((town, vec![village])),
        }
    }
    scope.villages.sort();
    Ok(scope)
}

/// The longest text of a refused request's own kept in the audit log.
const AUDITED_TEXT_CHARS: usize = 64;

impl Storage {
    /// Records a refused enrollment attempt in the audit log: the device id it named (cut
    /// short), the client's address and why.
    pub fn audit_enrollment_refusal(
        &self,
        device_id: &str,
        address: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let device: String = device_id.chars().take(AUDITED_TEXT_CHARS).collect();
        let rows = [("-".to_string(), format!("{address}：{reason}"))];
        self.write(|conn| audit(conn, "", &device, "enroll-refused", &rows, now))
    }
}

/// Appends audit rows: `action` on each household (with its detail) by a user and device.
pub fn audit(
    conn: &mut dyn Conn,
    user_id: &str,
    device_id: &str,
    action: &str,
    rows: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let columns = [
        "at",
        "user_id",
        "device_id",
        "household_id",
        "action",
        "detail",
    ];
    for batch in rows.chunks(ROWS_PER_INSERT) {
        let mut params: Vec<Param<'_>> = Vec::with_capacity(batch.len() * columns.len());
        for (household, detail) in batch {
            params.extend::<[Param<'_>; 6]>([
                now.timestamp_millis().into(),
                user_id.into(),
                device_id.into(),
                household.into(),
                action.into(),
                detail.into(),
            ]);
        }
        conn.execute(&insert_rows("audit", &columns, batch.len()), &params)?;
    }
    Ok(())
}

impl Storage {
    /// Adds or replaces a region.
    pub fn put_region(&self, region: &Region) -> Result<(), AccountError> {
        self.write(|conn| {
            conn.execute(
                "INSERT INTO regions (id, name, tier, parent_id) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, tier = excluded.tier,
                    parent_id = excluded.parent_id",
                &[
                    region.id.as_str().into(),
                    region.name.as_str().into(),
                    region.tier.code().into(),
                    region.parent_id.as_deref().into(),
                ],
            )?;
            Ok(())
        })?;
        Ok(())
    }

    /// Adds or replaces a user; their regions must exist.
    pub fn put_user(&self, user: &User) -> Result<(), AccountError> {
        let regions = serde_json::to_string(&user.region_ids)
            .map_err(|e| AccountError::Invalid(e.to_string()))?;
        let result = self.write(|conn| {
            for region in &user.region_ids {
                if conn
                    .query_opt("SELECT 1 FROM regions WHERE id = $1", &[region.into()])?
                    .is_none()
                {
                    return Ok(Some(region.clone()));
                }
            }
            conn.execute(
                "INSERT INTO users (id, name, role, region_ids) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
                    region_ids = excluded.region_ids",
                &[
                    user.id.as_str().into(),
                    user.name.as_str().into(),
                    user.role.code().into(),
                    regions.as_str().into(),
                ],
            )?;
            Ok(None)
        })?;
        match result {
            Some(region) => Err(AccountError::NotFound(format!("地区 {region}"))),
            None => Ok(()),
        }
    }

    /// A user by id.
    pub fn user(&self, id: &str) -> Result<User, AccountError> {
        let mut found = None;
        self.read(|conn| {
            found = Some(user(conn, id));
            Ok(())
        })?;
        found.unwrap_or_else(|| Err(AccountError::NotFound(format!("用户 {id}"))))
    }

    /// Issues a one-time enrollment code for a user, valid for 24 hours.
    pub fn issue_code(&self, user_id: &str, now: DateTime<Utc>) -> Result<String, AccountError> {
        self.user(user_id)?;
        let code = random_string(CODE_ALPHABET, CODE_LENGTH);
        let expires = now + Duration::hours(CODE_LIFETIME_HOURS);
        let hash = self.keyed_hash(&code);
        self.write(|conn| {
            conn.execute(
                "INSERT INTO enrollment_codes (code_hash, user_id, expires_at) VALUES ($1, $2, $3)",
                &[
                    Param::Blob(&hash),
                    user_id.into(),
                    expires.timestamp().into(),
                ],
            )?;
            Ok(())
        })?;
        Ok(format!("{}-{}", &code[..4], &code[4..]))
    }

    /// Exchanges a code for a device token (256 random bits, hex) bound to the user and the
    /// device. The code cannot be used again.
    pub fn enroll(
        &self,
        request: &EnrollRequest,
        now: DateTime<Utc>,
    ) -> Result<(String, Session), AccountError> {
        // The request's own fields are checked first, so a valid code and a wrong one get
        // the same answer to a malformed request.
        request
            .check()
            .map_err(|err| AccountError::Invalid(err.to_string()))?;
        let (device_id, name) = (request.device.as_str(), request.device_name.as_str());
        let hash = self.keyed_hash(&request.normalised_code());
        let token = random_token();
        let mut outcome = Err(AccountError::BadCode);
        self.write(|conn| {
            outcome = Err(AccountError::BadCode);
            let Some(row) = conn.query_opt(
                "SELECT user_id, expires_at, used_at FROM enrollment_codes WHERE code_hash = $1",
                &[Param::Blob(&hash)],
            )?
            else {
                return Ok(());
            };
            let mut cols = Cols::of(row);
            let user_id = cols.take()?.text()?;
            let expires = cols.take()?.int()?;
            if cols.take()?.opt_int()?.is_some() || expires <= now.timestamp() {
                return Ok(());
            }
            let owner = conn
                .query_opt(
                    "SELECT user_id FROM devices WHERE device_id = $1",
                    &[device_id.into()],
                )?
                .map(|row| Cols::of(row).take()?.text())
                .transpose()?;
            if owner.is_some_and(|owner| owner != user_id) {
                outcome = Err(AccountError::DeviceTaken);
                return Ok(());
            }
            conn.execute(
                "UPDATE enrollment_codes SET used_at = $1 WHERE code_hash = $2",
                &[now.timestamp().into(), Param::Blob(&hash)],
            )?;
            conn.execute(
                "INSERT INTO devices (device_id, token_hash, user_id, name, enrolled_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (device_id) DO UPDATE SET token_hash = excluded.token_hash,
                    user_id = excluded.user_id, name = excluded.name,
                    enrolled_at = excluded.enrolled_at, revoked_at = NULL",
                &[
                    device_id.into(),
                    Param::Blob(&sha256(&token)),
                    user_id.as_str().into(),
                    name.into(),
                    now.timestamp().into(),
                ],
            )?;
            bind_actor(conn, device_id, device_id)?;
            outcome = session(conn, &user_id, device_id);
            Ok(())
        })?;
        outcome.map(|session| (token, session))
    }

    /// The session behind a token, or [`AccountError::BadToken`].
    pub fn authenticate(&self, token: &str) -> Result<Session, AccountError> {
        self.read(|conn| authenticate(conn, token))?
            .ok_or(AccountError::BadToken)
    }

    /// Revokes a device: its token stops working at once.
    pub fn revoke(&self, device_id: &str, now: DateTime<Utc>) -> Result<(), AccountError> {
        let changed = self.write(|conn| {
            conn.execute(
                "UPDATE devices SET revoked_at = $1 WHERE device_id = $2 AND revoked_at IS NULL",
                &[now.timestamp().into(), device_id.into()],
            )
        })?;
        if changed == 0 {
            return Err(AccountError::NotFound(format!("未注销的设备 {device_id}")));
        }
        Ok(())
    }

    /// Every enrolled device.
    pub fn devices(&self) -> Result<Vec<DeviceInfo>, AccountError> {
        Ok(self.read(|conn| {
            conn.query(
                "SELECT device_id, user_id, name, enrolled_at, revoked_at FROM devices
                  ORDER BY enrolled_at, device_id",
                &[],
            )?
            .into_iter()
            .map(|row| {
                let mut cols = Cols::of(row);
                Ok(DeviceInfo {
                    device_id: cols.take()?.text()?,
                    user_id: cols.take()?.text()?,
                    name: cols.take()?.text()?,
                    enrolled_at: time(cols.take()?.int()?),
                    revoked_at: cols.take()?.opt_int()?.map(time),
                })
            })
            .collect()
        })?)
    }

    /// The audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, AccountError> {
        Ok(self.read(|conn| {
            conn.query(
                "SELECT at, user_id, device_id, household_id, action, detail FROM audit
                  ORDER BY seq",
                &[],
            )?
            .into_iter()
            .map(|row| {
                let mut cols = Cols::of(row);
                Ok(AuditEntry {
                    at: DateTime::from_timestamp_millis(cols.take()?.int()?).unwrap_or_default(),
                    user_id: cols.take()?.text()?,
                    device_id: cols.take()?.text()?,
                    household_id: cols.take()?.text()?,
                    action: cols.take()?.text()?,
                    detail: cols.take()?.text()?,
                })
            })
            .collect()
        })?)
    }
}

/// The user and the device a token was issued to, revoked or not.
pub fn device_of_token(
    conn: &mut dyn Conn,
    token: &str,
) -> Result<Option<(String, String)>, StorageError> {
    conn.query_opt(
        "SELECT user_id, device_id FROM devices WHERE token_hash = $1",
        &[Param::Blob(&sha256(token))],
    )?
    .map(|row| {
        let mut cols = Cols::of(row);
        Ok((cols.take()?.text()?, cols.take()?.text()?))
    })
    .transpose()
}

/// Which device writes with `actor` (hex), if any has yet.
pub fn actor_device(conn: &mut dyn Conn, actor: &str) -> Result<Option<String>, StorageError> {
    conn.query_opt(
        "SELECT device_id FROM device_actors WHERE actor = $1",
        &[actor.into()],
    )?
    .map(|row| Cols::of(row).take()?.text())
    .transpose()
}

/// Binds `actor` to `device`: from now on only that device may write with it (a device takes a
/// new actor each time its store opens).
pub fn bind_actor(conn: &mut dyn Conn, actor: &str, device: &str) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO device_actors (actor, device_id) VALUES ($1, $2)
         ON CONFLICT (actor) DO NOTHING",
        &[actor.into(), device.into()],
    )?;
    Ok(())
}

/// Counts one more stored push of a device; returns the new count.
pub fn count_push(conn: &mut dyn Conn, device_id: &str) -> Result<u64, StorageError> {
    Ok(conn
        .query_int(
            "UPDATE devices SET pushes = pushes + 1 WHERE device_id = $1 RETURNING pushes",
            &[device_id.into()],
        )?
        .max(0) as u64)
}

/// How many households `device_id` created on `day` (a date in Beijing time), read in the
/// caller's transaction.
pub fn new_households(
    conn: &mut dyn Conn,
    device_id: &str,
    day: &str,
) -> Result<i64, StorageError> {
    Ok(conn
        .query_opt(
            "SELECT new_households FROM devices WHERE device_id = $1 AND new_households_day = $2",
            &[device_id.into(), day.into()],
        )?
        .map(|row| Cols::of(row).take()?.int())
        .transpose()?
        .unwrap_or(0))
}

/// Counts a household `device_id` created on `day`, in the caller's transaction.
pub fn count_new_household(
    conn: &mut dyn Conn,
    device_id: &str,
    day: &str,
) -> Result<(), StorageError> {
    conn.execute(
        "UPDATE devices SET new_households = CASE WHEN new_households_day = $1
             THEN new_households + 1 ELSE 1 END, new_households_day = $1
         WHERE device_id = $2",
        &[day.into(), device_id.into()],
    )?;
    Ok(())
}

/// Whether a device is enrolled and not revoked, read in the caller's transaction.
pub fn device_active(conn: &mut dyn Conn, device_id: &str) -> Result<bool, StorageError> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM devices WHERE device_id = $1 AND revoked_at IS NULL",
            &[device_id.into()],
        )?
        .is_some())
}

/// The session behind a token, read in the caller's transaction: `None` for a token that is
/// not (or no longer) a device's.
pub fn authenticate(conn: &mut dyn Conn, token: &str) -> Result<Option<Session>, StorageError> {
    let Some(row) = conn.query_opt(
        "SELECT d.device_id, d.revoked_at, d.pushes, u.id, u.name, u.role, u.region_ids
           FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = $1",
        &[Param::Blob(&sha256(token))],
    )?
    else {
        return Ok(None);
    };
    let mut cols = Cols::of(row);
    let device_id = cols.take()?.text()?;
    if cols.take()?.opt_int()?.is_some() {
        return Ok(None);
    }
    let pushes = cols.take()?.int()?.max(0) as u64;
    let id = cols.take()?.text()?;
    let name = cols.take()?.text()?;
    let role = cols.take()?.text()?;
    let regions = cols.take()?.text()?;
    let user = User {
        id,
        name,
        role: Role::from_code(&role)
            .ok_or_else(|| StorageError::Schema(format!("未知角色 {role}")))?,
        region_ids: serde_json::from_str(&regions).unwrap_or_default(),
    };
    let scope = scope_of_user(conn, &user)?;
    Ok(Some(Session {
        user,
        device_id,
        scope,
        pushes,
    }))
}

/// The session of a device of a user.
fn session(conn: &mut dyn Conn, user_id: &str, device_id: &str) -> Result<Session, AccountError> {
    let user = user(conn, user_id)?;
    let scope = scope_of_user(conn, &user)?;
    Ok(Session {
        user,
        device_id: device_id.to_string(),
        scope,
        pushes: 0,
    })
}
