//! The prompt inspector: the latest requests as they were sent, and what came back.

use super::super::ViewState;
use crate::state::WritingState;
use egui::RichText;

pub(super) fn inspector_ui(ui: &mut egui::Ui, writing: &WritingState, view: &mut ViewState) {
    if writing.inspector.is_empty() {
        ui.weak("Nothing generated yet. Each request and reply of this story's last 50 generations shows up here.");
        return;
    }
    for record in &writing.inspector {
        let selected = view.inspector_selected == Some(record.id);
        let when = crate::ui::format::short_time(record.created_at, crate::domain::now_ms());
        let title = format!(
            "{} · {} · {} · {}",
            when,
            crate::ui::format::model_label(&record.model),
            record.task,
            record.outcome
        );
        if ui.selectable_label(selected, title).clicked() {
            view.inspector_selected = (!selected).then_some(record.id);
        }
        if !selected {
            continue;
        }
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.weak(format!("{} · {}", record.provider, record.url));
            if let Some(error) = &record.error {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            if let Some(usage) = &record.usage {
                ui.label(format!("Usage: {usage}"));
            }
            if let Some(budget) = &record.budget
                && budget.entries_sent + budget.entries_left_out > 0
            {
                ui.label(format!(
                    "History: {}",
                    crate::ui::turn::history_note(budget)
                ));
            }
            if let Some(lore) = &record.lore {
                ui.label(format!("Lore: {}", lore.replace('\n', "; ")));
            }
            ui.label(RichText::new("Request body").strong());
            // Laid out for reading token for token; the copy below is the body as sent.
            if view
                .inspector_pretty
                .as_ref()
                .is_none_or(|(id, _)| *id != record.id)
            {
                let pretty = crate::domain::pretty::pretty_json(&record.request)
                    .unwrap_or_else(|| record.request.clone());
                view.inspector_pretty = Some((record.id, pretty));
            }
            if let Some((_, shown)) = &view.inspector_pretty {
                ui.add(egui::Label::new(RichText::new(shown).monospace().small()).wrap());
            }
            crate::ui::copy::copy_button(
                ui,
                "Copy request",
                "Copy the request body as it was sent",
                || record.request.clone(),
            );
            ui.label(RichText::new("Response").strong());
            if !record.reasoning.is_empty() {
                ui.weak(format!("Reasoning: {}", record.reasoning.trim()));
            }
            ui.label(if record.response.is_empty() {
                "(empty)"
            } else {
                record.response.as_str()
            });
        });
    }
}
