//! First launch without a provider: a job looks for local model servers on their default ports
//! (UI thread here, the probing on the job), and one found becomes a profile in one click.

use super::FabulaApp;
use crate::domain::{ApiProfile, ProfileSource, new_uuid};
use crate::providers::discover::{LocalServer, default_local_addresses, discover_local};
use crate::state::FoundServer;
use crate::storage::{Store, StoreError};

/// The job that asks the local ports (one at a time).
const LOCAL_SERVERS: &str = "local-servers";

impl FabulaApp {
    /// Looks for local servers where Fabula should: this run allows it (not in tests or the
    /// first-frame benchmark) and no provider is set up yet.
    pub(super) fn look_for_local_servers(&mut self) {
        let Some(addresses) = self.local_addresses.clone() else {
            return;
        };
        if !self.state.providers.profiles.is_empty() || self.jobs.is_running(LOCAL_SERVERS) {
            return;
        }
        let waker = self.waker();
        let started = self.jobs.start(
            LOCAL_SERVERS,
            "Looking for local model servers",
            waker,
            move |cx| {
                let found = discover_local(&addresses, cx.cancel_token());
                cx.send(found);
            },
            |app: &mut FabulaApp, found: Vec<LocalServer>| app.on_local_servers(found),
            |_: &mut FabulaApp| {},
        );
        if let Err(e) = started {
            log::warn!("local servers were not looked for: {e}");
        }
    }

    fn on_local_servers(&mut self, found: Vec<LocalServer>) {
        self.state.providers.local_found = found
            .into_iter()
            .map(|server| FoundServer {
                preset_id: server.preset.id.to_owned(),
                label: server.preset.label.to_owned(),
                base_url: server.base_url,
                models: server.models.len(),
                first_model: server
                    .models
                    .first()
                    .map(|m| m.id.clone())
                    .unwrap_or_default(),
            })
            .collect();
    }

    pub(super) fn use_local_server(
        &mut self,
        store: &Store,
        found: &FoundServer,
    ) -> Result<(), StoreError> {
        let profile = ApiProfile {
            id: new_uuid(),
            name: found.label.clone(),
            preset: found.preset_id.clone(),
            base_url: found.base_url.clone(),
            api_key: None,
            key_in_keyring: false,
            default_model: found.first_model.clone(),
            custom_models: Vec::new(),
            favourite_models: Vec::new(),
            source: ProfileSource::Stored,
        };
        store.save_profile(&profile)?;
        if store.main_profile_id()?.is_none() {
            store.set_main_profile_id(&profile.id)?;
        }
        self.state
            .providers
            .local_found
            .retain(|f| f.base_url != found.base_url);
        self.refresh_providers(store)?;
        let model = if found.first_model.is_empty() {
            String::new()
        } else {
            format!(" with {}", crate::domain::preview(&found.first_model, 40))
        };
        self.state.info(
            format!(
                "{} is set up{model}: the narrator can write now.",
                found.label
            ),
            false,
        );
        Ok(())
    }

    /// Where to look for local servers: the default ports, or the given addresses (tests); `None`
    /// does not look.
    pub fn with_local_servers(mut self, addresses: Option<Vec<(String, String)>>) -> Self {
        self.local_addresses = addresses;
        self
    }

    /// The default ports of every local server this build knows.
    pub fn default_local_servers() -> Vec<(String, String)> {
        default_local_addresses()
    }
}
