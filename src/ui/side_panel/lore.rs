//! The lorebook panel: the story's lore entries, and the form that adds or edits one.

use super::super::ViewState;
use crate::domain::{InjectionMode, LoreEntry, LoreId, LoreKind};
use crate::state::{Action, LoreAction, OpenStory, WritingState};
use egui::RichText;

pub(super) fn lorebook_ui(
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
    super::lore_proposals::review_ui(ui, writing, actions);
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
        ui.horizontal_wrapped(|ui| {
            ui.weak(format!(
                "{} · {} · priority {}",
                entry.kind.label(),
                entry.mode.label(),
                entry.priority
            ));
            let kept = writing.lore_kept.contains(&entry.id);
            let mut keep = kept;
            ui.checkbox(&mut keep, "Keep as written")
                .on_hover_text("The lore agent never proposes changes to this entry");
            if keep != kept {
                actions.push(Action::Lore(LoreAction::SetKept(entry.id.clone(), keep)));
            }
        });
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
