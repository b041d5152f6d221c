//! `doorstep-ffi`: the uniffi layer over `doorstep-core` for the Kotlin (Android) and Swift (iOS)
//! shells. It holds no business logic: one store object whose methods forward to the core,
//! the core's records, enums and errors (derived in the core under its `uniffi` feature), and
//! the callbacks the app implements (the database key, sync progress).
//!
//! Generate the foreign sources with `scripts/bindings.sh` (Kotlin package and Swift module
//! names are in `uniffi.toml`). Every core error reaches the app as a typed exception whose
//! message, in Chinese, says what to do; a panic would become an internal error, not a crash.

mod key;
mod store;
mod sync;

pub use key::{DatabaseKey, KeyError};
pub use store::{DoorstepStore, check_id_number, check_mobile, service_catalogue};
pub use sync::{SyncCancel, SyncListener, SyncServer};

use doorstep_core::ffi::{CalendarDate, Instant};

uniffi::setup_scaffolding!("doorstep");
uniffi::use_remote_type!(doorstep_core::CalendarDate);
uniffi::use_remote_type!(doorstep_core::Instant);
