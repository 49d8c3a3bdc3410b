//! The top bar: the screens, and Undo / Redo with the update notice; it wraps in a narrow window.

use crate::state::{Action, AppState, EntryAction, Screen};

pub(super) fn nav_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    // Below this width the tabs and Undo/Redo would overlap: they wrap onto a second row instead.
    const ONE_ROW_WIDTH: f32 = 760.0;
    if ui.available_width() < ONE_ROW_WIDTH {
        ui.horizontal_wrapped(|ui| {
            nav_tabs(ui, state, actions);
            ui.separator();
            history_ui(ui, state, actions, false);
        });
    } else {
        ui.horizontal(|ui| {
            nav_tabs(ui, state, actions);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                history_ui(ui, state, actions, true);
            });
        });
    }
}

fn nav_tabs(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.strong("Fabula");
    ui.separator();
    let tab = |ui: &mut egui::Ui, screen: Screen, label: &str, actions: &mut Vec<Action>| {
        if ui.selectable_label(state.screen == screen, label).clicked() {
            actions.push(Action::Show(screen));
        }
    };
    tab(ui, Screen::Library, "Library", actions);
    if let Some(open) = &state.open {
        let title = crate::domain::preview(&open.summary.story.title, 32);
        if ui
            .selectable_label(state.screen == Screen::Story, format!("Story: {title}"))
            .on_hover_text("Back to the open story")
            .clicked()
        {
            actions.push(Action::Show(Screen::Story));
        }
    }
    tab(ui, Screen::Sync, "Sync", actions);
    tab(ui, Screen::Trash, "Trash", actions);
    tab(ui, Screen::Backups, "Backups", actions);
    let in_settings = matches!(
        state.screen,
        Screen::Settings | Screen::Providers | Screen::Prompts | Screen::Usage
    );
    if ui.selectable_label(in_settings, "Settings").clicked() {
        actions.push(Action::Show(Screen::Settings));
    }
}

/// Undo, Redo and the update notice; `right_to_left` when they sit at the row's right end.
fn history_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>, right_to_left: bool) {
    let update = |ui: &mut egui::Ui, actions: &mut Vec<Action>| {
        if let crate::state::UpdateStatus::Available(a) = &state.update.status
            && state.screen != Screen::Settings
            && ui
                .link(format!("Fabula {} is available", a.version))
                .clicked()
        {
            actions.push(Action::Show(Screen::Settings));
        }
    };
    let redo = |ui: &mut egui::Ui, actions: &mut Vec<Action>| {
        let redo = ui.add_enabled(state.redo_label.is_some(), egui::Button::new("Redo"));
        if redo
            .on_hover_text(format!(
                "Redo {} (Ctrl+Shift+Z)",
                state.redo_label.as_deref().unwrap_or("")
            ))
            .clicked()
        {
            actions.push(Action::Entry(EntryAction::Redo));
        }
    };
    let undo = |ui: &mut egui::Ui, actions: &mut Vec<Action>| {
        let undo = ui.add_enabled(state.undo_label.is_some(), egui::Button::new("Undo"));
        if undo
            .on_hover_text(format!(
                "Undo {} (Ctrl+Z)",
                state.undo_label.as_deref().unwrap_or("")
            ))
            .clicked()
        {
            actions.push(Action::Entry(EntryAction::Undo));
        }
    };
    if right_to_left {
        update(ui, actions);
        redo(ui, actions);
        undo(ui, actions);
    } else {
        undo(ui, actions);
        redo(ui, actions);
        update(ui, actions);
    }
}
