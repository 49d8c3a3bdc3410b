//! Modal dialogs (new story, rename, confirmations) and the recovery screen for an unusable database.

use crate::domain::{NewStory, Pov, StoryMode, Tense};
use crate::state::{Action, AppState, BackupAction, Fatal, LibraryAction};

use super::ViewState;
use super::format::{bytes, date, unix_ms};

/// A question asked before something that cannot be undone.
#[derive(Clone, Debug, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub message: String,
    pub confirm_label: String,
    pub action: Action,
}

pub fn dialogs_ui(ctx: &egui::Context, view: &mut ViewState, actions: &mut Vec<Action>) {
    let focus = std::mem::take(&mut view.dialog_focus);
    if let Some(new) = view.new_story.as_mut() {
        match new_story_ui(ctx, new, focus) {
            Some(true) => {
                if let Some(new) = view.new_story.take() {
                    actions.push(Action::Library(LibraryAction::CreateStory(new)));
                }
            }
            Some(false) => view.new_story = None,
            None => {}
        }
    }
    if let Some((story, title)) = view.rename.as_mut() {
        match rename_ui(ctx, title, focus) {
            Some(true) => {
                actions.push(Action::Library(LibraryAction::RenameStory {
                    story: story.clone(),
                    title: title.clone(),
                }));
                view.rename = None;
            }
            Some(false) => view.rename = None,
            None => {}
        }
    }
    if let Some(confirm) = view.confirm.as_ref() {
        match confirm_ui(ctx, confirm) {
            Some(true) => {
                if let Some(confirm) = view.confirm.take() {
                    actions.push(confirm.action);
                }
            }
            Some(false) => view.confirm = None,
            None => {}
        }
    }
}

/// Shows a modal; `body` sets the answer (`Some(true)` accept, `Some(false)` cancel).
/// Esc or a click outside counts as cancel. `None` means still open.
fn modal(
    ctx: &egui::Context,
    id: &str,
    body: impl FnOnce(&mut egui::Ui, &mut Option<bool>),
) -> Option<bool> {
    let mut result = None;
    let shown = egui::Modal::new(egui::Id::unique(id)).show(ctx, |ui| body(ui, &mut result));
    if shown.should_close() && result.is_none() {
        result = Some(false);
    }
    result
}

fn labelled_field(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
) -> egui::Response {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(value)
            .hint_text(hint)
            .desired_width(320.0),
    )
    .labelled_by(label.id)
}

/// `Some(true)` create, `Some(false)` cancel, `None` still open.
fn new_story_ui(ctx: &egui::Context, new: &mut NewStory, focus: bool) -> Option<bool> {
    modal(ctx, "new-story", |ui, result| {
        ui.set_width(440.0);
        ui.heading("New story");
        ui.add_space(8.0);
        egui::Grid::new("new-story-grid")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                let title = labelled_field(ui, "Title", &mut new.title, "The Lighthouse Keeper");
                if focus {
                    title.request_focus();
                }
                if title.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    *result = Some(true);
                }
                ui.end_row();

                ui.label("Mode");
                ui.horizontal(|ui| {
                    for mode in StoryMode::ALL {
                        ui.radio_value(&mut new.mode, mode, mode.label());
                    }
                });
                ui.end_row();

                let pov_label = ui.label("Point of view");
                egui::ComboBox::from_id_salt("new-story-pov")
                    .selected_text(new.pov.label())
                    .show_ui(ui, |ui| {
                        for pov in Pov::ALL {
                            ui.selectable_value(&mut new.pov, pov, pov.label());
                        }
                    })
                    .response
                    .labelled_by(pov_label.id);
                ui.end_row();

                ui.label("Tense");
                ui.horizontal(|ui| {
                    for tense in Tense::ALL {
                        ui.radio_value(&mut new.tense, tense, tense.label());
                    }
                });
                ui.end_row();

                labelled_field(ui, "Genre", &mut new.genre, "Fantasy, mystery, sci-fi…");
                ui.end_row();

                if new.pov == Pov::Third {
                    labelled_field(
                        ui,
                        "Protagonist",
                        &mut new.protagonist,
                        "Name used in actions",
                    );
                    ui.end_row();
                }

                let label = ui.label("Description");
                ui.add(
                    egui::TextEdit::multiline(&mut new.description)
                        .hint_text("A line or two to remember what this story is about")
                        .desired_rows(3)
                        .desired_width(320.0),
                )
                .labelled_by(label.id);
                ui.end_row();
            });
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            if ui.button("Create story").clicked() {
                *result = Some(true);
            }
            if ui.button("Cancel").clicked() {
                *result = Some(false);
            }
        });
    })
}

fn rename_ui(ctx: &egui::Context, title: &mut String, focus: bool) -> Option<bool> {
    modal(ctx, "rename-story", |ui, result| {
        ui.set_width(360.0);
        ui.heading("Rename story");
        let field = labelled_field(ui, "New title", title, "Title");
        if focus {
            field.request_focus();
        }
        if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            *result = Some(true);
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if ui.button("Save title").clicked() {
                *result = Some(true);
            }
            if ui.button("Cancel").clicked() {
                *result = Some(false);
            }
        });
    })
}

fn confirm_ui(ctx: &egui::Context, confirm: &Confirm) -> Option<bool> {
    modal(ctx, "confirm", |ui, result| {
        ui.set_max_width(420.0);
        ui.heading(&confirm.title);
        ui.add_space(6.0);
        ui.label(&confirm.message);
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            let danger = egui::Button::new(
                egui::RichText::new(&confirm.confirm_label).color(ui.visuals().error_fg_color),
            );
            if ui.add(danger).clicked() {
                *result = Some(true);
            }
            if ui.button("Keep it").clicked() {
                *result = Some(false);
            }
        });
    })
}

/// Shown instead of everything else when the database cannot be used.
pub fn fatal_ui(ui: &mut egui::Ui, fatal: &Fatal, state: &AppState, actions: &mut Vec<Action>) {
    ui.add_space(40.0);
    ui.vertical_centered(|ui| {
        ui.set_max_width(620.0);
        ui.heading("Fabula could not open your stories");
        ui.add_space(10.0);
        ui.label(&fatal.message);
        ui.add_space(10.0);
        ui.weak(format!("Data folder: {}", state.data_dir.display()));
        ui.add_space(16.0);
        match &fatal.latest_backup {
            Some(backup) => {
                ui.label(format!(
                    "The latest backup is {} ({}, {}). Restoring it keeps the damaged file beside it.",
                    backup.file_name(),
                    date(unix_ms(backup.modified)),
                    bytes(backup.size_bytes)
                ));
                ui.add_space(8.0);
                if ui.button("Restore the latest backup").clicked() {
                    actions.push(Action::Backup(BackupAction::RestoreBackup(backup.path.clone())));
                }
            }
            None => {
                ui.label("No backup is available to restore here.");
            }
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            super::settings::diagnostics_button_ui(ui, actions);
            if ui.button("Quit").clicked() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
    });
    if let Some(status) = &state.status {
        ui.add_space(12.0);
        ui.colored_label(ui.visuals().error_fg_color, &status.text);
    }
}
