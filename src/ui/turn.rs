//! Between the story and the input: the Stop button while writing, the draft with Keep / Retry /
//! Discard, action choices or suggestions, and the token budget bar.

use egui::{Sense, vec2};

use super::format::thousands;
use super::{Confirm, ViewState};
use crate::domain::{Budget, DraftState, StoryMode, count_of, preview};
use crate::state::{Action, OpenStory, SuggestionStatus, WritingAction, WritingState};

pub fn turn_ui(
    ui: &mut egui::Ui,
    open: &OpenStory,
    writing: &WritingState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    if let Some(streaming) = writing.streaming_for(&open.summary.story.id) {
        // Static on purpose: a spinner repaints every frame for as long as the stream lasts.
        ui.horizontal(|ui| {
            ui.label(match &streaming.model {
                Some(model) => format!("Writing with {}…", super::format::model_label(model)),
                None => "Preparing the prompt…".to_owned(),
            });
            if ui
                .button("Stop")
                .on_hover_text("Stop writing and keep the text so far as a draft (Esc)")
                .clicked()
            {
                actions.push(Action::Writing(WritingAction::StopGeneration));
            }
        });
    } else if let Some(draft) = &writing.draft {
        draft_ui(ui, draft, writing.streaming.is_some(), view, actions);
    } else if let Some(error) = &writing.last_error {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(ui.visuals().error_fg_color, error);
            if ui
                .button("Retry")
                .on_hover_text("Ask the narrator again")
                .clicked()
            {
                actions.push(Action::Writing(WritingAction::Generate(None)));
            }
        });
    }
    suggestions_ui(ui, open, writing, view);
    if let Some(budget) = writing.budget {
        budget_ui(ui, &budget, writing);
    }
}

fn draft_ui(
    ui: &mut egui::Ui,
    draft: &crate::domain::Draft,
    busy: bool,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        let heading = match draft.state {
            // A draft is shown only while its own story is not being written, so "streaming" means
            // the app stopped mid-stream.
            DraftState::Streaming => "Draft: Fabula stopped while this was being written",
            DraftState::Cancelled => "Draft: stopped before the end",
            DraftState::Failed => "Draft: the provider failed",
        };
        ui.strong(heading);
        if let Some(error) = &draft.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        if draft.content.trim().is_empty() {
            ui.weak("No text arrived.");
        } else {
            egui::ScrollArea::vertical()
                .id_salt("draft-text")
                .max_height(140.0)
                .show(ui, |ui| {
                    ui.label(draft.content.trim());
                });
        }
        ui.horizontal(|ui| {
            let has_text = !draft.content.trim().is_empty();
            if ui
                .add_enabled(has_text, egui::Button::new("Keep"))
                .on_hover_text("Add this text to the story as it is")
                .clicked()
            {
                actions.push(Action::Writing(WritingAction::KeepDraft));
            }
            if ui
                .add_enabled(!busy, egui::Button::new("Retry"))
                .on_hover_text("Ask the narrator again (the draft is replaced)")
                .clicked()
            {
                actions.push(Action::Writing(WritingAction::RetryDraft));
            }
            if ui
                .button("Discard")
                .on_hover_text("Throw this draft away")
                .clicked()
            {
                if has_text {
                    view.confirm = Some(Confirm {
                        title: "Discard the draft?".into(),
                        message: format!(
                            "“{}” will not be added to the story. Its text stays in the prompt inspector.",
                            preview(&draft.content, 80)
                        ),
                        confirm_label: "Discard".into(),
                        action: Action::Writing(WritingAction::DiscardDraft),
                    });
                } else {
                    actions.push(Action::Writing(WritingAction::DiscardDraft));
                }
            }
        });
    });
}

