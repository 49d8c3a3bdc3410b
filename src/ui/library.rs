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
                .hint_text("title, description or text (Ctrl+F)")
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
    if view.filter != view.searched {
        view.searched = view.filter.clone();
        actions.push(Action::Library(LibraryAction::SearchText(
            view.filter.clone(),
        )));
    }
    let searched_text = !view.filter.trim().is_empty();
    if searched_text {
        hits_ui(ui, state, view, actions);
    }

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
        if !searched_text || state.search.hits.is_empty() {
            ui.weak(format!("No story matches “{}”.", view.filter.trim()));
        }
        return;
    }
    if searched_text {
        ui.strong("Stories");
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

/// The entries of any story holding the searched text, newest first; a click opens the story
/// there, with the text marked.
fn hits_ui(ui: &mut egui::Ui, state: &AppState, view: &mut ViewState, actions: &mut Vec<Action>) {
    let search = &state.search;
    ui.horizontal(|ui| {
        ui.strong("Found in the text");
        if search.is_searching() {
            ui.spinner();
            ui.weak("Searching…");
        } else if search.hits.len() >= crate::state::LIBRARY_HITS {
            ui.weak(format!("the newest {}", search.hits.len()));
        }
    });
    if let Some(error) = &search.error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    if search.hits.is_empty() && !search.is_searching() && search.error.is_none() {
        ui.weak("No entry holds that text.");
    }
    egui::ScrollArea::vertical()
        .id_salt("library-hits")
        .max_height(ui.available_height() * 0.5)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            for hit in &search.hits {
                let text = snippet_job(ui, &hit.story_title, &hit.snippet);
                let row = ui
                    .add(egui::Button::new(text).frame(false).wrap())
                    .on_hover_text("Open the story at this entry");
                if row.clicked() {
                    view.jump = Some((
                        hit.story_id.clone(),
                        hit.entry_id.clone(),
                        search.found_for.clone(),
                    ));
                    actions.push(Action::Library(LibraryAction::OpenStory(
                        hit.story_id.clone(),
                    )));
                }
            }
        });
    ui.add_space(8.0);
}

/// "Title — …text with the match marked…" as one line of text.
fn snippet_job(ui: &egui::Ui, title: &str, snippet: &str) -> egui::text::LayoutJob {
    use crate::domain::search::{MARK_END, MARK_START};
    let font = egui::TextStyle::Body.resolve(ui.style());
    let plain = egui::TextFormat::simple(font.clone(), ui.visuals().text_color());
    let weak = egui::TextFormat::simple(font.clone(), ui.visuals().weak_text_color());
    let marked = egui::TextFormat {
        color: ui.visuals().strong_text_color(),
        background: super::theme::found_text(ui.visuals()),
        ..egui::TextFormat::simple(font, ui.visuals().text_color())
    };
    let mut job = egui::text::LayoutJob::default();
    job.append(title, 0.0, plain.clone());
    job.append("  ", 0.0, weak.clone());
    let mut on = false;
    for part in snippet.split([MARK_START, MARK_END]) {
        if !part.is_empty() {
            job.append(part, 0.0, if on { marked.clone() } else { weak.clone() });
        }
        on = !on;
    }
    job
}
