//! The Settings screen: appearance and where the data lives.

use crate::app::{Action, AppState, Screen};
use crate::domain::{FontSize, ThemeChoice};

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
                        actions.push(Action::SetTheme(theme));
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
                            actions.push(Action::SetFontSize(size));
                        }
                    }
                })
                .response
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
}
