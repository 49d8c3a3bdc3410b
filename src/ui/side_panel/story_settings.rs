//! The story settings panel: mode, point of view, tense, length and the model's limits, edited\nin a form that is saved when it is valid.

use super::super::ViewState;
use crate::domain::{NarrationLength, Pov, Pronouns, Reasoning, StorySettings, Tense};
use crate::state::{Action, AppState, EntryAction, OpenStory, WritingAction};

pub(super) fn settings_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    open: &OpenStory,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    let story = &open.summary.story;
    let fresh = view
        .settings_form
        .as_ref()
        .is_none_or(|(id, _)| id != &story.id);
    if fresh {
        view.settings_form = Some((
            story.id.clone(),
            SettingsForm::new(&state.writing.settings, story),
        ));
    }
    let Some((_, form)) = view.settings_form.as_mut() else {
        return;
    };
    // At the top, so it is in sight however long the form below grows.
    let changed = form.to_settings();
    ui.horizontal(|ui| {
        ui.weak(story.mode.label());
        let dirty = changed.as_ref().is_ok_and(|s| s != &state.writing.settings);
        if ui
            .add_enabled(dirty, egui::Button::new("Save settings"))
            .clicked()
            && let Ok(settings) = &changed
        {
            actions.push(Action::Writing(WritingAction::SaveStorySettings(
                settings.clone(),
            )));
        }
    });
    if let Err(message) = &changed {
        ui.colored_label(ui.visuals().error_fg_color, message);
    }
    details_ui(ui, story, form, actions);
    ui.separator();
    egui::Grid::new("story-settings")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            // Point of view and tense apply at once: they are the story's, not a draft of settings.
            let pov_label = ui.label("Point of view");
            let mut pov = story.pov;
            egui::ComboBox::from_id_salt("story-pov")
                .selected_text(pov.label())
                .show_ui(ui, |ui| {
                    for p in Pov::ALL {
                        ui.selectable_value(&mut pov, p, p.label());
                    }
                })
                .response
                .labelled_by(pov_label.id);
            ui.end_row();
            ui.label("Tense");
            let mut tense = story.tense;
            egui::ComboBox::from_id_salt("story-tense")
                .selected_text(tense.label())
                .show_ui(ui, |ui| {
                    for t in Tense::ALL {
                        ui.selectable_value(&mut tense, t, t.label());
                    }
                })
                .response
                .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Tense"));
            ui.end_row();
            if pov != story.pov || tense != story.tense {
                actions.push(Action::Entry(EntryAction::SetStoryStyle { pov, tense }));
            }
            let pronouns_label = ui.label("Pronouns");
            let pronouns = &mut form.settings.pronouns;
            egui::ComboBox::from_id_salt("story-pronouns")
                .selected_text(pronouns.label())
                .show_ui(ui, |ui| {
                    for choice in [Pronouns::They, Pronouns::She, Pronouns::He] {
                        let label = choice.label();
                        ui.selectable_value(pronouns, choice, label);
                    }
                    if ui
                        .selectable_label(matches!(pronouns, Pronouns::Custom(_)), "Other…")
                        .clicked()
                        && !matches!(pronouns, Pronouns::Custom(_))
                    {
                        *pronouns = Pronouns::Custom(String::new());
                    }
                })
                .response
                .on_hover_text("The protagonist's: used by Think in the third person")
                .labelled_by(pronouns_label.id);
            ui.end_row();
            if let Pronouns::Custom(reflexive) = pronouns {
                let label = ui.label("Reflexive");
                ui.add(egui::TextEdit::singleline(reflexive).hint_text("e.g. xemself"))
                    .labelled_by(label.id);
                ui.end_row();
            }
            let label = ui.label("Tone");
            ui.text_edit_singleline(&mut form.settings.tone)
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Themes");
            ui.add(egui::TextEdit::singleline(&mut form.themes).hint_text("comma-separated"))
                .labelled_by(label.id);
            ui.end_row();
            ui.label("Narration length");
            egui::ComboBox::from_id_salt("narration-length")
                .selected_text(form.settings.length.label())
                .show_ui(ui, |ui| {
                    for length in NarrationLength::ALL {
                        ui.selectable_value(&mut form.settings.length, length, length.label());
                    }
                })
                .response
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Narration length")
                });
            ui.end_row();
            ui.label("Profile");
            let chosen = form
                .settings
                .profile_id
                .as_ref()
                .and_then(|id| state.providers.profiles.iter().find(|p| &p.id == id))
                .map_or("As the narrator task says".to_owned(), |p| p.name.clone());
            egui::ComboBox::from_id_salt("story-profile")
                .selected_text(chosen)
                .show_ui(ui, |ui| {
                    ui.selectable_value(
                        &mut form.settings.profile_id,
                        None,
                        "As the narrator task says",
                    );
                    for p in &state.providers.profiles {
                        ui.selectable_value(
                            &mut form.settings.profile_id,
                            Some(p.id.clone()),
                            &p.name,
                        );
                    }
                })
                .response
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Story profile")
                });
            ui.end_row();
            let label = ui.label("Model");
            ui.add(egui::TextEdit::singleline(&mut form.model).hint_text("the profile's model"))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Temperature");
            ui.add(egui::TextEdit::singleline(&mut form.temperature).hint_text("default"))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Max tokens");
            ui.add(egui::TextEdit::singleline(&mut form.max_tokens).hint_text("1024"))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Context window");
            ui.add(
                egui::TextEdit::singleline(&mut form.context_window)
                    .hint_text("from the model list"),
            )
            .labelled_by(label.id);
            ui.end_row();
            ui.label("Reasoning");
            egui::ComboBox::from_id_salt("story-reasoning")
                .selected_text(
                    form.settings
                        .reasoning
                        .map_or("As the task says", Reasoning::label),
                )
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut form.settings.reasoning, None, "As the task says");
                    for r in Reasoning::ALL {
                        ui.selectable_value(&mut form.settings.reasoning, Some(r), r.label());
                    }
                })
                .response
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Story reasoning")
                });
            ui.end_row();
        });
    ui.checkbox(
        &mut form.settings.suggestions,
        match story.mode {
            crate::domain::StoryMode::Adventure => "Offer action choices after each narration",
            crate::domain::StoryMode::CreativeWriting => "Offer suggestions after each narration",
        },
    );
    if story.mode == crate::domain::StoryMode::Adventure {
        ui.checkbox(
            &mut form.settings.actions_as_typed,
            "Send actions exactly as typed",
        )
        .on_hover_text("No “I …” or “Mara says, …” around what you type");
    }
    ui.checkbox(
        &mut form.settings.track_world,
        "Keep the world up to date after each narration",
    )
    .on_hover_text("The Classifier task notes new characters, places, items, quests and the time (World panel)");
    if form.settings.track_world {
        ui.checkbox(
            &mut form.settings.ask_before_world,
            "Ask before applying AI changes",
        )
        .on_hover_text("Each change waits in the World panel to be accepted or rejected");
    }
}

