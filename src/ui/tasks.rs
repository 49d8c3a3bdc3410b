//! Settings > Providers, the lower half: which profile and model each task (narrator, suggestions,\ncheck …) uses, typed in per row and saved when it is valid.

use super::ViewState;
use crate::domain::{Reasoning, Task, TaskAssignment};
use crate::state::{Action, AppState, ProviderAction};
use std::collections::HashMap;

pub(super) fn tasks_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    let providers = &state.providers;
    ui.strong("Which model does what");
    ui.weak("Every task uses the main profile and its model unless you choose otherwise here.");
    let assignments: HashMap<Task, &TaskAssignment> =
        providers.assignments.iter().map(|(t, a)| (*t, a)).collect();
    // Six columns do not fit a narrow window: they scroll sideways rather than squeeze.
    egui::ScrollArea::horizontal()
        .id_salt("task-grid-scroll")
        .show(ui, |ui| {
            egui::Grid::new("task-grid")
                .num_columns(6)
                .spacing([10.0, 6.0])
                .striped(true)
                .show(ui, |ui| {
                    for h in [
                        "Task",
                        "Profile",
                        "Model",
                        "Temperature",
                        "Max tokens",
                        "Reasoning",
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for task in Task::ASSIGNABLE {
                        let saved = assignments.get(&task).copied().cloned().unwrap_or_default();
                        let edit = view.task_edits.entry(task).or_insert_with(|| TaskEdit {
                            model: saved.model.clone().unwrap_or_default(),
                            temperature: saved
                                .temperature
                                .map(|t| t.to_string())
                                .unwrap_or_default(),
                            max_tokens: saved.max_tokens.map(|t| t.to_string()).unwrap_or_default(),
                            problem: None,
                        });
                        ui.label(task.label());
                        let chosen = saved
                            .profile_id
                            .as_ref()
                            .and_then(|id| providers.profiles.iter().find(|p| &p.id == id))
                            .map_or("Main profile", |p| p.name.as_str());
                        let mut changed: Option<TaskAssignment> = None;
                        let named = |r: egui::Response, what: &str, kind: egui::Role| {
                            let name = format!("{} {what}", task.label());
                            r.widget_info(|| egui::WidgetInfo::labeled(kind, true, &name));
                        };
                        let profile_combo =
                            egui::ComboBox::from_id_salt(("task-profile", task.as_str()))
                                .selected_text(chosen)
                                .show_ui(ui, |ui| {
                                    if ui
                                        .selectable_label(
                                            saved.profile_id.is_none(),
                                            "Main profile",
                                        )
                                        .clicked()
                                    {
                                        changed = Some(TaskAssignment {
                                            profile_id: None,
                                            ..saved.clone()
                                        });
                                    }
                                    for p in &providers.profiles {
                                        if ui
                                            .selectable_label(
                                                saved.profile_id.as_ref() == Some(&p.id),
                                                &p.name,
                                            )
                                            .clicked()
                                        {
                                            changed = Some(TaskAssignment {
                                                profile_id: Some(p.id.clone()),
                                                ..saved.clone()
                                            });
                                        }
                                    }
                                });
                        named(profile_combo.response, "profile", egui::Role::ComboBox);
                        let fields = [
                            (&mut edit.model, "profile's", 140.0, "model"),
                            (&mut edit.temperature, "default", 60.0, "temperature"),
                            (&mut edit.max_tokens, "default", 70.0, "max tokens"),
                        ];
                        let mut commit = false;
                        for (text, hint, width, what) in fields {
                            let r = ui.add(
                                egui::TextEdit::singleline(text)
                                    .hint_text(hint)
                                    .desired_width(width),
                            );
                            commit |= r.lost_focus();
                            named(r, what, egui::Role::TextInput);
                        }
                        if commit {
                            let temperature = number(
                                &edit.temperature,
                                "Temperature",
                                "a number from 0 to 2",
                                |t: &f32| (0.0..=2.0).contains(t),
                            );
                            let max_tokens = number(
                                &edit.max_tokens,
                                "Max tokens",
                                "a whole number above 0",
                                |n: &u32| *n > 0,
                            );
                            match (temperature, max_tokens) {
                                (Ok(temperature), Ok(max_tokens)) => {
                                    edit.problem = None;
                                    let parsed = TaskAssignment {
                                        model: Some(edit.model.trim().to_owned())
                                            .filter(|m| !m.is_empty()),
                                        temperature,
                                        max_tokens,
                                        ..saved.clone()
                                    };
                                    if parsed != saved {
                                        changed = Some(parsed);
                                    }
                                }
                                // Nothing of the row is saved until every field of it reads.
                                (Err(problem), _) | (_, Err(problem)) => {
                                    edit.problem = Some(problem)
                                }
                            }
                        }
                        let reasoning = saved.reasoning.unwrap_or_default();
                        let reasoning_combo =
                            egui::ComboBox::from_id_salt(("task-reasoning", task.as_str()))
                                .selected_text(reasoning.label())
                                .show_ui(ui, |ui| {
                                    for r in Reasoning::ALL {
                                        if ui.selectable_label(reasoning == r, r.label()).clicked()
                                        {
                                            changed = Some(TaskAssignment {
                                                reasoning: Some(r),
                                                ..saved.clone()
                                            });
                                        }
                                    }
                                });
                        named(reasoning_combo.response, "reasoning", egui::Role::ComboBox);
                        if let Some(problem) = &edit.problem {
                            ui.colored_label(ui.visuals().error_fg_color, problem);
                        }
                        if let Some(a) = changed {
                            actions.push(Action::Provider(ProviderAction::AssignTask(task, a)));
                        }
                        ui.end_row();
                    }
                });
        });
}

/// Text typed into one task's row before it is saved.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskEdit {
    /// Why the row was not saved (a number that does not read), shown beside it.
    pub problem: Option<String>,
    pub model: String,
    pub temperature: String,
    pub max_tokens: String,
}

/// A number field: empty means the default; anything else must read and pass `allowed`.
fn number<T: std::str::FromStr>(
    text: &str,
    what: &str,
    rule: &str,
    allowed: impl Fn(&T) -> bool,
) -> Result<Option<T>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<T>()
        .ok()
        .filter(|v| allowed(v))
        .map(Some)
        .ok_or_else(|| format!("{what} must be {rule}; “{text}” was not saved."))
}
