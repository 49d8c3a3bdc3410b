//! The controller's side of providers: profiles and task assignments from the store, "Test
//! connection" and model-list refreshes as jobs, and the usage ledger for the Usage view (keys
//! in the OS keyring: keys.rs).

use super::FabulaApp;
use super::keys::KeysWork;
use crate::domain::{ApiProfile, ModelInfo, ProfileSource, Task, TaskAssignment, UsageGrouping};
use crate::jobs;
use crate::providers::{
    self, ChatRequest, Completion, Delta, Failure, Message, ProviderError, ResolvedCall,
};
use crate::state::{Action, CheckStatus, ProviderAction, ProvidersState};
use crate::storage::{Store, StoreError};

/// What a connection check or model refresh reports from its job.
pub enum CheckEvent {
    Models(Result<Vec<ModelInfo>, ProviderError>),
    /// The model the check is about to call.
    Calling(String),
    Text(String),
    Done {
        outcome: Box<Result<Completion, Failure>>,
        record: Box<crate::domain::UsageRecord>,
    },
}

/// The job testing one profile's connection (one per profile at a time).
fn check_job(profile_id: &str) -> String {
    format!("provider-check:{profile_id}")
}

impl FabulaApp {
    /// Carries out one provider action (see `ProviderAction`).
    pub(super) fn apply_provider(
        &mut self,
        store: &mut Store,
        action: ProviderAction,
    ) -> Result<(), StoreError> {
        match action {
            ProviderAction::EditProfile(id) => {
                self.refresh_providers(store)?;
                self.state.screen = crate::state::Screen::Providers;
                match self.state.providers.profiles.iter().find(|p| p.id == id) {
                    Some(profile) => self
                        .view_events
                        .push(crate::state::ViewEvent::EditProfile(profile.clone())),
                    None => self.state.error("That profile is no longer there."),
                }
            }
            ProviderAction::SaveProfile(profile) => self.save_profile(store, profile)?,
            ProviderAction::UseLocalServer(found) => self.use_local_server(store, &found)?,
            ProviderAction::DeleteProfile(id) => self.delete_profile(store, &id)?,
            ProviderAction::SetKeysInKeyring(on) => self.set_keys_in_keyring(store, on)?,
            ProviderAction::SetMainProfile(id) => {
                store.set_main_profile_id(&id)?;
                self.refresh_providers(store)?;
            }
            ProviderAction::CheckProfile(id) => self.start_check(&id, false),
            ProviderAction::RefreshModels(id) => self.start_check(&id, true),
            ProviderAction::ToggleFavouriteModel { profile, model } => {
                self.toggle_favourite(store, &profile, &model)?;
            }
            ProviderAction::AssignTask(task, assignment) => {
                self.assign_task(store, task, &assignment)?
            }
            ProviderAction::ShowUsage(grouping) => self.refresh_usage(store, grouping)?,
        }
        Ok(())
    }

    pub(super) fn refresh_providers(&mut self, store: &Store) -> Result<(), StoreError> {
        let keys_in_keyring = store.keys_in_keyring()?;
        let profiles = providers::with_environment_profiles(store.list_profiles()?);
        let mut models = std::collections::HashMap::new();
        for p in &profiles {
            if let Some((_, list)) = store.cached_models(&p.id)? {
                models.insert(p.id.clone(), list);
            }
        }
        let assignments = Task::ASSIGNABLE
            .iter()
            .map(|t| store.task_assignment(*t).map(|a| (*t, a)))
            .collect::<Result<Vec<_>, _>>()?;
        let checks = std::mem::take(&mut self.state.providers.checks);
        let local_found = std::mem::take(&mut self.state.providers.local_found);
        self.state.providers = ProvidersState {
            main_profile: store.main_profile_id()?,
            profiles,
            assignments,
            models,
            checks,
            keys_in_keyring,
            keyring_name: self.keys.name().to_owned(),
            moving_keys: self.jobs.is_running(super::keys::KEYS),
            local_found,
        };
        // "Set up a provider" has done its work once there is one.
        if !self.state.providers.profiles.is_empty()
            && self
                .state
                .status
                .as_ref()
                .is_some_and(|s| s.next == Some(crate::state::NextStep::SetUpProvider))
        {
            self.state.status = None;
        }
        Ok(())
    }

    pub(super) fn refresh_usage(
        &mut self,
        store: &Store,
        grouping: UsageGrouping,
    ) -> Result<(), StoreError> {
        self.state.usage.grouping = grouping;
        self.state.usage.totals = store.usage_totals(grouping)?;
        self.state.usage.recent = store.recent_usage(50)?;
        Ok(())
    }

