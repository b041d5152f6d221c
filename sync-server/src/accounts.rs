//! Accounts on the server: regions, users with a role and regions, one-time enrollment codes,
//! devices with their tokens (stored only as SHA-256 hashes), and an append-only audit log of
//! who read or changed which household, when and from which device. Kept in `accounts.db` in the
//! data directory.

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use doorstep_core::{Region, RegionTier, Role, User};
use rand::Rng;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// How long an enrollment code stays valid.
pub const CODE_LIFETIME_HOURS: i64 = 24;
/// Characters of enrollment codes: no 0/O, 1/I/L.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Length of an enrollment code (31^8 ≈ 8.5 × 10^11 codes).
const CODE_LENGTH: usize = 8;

/// What can go wrong with accounts.
#[derive(Debug, Error)]
pub enum AccountError {
    /// The code is unknown, used or expired.
    #[error("登记码无效、已使用或已过期（有效期24小时），请向镇便民服务中心重新申请")]
    BadCode,
    /// The token is unknown or its device was revoked.
    #[error("设备未登记或已被注销，请向镇便民服务中心申请新的登记码后重新登记")]
    BadToken,
    /// A user, region or device that does not exist.
    #[error("找不到{0}")]
    NotFound(String),
    /// Bad input to an admin command.
    #[error("{0}")]
    Invalid(String),
    /// The accounts database failed.
    #[error("账户数据库出错：{0}")]
    Storage(#[from] rusqlite::Error),
}

/// Who is behind a device token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user.
    pub user: User,
    /// The device id (the phone's automerge actor id).
    pub device_id: String,
    /// The villages the user may read and write.
    pub villages: Vec<String>,
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
    /// From which device.
    pub device_id: String,
    /// Which household.
    pub household_id: String,
    /// `read`, `write` or `refused`.
    pub action: String,
    /// What was read or written, or why it was refused.
    pub detail: String,
}

/// The accounts database.
pub struct Accounts {
    conn: Mutex<Connection>,
}

fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[(rng.next_u32() as usize) % alphabet.len()] as char)
        .collect()
}

/// Normalises a typed code: upper case, without spaces or dashes.
fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS regions (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, tier TEXT NOT NULL, parent_id TEXT);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, region_ids TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS enrollment_codes (
    code_hash BLOB PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
    expires_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id), name TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL, revoked_at INTEGER);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, user_id TEXT NOT NULL,
    device_id TEXT NOT NULL, household_id TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
";

