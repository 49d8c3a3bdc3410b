//! One row of the story: an entry (its header, text, alternatives and buttons, or the editor in
//! its place) or the narration being streamed.

use egui::{Rect, UiBuilder, vec2};

use super::editor::{EditEnd, edit_ui};
use super::{ROW_GAP, ROW_MARGIN, RowContext, StoryLayout};
use crate::domain::{Entry, EntryKind, EntryRow, Target};
use crate::state::{Action, BranchAction, EntryAction, Streaming, WorldAction, WritingAction};
use crate::ui::EditState;

/// The narration arriving under the last entry.
pub(super) fn streaming_row_ui(ui: &mut egui::Ui, rect: Rect, streaming: &Streaming) -> f32 {
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(rect)
            .id_salt("streaming-narration")
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    egui::Frame::new()
        .inner_margin(egui::Margin::same(ROW_MARGIN))
        .corner_radius(6)
        .stroke(egui::Stroke::new(1.0, child.visuals().selection.bg_fill))
        .show(&mut child, |ui| {
            ui.set_width(ui.available_width());
            streaming_body_ui(ui, streaming, None);
        });
    child.min_rect().height() + ROW_GAP
}

/// The narration being written; `continued` is the cut text a continuation writes on from.
pub(super) fn streaming_body_ui(ui: &mut egui::Ui, streaming: &Streaming, continued: Option<&str>) {
    // No spinner: the arriving text shows progress, and an animation would repaint every frame.
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(match (&streaming.model, streaming.recalling) {
                (Some(model), _) => {
                    format!("Writing with {}…", crate::ui::format::model_label(model))
                }
                (None, Some((done, of))) => format!("Recalling… {done}/{of}"),
                (None, None) => "Preparing the prompt…".to_owned(),
            })
            .small()
            .strong(),
        );
    });
    if let Some(recalled) = &streaming.recalled {
        egui::CollapsingHeader::new(egui::RichText::new("Recalled from earlier chapters").small())
            .id_salt("streaming-recalled")
            .show(ui, |ui| {
                ui.weak(recalled.trim());
            });
    }
    if !streaming.reasoning.is_empty() {
        egui::CollapsingHeader::new(egui::RichText::new("Reasoning").small())
            .id_salt("streaming-reasoning")
            .show(ui, |ui| {
                ui.weak(streaming.reasoning.trim());
            });
    }
    match continued {
        Some(cut) => {
            let more = streaming.text.as_str();
            ui.label(format!("{cut}{}{more}", crate::domain::joint(cut, more)));
        }
        None => {
            let text = streaming.text.trim_start();
            if !text.is_empty() {
                ui.label(text);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn row_ui(
    ui: &mut egui::Ui,
    rect: Rect,
    row: &EntryRow,
    context: RowContext<'_>,
    entry: Option<&Entry>,
    layout: &mut StoryLayout,
    editing: &mut Option<EditState>,
    actions: &mut Vec<Action>,
) -> f32 {
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(rect)
            .id_salt(("entry", row.id.as_str()))
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    if let Some(chapter) = context.chapters.iter().find(|c| c.start_entry == row.id) {
        chapter_divider_ui(&mut child, chapter);
    }
    let fill = match row.kind {
        EntryKind::UserAction => child.visuals().faint_bg_color,
        _ => crate::ui::theme::NONE,
    };
    egui::Frame::new()
        .inner_margin(egui::Margin::same(ROW_MARGIN))
        .corner_radius(6)
        .fill(fill)
        .show(&mut child, |ui| {
            ui.set_width(ui.available_width());
            let mode = context.mode;
            let is_editing = editing.as_ref().is_some_and(|e| e.entry == row.id);
            let regenerating = context.streaming.filter(|s| match &s.target {
                Target::Regenerate(id) | Target::Continue(id) => *id == row.id,
                Target::Next => false,
            });
            let header = ui
                .horizontal(|ui| {
                    let kind = row.kind.label(mode);
                    let label = ui.label(
                        egui::RichText::new(if is_editing {
                            format!("Editing {}", kind.to_lowercase())
                        } else {
                            kind.to_owned()
                        })
                        .small()
                        .strong()
                        .color(crate::ui::theme::entry_kind(row.kind, ui.visuals())),
                    );
                    if let (Some(entry), false) = (entry, is_editing) {
                        if let Some(pos) = entry.alternative {
                            alternatives_ui(ui, entry, pos, context.busy, actions);
                        }
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            ui.menu_button("More", |ui| {
                                if ui
                                    .button("Branch from here")
                                    .on_hover_text(
                                        "Try another path from this entry; the story so far is \
                                         shared and nothing is lost",
                                    )
                                    .clicked()
                                {
                                    actions.push(Action::Branch(BranchAction::New(
                                        entry.id.clone(),
                                        None,
                                    )));
                                    ui.close();
                                }
                                if let Some(pos) = entry.alternative.filter(|p| p.count > 1) {
                                    ui.menu_button("Branch from another version", |ui| {
                                        for index in (1..=pos.count).filter(|i| *i != pos.index) {
                                            if ui
                                                .button(format!("Version {index} of {}", pos.count))
                                                .on_hover_text(
                                                    "A new branch that starts with this version \
                                                     shown; this line keeps the one it shows",
                                                )
                                                .clicked()
                                            {
                                                actions.push(Action::Branch(BranchAction::New(
                                                    entry.id.clone(),
                                                    Some(index),
                                                )));
                                                ui.close();
                                            }
                                        }
                                    });
                                }
                                if ui
                                    .button("Checkpoint here")
                                    .on_hover_text("Mark this moment to come back to")
                                    .clicked()
                                {
                                    actions.push(Action::Branch(BranchAction::Checkpoint(
                                        entry.id.clone(),
                                    )));
                                    ui.close();
                                }
                                if ui
                                    .button("End chapter here")
                                    .on_hover_text(
                                        "Close a chapter from the last one's end up to this \
                                         entry; the narrator then reads its summary instead",
                                    )
                                    .clicked()
                                {
                                    actions.push(Action::World(WorldAction::EndChapterAt(
                                        entry.id.clone(),
                                    )));
                                    ui.close();
                                }
                            });
                            if ui
                                .small_button("Delete")
                                .on_hover_text("Move this entry to the Trash")
                                .clicked()
                            {
                                actions
                                    .push(Action::Entry(EntryAction::TrashEntry(entry.id.clone())));
                            }
                            crate::ui::copy::copy_button(ui, "Copy", "Copy the text", || {
                                entry.content.clone()
                            });
                            if ui
                                .small_button("Edit")
                                .on_hover_text("Edit this entry in place")
                                .clicked()
                            {
                                *editing = Some(EditState {
                                    entry: entry.id.clone(),
                                    text: entry.content.clone(),
                                    request_focus: true,
                                });
                            }
                            if row.kind == EntryKind::Narration
                                && ui
                                    .add_enabled(
                                        !context.busy,
                                        egui::Button::new("Regenerate").small(),
                                    )
                                    .on_hover_text(
                                        "Write this narration again from what came before it; \
                                         the current text stays as an alternative",
                                    )
                                    .clicked()
                            {
                                actions.push(Action::Writing(WritingAction::Regenerate(
                                    entry.id.clone(),
                                )));
                            }
                        });
                    }
                    label.id
                })
                .inner;
            let can_regenerate = context.last_action == Some(&row.id) && !context.busy;
            match (entry, editing.as_mut().filter(|e| e.entry == row.id)) {
                (_, Some(edit)) => {
                    if let Some(done) = edit_ui(ui, edit, header, can_regenerate) {
                        match done {
                            EditEnd::Save(text) => {
                                actions.push(Action::Entry(EntryAction::EditEntry {
                                    entry: row.id.clone(),
                                    text,
                                }))
                            }
                            EditEnd::SaveAndRegenerate(text) => {
                                actions.push(Action::Writing(WritingAction::EditAndRegenerate {
                                    entry: row.id.clone(),
                                    text,
                                }));
                            }
                            EditEnd::Cancel => {}
                        }
                        layout.invalidate(&row.id);
                        *editing = None;
                    }
                }
                (_, None) if regenerating.is_some() => {
                    if let Some(streaming) = regenerating {
                        let continued = entry
                            .filter(|_| matches!(streaming.target, Target::Continue(_)))
                            .map(|e| e.content.as_str());
                        streaming_body_ui(ui, streaming, continued);
                    }
                }
                (Some(entry), None) => {
                    if !entry.reasoning.is_empty() {
                        egui::CollapsingHeader::new(egui::RichText::new("Reasoning").small())
                            .id_salt(("reasoning", entry.id.as_str()))
                            .show(ui, |ui| {
                                ui.weak(entry.reasoning.trim());
                            });
                    }
                    let galley = layout.galley(ui, entry, ui.visuals().text_color());
                    ui.add(egui::Label::new(galley));
                    if entry.cut_off && entry.kind == EntryKind::Narration {
                        cut_off_ui(ui, entry, context.busy, actions);
                    }
                }
                (None, None) => {
                    ui.weak("…");
                }
            }
        });
    child.min_rect().height() + ROW_GAP
}

/// The line above a chapter's first entry: its number and title, and what it means on hover.
fn chapter_divider_ui(ui: &mut egui::Ui, chapter: &crate::domain::chapter::Chapter) {
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let rule = |ui: &mut egui::Ui| {
            let width = (ui.available_width() * 0.15).max(12.0);
            let (rect, _) = ui.allocate_exact_size(vec2(width, 8.0), egui::Sense::hover());
            ui.painter().hline(
                rect.x_range(),
                rect.center().y,
                ui.visuals().widgets.noninteractive.bg_stroke,
            );
        };
        rule(ui);
        ui.label(egui::RichText::new(chapter.heading()).strong())
            .on_hover_text(
                "The narrator reads this chapter's summary (Memory panel) instead of its entries",
            );
        rule(ui);
    });
    ui.add_space(4.0);
}

