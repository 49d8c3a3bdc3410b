//! The Settings screen: appearance, where the data lives, the error log, updates.

use crate::domain::{FontSize, LineWidth, ThemeChoice};
use crate::state::{Action, AppState, Screen, SettingsAction, UpdateStatus};

pub fn settings_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.heading("Settings");
    ui.add_space(8.0);
    ui.strong("Appearance");
    egui::Grid::new("settings-grid")
        .num_columns(2)
        .spacing([16.0, 8.0])
        .show(ui, |ui| {
            ui.label("Theme");
            ui.horizontal(|ui| {
                for theme in ThemeChoice::ALL {
                    if ui
                        .radio(state.prefs.theme == theme, theme.label())
                        .clicked()
                    {
                        actions.push(Action::Settings(SettingsAction::SetTheme(theme)));
                    }
                }
            });
            ui.end_row();
            let label = ui.label("Text size");
            egui::ComboBox::from_id_salt("font-size")
                .selected_text(state.prefs.font_size.label())
                .show_ui(ui, |ui| {
                    for size in FontSize::ALL {
                        if ui
                            .selectable_label(state.prefs.font_size == size, size.label())
                            .clicked()
                        {
                            actions.push(Action::Settings(SettingsAction::SetFontSize(size)));
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Line width");
            egui::ComboBox::from_id_salt("line-width")
                .selected_text(state.prefs.line_width.label())
                .show_ui(ui, |ui| {
                    for width in LineWidth::ALL {
                        if ui
                            .selectable_label(state.prefs.line_width == width, width.label())
                            .clicked()
                        {
                            actions.push(Action::Settings(SettingsAction::SetLineWidth(width)));
                        }
                    }
                })
                .response
                .on_hover_text(
                    "How wide the story's lines may run; the story is centred in a wider window",
                )
                .labelled_by(label.id);
            ui.end_row();
        });
    ui.add_space(16.0);
    ui.strong("Your data");
    ui.label(format!("Data folder: {}", state.data_dir.display()));
    ui.label(format!("Database: {}", state.database_path.display()));
    ui.weak("Set FABULA_DATA_DIR or pass --data-dir to keep your stories somewhere else.");
    if ui.link("Manage backups").clicked() {
        actions.push(Action::Show(Screen::Backups));
    }
    ui.add_space(16.0);
    ui.strong("Problems");
    ui.label(format!("Error log: {}", state.error_log.display()));
    ui.weak("Warnings and errors are kept there, with keys and tokens removed; nothing is sent anywhere.");
    diagnostics_button_ui(ui, actions);
    ui.add_space(16.0);
    updates_ui(ui, state, actions);
}

fn updates_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let update = &state.update;
    ui.strong("Updates");
    if !update.current_version.is_empty() {
        ui.label(format!("This is Fabula {}.", update.current_version));
    }
    let mut on = update.check_on_start;
    if ui
        .checkbox(
            &mut on,
            "Check for updates when Fabula starts (at most once a day)",
        )
        .changed()
    {
        actions.push(Action::Settings(SettingsAction::SetCheckUpdatesOnStart(on)));
    }
    ui.horizontal(|ui| {
        let busy = matches!(
            update.status,
            UpdateStatus::Checking | UpdateStatus::Downloading { .. }
        );
        if ui
            .add_enabled(!busy, egui::Button::new("Check for updates"))
            .clicked()
        {
            actions.push(Action::Settings(SettingsAction::CheckForUpdates));
        }
        match &update.status {
            UpdateStatus::Idle => {}
            UpdateStatus::Checking => {
                ui.spinner();
                ui.label("Checking…");
            }
            UpdateStatus::UpToDate { latest } => {
                ui.label(format!("Fabula is up to date (latest release: {latest})."));
            }
            UpdateStatus::Failed(message) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
            }
            UpdateStatus::Installed { version } => {
                ui.label(format!("Fabula {version} is installed."));
                if ui.button("Restart now").clicked() {
                    actions.push(Action::Settings(SettingsAction::RestartAfterUpdate));
                }
            }
            UpdateStatus::Available(_) | UpdateStatus::Downloading { .. } => {}
        }
    });
    match &update.status {
        UpdateStatus::Available(available) => {
            ui.label(format!("Fabula {} is available.", available.version));
            if !available.notes.trim().is_empty() {
                egui::ScrollArea::vertical()
                    .id_salt("release-notes")
                    .max_height(160.0)
                    .show(ui, |ui| ui.label(available.notes.trim()));
            }
            match &update.install_disabled {
                Some(reason) => {
                    ui.weak(format!("This build cannot install updates: {reason}"));
                }
                None => {
                    if ui.button("Download and install").clicked() {
                        actions.push(Action::Settings(SettingsAction::InstallUpdate));
                    }
                }
            }
        }
        UpdateStatus::Downloading {
            version,
            done,
            total,
        } => {
            let fraction = total.filter(|t| *t > 0).map(|t| *done as f32 / t as f32);
            ui.horizontal(|ui| {
                let bar = match fraction {
                    Some(f) => egui::ProgressBar::new(f).show_percentage(),
                    None => egui::ProgressBar::new(0.0)
                        .text(format!("{} KB", done / 1024))
                        .animate(true),
                };
                ui.add(bar.desired_width(280.0))
                    .on_hover_text(format!("Downloading Fabula {version}"));
                if ui.button("Cancel").clicked() {
                    actions.push(Action::Settings(SettingsAction::CancelUpdate));
                }
            });
        }
        _ => {}
    }
}

/// Copies what a bug report needs; shown in Settings and on the recovery screen.
pub fn diagnostics_button_ui(ui: &mut egui::Ui, actions: &mut Vec<Action>) {
    if ui
        .button("Copy diagnostics")
        .on_hover_text("The version, platform and recent errors, for a bug report")
        .clicked()
    {
        actions.push(Action::CopyDiagnostics);
    }
}
