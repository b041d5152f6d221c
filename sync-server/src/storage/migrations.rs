//! The server's versioned schema. Each migration is written once, with `{int}`, `{blob}`,
//! `{real}` and `{serial}` standing for the column types of the dialect, and runs in its own
//! transaction. A database written by a newer version of the server is refused, untouched.

use super::StorageError;
use super::sql::{Conn, Dialect};

/// One step of the schema.
struct Migration {
    /// Statements for both dialects.
    common: &'static str,
    /// Statements for SQLite only.
    sqlite: &'static str,
    /// Statements for PostgreSQL only.
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        common: "
    CREATE TABLE regions (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, tier TEXT NOT NULL, parent_id TEXT);
    CREATE INDEX regions_parent ON regions (parent_id);
    CREATE TABLE users (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, region_ids TEXT NOT NULL);
    CREATE TABLE enrollment_codes (
        code_hash {blob} PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
        expires_at {int} NOT NULL, used_at {int});
    CREATE TABLE devices (
        device_id TEXT PRIMARY KEY, token_hash {blob} NOT NULL UNIQUE,
        user_id TEXT NOT NULL REFERENCES users(id), name TEXT NOT NULL,
        enrolled_at {int} NOT NULL, revoked_at {int}, pushes {int} NOT NULL DEFAULT 0);
    CREATE TABLE device_actors (
        actor TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(device_id));
    CREATE TABLE audit (
        seq {serial}, at {int} NOT NULL, user_id TEXT NOT NULL, device_id TEXT NOT NULL,
        household_id TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX audit_household ON audit (household_id, seq);
    CREATE TABLE documents (
        household_id TEXT PRIMARY KEY, village_id TEXT NOT NULL,
        snapshot {blob} NOT NULL, chunk_count {int} NOT NULL, version {int} NOT NULL);
    CREATE INDEX documents_village ON documents (village_id, household_id);
    CREATE TABLE doc_chunks (
        household_id TEXT NOT NULL REFERENCES documents(household_id), seq {int} NOT NULL,
        bytes {blob} NOT NULL, PRIMARY KEY (household_id, seq));
    CREATE TABLE journal (
        town_id TEXT NOT NULL, seq {int} NOT NULL, household_id TEXT NOT NULL,
        village_id TEXT NOT NULL, origin TEXT NOT NULL, bytes {blob} NOT NULL,
        PRIMARY KEY (town_id, seq));
    CREATE INDEX journal_village ON journal (village_id, seq);
    CREATE TABLE journal_heads (town_id TEXT PRIMARY KEY, seq {int} NOT NULL);
    CREATE TABLE households (
        id TEXT PRIMARY KEY, village_id TEXT NOT NULL, group_name TEXT NOT NULL,
        address TEXT NOT NULL, phone TEXT, member_count {int} NOT NULL,
        conflict_count {int} NOT NULL);
    CREATE INDEX households_village ON households (village_id);
    CREATE TABLE members (
        id TEXT PRIMARY KEY, household_id TEXT NOT NULL, village_id TEXT NOT NULL,
        name TEXT NOT NULL, id_number TEXT, phone TEXT, gender TEXT, birth_date TEXT,
        relation TEXT NOT NULL, tag_mask {int} NOT NULL, status TEXT NOT NULL);
    CREATE INDEX members_household ON members (household_id);
    CREATE INDEX members_village ON members (village_id, tag_mask);
    CREATE TABLE ledger_lines (
        id TEXT PRIMARY KEY, household_id TEXT NOT NULL, village_id TEXT NOT NULL,
        member_id TEXT NOT NULL, title TEXT NOT NULL, kind TEXT NOT NULL, status TEXT,
        urgency {int} NOT NULL, next_due TEXT, created_on TEXT NOT NULL);
    CREATE INDEX ledger_household ON ledger_lines (household_id);
    CREATE INDEX ledger_village_due ON ledger_lines (village_id, next_due);
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY, household_id TEXT NOT NULL, village_id TEXT NOT NULL,
        member_id TEXT NOT NULL, special {int} NOT NULL, item_code TEXT NOT NULL,
        item_tier TEXT NOT NULL, mode TEXT NOT NULL, urgency {int} NOT NULL,
        state TEXT NOT NULL, informed_on TEXT NOT NULL, accepted_at {int},
        promised_due TEXT, completed_at {int}, completed_on TEXT, on_time {int},
        rating TEXT, rated_on TEXT, next_due TEXT, conflict_count {int} NOT NULL);
    CREATE INDEX jobs_household ON jobs (household_id);
    CREATE INDEX jobs_village_state ON jobs (village_id, state);
    CREATE TABLE visits (
        id TEXT PRIMARY KEY, household_id TEXT NOT NULL, village_id TEXT NOT NULL,
        planned_for TEXT, done_on TEXT, outcome TEXT);
    CREATE INDEX visits_household ON visits (household_id);
    CREATE INDEX visits_village ON visits (village_id, done_on);",
        sqlite: "
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
        postgres: "
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$;
    CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
        FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();",
    },
    Migration {
        // The hub console: staff passwords (argon2id), sessions (token hashes), and the needs
        // registered at the hub (intakes), followed to their end; and when the server received
        // each change (by its actor and number), shown next to the device's own time.
        common: "
    CREATE TABLE staff_passwords (
        user_id TEXT PRIMARY KEY REFERENCES users(id), hash TEXT NOT NULL, set_at {int} NOT NULL);
    CREATE TABLE console_sessions (
        token_hash {blob} PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
        csrf TEXT NOT NULL, expires_at {int} NOT NULL);
    CREATE INDEX console_sessions_user ON console_sessions (user_id);
    CREATE TABLE intakes (
        id TEXT PRIMARY KEY, household_id TEXT NOT NULL, village_id TEXT NOT NULL,
        member_id TEXT NOT NULL, kind TEXT NOT NULL, entity_id TEXT NOT NULL,
        source TEXT NOT NULL, summary TEXT NOT NULL, registered_by TEXT NOT NULL,
        registered_at {int} NOT NULL);
    CREATE INDEX intakes_village ON intakes (village_id, registered_at);
    ALTER TABLE journal ADD COLUMN actor TEXT;
    ALTER TABLE journal ADD COLUMN change_seq {int};
    ALTER TABLE journal ADD COLUMN received_at {int};
    CREATE INDEX journal_change ON journal (household_id, actor, change_seq);",
        sqlite: "",
        postgres: "",
    },
    Migration {
        // Figures and exports: the day a one-off need was closed (销号; no need had one
        // before, so existing rows are right as NULL), the dates figures count by, and the
        // exports' progress.
        common: "
    ALTER TABLE ledger_lines ADD COLUMN closed_on TEXT;
    CREATE INDEX ledger_village_created ON ledger_lines (village_id, created_on);
    CREATE INDEX ledger_village_closed ON ledger_lines (village_id, closed_on);
    CREATE INDEX jobs_village_informed ON jobs (village_id, informed_on);
    CREATE INDEX jobs_village_completed ON jobs (village_id, completed_on);
    CREATE INDEX jobs_village_rated ON jobs (village_id, rated_on);
    CREATE TABLE export_grants (
        user_id TEXT PRIMARY KEY REFERENCES users(id), granted_at {int} NOT NULL);
    CREATE TABLE exports (
        id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), scope TEXT NOT NULL,
        file_name TEXT NOT NULL, full_numbers {int} NOT NULL, reason TEXT,
        created_at {int} NOT NULL, state TEXT NOT NULL, done {int} NOT NULL,
        total {int} NOT NULL, updated_at {int} NOT NULL, bytes {int}, error TEXT);
    CREATE INDEX exports_user ON exports (user_id, created_at);
    CREATE INDEX exports_created ON exports (created_at);
    CREATE TABLE export_chunks (
        export_id TEXT NOT NULL REFERENCES exports(id), seq {int} NOT NULL,
        bytes {blob} NOT NULL, PRIMARY KEY (export_id, seq));",
        sqlite: "",
        postgres: "",
    },
    Migration {
        // The households still refused to each device (the console's front page).
        common: "
    CREATE TABLE refused_pushes (
        device_id TEXT NOT NULL REFERENCES devices(device_id), household_id TEXT NOT NULL,
        reason TEXT NOT NULL, at {int} NOT NULL, PRIMARY KEY (device_id, household_id));",
        sqlite: "",
        postgres: "",
    },
    Migration {
        // The households each device created on its last day of creating any (the bound on
        // new households per device and day).
        common: "
    ALTER TABLE devices ADD COLUMN new_households_day TEXT;
    ALTER TABLE devices ADD COLUMN new_households {int} NOT NULL DEFAULT 0;",
        sqlite: "",
        postgres: "",
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The statements of `sql` with the dialect's column types.
fn typed(sql: &str, dialect: Dialect) -> String {
    let (int, blob, real, serial) = match dialect {
        Dialect::Sqlite => (
            "INTEGER",
            "BLOB",
            "REAL",
            "INTEGER PRIMARY KEY AUTOINCREMENT",
        ),
        Dialect::Postgres => (
            "BIGINT",
            "BYTEA",
            "DOUBLE PRECISION",
            "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        ),
    };
    sql.replace("{int}", int)
        .replace("{blob}", blob)
        .replace("{real}", real)
        .replace("{serial}", serial)
}

/// The version of the database's schema (0 for an empty database).
fn version(conn: &mut dyn Conn) -> Result<i64, StorageError> {
    conn.batch(&typed(
        "CREATE TABLE IF NOT EXISTS schema_version (version {int} NOT NULL)",
        conn.dialect(),
    ))?;
    Ok(conn
        .query_opt("SELECT max(version) FROM schema_version", &[])?
        .and_then(|row| row.into_iter().next())
        .map(|v| v.opt_int())
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

/// Runs the next migration this database lacks, in the caller's transaction; returns whether
/// there was one. Refuses a database written by a newer server.
pub fn step(conn: &mut dyn Conn) -> Result<bool, StorageError> {
    if conn.dialect() == Dialect::Postgres {
        // Two processes starting at once migrate one after the other.
        conn.execute("SELECT pg_advisory_xact_lock(20261129)", &[])?;
    }
    let done = version(conn)?;
    if done > SCHEMA_VERSION {
        return Err(StorageError::TooNew {
            found: done,
            supported: SCHEMA_VERSION,
        });
    }
    let Some(next) = MIGRATIONS.get(done as usize) else {
        return Ok(false);
    };
    let dialect = conn.dialect();
    conn.batch(&typed(next.common, dialect))?;
    conn.batch(match dialect {
        Dialect::Sqlite => next.sqlite,
        Dialect::Postgres => next.postgres,
    })?;
    conn.execute("DELETE FROM schema_version", &[])?;
    conn.execute(
        "INSERT INTO schema_version (version) VALUES ($1)",
        &[(done + 1).into()],
    )?;
    Ok(true)
}