/// Genre, description and protagonist, editable after the story was made; saved together.
fn details_ui(
    ui: &mut egui::Ui,
    story: &crate::domain::Story,
    form: &mut SettingsForm,
    actions: &mut Vec<Action>,
) {
    egui::Grid::new("story-details")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label("Genre");
            ui.text_edit_singleline(&mut form.genre)
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Protagonist");
            ui.add(
                egui::TextEdit::singleline(&mut form.protagonist).hint_text("Name used in actions"),
            )
            .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Description");
            ui.add(egui::TextEdit::multiline(&mut form.description).desired_rows(2))
                .labelled_by(label.id);
            ui.end_row();
        });
    let stored = |v: &Option<String>| v.clone().unwrap_or_default();
    let changed = form.genre.trim() != stored(&story.genre)
        || form.description.trim() != stored(&story.description)
        || form.protagonist.trim() != stored(&story.protagonist);
    if ui
        .add_enabled(changed, egui::Button::new("Save details"))
        .clicked()
    {
        actions.push(Action::Entry(EntryAction::SetStoryDetails {
            genre: form.genre.trim().to_owned(),
            description: form.description.trim().to_owned(),
            protagonist: form.protagonist.trim().to_owned(),
        }));
    }
}

/// The story's settings as typed (numbers stay text until saved, so half-typed input is fine).
#[derive(Clone, Debug, PartialEq)]
pub struct SettingsForm {
    pub settings: StorySettings,
    pub themes: String,
    pub temperature: String,
    pub max_tokens: String,
    pub context_window: String,
    pub model: String,
    pub genre: String,
    pub description: String,
    pub protagonist: String,
}

impl SettingsForm {
    fn new(settings: &StorySettings, story: &crate::domain::Story) -> Self {
        let num = |v: Option<String>| v.unwrap_or_default();
        Self {
            genre: story.genre.clone().unwrap_or_default(),
            description: story.description.clone().unwrap_or_default(),
            protagonist: story.protagonist.clone().unwrap_or_default(),
            themes: settings.themes.join(", "),
            temperature: num(settings.temperature.map(|t| t.to_string())),
            max_tokens: num(settings.max_tokens.map(|t| t.to_string())),
            context_window: num(settings.context_window.map(|t| t.to_string())),
            model: settings.model.clone().unwrap_or_default(),
            settings: settings.clone(),
        }
    }

    fn to_settings(&self) -> Result<StorySettings, String> {
        fn opt<T: std::str::FromStr>(text: &str, what: &str) -> Result<Option<T>, String> {
            let t = text.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse()
                .map(Some)
                .map_err(|_| format!("{what} must be a number (or empty for the default)."))
        }
        let temperature: Option<f32> = opt(&self.temperature, "Temperature")?;
        if temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
            return Err("Temperature goes from 0 to 2.".into());
        }
        Ok(StorySettings {
            themes: self
                .themes
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            temperature,
            max_tokens: opt(&self.max_tokens, "Max tokens")?,
            context_window: opt(&self.context_window, "Context window")?,
            model: Some(self.model.trim().to_owned()).filter(|m| !m.is_empty()),
            ..self.settings.clone()
        })
    }
}
