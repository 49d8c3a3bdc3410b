//! API keys in the OS key store (Secret Service on Linux, the Keychain on macOS, the Credential
//! Manager on Windows), for profiles that keep theirs there rather than in the database. A read
//! or write can wait on the OS (an unlock prompt), so they run on jobs, never on the UI thread.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::domain::Secret;

/// Where Fabula's entries are filed in the OS key store: one per profile, named by its id.
const SERVICE: &str = "fabula";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// There is no key store to use (none installed or running, or it is locked and was not
    /// opened): keys stay in the database.
    #[error("No OS keyring is available ({0}).")]
    Unavailable(String),
    #[error("The OS keyring failed: {0}")]
    Failed(String),
}

/// A place to keep API keys outside the database.
pub trait KeyStore: Send + Sync {
    /// What the user knows it as ("the Secret Service keyring").
    fn name(&self) -> &'static str;
    /// The profile's key, or `None` when the store has none for it.
    fn read(&self, profile_id: &str) -> Result<Option<Secret>, KeyError>;
    fn write(&self, profile_id: &str, key: &Secret) -> Result<(), KeyError>;
    /// Removes the profile's key; a key that is not there is not an error.
    fn forget(&self, profile_id: &str) -> Result<(), KeyError>;
}

/// The operating system's key store.
pub struct OsKeyStore;

impl OsKeyStore {
    fn entry(profile_id: &str) -> Result<keyring::Entry, KeyError> {
        keyring::Entry::new(SERVICE, profile_id).map_err(os_error)
    }
}

fn os_error(e: keyring::Error) -> KeyError {
    match e {
        keyring::Error::NoDefaultStore => {
            KeyError::Unavailable("this system offers none to Fabula".into())
        }
        keyring::Error::NoStorageAccess(why) | keyring::Error::PlatformFailure(why) => {
            KeyError::Unavailable(why.to_string())
        }
        other => KeyError::Failed(other.to_string()),
    }
}

impl KeyStore for OsKeyStore {
    fn name(&self) -> &'static str {
        if cfg!(target_os = "macos") {
            "the macOS Keychain"
        } else if cfg!(windows) {
            "the Windows Credential Manager"
        } else {
            "the Secret Service keyring"
        }
    }

    fn read(&self, profile_id: &str) -> Result<Option<Secret>, KeyError> {
        match Self::entry(profile_id)?.get_password() {
            Ok(key) => Ok(Some(Secret::new(key))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(os_error(e)),
        }
    }

    fn write(&self, profile_id: &str, key: &Secret) -> Result<(), KeyError> {
        Self::entry(profile_id)?
            .set_password(key.expose())
            .map_err(os_error)
    }

    fn forget(&self, profile_id: &str) -> Result<(), KeyError> {
        match Self::entry(profile_id)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(os_error(e)),
        }
    }
}

/// Keys held by this process only: for tests, which must not touch the machine's keyring. It can
/// be made to behave as an unavailable store.
#[derive(Default)]
pub struct MemoryKeyStore {
    keys: Mutex<HashMap<String, String>>,
    unavailable: AtomicBool,
}

impl MemoryKeyStore {
    /// From now on every call fails as a missing or locked keyring does.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    fn keys(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, String>>, KeyError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(KeyError::Unavailable(
                "the test keyring is switched off".into(),
            ));
        }
        Ok(self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl KeyStore for MemoryKeyStore {
    fn name(&self) -> &'static str {
        "the test keyring"
    }

    fn read(&self, profile_id: &str) -> Result<Option<Secret>, KeyError> {
        Ok(self.keys()?.get(profile_id).cloned().map(Secret::new))
    }

    fn write(&self, profile_id: &str, key: &Secret) -> Result<(), KeyError> {
        self.keys()?
            .insert(profile_id.to_owned(), key.expose().to_owned());
        Ok(())
    }

    fn forget(&self, profile_id: &str) -> Result<(), KeyError> {
        self.keys()?.remove(profile_id);
        Ok(())
    }
}
