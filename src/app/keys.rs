//! The controller's side of the OS keyring: the Settings choice, and keys moved to and from it on
//! a job (the OS may ask to unlock it first), never on the UI thread.

use super::FabulaApp;
use crate::keys::{KeyError, KeyStore};
use crate::storage::{Store, StoreError};

/// The job that moves keys (one at a time; work asked for meanwhile waits in `keys_again`).
pub(super) const KEYS: &str = "keys";

impl FabulaApp {
    /// Settings > Providers: keep keys in the OS key store, or in the database. Existing keys move
    /// on a job; a keyring that cannot take them leaves them where they were, and says so.
    pub(super) fn set_keys_in_keyring(
        &mut self,
        store: &Store,
        on: bool,
    ) -> Result<(), StoreError> {
        if self.jobs.is_running(KEYS) {
            self.state
                .info("Keys are being moved; try again when that is done.", false);
            return Ok(());
        }
        store.set_keys_in_keyring(on)?;
        self.state.providers.keys_in_keyring = on;
        let work = if on {
            KeysWork::to_keyring()
        } else {
            KeysWork::to_database()
        };
        self.start_moving_keys(store, work);
        Ok(())
    }

    /// Keys saved while keys go to the keyring but left in the database (added from the command
    /// line while the keyring was locked, say) move there after the first frame.
    pub(super) fn move_waiting_keys(&mut self) {
        let Some(store) = self.store.take() else {
            return;
        };
        // A few rows of settings and profiles: the keys themselves move on the job.
        let waiting = store.keys_in_keyring().unwrap_or(false)
            && store
                .list_profiles()
                .is_ok_and(|profiles| profiles.iter().any(|p| p.api_key.is_some()));
        if waiting {
            self.start_moving_keys(&store, KeysWork::to_keyring());
        }
        self.store = Some(store);
    }

    pub(super) fn start_moving_keys(&mut self, store: &Store, work: KeysWork) {
        if self.jobs.is_running(KEYS) {
            self.keys_again = Some(work);
            return;
        }
        let path = store.path().to_owned();
        let keys = self.keys.clone();
        let waker = self.waker();
        let started = self.jobs.start(
            KEYS,
            "Moving the keys",
            waker,
            move |cx| {
                cx.send(move_keys(&path, keys.as_ref(), &work));
            },
            Self::apply_keys_event,
            Self::on_keys_moved,
        );
        match started {
            Ok(()) => self.state.providers.moving_keys = true,
            Err(e) => self
                .state
                .error(format!("Could not start moving the keys: {e}")),
        }
    }

    /// Shows where the keys are now, then moves those asked for meanwhile.
    fn on_keys_moved(&mut self) {
        self.state.providers.moving_keys = false;
        if let Some(store) = self.store.take() {
            if let Err(e) = self.refresh_providers(&store) {
                self.state.error(e.to_string());
            }
            if let Some(work) = self.keys_again.take() {
                self.start_moving_keys(&store, work);
            }
            self.store = Some(store);
        }
    }

    fn apply_keys_event(&mut self, event: KeysEvent) {
        match event {
            KeysEvent::Moved { message } => {
                if let Some(message) = message {
                    self.state.info(message, false);
                }
            }
            KeysEvent::Failed {
                message,
                keyring_off,
            } => {
                if keyring_off && let Some(store) = self.store.as_ref() {
                    if let Err(e) = store.set_keys_in_keyring(false) {
                        log::warn!("the keyring choice could not be set back: {e}");
                    }
                    self.state.providers.keys_in_keyring = false;
                }
                self.state.error(message);
            }
        }
    }
}

/// What a keys job does: move every stored key to the keyring or back, and forget the keyring
/// entries of deleted profiles.
#[derive(Clone, Debug, Default)]
pub(super) struct KeysWork {
    to_keyring: Option<bool>,
    forget: Vec<String>,
}

impl KeysWork {
    pub(super) fn to_keyring() -> Self {
        Self {
            to_keyring: Some(true),
            forget: Vec::new(),
        }
    }

    pub(super) fn to_database() -> Self {
        Self {
            to_keyring: Some(false),
            forget: Vec::new(),
        }
    }

    pub(super) fn forget(profile_id: &str) -> Self {
        Self {
            to_keyring: None,
            forget: vec![profile_id.to_owned()],
        }
    }
}

pub enum KeysEvent {
    Moved {
        message: Option<String>,
    },
    /// Nothing was lost: keys that could not move are still where they were.
    Failed {
        message: String,
        /// The keyring cannot take keys: the choice goes back to the database.
        keyring_off: bool,
    },
}

/// The job's work (worker thread): each key is first written to where it goes, then removed from
/// where it was, so a failure half way leaves every key readable.
fn move_keys(path: &std::path::Path, keys: &dyn KeyStore, work: &KeysWork) -> KeysEvent {
    let failed = |message: String, keyring_off| KeysEvent::Failed {
        message,
        keyring_off,
    };
    let store = match Store::open_worker(path) {
        Ok(store) => store,
        Err(e) => return failed(e.to_string(), false),
    };
    for id in &work.forget {
        if let Err(e) = keys.forget(id) {
            log::warn!("the key of a deleted profile stays in {}: {e}", keys.name());
        }
    }
    let Some(to_keyring) = work.to_keyring else {
        return KeysEvent::Moved { message: None };
    };
    let profiles = match store.list_profiles() {
        Ok(p) => p,
        Err(e) => return failed(e.to_string(), false),
    };
    let mut moved = 0;
    for profile in profiles {
        match (to_keyring, &profile.api_key, profile.key_in_keyring) {
            (true, Some(key), _) if !key.is_empty() => {
                if let Err(e) = keys.write(&profile.id, key) {
                    let off = matches!(e, KeyError::Unavailable(_));
                    return failed(
                        format!(
                            "The key of “{}” could not be put in {}: {e} Keys stay in Fabula's database.",
                            profile.name,
                            keys.name()
                        ),
                        off,
                    );
                }
                match store.key_moved_to_keyring(&profile.id, key) {
                    Ok(true) => moved += 1,
                    Ok(false) => {}
                    Err(e) => return failed(e.to_string(), false),
                }
            }
            (false, None, true) => {
                let key = match keys.read(&profile.id) {
                    Ok(key) => key,
                    Err(e) => {
                        return failed(
                            format!(
                                "The key of “{}” could not be read from {}: {e} It stays there; unlock the keyring and choose again.",
                                profile.name,
                                keys.name()
                            ),
                            false,
                        );
                    }
                };
                if let Err(e) = store.key_moved_to_database(&profile.id, key.as_ref()) {
                    return failed(e.to_string(), false);
                }
                if let Err(e) = keys.forget(&profile.id) {
                    log::warn!("a key moved back stays in {} too: {e}", keys.name());
                }
                moved += 1;
            }
            _ => {}
        }
    }
    let place = if to_keyring {
        keys.name()
    } else {
        "Fabula's database"
    };
    KeysEvent::Moved {
        message: (moved > 0).then(|| match moved {
            1 => format!("1 key is now in {place}."),
            n => format!("{n} keys are now in {place}."),
        }),
    }
}
