//! Enrolment and sync: async functions the app awaits (on the core's tokio runtime), with
//! progress reported to a callback and a cancel handle.

use std::sync::Arc;

use doorstep_core::User;
use doorstep_core::sync::{
    CancellationToken, ProgressListener, SyncConfig, SyncError, SyncProgress, SyncReport, enroll,
    sync,
};

use crate::store::DoorstepStore;

/// Where the sync server is and which certificates to trust for it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncServer {
    /// Its base address, for example `https://sync.example.cn`.
    pub url: String,
    /// CA certificates (PEM) an HTTPS server must chain to, replacing the system's: the
    /// town's own CA shipped with the app (needed for HTTPS on Android). Empty: the system's.
    #[uniffi(default)]
    pub trusted_certificates: Vec<String>,
}

impl SyncServer {
    /// The core's sync configuration for this server.
    fn config(self) -> SyncConfig {
        SyncConfig {
            trusted_certificates: self.trusted_certificates,
            ..SyncConfig::new(self.url)
        }
    }
}

/// Implemented by the app: receives progress after every round of a sync (a progress bar).
#[uniffi::export(callback_interface)]
pub trait SyncListener: Send + Sync {
    /// How far the sync has got.
    fn on_progress(&self, progress: SyncProgress);
}

/// Lets the core report progress to the app's callback.
struct ProgressToApp(Box<dyn SyncListener>);

impl ProgressListener for ProgressToApp {
    fn on_progress(&self, progress: &SyncProgress) {
        self.0.on_progress(progress.clone());
    }
}

/// Cancels a running sync: it stops after the current step and keeps what was committed.
#[derive(uniffi::Object, Default)]
pub struct SyncCancel {
    token: CancellationToken,
}

#[uniffi::export]
impl SyncCancel {
    /// A fresh handle, passed to one sync.
    #[uniffi::constructor]
    pub fn new() -> Arc<SyncCancel> {
        Arc::new(SyncCancel::default())
    }

    /// Asks the sync to stop; it then fails with `Cancelled`.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl DoorstepStore {
    /// Enrolls this phone with the one-time code from hub staff; signs the user in and
    /// returns them (their villages are what the phone syncs).
    pub async fn enroll(
        &self,
        server: SyncServer,
        code: String,
        device_name: String,
    ) -> Result<User, SyncError> {
        let config = server.config();
        let answer = enroll(Arc::clone(&self.store), &config, &code, &device_name).await?;
        Ok(answer.user)
    }

    /// Syncs with the server until nothing is left to send or receive. Progress goes to
    /// `listener` after every round; `cancel` stops it. Each round is committed as it
    /// finishes, so a failure or cancel keeps earlier rounds, and the error is also kept in
    /// the sync status.
    pub async fn sync(
        &self,
        server: SyncServer,
        listener: Option<Box<dyn SyncListener>>,
        cancel: Arc<SyncCancel>,
    ) -> Result<SyncReport, SyncError> {
        let listener = listener.map(|l| Arc::new(ProgressToApp(l)) as Arc<dyn ProgressListener>);
        sync(
            Arc::clone(&self.store),
            server.config(),
            listener,
            cancel.token.clone(),
        )
        .await
    }
}
