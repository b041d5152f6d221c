//! The database key, supplied by the app (Android Keystore, iOS Keychain) each time the
//! store opens.

use doorstep_core::KeyProvider;

/// Why the app could not supply the key.
#[derive(Debug, uniffi::Error)]
#[uniffi::export(Display)]
pub enum KeyError {
    /// The key store is locked or the key is gone; `reason` is shown to the user.
    Unavailable {
        /// Why, in Chinese.
        reason: String,
    },
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Unavailable { reason } => f.write_str(reason),
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyError {
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyError::Unavailable {
            reason: format!("应用取密钥时出错：{}", err.reason),
        }
    }
}

/// Implemented by the app: returns the raw database key (32 random bytes kept in the
/// platform's key store).
#[uniffi::export(callback_interface)]
pub trait DatabaseKey: Send + Sync {
    /// The key, or why it cannot be had now.
    fn database_key(&self) -> Result<Vec<u8>, KeyError>;
}

/// Lets the core ask the app's callback for the key.
pub(crate) struct KeyFromApp(pub(crate) Box<dyn DatabaseKey>);

impl KeyProvider for KeyFromApp {
    fn database_key(&self) -> Result<Vec<u8>, String> {
        self.0.database_key().map_err(|e| e.to_string())
    }
}
