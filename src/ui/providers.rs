//! Settings > Providers (profiles, Test connection, models, task assignments) and Settings > Usage.

use super::{Confirm, ViewState};
use crate::domain::{ApiProfile, ProfileSource, Secret};
use crate::domain::{PRESETS, preset};
use crate::state::{Action, AppState, CheckStatus, ProviderAction, Screen};

/// The profile being added or edited.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileForm {
    /// `None` while adding.
    pub id: Option<String>,
    pub name: String,
    pub preset: String,
    pub base_url: String,
    /// Empty while editing keeps the stored key.
    pub api_key: String,
    pub model: String,
}

impl ProfileForm {
    fn new() -> Self {
        Self {
            id: None,
            name: String::new(),
            preset: "openai".into(),
            base_url: String::new(),
            api_key: String::new(),
            model: String::new(),
        }
    }

    pub(super) fn editing(p: &ApiProfile) -> Self {
        Self {
            id: Some(p.id.clone()),
            name: p.name.clone(),
            preset: p.preset.clone(),
            base_url: p.base_url.clone(),
            api_key: String::new(),
            model: p.default_model.clone(),
        }
    }
}

/// General | Providers | Usage, above each settings page.
pub fn settings_tabs_ui(ui: &mut egui::Ui, current: Screen, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        for (screen, label) in [
            (Screen::Settings, "General"),
            (Screen::Providers, "Providers"),
            (Screen::Prompts, "Prompts"),
            (Screen::Usage, "Usage"),
        ] {
            if ui.selectable_label(current == screen, label).clicked() && current != screen {
                actions.push(Action::Show(screen));
            }
        }
    });
    ui.separator();
}

pub fn providers_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    settings_tabs_ui(ui, Screen::Providers, actions);
    egui::ScrollArea::vertical()
        .id_salt("providers-scroll")
        .show(ui, |ui| {
            ui.heading("Providers");
            ui.weak("A profile is a provider account: where to call, with which key, and which model to use by default.");
            ui.add_space(6.0);
            let providers = &state.providers;
            keys_place_ui(ui, state, actions);
            ui.add_space(6.0);
            if providers.profiles.is_empty() {
                ui.label("No profiles yet. Add one to start writing with a model — local servers (Ollama, LM Studio, llama.cpp) need no key.");
            }
            for profile in &providers.profiles {
                profile_card_ui(ui, state, profile, view, actions);
            }
            ui.add_space(6.0);
            match view.profile_form.as_mut() {
                Some(form) => {
                    if let Some(done) = profile_form_ui(ui, form, state) {
                        if done && let Some(profile) = form_to_profile(form, state) {
                            actions.push(Action::Provider(ProviderAction::SaveProfile(profile)));
                        }
                        view.profile_form = None;
                    }
                }
                None => {
                    if ui.button("Add profile").clicked() {
                        view.profile_form = Some(ProfileForm::new());
                    }
                }
            }
            ui.add_space(16.0);
            super::tasks::tasks_ui(ui, state, view, actions);
        });
}

/// Where saved keys are kept: the OS key store or the database.
fn keys_place_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let providers = &state.providers;
    let mut in_keyring = providers.keys_in_keyring;
    ui.horizontal_wrapped(|ui| {
        let label = format!("Keep API keys in {}", providers.keyring_name);
        let toggle = ui
            .add_enabled(
                !providers.moving_keys,
                egui::Checkbox::new(&mut in_keyring, label),
            )
            .on_hover_text(
                "Keys in the OS keyring are not in Fabula's database or its backups. Where none is available, they stay in the database (readable by anyone who can read your files).",
            );
        if toggle.changed() {
            actions.push(Action::Provider(ProviderAction::SetKeysInKeyring(in_keyring)));
        }
        if providers.moving_keys {
            ui.spinner();
            ui.weak("Moving the keys…");
        } else if !providers.keys_in_keyring {
            ui.weak("Keys are kept in Fabula's database.");
        }
    });
}

fn form_to_profile(form: &ProfileForm, state: &AppState) -> Option<ApiProfile> {
    let old = form
        .id
        .as_ref()
        .and_then(|id| state.providers.profiles.iter().find(|p| &p.id == id));
    Some(ApiProfile {
        id: form.id.clone().unwrap_or_else(crate::domain::new_uuid),
        // A nameless profile is named after its provider.
        name: Some(form.name.trim())
            .filter(|n| !n.is_empty())
            .or_else(|| preset(&form.preset).map(|p| p.label))
            .unwrap_or_default()
            .to_owned(),
        preset: form.preset.clone(),
        base_url: form.base_url.trim().to_owned(),
        api_key: Some(Secret::new(form.api_key.clone())),
        default_model: form.model.trim().to_owned(),
        custom_models: old.map(|o| o.custom_models.clone()).unwrap_or_default(),
        favourite_models: old.map(|o| o.favourite_models.clone()).unwrap_or_default(),
        key_in_keyring: false,
        source: ProfileSource::Stored,
    })
}

