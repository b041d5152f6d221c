//! The store's versioned migrations. Document tables hold the truth; projection tables are
//! derived, so a migration that changes them asks for a rebuild from the documents.

use rusqlite::Connection;

use crate::error::{CoreError, Result};

/// One step of the schema.
pub(crate) struct Migration {
    /// The SQL to run.
    pub sql: &'static str,
    /// Whether the projection tables must be rebuilt from the documents afterwards.
    pub rebuild_projections: bool,
}

/// The migrations in order; `PRAGMA user_version` counts how many have run.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: "
        CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
        CREATE TABLE documents (
            household_id TEXT PRIMARY KEY,
            snapshot BLOB NOT NULL,
            chunk_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE doc_chunks (
            household_id TEXT NOT NULL REFERENCES documents(household_id),
            seq INTEGER NOT NULL,
            bytes BLOB NOT NULL,
            PRIMARY KEY (household_id, seq)
        );",
        rebuild_projections: false,
    },
    Migration {
        sql: "
        CREATE TABLE households (
            id TEXT PRIMARY KEY,
            village_id TEXT NOT NULL,
            group_name TEXT NOT NULL,
            address TEXT NOT NULL,
            phone TEXT,
            member_count INTEGER NOT NULL,
            conflict_count INTEGER NOT NULL
        );
        CREATE INDEX households_village ON households(village_id);
        CREATE TABLE members (
            id TEXT PRIMARY KEY,
            household_id TEXT NOT NULL,
            village_id TEXT NOT NULL,
            name TEXT NOT NULL,
            id_number TEXT,
            phone TEXT,
            gender TEXT,
            birth_date TEXT,
            relation TEXT NOT NULL,
            tag_mask INTEGER NOT NULL,
            status TEXT NOT NULL
        );
        CREATE INDEX members_household ON members(household_id);
        CREATE INDEX members_village ON members(village_id, tag_mask);
        CREATE TABLE ledger_lines (
            id TEXT PRIMARY KEY,
            household_id TEXT NOT NULL,
            village_id TEXT NOT NULL,
            member_id TEXT NOT NULL,
            title TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT,
            urgency INTEGER NOT NULL,
            next_due TEXT,
            created_on TEXT NOT NULL
        );
        CREATE INDEX ledger_household ON ledger_lines(household_id);
        CREATE INDEX ledger_due ON ledger_lines(next_due) WHERE next_due IS NOT NULL;
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            household_id TEXT NOT NULL,
            village_id TEXT NOT NULL,
            member_id TEXT NOT NULL,
            special INTEGER NOT NULL,
            item_code TEXT NOT NULL,
            item_tier TEXT NOT NULL,
            mode TEXT NOT NULL,
            urgency INTEGER NOT NULL,
            state TEXT NOT NULL,
            informed_on TEXT NOT NULL,
            accepted_at INTEGER,
            promised_due TEXT,
            completed_at INTEGER,
            completed_on TEXT,
            on_time INTEGER,
            rating TEXT,
            rated_on TEXT,
            next_due TEXT,
            conflict_count INTEGER NOT NULL
        );
        CREATE INDEX jobs_household ON jobs(household_id);
        CREATE INDEX jobs_due ON jobs(next_due) WHERE next_due IS NOT NULL;
        CREATE INDEX jobs_village_state ON jobs(village_id, state);
        CREATE TABLE visits (
            id TEXT PRIMARY KEY,
            household_id TEXT NOT NULL,
            village_id TEXT NOT NULL,
            planned_for TEXT,
            done_on TEXT,
            outcome TEXT
        );
        CREATE INDEX visits_household ON visits(household_id);",
        rebuild_projections: true,
    },
    Migration {
        sql: "
        CREATE TABLE sync_state (
            household_id TEXT PRIMARY KEY,
            acked_heads BLOB NOT NULL,
            local_changes INTEGER NOT NULL DEFAULT 0,
            rejected_reason TEXT,
            needs_snapshot INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE journal (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            household_id TEXT NOT NULL,
            village_id TEXT NOT NULL,
            origin TEXT NOT NULL,
            bytes BLOB NOT NULL
        );
        CREATE INDEX journal_village ON journal(village_id, seq);",
        rebuild_projections: false,
    },
    Migration {
        sql: "
        ALTER TABLE sync_state ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sync_state ADD COLUMN failure_reason TEXT;",
        rebuild_projections: false,
    },
    // The server's journal moved to the server's own storage; phones never used it.
    Migration {
        sql: "DROP TABLE journal;",
        rebuild_projections: false,
    },
    // The day a one-off need was closed (销号), for the figures.
    Migration {
        sql: "ALTER TABLE ledger_lines ADD COLUMN closed_on TEXT;",
        rebuild_projections: true,
    },
    // When a household the server refused is pushed again (device time, milliseconds).
    Migration {
        sql: "ALTER TABLE sync_state ADD COLUMN retry_refused_at INTEGER;",
        rebuild_projections: false,
    },
];

/// The meta key that marks the projections as needing a rebuild from the documents.
pub(crate) const PROJECTIONS_STALE: &str = "projections_stale";

/// Runs the migrations not yet applied, each in its own transaction. A migration that changes
/// projections marks them stale in the same transaction, so a crash before the rebuild
/// finishes leaves the mark for the next open.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[Migration]) -> Result<()> {
    let done = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?;
    if done > migrations.len() as i64 {
        return Err(CoreError::StoreTooNew {
            found: done,
            supported: migrations.len() as i64,
        });
    }
    for (index, migration) in migrations.iter().enumerate().skip(done.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
        if migration.rebuild_projections {
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, 1)",
                [PROJECTIONS_STALE],
            )?;
        }
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
