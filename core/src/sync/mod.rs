//! Sync with the server: one batched, resumable HTTP exchange that pushes every household's
//! unacknowledged changes and pulls what the device lacks for its scope since its cursor.
//! The wire format is in [`protocol`]; the design is written down in `docs/sync-protocol.md`.

mod client;
pub mod protocol;
mod schedule;

pub use client::{
    ProgressListener, SyncConfig, SyncError, SyncProgress, SyncReport, enroll, position, sync,
};
pub use schedule::{SyncDecision, SyncPolicy};
pub use tokio_util::sync::CancellationToken;
