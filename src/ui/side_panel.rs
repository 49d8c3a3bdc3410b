//! The story's side panel: the lorebook (entries, which fired last turn and why), the story's
//! writing settings, and the prompt inspector.

use egui::RichText;

use super::ViewState;
use crate::domain::{
    InjectionMode, LoreEntry, LoreId, LoreKind, NarrationLength, Pov, Reasoning, StorySettings,
    Tense,
};
use crate::state::{
    Action, AppState, EntryAction, LoreAction, OpenStory, WritingAction, WritingState,
};

/// Which page the story's side panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SidePanel {
    Lorebook,
    Settings,
    Inspector,
}

impl SidePanel {
    pub const ALL: [SidePanel; 3] = [
        SidePanel::Lorebook,
        SidePanel::Settings,
        SidePanel::Inspector,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SidePanel::Lorebook => "Lorebook",
            SidePanel::Settings => "Story settings",
            SidePanel::Inspector => "Prompt inspector",
        }
    }
}

/// A lore entry being written or edited; lists are typed comma-separated.
#[derive(Clone, Debug, PartialEq)]
pub struct LoreForm {
    pub entry: LoreEntry,
    pub aliases: String,
    pub keywords: String,
    pub priority: String,
}

impl LoreForm {
    fn new(entry: LoreEntry) -> Self {
        Self {
            aliases: entry.aliases.join(", "),
            keywords: entry.keywords.join(", "),
            priority: entry.priority.to_string(),
            entry,
        }
    }

