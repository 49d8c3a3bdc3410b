//! The World panel's Updates tab: the newest world updates, what each did and which narration it
//! was read from, each one taken back or made again with a click.

use crate::domain::world_log::{KeptUpdate, UpdateStanding};
use crate::state::{Action, WorldAction};
use egui::RichText;

pub fn updates_ui(ui: &mut egui::Ui, updates: &[KeptUpdate], actions: &mut Vec<Action>) {
    if updates.is_empty() {
        ui.weak(
            "No updates yet. After each narration the model's changes to the world are listed here, newest first.",
        );
        return;
    }
    let now = crate::domain::now_ms();
    egui::ScrollArea::vertical()
        .auto_shrink([false, true])
        .show(ui, |ui| {
            for update in updates {
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new(format!("“{}”", update.narration)).italics());
                        ui.weak(format!(
                            "· {} · {}",
                            super::super::format::relative_time(update.created_at, now),
                            update.standing.label()
                        ));
                    });
                    for line in &update.lines {
                        ui.label(line);
                    }
                    match update.standing {
                        UpdateStanding::InEffect => {
                            if ui
                                .small_button("Take back")
                                .on_hover_text("Undo what this update changed; newer changes stay")
                                .clicked()
                            {
                                actions
                                    .push(Action::World(WorldAction::SetUpdate(update.id, false)));
                            }
                        }
                        UpdateStanding::TakenBack => {
                            if ui.small_button("Make again").clicked() {
                                actions
                                    .push(Action::World(WorldAction::SetUpdate(update.id, true)));
                            }
                        }
                        UpdateStanding::TextNotShown | UpdateStanding::Waiting => {}
                    }
                });
            }
        });
}
