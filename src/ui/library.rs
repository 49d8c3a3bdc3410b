//! The library: every story with its counts, filter and sort, and the per-story commands.

use super::format::{relative_time, thousands};
use super::{LibrarySort, ViewState};
use crate::domain::{StorySummary, now_ms};
use crate::state::{Action, AppState, LibraryAction};

/// Without a provider the narrator cannot write: said once, with the way to set one up and any
/// local server that answered on its usual port, ready in one click.
fn no_provider_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.strong("AI writing needs a provider");
        ui.label(
            "Add a model provider (a hosted one with its API key, or a model running on this \
             computer) for the narrator to write with. Writing by hand works without one.",
        );
        ui.horizontal_wrapped(|ui| {
            if ui.button("Set up a provider").clicked() {
                actions.push(Action::Show(crate::state::Screen::Providers));
            }
            for found in &state.providers.local_found {
                let models = super::format::count(found.models as u64, "model", "models");
                let address = found
                    .base_url
                    .trim_start_matches("http://")
                    .trim_end_matches("/v1");
                if ui
                    .button(format!("Use {} at {address} ({models})", found.label))
                    .on_hover_text("Found running on this computer: add it as a profile")
                    .clicked()
                {
                    actions.push(Action::Provider(
                        crate::state::ProviderAction::UseLocalServer(found.clone()),
                    ));
                }
            }
        });
    });
    ui.add_space(6.0);
}

pub fn library_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        ui.heading("Library");
        ui.add_space(12.0);
        if ui
            .button("New story")
            .on_hover_text("Start a new story (Ctrl+N)")
            .clicked()
        {
            view.open_new_story();
        }
        if ui
            .button("Import…")
            .on_hover_text("Add a story from an .avt file (Fabula or Aventura)")
            .clicked()
        {
            view.import_path = Some(String::new());
        }
    });
    if let Some((done, total, what)) = &state.sync.progress {
        super::transfer_progress(ui, *done, *total, what);
    }
    ui.add_space(6.0);
    if state.providers.profiles.is_empty() {
        no_provider_ui(ui, state, actions);
    }

    if state.stories.is_empty() {
        empty_library_ui(ui, view);
        return;
    }

    ui.horizontal(|ui| {
        let label = ui.label("Filter");
        let filter = ui.add(
            egui::TextEdit::singleline(&mut view.filter)
                .hint_text("title, genre or description (Ctrl+F)")
                .desired_width(260.0),
        );
        let filter = filter.labelled_by(label.id);
        if std::mem::take(&mut view.focus_filter) {
            filter.request_focus();
        }
        if !view.filter.is_empty() && ui.small_button("Clear").clicked() {
            view.filter.clear();
        }
        ui.add_space(12.0);
        let sort_label = ui.label("Sort by");
        egui::ComboBox::from_id_salt("library-sort")
            .selected_text(match view.sort {
                LibrarySort::LastEdited => "Last edited",
                LibrarySort::Title => "Title",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut view.sort, LibrarySort::LastEdited, "Last edited");
                ui.selectable_value(&mut view.sort, LibrarySort::Title, "Title");
            })
            .response
            .labelled_by(sort_label.id);
    });
    ui.add_space(6.0);

    let needle = view.filter.trim().to_lowercase();
    let mut shown: Vec<&StorySummary> = state
        .stories
        .iter()
        .filter(|s| needle.is_empty() || matches_filter(s, &needle))
        .collect();
    match view.sort {
        LibrarySort::LastEdited => shown.sort_by_key(|s| std::cmp::Reverse(s.story.updated_at)),
        LibrarySort::Title => {
            shown.sort_by_cached_key(|s| s.story.title.to_lowercase());
        }
    }
    if shown.is_empty() {
        ui.weak(format!("No story matches “{}”.", view.filter.trim()));
        return;
    }

    let now = now_ms();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for summary in shown {
                story_card_ui(ui, summary, now, view, actions);
                ui.add_space(4.0);
            }
        });
}

fn matches_filter(s: &StorySummary, needle: &str) -> bool {
    let story = &s.story;
    story.title.to_lowercase().contains(needle)
        || story
            .genre
            .as_deref()
            .is_some_and(|g| g.to_lowercase().contains(needle))
        || story
            .description
            .as_deref()
            .is_some_and(|d| d.to_lowercase().contains(needle))
}

fn empty_library_ui(ui: &mut egui::Ui, view: &mut ViewState) {
    ui.add_space(60.0);
    ui.vertical_centered(|ui| {
        ui.heading("Your library is empty");
        ui.add_space(6.0);
        ui.label(
            "Start an adventure or a piece of creative writing. Everything is saved as you type.",
        );
        ui.add_space(12.0);
        if ui
            .add(egui::Button::new("Create your first story").min_size(egui::vec2(220.0, 36.0)))
            .clicked()
        {
            view.open_new_story();
        }
    });
}

fn story_card_ui(
    ui: &mut egui::Ui,
    summary: &StorySummary,
    now: i64,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    let story = &summary.story;
    egui::Frame::group(ui.style())
        .inner_margin(egui::Margin::same(10))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                let title = ui.add(
                    egui::Button::new(egui::RichText::new(&story.title).heading()).frame(false),
                );
                if title.on_hover_text("Open this story").clicked() {
                    actions.push(Action::Library(LibraryAction::OpenStory(story.id.clone())));
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui
                        .button("Delete")
                        .on_hover_text("Move to the Trash")
                        .clicked()
                    {
                        actions.push(Action::Library(LibraryAction::TrashStory(story.id.clone())));
                    }
                    if ui.button("Duplicate").clicked() {
                        actions.push(Action::Library(LibraryAction::DuplicateStory(
                            story.id.clone(),
                        )));
                    }
                    if ui.button("Rename").clicked() {
                        view.open_rename(story.id.clone(), story.title.clone());
                    }
                    if ui.button("Open").clicked() {
                        actions.push(Action::Library(LibraryAction::OpenStory(story.id.clone())));
                    }
                });
            });
            let mut facts = vec![story.mode.label().to_owned()];
            if let Some(genre) = &story.genre {
                facts.push(genre.clone());
            }
            facts.push(super::format::count(
                summary.entry_count,
                "entry",
                "entries",
            ));
            facts.push(format!("{} words", thousands(summary.word_count)));
            facts.push(format!("edited {}", relative_time(story.updated_at, now)));
            ui.weak(facts.join("  ·  ")).on_hover_text(format!(
                "Last edited {}",
                super::format::full_time(story.updated_at)
            ));
            if let Some(description) = &story.description {
                ui.label(crate::domain::preview(description, 160));
            }
        });
}
