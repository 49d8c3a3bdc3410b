//! Settings > Usage: what the model calls cost, grouped by day, model, story or task, and the newest calls.

use crate::domain::UsageGrouping;
use crate::state::{Action, AppState, ProviderAction, Screen};

pub fn usage_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    super::providers::settings_tabs_ui(ui, Screen::Usage, actions);
    ui.heading("Usage");
    let usage = &state.usage;
    ui.horizontal(|ui| {
        for g in UsageGrouping::ALL {
            if ui.radio(usage.grouping == g, g.label()).clicked() {
                actions.push(Action::Provider(ProviderAction::ShowUsage(g)));
            }
        }
        if ui.button("Refresh").clicked() {
            actions.push(Action::Provider(ProviderAction::ShowUsage(usage.grouping)));
        }
    });
    if usage.totals.is_empty() {
        ui.label("No model calls yet. Each call's tokens, time and cost appear here.");
        return;
    }
    // A local model, or one whose price the model list did not say, costs nothing known.
    let dollars = |micro: i64| {
        if micro == 0 {
            "–".to_owned()
        } else {
            format!("${:.4}", micro as f64 / 1e6)
        }
    };
    // Both ways: six columns do not fit a narrow window, and a row cut off would hide its cost.
    egui::ScrollArea::both()
        .id_salt("usage-scroll")
        .show(ui, |ui| {
            egui::Grid::new("usage-totals")
                .num_columns(6)
                .spacing([16.0, 4.0])
                .striped(true)
                .show(ui, |ui| {
                    let first = match usage.grouping {
                        UsageGrouping::Story => "Story",
                        UsageGrouping::Provider => "Provider",
                        UsageGrouping::Day => "Day",
                    };
                    for h in [
                        first,
                        "Calls",
                        "Prompt tokens",
                        "Completion tokens",
                        "Reasoning",
                        "Cost",
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for t in &usage.totals {
                        ui.label(&t.key);
                        ui.label(if t.failed > 0 {
                            format!("{} ({} failed)", t.calls, t.failed)
                        } else {
                            t.calls.to_string()
                        });
                        ui.label(t.prompt_tokens.to_string());
                        ui.label(t.completion_tokens.to_string());
                        ui.label(t.reasoning_tokens.to_string());
                        ui.label(dollars(t.cost_micro_usd));
                        ui.end_row();
                    }
                });
            ui.add_space(12.0);
            ui.strong("Latest calls");
            egui::Grid::new("usage-recent")
                .num_columns(6)
                .spacing([16.0, 4.0])
                .striped(true)
                .show(ui, |ui| {
                    for h in [
                        "When",
                        "Task",
                        "Provider / model",
                        "Tokens",
                        "First token",
                        "Outcome",
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for r in &usage.recent {
                        ui.label(super::format::short_time(r.at_ms, crate::domain::now_ms()))
                            .on_hover_text(super::format::full_time(r.at_ms));
                        ui.label(r.task.label());
                        ui.label(format!(
                            "{} / {}",
                            r.provider,
                            super::format::model_label(&r.model)
                        ))
                        .on_hover_text(&r.model);
                        ui.label(format!(
                            "{} + {}",
                            r.prompt_tokens.map_or("?".into(), |n| n.to_string()),
                            r.completion_tokens.map_or("?".into(), |n| n.to_string())
                        ));
                        ui.label(r.first_token_ms.map_or("–".into(), |ms| format!("{ms} ms")));
                        let outcome = ui.label(r.outcome.as_str());
                        if let Some(e) = &r.error {
                            outcome.on_hover_text(e);
                        }
                        ui.end_row();
                    }
                });
        });
}
