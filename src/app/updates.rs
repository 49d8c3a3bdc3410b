//! The controller's side of self-update: checks and installs run as jobs; their events move
//! `AppState::update` along; a daily check after the first frame when the user allows it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::FabulaApp;
use crate::domain::now_ms;
use crate::jobs::{NoWaker, Waker};
use crate::state::UpdateStatus;
use crate::storage::Store;
use crate::update::{self, CheckOutcome, UpdateError};

pub const CHECK_ON_START_KEY: &str = "update.check_on_start";
const LAST_CHECK_KEY: &str = "update.last_check_ms";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// The update job: a check or an install, one at a time.
const UPDATE: &str = "update";

pub enum UpdateEvent {
    Checked(Result<CheckOutcome, UpdateError>),
    Progress(u64, Option<u64>),
    Installed(Result<(), UpdateError>),
}

impl FabulaApp {
    pub(super) fn waker(&self) -> Arc<dyn Waker> {
        self.waker.clone().unwrap_or_else(|| Arc::new(NoWaker))
    }

    pub(super) fn start_update_check_if_due(&mut self) {
        if !self.state.update.check_on_start {
            return;
        }
        let last = self
            .store
            .as_ref()
            .and_then(|s| s.setting(LAST_CHECK_KEY).ok().flatten())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        if now_ms() - last >= DAY_MS {
            self.check_for_updates();
        }
    }

    pub(super) fn check_for_updates(&mut self) {
        let Some(config) = self.update_config.clone() else {
            self.state.update.status =
                UpdateStatus::Failed("Updates are not configured in this run.".into());
            return;
        };
        if self.jobs.is_running(UPDATE) {
            return;
        }
        if let Some(store) = self.store.as_ref() {
            let _ = store.set_setting(LAST_CHECK_KEY, &now_ms().to_string());
        }
        self.state.update.status = UpdateStatus::Checking;
        let waker = self.waker();
        let started = self.jobs.start(
            UPDATE,
            "The update check",
            waker,
            move |cx| {
                cx.send(UpdateEvent::Checked(update::check(&config)));
            },
            Self::on_update_event,
            Self::on_update_end,
        );
        if let Err(e) = started {
            self.state.update.status = UpdateStatus::Failed(e.to_string());
        }
    }

    pub(super) fn install_update(&mut self) {
        let (Some(config), UpdateStatus::Available(available)) =
            (self.update_config.clone(), self.state.update.status.clone())
        else {
            return;
        };
        if self.jobs.is_running(UPDATE) {
            return;
        }
        self.update_cancel.store(false, Ordering::Relaxed);
        let cancel = self.update_cancel.clone();
        self.state.update.status = UpdateStatus::Downloading {
            version: available.version.to_string(),
            done: 0,
            total: None,
        };
        let waker = self.waker();
        let work = move |cx: &crate::jobs::JobContext<UpdateEvent>| {
            let progress_tx = cx.progress_sender();
            let result = update::install(
                &config,
                &available,
                move |done, total| progress_tx(UpdateEvent::Progress(done, total)),
                cancel,
            );
            cx.send(UpdateEvent::Installed(result));
        };
        let started = self.jobs.start(
            UPDATE,
            "The update",
            waker,
            work,
            Self::on_update_event,
            Self::on_update_end,
        );
        if let Err(e) = started {
            self.state.update.status = UpdateStatus::Failed(e.to_string());
        }
    }

    pub(super) fn cancel_update(&mut self) {
        self.update_cancel.store(true, Ordering::Relaxed);
        self.jobs.cancel(UPDATE);
    }

    pub(super) fn set_check_on_start(
        &mut self,
        store: &Store,
        on: bool,
    ) -> Result<(), crate::storage::StoreError> {
        store.set_setting(CHECK_ON_START_KEY, if on { "true" } else { "false" })?;
        self.state.update.check_on_start = on;
        Ok(())
    }

    /// An ended check or install that said nothing more has failed.
    fn on_update_end(&mut self) {
        if matches!(
            self.state.update.status,
            UpdateStatus::Checking | UpdateStatus::Downloading { .. }
        ) {
            self.state.update.status = UpdateStatus::Failed(
                "The update stopped unexpectedly; nothing was changed.".into(),
            );
        }
    }

    fn on_update_event(&mut self, event: UpdateEvent) {
        self.state.update.status = match (event, &self.state.update.status) {
            (UpdateEvent::Checked(Ok(CheckOutcome::UpToDate { latest })), _) => {
                UpdateStatus::UpToDate {
                    latest: latest.to_string(),
                }
            }
            (UpdateEvent::Checked(Ok(CheckOutcome::Available(a))), _) => UpdateStatus::Available(a),
            (UpdateEvent::Progress(done, total), UpdateStatus::Downloading { version, .. }) => {
                UpdateStatus::Downloading {
                    version: version.clone(),
                    done,
                    total,
                }
            }
            (UpdateEvent::Progress(..), other) => other.clone(),
            (UpdateEvent::Installed(Ok(())), UpdateStatus::Downloading { version, .. }) => {
                UpdateStatus::Installed {
                    version: version.clone(),
                }
            }
            (UpdateEvent::Installed(Ok(())), _) => UpdateStatus::Installed {
                version: String::new(),
            },
            (UpdateEvent::Checked(Err(e)) | UpdateEvent::Installed(Err(e)), _) => {
                UpdateStatus::Failed(e.to_string())
            }
        };
    }

    /// Starts the installed binary again with the same data folder, then closes this window.
    pub(super) fn restart(&mut self) {
        let Some(config) = self.update_config.as_ref() else {
            return;
        };
        match std::process::Command::new(&config.install_path)
            .arg("--data-dir")
            .arg(&self.paths.dir)
            .spawn()
        {
            Ok(_) => self.close_requested = true,
            Err(e) => self.state.error(format!("Could not restart Fabula: {e}")),
        }
    }
}