    pub(super) fn save_profile(
        &mut self,
        store: &Store,
        mut profile: ApiProfile,
    ) -> Result<(), StoreError> {
        profile.name = profile.name.trim().to_owned();
        if profile.name.is_empty() {
            self.state.error("A profile needs a name.");
            return Ok(());
        }
        // An edit that leaves the key field empty keeps the key it had.
        if profile.api_key.as_ref().is_none_or(|k| k.is_empty())
            && let Some(old) = self
                .state
                .providers
                .profiles
                .iter()
                .find(|p| p.id == profile.id)
        {
            profile.api_key = old.api_key.clone();
            profile.key_in_keyring = old.key_in_keyring;
        }
        if let Err(e) = providers::endpoint_for(&profile) {
            self.state.error(e.to_string());
            return Ok(());
        }
        let model = profile.default_model.trim().to_owned();
        let listed = self
            .state
            .providers
            .models
            .get(&profile.id)
            .is_some_and(|m| m.iter().any(|x| x.id == model));
        if !model.is_empty() && !listed && !profile.custom_models.contains(&model) {
            profile.custom_models.push(model);
        }
        store.save_profile(&profile)?;
        if store.main_profile_id()?.is_none() {
            store.set_main_profile_id(&profile.id)?;
        }
        self.state
            .info(format!("Saved the profile “{}”.", profile.name), false);
        self.refresh_providers(store)?;
        // The key is safe in the database first; moving it to the keyring is a job (the OS may
        // ask to unlock it).
        if self.state.providers.keys_in_keyring && profile.api_key.is_some() {
            self.start_moving_keys(store, KeysWork::to_keyring());
        }
        Ok(())
    }

    pub(super) fn delete_profile(&mut self, store: &mut Store, id: &str) -> Result<(), StoreError> {
        let in_keyring = self
            .state
            .providers
            .profiles
            .iter()
            .any(|p| p.id == id && p.key_in_keyring);
        store.delete_profile(id)?;
        if in_keyring {
            self.start_moving_keys(store, KeysWork::forget(id));
        }
        self.state.providers.checks.remove(id);
        self.state.info("Profile deleted.", false);
        self.refresh_providers(store)
    }

    pub(super) fn toggle_favourite(
        &mut self,
        store: &Store,
        profile_id: &str,
        model: &str,
    ) -> Result<(), StoreError> {
        let Some(mut profile) = self
            .state
            .providers
            .profiles
            .iter()
            .find(|p| p.id == profile_id && p.source == ProfileSource::Stored)
            .cloned()
        else {
            self.state
                .error("Favourites can be kept for saved profiles only.");
            return Ok(());
        };
        if let Some(at) = profile.favourite_models.iter().position(|m| m == model) {
            profile.favourite_models.remove(at);
        } else {
            profile.favourite_models.push(model.to_owned());
        }
        store.save_profile(&profile)?;
        self.refresh_providers(store)
    }

    pub(super) fn assign_task(
        &mut self,
        store: &Store,
        task: Task,
        assignment: &TaskAssignment,
    ) -> Result<(), StoreError> {
        store.set_task_assignment(task, assignment)?;
        self.refresh_providers(store)
    }

    /// Lists the models and, unless `models_only`, streams a one-line reply, on a job.
    pub(super) fn start_check(&mut self, profile_id: &str, models_only: bool) {
        let name = check_job(profile_id);
        if self.jobs.is_running(&name) {
            return;
        }
        let providers_state = &self.state.providers;
        let assignment = TaskAssignment {
            profile_id: Some(profile_id.to_owned()),
            ..TaskAssignment::default()
        };
        let call =
            match providers::resolve(Task::Check, &providers_state.profiles, None, &assignment) {
                Ok(call) => call,
                Err(e) => {
                    self.state
                        .providers
                        .checks
                        .insert(profile_id.to_owned(), CheckStatus::failed(e.to_string()));
                    return;
                }
            };
        self.state.providers.checks.insert(
            profile_id.to_owned(),
            CheckStatus::Running {
                models_only,
                model: None,
                reply: String::new(),
            },
        );
        let keys = self.keys.clone();
        let waker = self.waker();
        let (for_events, for_end) = (profile_id.to_owned(), profile_id.to_owned());
        let started = self.jobs.start(
            &name,
            "The connection test",
            waker,
            move |cx| {
                let mut call = call;
                // The key may be in the OS key store: read on this job, where an unlock can wait.
                match call.fetch_key(keys.as_ref()) {
                    Ok(()) => run_check(&call, models_only, cx),
                    Err(e) => {
                        cx.send(CheckEvent::Models(Err(e)));
                    }
                }
            },
            move |app: &mut FabulaApp, event| app.apply_check_event(&for_events, event),
            move |app: &mut FabulaApp| app.end_check(&for_end),
        );
        match started {
            Ok(()) => {}
            Err(e) => {
                self.state.providers.checks.insert(
                    profile_id.to_owned(),
                    CheckStatus::failed(format!("Could not start the check: {e}")),
                );
            }
        }
    }