fn suggestions_ui(
    ui: &mut egui::Ui,
    open: &OpenStory,
    writing: &WritingState,
    view: &mut ViewState,
) {
    if writing.streaming.is_some() || !writing.settings.suggestions {
        return;
    }
    let label = match open.summary.story.mode {
        StoryMode::Adventure => "Choices:",
        StoryMode::CreativeWriting => "Ideas:",
    };
    match &writing.suggestions_status {
        SuggestionStatus::Loading => {
            ui.weak("Thinking of what could happen next…");
        }
        SuggestionStatus::Failed(message) => {
            ui.weak(format!("No suggestions this time: {message}"));
        }
        SuggestionStatus::Idle if !writing.suggestions.is_empty() => {
            ui.horizontal_wrapped(|ui| {
                ui.weak(label);
                for suggestion in &writing.suggestions {
                    if ui
                        .button(suggestion)
                        .on_hover_text("Put this in the input box")
                        .clicked()
                    {
                        view.composer.text.clone_from(suggestion);
                        if open.summary.story.mode == StoryMode::Adventure {
                            view.composer.action = crate::domain::ActionType::Do;
                        }
                    }
                }
            });
        }
        SuggestionStatus::Idle => {}
    }
}

/// How much of the story a request carried, in the same words on the budget bar and in the
/// inspector (both read the request's own count).
pub(crate) fn history_note(budget: &Budget) -> String {
    let note = entries_note(budget);
    match budget.chapters_left_out {
        0 => note,
        1 => format!("{note} The oldest chapter summary did not fit and was left out."),
        n => format!(
            "{note} The oldest {} chapter summaries did not fit and were left out.",
            thousands(n as u64)
        ),
    }
}

fn entries_note(budget: &Budget) -> String {
    let sent = count_of(budget.entries_sent as u64, "entry", "entries");
    match budget.entries_left_out {
        0 => format!("{sent} sent; every entry fit."),
        1 => format!("{sent} sent; the oldest entry did not fit and was left out."),
        n => format!(
            "{sent} sent; the oldest {} entries did not fit and were left out.",
            thousands(n as u64)
        ),
    }
}

/// How the context window was spent by the latest request.
fn budget_ui(ui: &mut egui::Ui, budget: &Budget, writing: &WritingState) {
    let amber = super::theme::WARNING;
    let values = [
        budget.system,
        budget.lore,
        budget.world,
        budget.memory,
        budget.history,
        budget.input,
        budget.reserved_output,
    ];
    let window = budget.window.max(budget.used()).max(1) as f32;
    let summary = format!(
        "Context: {} of {} tokens",
        thousands(budget.used() as u64),
        thousands(budget.window as u64)
    );
    let response = ui
        .horizontal(|ui| {
            let label = if budget.is_tight() {
                ui.colored_label(amber, format!("{summary} (near the limit)"))
            } else {
                ui.weak(&summary)
            };
            let width = ui.available_width().clamp(80.0, 420.0);
            let (rect, bar) = ui.allocate_exact_size(vec2(width, 10.0), Sense::hover());
            let painter = ui.painter();
            painter.rect_filled(rect, 3.0, ui.visuals().extreme_bg_color);
            let mut x = rect.left();
            for ((_, color), value) in super::theme::BUDGET_PARTS.iter().zip(values) {
                let w = rect.width() * value as f32 / window;
                if w > 0.0 {
                    let seg = egui::Rect::from_min_size(
                        egui::pos2(x, rect.top()),
                        vec2(w, rect.height()),
                    );
                    painter.rect_filled(seg, 0.0, *color);
                    x += w;
                }
            }
            if budget.is_tight() {
                painter.rect_stroke(
                    rect,
                    3.0,
                    egui::Stroke::new(1.5, amber),
                    egui::StrokeKind::Outside,
                );
            }
            label.union(bar)
        })
        .inner;
    response.on_hover_ui(|ui| {
        for ((name, color), value) in super::theme::BUDGET_PARTS.iter().zip(values) {
            ui.horizontal(|ui| {
                let (rect, _) = ui.allocate_exact_size(vec2(10.0, 10.0), Sense::hover());
                ui.painter().rect_filled(rect, 2.0, *color);
                ui.label(format!("{name}: {} tokens", thousands(value as u64)));
            });
        }
        ui.label(history_note(budget));
        for (name, why, fit) in &writing.lore_fired {
            if !fit {
                ui.label(format!(
                    "Lore “{name}” ({why}) was cut: over the lore budget."
                ));
            }
        }
    });
}
