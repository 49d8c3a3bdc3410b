//! The Memory panel: when chapters close (the story's memory settings), and the story's
//! chapters, first to last, each with its summary (which the narrator reads instead of the
//! chapter's entries), edited in place, written again, or deleted to the Trash.

use egui::RichText;

use super::super::ViewState;
use crate::domain::chapter::{Chapter, MemorySettings, RecallMode};
use crate::state::{Action, WorldAction, WritingState};

/// A chapter's title and summary being edited.
#[derive(Clone, Debug, PartialEq)]
pub struct ChapterEdit {
    pub id: String,
    pub title: String,
    pub summary: String,
}

pub(super) fn memory_ui(
    ui: &mut egui::Ui,
    writing: &WritingState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    settings_ui(ui, &writing.memory, actions);
    if let Some(work) = writing.memory_work {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!("{work}…"));
        });
    }
    ui.separator();
    let chapters = &writing.chapters;
    let busy = writing.memory_work.is_some();
    if chapters.is_empty() {
        ui.weak(
            "No chapters yet. When the story grows past its memory threshold, its older part \
             becomes a chapter with a summary, and the narrator reads the summary instead.",
        );
        return;
    }
    for chapter in chapters {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            let editing = view
                .chapter_edit
                .as_ref()
                .is_some_and(|e| e.id == chapter.id);
            if editing {
                edit_ui(ui, chapter, view, actions);
                return;
            }
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(chapter.heading()).strong());
                ui.weak(crate::domain::count_of(
                    u64::try_from(chapter.entry_count).unwrap_or(0),
                    "entry",
                    "entries",
                ));
            });
            ui.label(chapter.summary.trim());
            ui.horizontal(|ui| {
                if ui.small_button("Edit").clicked() {
                    view.chapter_edit = Some(ChapterEdit {
                        id: chapter.id.clone(),
                        title: chapter.title.clone().unwrap_or_default(),
                        summary: chapter.summary.clone(),
                    });
                }
                if ui
                    .add_enabled(!busy, egui::Button::new("Re-summarize").small())
                    .on_hover_text("Write the summary again from the chapter's entries")
                    .clicked()
                {
                    actions.push(Action::World(WorldAction::ResummarizeChapter(
                        chapter.id.clone(),
                    )));
                }
                if ui
                    .small_button("Delete")
                    .on_hover_text(
                        "Its entries go back into the narrator's history (Undo brings it back)",
                    )
                    .clicked()
                {
                    actions.push(Action::World(WorldAction::TrashChapter(chapter.id.clone())));
                }
            });
        });
    }
}

/// The story's memory settings; a change is saved as it is made.
fn settings_ui(ui: &mut egui::Ui, saved: &MemorySettings, actions: &mut Vec<Action>) {
    let mut s = saved.clone();
    egui::CollapsingHeader::new("Memory settings")
        .id_salt("memory-settings")
        .show(ui, |ui| {
            ui.checkbox(&mut s.auto_summarize, "Close chapters automatically")
                .on_hover_text(
                    "After a narration, the older part of the story becomes a chapter with a \
                     summary once it holds the threshold",
                );
            egui::Grid::new("memory-settings-grid")
                .num_columns(2)
                .show(ui, |ui| {
                    let label = ui.label("Threshold (tokens)");
                    ui.add(
                        egui::DragValue::new(&mut s.token_threshold)
                            .range(1_000..=500_000)
                            .speed(100),
                    )
                    .labelled_by(label.id);
                    ui.end_row();
                    let label = ui.label("Recent entries kept out");
                    ui.add(egui::DragValue::new(&mut s.recent_buffer).range(1..=500))
                        .labelled_by(label.id);
                    ui.end_row();
                });
            ui.checkbox(&mut s.recall, "Recall past chapters before a narration");
            ui.add_enabled_ui(s.recall, |ui| {
                ui.horizontal(|ui| {
                    ui.radio_value(&mut s.recall_mode, RecallMode::Questions, "Questions")
                        .on_hover_text(
                            "Asks what the coming narration needs to know and answers each \
                             question from the chapter it concerns",
                        );
                    ui.radio_value(&mut s.recall_mode, RecallMode::Agent, "Agent")
                        .on_hover_text(
                            "An agent that lists, reads and searches the past chapters itself",
                        );
                });
                ui.horizontal(|ui| {
                    let label = ui.label("Chapters per recall");
                    ui.add(egui::DragValue::new(&mut s.chapters_per_recall).range(1..=20))
                        .labelled_by(label.id);
                });
            });
        });
    if &s != saved {
        actions.push(Action::World(WorldAction::SaveMemorySettings(s)));
    }
}

fn edit_ui(ui: &mut egui::Ui, chapter: &Chapter, view: &mut ViewState, actions: &mut Vec<Action>) {
    let Some(edit) = view.chapter_edit.as_mut() else {
        return;
    };
    let mut done = None;
    ui.horizontal(|ui| {
        if ui.button("Save").clicked() {
            done = Some(true);
        }
        if ui.button("Cancel").clicked() {
            done = Some(false);
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Title");
        ui.text_edit_singleline(&mut edit.title)
            .labelled_by(label.id);
    });
    let label = ui.label("Summary");
    ui.add(
        egui::TextEdit::multiline(&mut edit.summary)
            .desired_rows(6)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
    match done {
        Some(true) => {
            let title = edit.title.trim();
            let saved = Chapter {
                title: (!title.is_empty()).then(|| title.to_owned()),
                summary: edit.summary.trim().to_owned(),
                ..chapter.clone()
            };
            actions.push(Action::World(WorldAction::SaveChapter(Box::new(saved))));
            view.chapter_edit = None;
        }
        Some(false) => view.chapter_edit = None,
        None => {}
    }
}