impl Accounts {
    /// Opens (creating if needed) `accounts.db` in the data directory.
    pub fn open(data: &Path) -> Result<Accounts, AccountError> {
        let conn = Connection::open(data.join("accounts.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Accounts {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or replaces a region.
    pub fn put_region(&self, region: &Region) -> Result<(), AccountError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO regions (id, name, tier, parent_id) VALUES (?1, ?2, ?3, ?4)",
            params![region.id, region.name, region.tier.code(), region.parent_id],
        )?;
        Ok(())
    }

    /// Adds or replaces a user; their regions must exist.
    pub fn put_user(&self, user: &User) -> Result<(), AccountError> {
        let conn = self.conn();
        for region in &user.region_ids {
            let known: Option<i64> = conn
                .query_row("SELECT 1 FROM regions WHERE id = ?1", [region], |r| {
                    r.get(0)
                })
                .optional()?;
            if known.is_none() {
                return Err(AccountError::NotFound(format!("地区 {region}")));
            }
        }
        let regions = serde_json::to_string(&user.region_ids)
            .map_err(|e| AccountError::Invalid(e.to_string()))?;
        conn.execute(
            "INSERT OR REPLACE INTO users (id, name, role, region_ids) VALUES (?1, ?2, ?3, ?4)",
            params![user.id, user.name, user.role.code(), regions],
        )?;
        Ok(())
    }

    fn user(conn: &Connection, id: &str) -> Result<User, AccountError> {
        let row: Option<(String, String, String)> = conn
            .query_row(
                "SELECT name, role, region_ids FROM users WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (name, role, regions) =
            row.ok_or_else(|| AccountError::NotFound(format!("用户 {id}")))?;
        Ok(User {
            id: id.to_string(),
            name,
            role: Role::from_code(&role)
                .ok_or_else(|| AccountError::Invalid(format!("未知角色 {role}")))?,
            region_ids: serde_json::from_str(&regions).unwrap_or_default(),
        })
    }

    /// The villages a user may read and write: their villages, every village of their towns,
    /// every village of their districts.
    fn villages_of(conn: &Connection, user: &User) -> Result<Vec<String>, AccountError> {
        let mut villages = Vec::new();
        let mut stmt = conn.prepare_cached(
            "WITH RECURSIVE below(id, tier) AS (
                 SELECT id, tier FROM regions WHERE id = ?1
                 UNION ALL
                 SELECT r.id, r.tier FROM regions r JOIN below b ON r.parent_id = b.id)
             SELECT id FROM below WHERE tier = ?2 ORDER BY id",
        )?;
        for region in &user.region_ids {
            for id in stmt.query_map(params![region, RegionTier::Village.code()], |r| {
                r.get::<_, String>(0)
            })? {
                villages.push(id?);
            }
        }
        villages.sort();
        villages.dedup();
        Ok(villages)
    }

    /// Issues a one-time enrollment code for a user, valid for 24 hours.
    pub fn issue_code(&self, user_id: &str, now: DateTime<Utc>) -> Result<String, AccountError> {
        let conn = self.conn();
        Accounts::user(&conn, user_id)?;
        let code = random_string(CODE_ALPHABET, CODE_LENGTH);
        let expires = now + Duration::hours(CODE_LIFETIME_HOURS);
        conn.execute(
            "INSERT INTO enrollment_codes (code_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
            params![sha256(&code), user_id, expires.timestamp()],
        )?;
        Ok(format!("{}-{}", &code[..4], &code[4..]))
    }

    /// Exchanges a code for a device token (256 random bits, hex) bound to the user and the
    /// device. The code cannot be used again.
    pub fn enroll(
        &self,
        code: &str,
        device_id: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Session), AccountError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let hash = sha256(&normalise_code(code));
        let row: Option<(String, i64, Option<i64>)> = tx
            .query_row(
                "SELECT user_id, expires_at, used_at FROM enrollment_codes WHERE code_hash = ?1",
                [&hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let user_id = match row {
            Some((user_id, expires, None)) if expires > now.timestamp() => user_id,
            _ => return Err(AccountError::BadCode),
        };
        if device_id.trim().is_empty() {
            return Err(AccountError::Invalid("设备编号不能为空".into()));
        }
        let token = random_string(b"0123456789abcdef", 64);
        tx.execute(
            "UPDATE enrollment_codes SET used_at = ?2 WHERE code_hash = ?1",
            params![hash, now.timestamp()],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO devices (device_id, token_hash, user_id, name, enrolled_at, revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            params![device_id, sha256(&token), user_id, name, now.timestamp()],
        )?;
        let user = Accounts::user(&tx, &user_id)?;
        let villages = Accounts::villages_of(&tx, &user)?;
        tx.commit()?;
        Ok((
            token,
            Session {
                user,
                device_id: device_id.to_string(),
                villages,
            },
        ))
    }

    /// The session behind a token, or [`AccountError::BadToken`].
    pub fn authenticate(&self, token: &str) -> Result<Session, AccountError> {
        let conn = self.conn();
        let row: Option<(String, String, Option<i64>)> = conn
            .prepare_cached(
                "SELECT device_id, user_id, revoked_at FROM devices WHERE token_hash = ?1",
            )?
            .query_row([sha256(token)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (device_id, user_id) = match row {
            Some((device, user, None)) => (device, user),
            _ => return Err(AccountError::BadToken),
        };
        let user = Accounts::user(&conn, &user_id)?;
        let villages = Accounts::villages_of(&conn, &user)?;
        Ok(Session {
            user,
            device_id,
            villages,
        })
    }

    /// Revokes a device: its token stops working at once.
    pub fn revoke(&self, device_id: &str, now: DateTime<Utc>) -> Result<(), AccountError> {
        let changed = self.conn().execute(
            "UPDATE devices SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
            params![device_id, now.timestamp()],
        )?;
        if changed == 0 {
            return Err(AccountError::NotFound(format!("未注销的设备 {device_id}")));
        }
        Ok(())
    }

    /// Every enrolled device.
    pub fn devices(&self) -> Result<Vec<DeviceInfo>, AccountError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT device_id, user_id, name, enrolled_at, revoked_at FROM devices ORDER BY enrolled_at, device_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeviceInfo {
                device_id: r.get(0)?,
                user_id: r.get(1)?,
                name: r.get(2)?,
                enrolled_at: DateTime::from_timestamp(r.get(3)?, 0).unwrap_or_default(),
                revoked_at: r
                    .get::<_, Option<i64>>(4)?
                    .and_then(|t| DateTime::from_timestamp(t, 0)),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Appends audit rows: `action` (read, write, refused) on each household by a session.
    pub fn audit(
        &self,
        session: &Session,
        action: &str,
        households: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO audit (at, user_id, device_id, household_id, action, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (household, detail) in households {
                stmt.execute(params![
                    now.timestamp_millis(),
                    session.user.id,
                    session.device_id,
                    household,
                    action,
                    detail
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, AccountError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT at, user_id, device_id, household_id, action, detail FROM audit ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(AuditEntry {
                at: DateTime::from_timestamp_millis(r.get(0)?).unwrap_or_default(),
                user_id: r.get(1)?,
                device_id: r.get(2)?,
                household_id: r.get(3)?,
                action: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