fn profile_card_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    profile: &ApiProfile,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    let providers = &state.providers;
    let is_main = providers.main_profile.as_deref() == Some(profile.id.as_str());
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.strong(&profile.name);
            if is_main {
                ui.label("(main)");
            }
            let label = preset(&profile.preset).map_or(profile.preset.as_str(), |p| p.label);
            ui.weak(label);
            if let ProfileSource::Environment(var) = profile.source {
                ui.weak(format!("key from {var}"));
            }
        });
        let address = if profile.base_url.is_empty() {
            preset(&profile.preset).map_or("", |p| p.base_url).to_owned()
        } else {
            profile.base_url.clone()
        };
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("Address: {address}"));
            let key = match &profile.api_key {
                Some(key) => key.hint(),
                None if profile.key_in_keyring => format!("in {}", providers.keyring_name),
                None => "none".into(),
            };
            ui.label(format!("Key: {key}"));
            ui.label(format!(
                "Model: {}",
                if profile.default_model.is_empty() {
                    "first listed"
                } else {
                    &profile.default_model
                }
            ));
        });
        let running = matches!(
            providers.checks.get(&profile.id),
            Some(CheckStatus::Running { .. })
        );
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!running, egui::Button::new("Test connection"))
                .on_hover_text("List the models and ask for a one-line reply")
                .clicked()
            {
                actions.push(Action::Provider(ProviderAction::CheckProfile(profile.id.clone())));
            }
            if ui
                .add_enabled(!running, egui::Button::new("Refresh models"))
                .clicked()
            {
                actions.push(Action::Provider(ProviderAction::RefreshModels(profile.id.clone())));
            }
            if !is_main && ui.button("Make main").clicked() {
                actions.push(Action::Provider(ProviderAction::SetMainProfile(profile.id.clone())));
            }
            if profile.source == ProfileSource::Stored {
                if ui.button("Edit").clicked() {
                    view.profile_form = Some(ProfileForm::editing(profile));
                }
                if ui.button("Delete").clicked() {
                    view.confirm = Some(Confirm {
                        title: format!("Delete the profile “{}”?", profile.name),
                        message: "Its key is forgotten and the tasks using it go back to the main profile. Your stories are not touched.".into(),
                        confirm_label: "Delete profile".into(),
                        action: Action::Provider(ProviderAction::DeleteProfile(profile.id.clone())),
                    });
                    view.dialog_focus = true;
                }
            }
        });
        check_status_ui(ui, providers.checks.get(&profile.id), actions);
        models_ui(ui, state, profile, actions);
    });
}

fn check_status_ui(ui: &mut egui::Ui, status: Option<&CheckStatus>, actions: &mut Vec<Action>) {
    match status {
        None => {}
        Some(CheckStatus::Running {
            models_only,
            model,
            reply,
        }) => {
            ui.horizontal_wrapped(|ui| {
                ui.spinner();
                match (models_only, model) {
                    (true, _) => ui.label("Listing models…"),
                    (false, None) => ui.label("Connecting…"),
                    (false, Some(m)) => ui.label(format!("Asking {m}… {reply}")),
                };
            });
        }
        Some(CheckStatus::ModelsListed { count }) => {
            ui.label(format!(
                "{} listed.",
                crate::domain::count_of(*count as u64, "model", "models")
            ));
        }
        Some(CheckStatus::Passed {
            model,
            models,
            reply,
            first_token_ms,
        }) => {
            let latency = first_token_ms.map_or_else(|| "no text".into(), |ms| format!("{ms} ms"));
            ui.label(format!(
                "Connected: {} listed; {model} replied (first token after {latency}):",
                crate::domain::count_of(*models as u64, "model", "models")
            ));
            ui.label(egui::RichText::new(format!("“{reply}”")).italics());
        }
        Some(CheckStatus::Failed { message, next }) => {
            ui.colored_label(ui.visuals().error_fg_color, message);
            if let Some(next) = next {
                super::next_step_ui(ui, next, actions);
            }
        }
    }
}

