//! The Trash: deleted stories, entries, lore and world rows, restorable until deleted for good (which asks first).

use super::format::relative_time;
use super::{Confirm, ViewState};
use crate::domain::{now_ms, preview};
use crate::state::{Action, AppState, EntryAction, LibraryAction};

pub fn trash_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        ui.heading("Trash");
        let empty = trash_is_empty(state);
        if !empty && ui.button("Empty Trash…").clicked() {
            view.confirm = Some(Confirm {
                title: "Empty the Trash?".into(),
                message: format!(
                    "{} and {} will be deleted permanently. This cannot be undone.",
                    super::format::count(state.trash_stories.len() as u64, "story", "stories"),
                    super::format::count(
                        (state.trash_entries.len() + state.trash_pieces.len()) as u64,
                        "entry",
                        "entries"
                    )
                ),
                confirm_label: "Delete permanently".into(),
                action: Action::Library(LibraryAction::EmptyTrash),
            });
        }
    });
    ui.weak(
        "Deleted stories, entries, lore and world wait here until you restore them or delete them permanently.",
    );
    ui.add_space(8.0);
    if trash_is_empty(state) {
        ui.label("The Trash is empty.");
        return;
    }
    let now = now_ms();
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        if !state.trash_stories.is_empty() {
            ui.strong("Stories");
            for s in &state.trash_stories {
                ui.horizontal(|ui| {
                    ui.label(&s.story.title);
                    let deleted = s.deleted_at.unwrap_or(now);
                    ui.weak(format!(
                        "{} · deleted {}",
                        super::format::count(s.entry_count, "entry", "entries"),
                        relative_time(deleted, now)
                    ))
                    .on_hover_text(super::format::full_time(deleted));
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui.button("Delete permanently…").clicked() {
                            view.confirm = Some(Confirm {
                                title: format!("Delete “{}” permanently?", s.story.title),
                                message: format!(
                                    "The story and its {} will be gone for good. This cannot be undone.",
                                    super::format::count(s.entry_count, "entry", "entries")
                                ),
                                confirm_label: "Delete permanently".into(),
                                action: Action::Library(LibraryAction::DeleteStoryForever(s.story.id.clone())),
                            });
                        }
                        if ui.button("Restore").clicked() {
                            actions.push(Action::Library(LibraryAction::RestoreStory(s.story.id.clone())));
                        }
                    });
                });
            }
            ui.add_space(10.0);
        }
        if !state.trash_entries.is_empty() {
            ui.strong("Entries");
            for t in &state.trash_entries {
                ui.horizontal(|ui| {
                    ui.label(preview(&t.entry.content, 70));
                    ui.weak(format!(
                        "from “{}” · deleted {}",
                        preview(&t.story_title, 30),
                        relative_time(t.deleted_at, now)
                    ))
                    .on_hover_text(super::format::full_time(t.deleted_at));
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui.button("Delete permanently…").clicked() {
                            view.confirm = Some(Confirm {
                                title: "Delete this entry permanently?".into(),
                                message: format!("“{}” will be gone for good.", preview(&t.entry.content, 80)),
                                confirm_label: "Delete permanently".into(),
                                action: Action::Entry(EntryAction::DeleteEntryForever(t.entry.id.clone())),
                            });
                        }
                        if ui.button("Restore").clicked() {
                            actions.push(Action::Entry(EntryAction::RestoreEntry(t.entry.id.clone())));
                        }
                    });
                });
            }
            ui.add_space(10.0);
        }
        pieces_ui(ui, state, view, actions, now);
    });
}

fn trash_is_empty(state: &AppState) -> bool {
    state.trash_stories.is_empty()
        && state.trash_entries.is_empty()
        && state.trash_pieces.is_empty()
}

/// Lore entries and world rows, each with the story it belongs to.
fn pieces_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
    now: i64,
) {
    if state.trash_pieces.is_empty() {
        return;
    }
    ui.strong("Lorebook and world");
    for p in &state.trash_pieces {
        ui.horizontal(|ui| {
            ui.label(preview(&p.name, 50));
            ui.weak(format!(
                "{} · from “{}” · deleted {}",
                p.kind.label(),
                preview(&p.story_title, 30),
                relative_time(p.deleted_at, now)
            ))
            .on_hover_text(super::format::full_time(p.deleted_at));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Delete permanently…").clicked() {
                    view.confirm = Some(Confirm {
                        title: format!("Delete “{}” permanently?", preview(&p.name, 40)),
                        message: format!(
                            "The {} will be gone for good.",
                            p.kind.label().to_lowercase()
                        ),
                        confirm_label: "Delete permanently".into(),
                        action: Action::Library(LibraryAction::DeletePieceForever(
                            p.story_id.clone(),
                            p.kind,
                            p.id.clone(),
                        )),
                    });
                }
                if ui.button("Restore").clicked() {
                    actions.push(Action::Library(LibraryAction::RestorePiece(
                        p.story_id.clone(),
                        p.kind,
                        p.id.clone(),
                    )));
                }
            });
        });
    }
}