/// The mark on a narration the provider stopped at its length limit, with the way to finish it.
fn cut_off_ui(ui: &mut egui::Ui, entry: &Entry, busy: bool, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        ui.label(
            egui::RichText::new("✂ Cut off at the length limit")
                .small()
                .color(crate::ui::theme::WARNING),
        )
        .on_hover_text(
            "The provider stopped at the profile's maximum tokens, not at an end it chose.",
        );
        if ui
            .add_enabled(!busy, egui::Button::new("Write on").small())
            .on_hover_text("Write on from where it stops; the cut text stays one alternative back")
            .clicked()
        {
            actions.push(Action::Writing(WritingAction::Continue(entry.id.clone())));
        }
    });
}

/// ‹ 2/3 ›: flips between the texts this narration has had; the one shown is what prompts see.
fn alternatives_ui(
    ui: &mut egui::Ui,
    entry: &Entry,
    pos: crate::domain::AlternativePosition,
    busy: bool,
    actions: &mut Vec<Action>,
) {
    let back = ui
        .add_enabled(!busy && pos.index > 1, egui::Button::new("‹").small())
        .on_hover_text("Previous version");
    if back.clicked() {
        actions.push(Action::Writing(WritingAction::SelectAlternative {
            entry: entry.id.clone(),
            index: pos.index - 1,
        }));
    }
    ui.small(format!("{}/{}", pos.index, pos.count));
    let next = ui
        .add_enabled(
            !busy && pos.index < pos.count,
            egui::Button::new("›").small(),
        )
        .on_hover_text("Next version");
    if next.clicked() {
        actions.push(Action::Writing(WritingAction::SelectAlternative {
            entry: entry.id.clone(),
            index: pos.index + 1,
        }));
    }
}
