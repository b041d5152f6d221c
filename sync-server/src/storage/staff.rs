//! Sign-in to the hub console for town and district staff: passwords kept as argon2id hashes,
//! and console sessions kept only as hashes of their cookie token, each with the CSRF token its
//! forms must carry.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use doorstep_core::{Role, User};

use super::accounts::{AccountError, Scope, audit, random_token, scope_of_user, sha256};
use super::sql::{Cols, Param};
use super::{Storage, StorageError};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// How long a console session lasts.
pub const SESSION_HOURS: i64 = 10;

/// A signed-in console user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The staff member.
    pub user: User,
    /// The villages they may see and act on.
    pub scope: Scope,
    /// The token every form of this session carries.
    pub csrf: String,
    /// The audit log's name for this session (a prefix of its token's hash).
    pub label: String,
}

/// Whether a role may use the console.
pub fn may_use_console(role: Role) -> bool {
    matches!(role, Role::TownStaff | Role::District)
}

fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut bytes = [0u8; 16];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| AccountError::Invalid(format!("无法保存密码：{e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AccountError::Invalid(format!("无法保存密码：{e}")))
}

/// Verifies a password against a stored hash; a missing hash is checked against a fixed one,
/// so that an unknown account takes as long to refuse as a wrong password.
fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static UNKNOWN: OnceLock<String> = OnceLock::new();
    let unknown = UNKNOWN.get_or_init(|| hash_password("no such account").unwrap_or_default());
    let known = stored.is_some();
    let Ok(hash) = PasswordHash::new(stored.unwrap_or(unknown)) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
        && known
}

fn session_label(token_hash: &[u8]) -> String {
    let hex: String = token_hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("console-{}", &hex[..12])
}

impl Storage {
    /// Sets a town or district staff member's console password.
    pub fn set_password(
        &self,
        user_id: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let staff = self.user(user_id)?;
        if !may_use_console(staff.role) {
            return Err(AccountError::Invalid(
                "只有镇、区工作人员可以登录镇便民服务中心工作台".into(),
            ));
        }
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AccountError::Invalid(format!(
                "密码至少 {MIN_PASSWORD_CHARS} 个字符"
            )));
        }
        let hash = hash_password(password)?;
        self.write(|conn| {
            conn.execute(
                "INSERT INTO staff_passwords (user_id, hash, set_at) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at",
                &[user_id.into(), hash.as_str().into(), now.timestamp().into()],
            )?;
            // A new password ends the sessions opened with the old one.
            conn.execute(
                "DELETE FROM console_sessions WHERE user_id = $1",
                &[user_id.into()],
            )?;
            Ok(())
        })?;
        Ok(())
    }

    /// Signs a staff member in: returns the session's cookie token (256 random bits, hex) and
    /// the session. A wrong password and an unknown account are refused alike, and audited.
    pub fn sign_in(
        &self,
        user_id: &str,
        password: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, ConsoleSession), AccountError> {
        let stored = self.read(|conn| {
            conn.query_opt(
                "SELECT hash FROM staff_passwords WHERE user_id = $1",
                &[user_id.into()],
            )?
            .map(|row| Cols::of(row).take()?.text())
            .transpose()
        })?;
        if !verify_password(password, stored.as_deref()) {
            let rows = [("-".to_string(), format!("工作台登录失败：{address}"))];
            let name: String = user_id.chars().take(64).collect();
            self.write(|conn| audit(conn, &name, "console", "sign-in-refused", &rows, now))?;
            return Err(AccountError::BadPassword);
        }
        let staff = self.user(user_id)?;
        let token = random_token();
        let csrf = random_token();
        let token_hash = sha256(&token);
        let label = session_label(&token_hash);
        let expires = now + Duration::hours(SESSION_HOURS);
        let scope = self.write(|conn| {
            conn.execute(
                "INSERT INTO console_sessions (token_hash, user_id, csrf, expires_at)
                 VALUES ($1, $2, $3, $4)",
                &[
                    Param::Blob(&token_hash),
                    user_id.into(),
                    csrf.as_str().into(),
                    expires.timestamp().into(),
                ],
            )?;
            let rows = [("-".to_string(), format!("工作台登录：{address}"))];
            audit(conn, user_id, &label, "sign-in", &rows, now)?;
            scope_of_user(conn, &staff)
        })?;
        Ok((
            token,
            ConsoleSession {
                user: staff,
                scope,
                csrf,
                label,
            },
        ))
    }

    /// The session of a cookie token, if it is open and its user may still use the console.
    pub fn console_session(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ConsoleSession>, AccountError> {
        let token_hash = sha256(token);
        let found = self.read(|conn| {
            conn.query_opt(
                "SELECT user_id, csrf FROM console_sessions
                 WHERE token_hash = $1 AND expires_at > $2",
                &[Param::Blob(&token_hash), now.timestamp().into()],
            )?
            .map(|row| {
                let mut cols = Cols::of(row);
                Ok((cols.take()?.text()?, cols.take()?.text()?))
            })
            .transpose()
        })?;
        let Some((user_id, csrf)) = found else {
            return Ok(None);
        };
        let staff = self.user(&user_id)?;
        if !may_use_console(staff.role) {
            return Ok(None);
        }
        let scope = self.read(|conn| scope_of_user(conn, &staff))?;
        Ok(Some(ConsoleSession {
            user: staff,
            scope,
            csrf,
            label: session_label(&token_hash),
        }))
    }

    /// Ends a console session.
    pub fn sign_out(
        &self,
        token: &str,
        session: &ConsoleSession,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let token_hash = sha256(token);
        self.write(|conn| {
            conn.execute(
                "DELETE FROM console_sessions WHERE token_hash = $1",
                &[Param::Blob(&token_hash)],
            )?;
            let rows = [("-".to_string(), "工作台退出".to_string())];
            audit(
                conn,
                &session.user.id,
                &session.label,
                "sign-out",
                &rows,
                now,
            )
        })?;
        Ok(())
    }
}

impl Storage {
    /// Writes a console page read or action to the audit log, under the session.
    pub fn audit_console(
        &self,
        session: &ConsoleSession,
        action: &str,
        household: &str,
        detail: &str,
    ) -> Result<(), StorageError> {
        let rows = [(household.to_string(), detail.to_string())];
        self.write(|conn| {
            audit(
                conn,
                &session.user.id,
                &session.label,
                action,
                &rows,
                Utc::now(),
            )
        })
    }
}