    /// A check that ended still running (it stopped before saying how it went) has failed.
    fn end_check(&mut self, id: &str) {
        if let Some(status @ CheckStatus::Running { .. }) = self.state.providers.checks.get_mut(id)
        {
            *status = CheckStatus::failed("The check stopped unexpectedly.");
        }
    }

    fn apply_check_event(&mut self, id: &str, event: CheckEvent) {
        let checks = &mut self.state.providers.checks;
        match event {
            CheckEvent::Models(Ok(models)) => {
                if let Some(store) = self.store.as_ref()
                    && let Err(e) = store.cache_models(id, &models)
                {
                    log::warn!("the model list could not be cached: {e}");
                }
                if let Some(CheckStatus::Running {
                    models_only: true, ..
                }) = checks.get(id)
                {
                    checks.insert(
                        id.to_owned(),
                        CheckStatus::ModelsListed {
                            count: models.len(),
                        },
                    );
                }
                self.state.providers.models.insert(id.to_owned(), models);
            }
            CheckEvent::Models(Err(e)) => {
                checks.insert(id.to_owned(), check_failed(id, &e));
            }
            CheckEvent::Calling(model) => {
                if let Some(CheckStatus::Running { model: m, .. }) = checks.get_mut(id) {
                    *m = Some(model);
                }
            }
            CheckEvent::Text(t) => {
                if let Some(CheckStatus::Running { reply, .. }) = checks.get_mut(id) {
                    reply.push_str(&t);
                }
            }
            CheckEvent::Done { outcome, record } => {
                if let Some(store) = self.store.as_ref()
                    && let Err(e) = store.record_usage(&record)
                {
                    log::warn!("the usage ledger could not be written: {e}");
                }
                let status = match *outcome {
                    Ok(done) => CheckStatus::Passed {
                        model: record.model.clone(),
                        models: self.state.providers.models.get(id).map_or(0, Vec::len),
                        reply: done.text.trim().to_owned(),
                        first_token_ms: done.first_token_ms,
                    },
                    Err(f) => check_failed(id, &f.error),
                };
                self.state.providers.checks.insert(id.to_owned(), status);
            }
        }
    }
}

/// The job's work: model list, then (for a full check) one short streamed reply.
fn run_check(call: &ResolvedCall, models_only: bool, cx: &jobs::JobContext<CheckEvent>) {
    let listed = providers::list_models(&call.endpoint, cx.cancel_token());
    let first = listed
        .as_ref()
        .ok()
        .and_then(|m| m.first())
        .map(|m| m.id.clone());
    let models = listed.clone().unwrap_or_default();
    let list_failed = listed.is_err();
    cx.send(CheckEvent::Models(listed));
    if models_only || (list_failed && call.model.is_empty()) {
        return;
    }
    let model = if call.model.is_empty() {
        match first {
            Some(m) => m,
            None => return,
        }
    } else {
        call.model.clone()
    };
    cx.send(CheckEvent::Calling(model.clone()));
    let mut request = ChatRequest::new(model.clone(), vec![Message::user(providers::CHECK_PROMPT)]);
    request.max_tokens = Some(60);
    let outcome = providers::stream_chat(&call.endpoint, &request, cx.cancel_token(), &mut |d| {
        if let Delta::Text(t) = d {
            cx.send(CheckEvent::Text(t.clone()));
        }
    });
    let record = providers::usage_record(call, &model, None, &outcome, &models);
    cx.send(CheckEvent::Done {
        outcome: Box::new(outcome),
        record: Box::new(record),
    });
}

/// A failed test, with what to offer: the key checked, a wait, or another test.
fn check_failed(profile_id: &str, error: &ProviderError) -> CheckStatus {
    let again = Action::Provider(ProviderAction::CheckProfile(profile_id.to_owned()));
    CheckStatus::Failed {
        message: error.to_string(),
        next: super::next_step::next_step(error, Some(profile_id), again),
    }
}