    fn to_entry(&self) -> Result<LoreEntry, String> {
        let split = |s: &str| -> Vec<String> {
            s.split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect()
        };
        let priority = self
            .priority
            .trim()
            .parse::<i64>()
            .map_err(|_| "Priority must be a whole number.".to_owned())?;
        if self.entry.name.trim().is_empty() {
            return Err("A lore entry needs a name.".into());
        }
        Ok(LoreEntry {
            aliases: split(&self.aliases),
            keywords: split(&self.keywords),
            priority,
            ..self.entry.clone()
        })
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
}

impl SettingsForm {
    fn new(settings: &StorySettings) -> Self {
        let num = |v: Option<String>| v.unwrap_or_default();
        Self {
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

pub fn side_panel_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    open: &OpenStory,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    let Some(panel) = view.side else {
        return;
    };
    ui.horizontal(|ui| {
        ui.weak(match panel {
            SidePanel::Lorebook => "Told to the narrator when it matters",
            SidePanel::Settings => "How this story is written",
            SidePanel::Inspector => "What was sent and received",
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .small_button("Close panel")
                .on_hover_text("Hide the side panel")
                .clicked()
            {
                view.side = None;
            }
        });
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt(("side-panel", panel.label()))
        .auto_shrink([false, false])
        .show(ui, |ui| match panel {
            SidePanel::Lorebook => lorebook_ui(ui, open, &state.writing, view, actions),
            SidePanel::Settings => settings_ui(ui, state, open, view, actions),
            SidePanel::Inspector => inspector_ui(ui, &state.writing, view),
        });
}

fn lorebook_ui(
    ui: &mut egui::Ui,
    open: &OpenStory,
    writing: &WritingState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    if let Some(form) = view.lore_form.as_mut() {
        if let Some(save) = lore_form_ui(ui, form) {
            if save {
                match form.to_entry() {
                    Ok(entry) => {
                        actions.push(Action::Lore(LoreAction::SaveLore(entry)));
                        view.lore_form = None;
                    }
                    Err(message) => view.lore_error = Some(message),
                }
            } else {
                view.lore_form = None;
                view.lore_error = None;
            }
        }
        if let Some(error) = &view.lore_error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        return;
    }
    ui.horizontal(|ui| {
        if ui
            .button("New entry")
            .on_hover_text("Add a character, place, item, faction, concept or event")
            .clicked()
        {
            view.lore_form = Some(LoreForm::new(LoreEntry {
                id: LoreId::new(),
                story_id: open.summary.story.id.clone(),
                ..LoreEntry::default()
            }));
            view.lore_error = None;
        }
        ui.weak(format!("{} entries", writing.lore.len()));
    });
    if !writing.lore_fired.is_empty() {
        ui.add_space(4.0);
        ui.label(RichText::new("Last turn").strong());
        for (name, why, fit) in &writing.lore_fired {
            if *fit {
                ui.label(format!("In: {name}, {why}"));
            } else {
                ui.weak(format!("Cut: {name}, {why} (over the lore budget)"));
            }
        }
    }
    ui.separator();
    if writing.lore.is_empty() {
        ui.weak("The lorebook is empty. Entries here are told to the narrator when they matter: always, or when their name, an alias or a keyword comes up.");
    }
    for entry in &writing.lore {
        ui.horizontal(|ui| {
            ui.label(RichText::new(&entry.name).strong());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .small_button("Delete")
                    .on_hover_text(format!("Delete “{}” (Undo brings it back)", entry.name))
                    .clicked()
                {
                    actions.push(Action::Lore(LoreAction::TrashLore(entry.id.clone())));
                }
                if ui
                    .small_button("Edit")
                    .on_hover_text(format!("Edit “{}”", entry.name))
                    .clicked()
                {
                    view.lore_form = Some(LoreForm::new(entry.clone()));
                    view.lore_error = None;
                }
            });
        });
        // Facts on a line of their own, so the buttons never sit on top of them.
        ui.weak(format!(
            "{} · {} · priority {}",
            entry.kind.label(),
            entry.mode.label(),
            entry.priority
        ));
        if !entry.description.is_empty() {
            ui.label(crate::domain::preview(&entry.description, 90));
        }
        ui.add_space(4.0);
    }
}

/// Returns `Some(true)` to save, `Some(false)` to cancel.
fn lore_form_ui(ui: &mut egui::Ui, form: &mut LoreForm) -> Option<bool> {
    let mut result = None;
    egui::Grid::new("lore-form")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label("Name");
            ui.text_edit_singleline(&mut form.entry.name)
                .labelled_by(label.id);
            ui.end_row();
            ui.label("Type");
            egui::ComboBox::from_id_salt("lore-kind")
                .selected_text(form.entry.kind.label())
                .show_ui(ui, |ui| {
                    for kind in LoreKind::ALL {
                        ui.selectable_value(&mut form.entry.kind, kind, kind.label());
                    }
                })
                .response
                .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Lore type"));
            ui.end_row();
            ui.label("Injection");
            egui::ComboBox::from_id_salt("lore-mode")
                .selected_text(form.entry.mode.label())
                .show_ui(ui, |ui| {
                    for mode in InjectionMode::ALL {
                        ui.selectable_value(&mut form.entry.mode, mode, mode.label());
                    }
                })
                .response
                .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Injection"));
            ui.end_row();
            let label = ui.label("Aliases");
            ui.add(egui::TextEdit::singleline(&mut form.aliases).hint_text("comma-separated"))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Keywords");
            ui.add(egui::TextEdit::singleline(&mut form.keywords).hint_text("comma-separated"))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Priority");
            ui.add(egui::TextEdit::singleline(&mut form.priority).desired_width(60.0))
                .labelled_by(label.id);
            ui.end_row();
        });
    let label = ui.label("Description");
    ui.add(
        egui::TextEdit::multiline(&mut form.entry.description)
            .desired_rows(4)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
    let label = ui.label("Hidden info (the narrator knows, the reader does not yet)");
    ui.add(
        egui::TextEdit::multiline(&mut form.entry.hidden_info)
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
    ui.horizontal(|ui| {
        if ui.button("Save entry").clicked() {
            result = Some(true);
        }
        if ui.button("Cancel").clicked() {
            result = Some(false);
        }
    });
    result
}

fn settings_ui(
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
        view.settings_form = Some((story.id.clone(), SettingsForm::new(&state.writing.settings)));
    }
    let Some((_, form)) = view.settings_form.as_mut() else {
        return;
    };
    ui.weak(story.mode.label());
    egui::Grid::new("story-settings")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            // Point of view and tense apply at once: they are the story's, not a draft of settings.
            ui.label("Point of view");
            let mut pov = story.pov;
            egui::ComboBox::from_id_salt("story-pov")
                .selected_text(pov.label())
                .show_ui(ui, |ui| {
                    for p in Pov::ALL {
                        ui.selectable_value(&mut pov, p, p.label());
                    }
                })
                .response
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Point of view")
                });
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
    let changed = form.to_settings();
    ui.horizontal(|ui| {
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
        if let Err(message) = &changed {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
    });
}

fn inspector_ui(ui: &mut egui::Ui, writing: &WritingState, view: &mut ViewState) {
    if writing.inspector.is_empty() {
        ui.weak("Nothing generated yet. Each request and reply of this story's last 50 generations shows up here.");
        return;
    }
    for record in &writing.inspector {
        let selected = view.inspector_selected == Some(record.id);
        let when = super::format::relative_time(record.created_at, crate::domain::now_ms());
        let title = format!(
            "{} · {} · {} · {}",
            when,
            super::format::model_label(&record.model),
            record.task,
            record.outcome
        );
        if ui.selectable_label(selected, title).clicked() {
            view.inspector_selected = (!selected).then_some(record.id);
        }
        if !selected {
            continue;
        }
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.weak(format!("{} · {}", record.provider, record.url));
            if let Some(error) = &record.error {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            if let Some(usage) = &record.usage {
                ui.label(format!("Usage: {usage}"));
            }
            if let Some(lore) = &record.lore {
                ui.label(format!("Lore: {}", lore.replace('\n', "; ")));
            }
            ui.label(RichText::new("Request body").strong());
            // Exactly as sent (pretty-printing would reorder the keys).
            ui.add(egui::Label::new(RichText::new(&record.request).monospace().small()).wrap());
            if ui.small_button("Copy request").clicked() {
                ui.ctx().copy_text(record.request.clone());
            }
            ui.label(RichText::new("Response").strong());
            if !record.reasoning.is_empty() {
                ui.weak(format!("Reasoning: {}", record.reasoning.trim()));
            }
            ui.label(if record.response.is_empty() {
                "(empty)"
            } else {
                record.response.as_str()
            });
        });
    }
}