fn models_ui(ui: &mut egui::Ui, state: &AppState, profile: &ApiProfile, actions: &mut Vec<Action>) {
    let Some(models) = state.providers.models.get(&profile.id) else {
        return;
    };
    let id = ui.make_persistent_id(("models", &profile.id));
    egui::CollapsingHeader::new(format!("Models ({})", models.len()))
        .id_salt(id)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt(("model-list", &profile.id))
                .max_height(200.0)
                .show(ui, |ui| {
                    let mut ordered: Vec<_> = models.iter().collect();
                    ordered.sort_by_key(|m| !profile.favourite_models.contains(&m.id));
                    for m in ordered {
                        ui.horizontal(|ui| {
                            let mut fav = profile.favourite_models.contains(&m.id);
                            if profile.source == ProfileSource::Stored
                                && ui
                                    .checkbox(&mut fav, "")
                                    .on_hover_text("Favourite")
                                    .changed()
                            {
                                actions.push(Action::Provider(
                                    ProviderAction::ToggleFavouriteModel {
                                        profile: profile.id.clone(),
                                        model: m.id.clone(),
                                    },
                                ));
                            }
                            ui.label(&m.id);
                            if let Some(ctx) = m.context_length {
                                ui.weak(format!("{}k context", ctx / 1000));
                            }
                            if let Some(p) = m.pricing {
                                ui.weak(format!(
                                    "${:.2} / ${:.2} per M tokens",
                                    p.prompt_per_mtok, p.completion_per_mtok
                                ));
                            }
                        });
                    }
                });
        });
}

/// The add/edit form; `Some(true)` to save, `Some(false)` to cancel.
fn profile_form_ui(ui: &mut egui::Ui, form: &mut ProfileForm, state: &AppState) -> Option<bool> {
    let mut result = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.strong(if form.id.is_some() {
            "Edit profile"
        } else {
            "New profile"
        });
        egui::Grid::new("profile-form")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                ui.label("Provider");
                let current = preset(&form.preset).map_or("?", |p| p.label);
                let combo = egui::ComboBox::from_id_salt("profile-preset")
                    .selected_text(current)
                    .height(f32::INFINITY)
                    .show_ui(ui, |ui| {
                        for p in PRESETS {
                            if ui.selectable_label(form.preset == p.id, p.label).clicked() {
                                form.preset = p.id.to_owned();
                                if form.name.trim().is_empty() {
                                    form.name = p.label.to_owned();
                                }
                            }
                        }
                    });
                combo.response.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Choose provider")
                });
                ui.end_row();
                let chosen = preset(&form.preset);
                let label = ui.label("Profile name");
                ui.add(egui::TextEdit::singleline(&mut form.name).desired_width(280.0))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Base URL");
                let hint = chosen.map_or("", |p| p.base_url);
                ui.add(
                    egui::TextEdit::singleline(&mut form.base_url)
                        .hint_text(if hint.is_empty() {
                            "http://host:port/v1"
                        } else {
                            hint
                        })
                        .desired_width(280.0),
                )
                .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("API key");
                let key_hint = match (chosen, form.id.is_some()) {
                    (_, true) => "leave empty to keep the saved key".to_owned(),
                    (Some(p), false) if !p.needs_key => "not needed".to_owned(),
                    (Some(p), false) => p.key_env.first().map_or_else(
                        || "paste your key".to_owned(),
                        |v| format!("paste your key (or set {v})"),
                    ),
                    (None, false) => String::new(),
                };
                ui.add(
                    egui::TextEdit::singleline(&mut form.api_key)
                        .password(true)
                        .hint_text(key_hint)
                        .desired_width(280.0),
                )
                .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Default model");
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut form.model)
                            .hint_text("first listed model")
                            .desired_width(220.0),
                    )
                    .labelled_by(label.id);
                    let listed = form
                        .id
                        .as_ref()
                        .and_then(|id| state.providers.models.get(id))
                        .filter(|m| !m.is_empty());
                    if let Some(models) = listed {
                        let pick = egui::ComboBox::from_id_salt("profile-model-pick")
                            .selected_text("Pick")
                            .show_ui(ui, |ui| {
                                for m in models {
                                    if ui.selectable_label(form.model == m.id, &m.id).clicked() {
                                        form.model = m.id.clone();
                                    }
                                }
                            });
                        // Read aloud (and found by tests) by what it is for, not by "Pick".
                        pick.response.widget_info(|| {
                            egui::WidgetInfo::labeled(
                                egui::Role::ComboBox,
                                true,
                                "Pick a listed model",
                            )
                        });
                    }
                });
                ui.end_row();
            });
        ui.horizontal(|ui| {
            if ui.button("Save profile").clicked() {
                result = Some(true);
            }
            if ui.button("Cancel").clicked() {
                result = Some(false);
            }
        });
    });
    result
}
