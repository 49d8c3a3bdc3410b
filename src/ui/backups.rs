//! The Backups screen: back up now, see what exists, restore one (after confirming).

use super::format::{bytes, relative_time, unix_ms};
use super::{Confirm, ViewState};
use crate::domain::now_ms;
use crate::state::{Action, AppState, BackupAction};

pub fn backups_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        ui.heading("Backups");
        if ui.button("Back up now").clicked() {
            actions.push(Action::Backup(BackupAction::CreateBackup));
        }
    });
    ui.weak(format!(
        "A backup is made automatically once a day when Fabula starts; the last {} automatic ones are kept. Folder: {}",
        crate::domain::KEEP_BACKUPS,
        state.data_dir.join("backups").display()
    ));
    ui.add_space(8.0);
    if state.backups.is_empty() {
        ui.label("No backups yet.");
        return;
    }
    let now = now_ms();
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        for backup in &state.backups {
            let modified_ms = unix_ms(backup.modified);
            ui.horizontal(|ui| {
                ui.label(backup.file_name());
                ui.weak(format!(
                    "{} · {} · {}",
                    bytes(backup.size_bytes),
                    super::format::short_time(modified_ms, now),
                    relative_time(modified_ms, now)
                ))
                .on_hover_text(super::format::full_time(modified_ms));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button("Restore…").clicked() {
                        view.confirm = Some(Confirm {
                            title: "Restore this backup?".into(),
                            message: format!(
                                "All stories will be replaced by those in {}. The current database is backed up first, so this can be reversed from this screen.",
                                backup.file_name()
                            ),
                            confirm_label: "Restore".into(),
                            action: Action::Backup(BackupAction::RestoreBackup(backup.path.clone())),
                        });
                    }
                });
            });
        }
    });
}
