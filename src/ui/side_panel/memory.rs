//! The Memory panel: the story's chapters, first to last, each with its summary (which the
//! narrator reads instead of the chapter's entries), edited in place or deleted to the Trash.

use egui::RichText;

use super::super::ViewState;
use crate::domain::chapter::Chapter;
use crate::state::{Action, WorldAction};

/// A chapter's title and summary being edited.
#[derive(Clone, Debug, PartialEq)]
pub struct ChapterEdit {
    pub id: String,
    pub title: String,
    pub summary: String,
}

pub(super) fn memory_ui(
    ui: &mut egui::Ui,
    chapters: &[Chapter],
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
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
