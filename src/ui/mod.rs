//! egui only: draws `AppState`, keeps transient view state, and turns clicks and keys into `Action`s.

mod backups;
mod composer;
mod copy;
mod dialogs;
mod format;
mod library;
mod memory;
mod nav;
mod prompts;
mod providers;
mod settings;
mod side_panel;
mod story_view;
mod sync;
mod tasks;
mod theme;
mod trash;
pub(crate) mod turn;
mod usage;

pub use composer::Composer;
pub use dialogs::Confirm;
pub use prompts::PromptEditor;
pub use providers::ProfileForm;
pub use side_panel::{LoreForm, SettingsForm, SidePanel};
pub use story_view::StoryLayout;
pub use tasks::TaskEdit;
pub use theme::apply_prefs;

use egui::{Key, KeyboardShortcut, Modifiers};

use crate::domain::{EntryId, NewStory, StoryId};
use crate::state::{
    Action, AppState, EntryAction, EntrySource, NextStep, ProviderAction, Screen, StatusKind,
    ViewEvent, WritingAction,
};

/// The entry being edited in place: one TextEdit at a time, never one for the whole story.
#[derive(Clone, Debug, PartialEq)]
pub struct EditState {
    pub entry: EntryId,
    pub text: String,
    pub request_focus: bool,
}

/// How the library orders stories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LibrarySort {
    #[default]
    LastEdited,
    Title,
}

/// View state the controller never needs: text being typed, open dialogs, layout caches.
#[derive(Default)]
pub struct ViewState {
    pub filter: String,
    pub sort: LibrarySort,
    pub focus_filter: bool,
    pub new_story: Option<NewStory>,
    pub rename: Option<(StoryId, String)>,
    pub confirm: Option<Confirm>,
    /// Set when a dialog opens so its first field takes the keyboard once (not every frame,
    /// which would undo the field giving up focus on Enter).
    pub dialog_focus: bool,
    pub composer: Composer,
    pub editing: Option<EditState>,
    pub layout: StoryLayout,
    pub profile_form: Option<ProfileForm>,
    pub task_edits: std::collections::HashMap<crate::domain::Task, TaskEdit>,
    /// The story's side panel, when open.
    pub side: Option<SidePanel>,
    pub lore_form: Option<LoreForm>,
    pub lore_error: Option<String>,
    pub world_tab: side_panel::WorldTab,
    pub world_form: Option<side_panel::WorldForm>,
    pub world_error: Option<String>,
    /// The story time being set by hand on the World panel's Time tab.
    pub world_time: Option<crate::domain::StoryTime>,
    pub settings_form: Option<(StoryId, SettingsForm)>,
    pub inspector_selected: Option<i64>,
    /// The selected record's request laid out for reading, made once rather than every frame.
    pub inspector_pretty: Option<(i64, String)>,
    pub prompt_editor: Option<PromptEditor>,
    pub sync: sync::SyncView,
    /// The import dialog's path, while it is open.
    pub import_path: Option<String>,
    /// Why the last import or export from a dialog failed, shown in it until the path changes.
    pub file_error: Option<String>,
    pub export: Option<sync::ExportDialog>,
    /// What is typed in the story's "Go to entry" field.
    pub go_to: String,
    /// Why the number typed there was not taken.
    pub go_to_error: Option<String>,
    /// Other stories' half-typed actions, by story id; the open one's is in `composer`.
    pub composers: std::collections::BTreeMap<String, (String, crate::domain::ActionType)>,
    /// The story `composer` belongs to.
    pub composer_story: Option<StoryId>,
    /// Where a story restored at launch was being read (its top entry), until it is drawn.
    pub pending_top: Option<(StoryId, usize)>,
    /// A chapter being edited in the Memory panel.
    pub chapter_edit: Option<side_panel::ChapterEdit>,
    /// A branch being renamed in the Branches panel.
    pub branch_rename: Option<side_panel::BranchRename>,
    pub checkpoint_rename: Option<side_panel::BranchRename>,
    /// The open story's find bar (Ctrl+F), while it is open.
    pub find_bar: Option<story_view::FindBar>,
    /// A search hit clicked in the library: the entry to show once its story is open, and what
    /// was searched for (Find marks it there).
    pub jump: Option<(StoryId, crate::domain::EntryId, String)>,
    /// What the library's search box asked for last.
    pub searched: String,
}

impl ViewState {
    pub fn open_new_story(&mut self) {
        self.new_story = Some(NewStory::default());
        self.dialog_focus = true;
    }

    pub fn open_rename(&mut self, story: StoryId, title: String) {
        self.rename = Some((story, title));
        self.dialog_focus = true;
    }
}

const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
const REDO: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
const REDO_Y: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
const FIND: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
const NEW_STORY: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
const QUIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Q);

/// The whole window for one frame, after applying what the controller told the view about.
pub fn root_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    view: &mut ViewState,
    events: Vec<ViewEvent>,
    entries: &mut dyn EntrySource,
    actions: &mut Vec<Action>,
) {
    for event in events {
        match event {
            ViewEvent::EntryChanged(entry) => view.layout.invalidate(&entry),
            ViewEvent::ScrollToBottom => view.layout.scroll_to_bottom(),
            ViewEvent::EditProfile(profile) => {
                view.profile_form = Some(ProfileForm::editing(&profile));
            }
            ViewEvent::Restore(memory) => view.restore(*memory),
            ViewEvent::PickedImport(path) => {
                view.import_path = Some(path.display().to_string());
            }
            ViewEvent::FileFailed { again, message } => {
                match again {
                    crate::state::ShareAction::ImportFile(path) => {
                        view.import_path = Some(path.display().to_string());
                    }
                    crate::state::ShareAction::ExportStory {
                        story,
                        format,
                        path,
                        lore,
                    } => {
                        view.export = Some(sync::ExportDialog {
                            story,
                            format,
                            path: path.display().to_string(),
                            lore,
                        });
                    }
                    _ => {}
                }
                view.file_error = Some(message);
            }
            ViewEvent::PickedExport(path) => {
                if let Some(export) = view.export.as_mut() {
                    export.path = path.display().to_string();
                }
            }
        }
    }
    view.follow_story(state.open.as_ref().map(|o| &o.summary.story.id));
    if let Some(fatal) = &state.fatal {
        egui::CentralPanel::default_margins().show(ui, |ui| {
            dialogs::fatal_ui(ui, fatal, state, actions);
        });
        return;
    }
    shortcuts(ui.ctx(), state, view, actions);

    egui::Panel::top("nav").show(ui, |ui| nav::nav_ui(ui, state, actions));
    if let Some(status) = &state.status
        && let Some(shown_for) = status.shown_for_ms()
        && state.library_progress.is_none()
    {
        // A note has said its piece after a while; an error stays until it is dealt with.
        let left = status.at_ms + shown_for - crate::domain::now_ms();
        if left <= 0 {
            actions.push(Action::DismissStatus);
        } else {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(left.unsigned_abs()));
        }
    }
    if let Some(status) = &state.status {
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                let color = match status.kind {
                    StatusKind::Error => ui.visuals().error_fg_color,
                    StatusKind::Info => ui.visuals().text_color(),
                };
                ui.colored_label(color, &status.text);
                if let Some((done, total)) = state.library_progress {
                    let part = done as f32 / total.max(1) as f32;
                    ui.add(
                        egui::ProgressBar::new(part)
                            .desired_width(160.0)
                            .show_percentage(),
                    );
                }
                if status.undoable && ui.button("Undo").clicked() {
                    actions.push(Action::Entry(EntryAction::Undo));
                }
                if let Some(next) = &status.next {
                    next_step_ui(ui, next, actions);
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui
                        .small_button("Dismiss")
                        .on_hover_text("Dismiss message")
                        .clicked()
                    {
                        actions.push(Action::DismissStatus);
                    }
                });
            });
        });
    }

    match (state.screen, &state.open) {
        (Screen::Story, Some(open)) => {
            egui::Panel::bottom("composer").show(ui, |ui| {
                turn::turn_ui(ui, open, &state.writing, view, actions);
                let busy = state.writing.streaming.is_some();
                if composer::composer_ui(
                    ui,
                    &open.summary.story,
                    &state.writing.settings,
                    &mut view.composer,
                    busy,
                    actions,
                ) {
                    view.layout.scroll_to_bottom();
                }
            });
            // A narrow window keeps the story's width: the panel lies over it instead of beside.
            let overlay = ui.available_width() < SIDE_BESIDE_MIN_WIDTH;
            if view.side.is_some() && !overlay {
                egui::Panel::right("story-side")
                    .resizable(true)
                    .default_size(360.0)
                    .show(ui, |ui| {
                        side_panel::side_panel_ui(ui, state, open, view, actions)
                    });
            }
            let story_rect = egui::CentralPanel::default_margins()
                .show(ui, |ui| {
                    let line_width = state.prefs.line_width;
                    story_view::story_ui(
                        ui,
                        open,
                        &state.writing,
                        view,
                        entries,
                        line_width,
                        actions,
                    );
                })
                .response
                .rect;
            if view.side.is_some() && overlay {
                side_overlay_ui(ui.ctx(), story_rect, state, open, view, actions);
            }
        }
        (Screen::Trash, _) => {
            egui::CentralPanel::default_margins().show(ui, |ui| {
                trash::trash_ui(ui, state, view, actions);
            });
        }
        (Screen::Backups, _) => {
            egui::CentralPanel::default_margins().show(ui, |ui| {
                backups::backups_ui(ui, state, view, actions);
            });
        }
        (Screen::Settings, _) => {
            egui::CentralPanel::default_margins().show(ui, |ui| {
                providers::settings_tabs_ui(ui, Screen::Settings, actions);
                // A short window scrolls to the updates at the bottom rather than hiding them.
                egui::ScrollArea::vertical()
                    .id_salt("settings-scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| settings::settings_ui(ui, state, actions));
            });
        }
        (Screen::Providers, _) => {
            egui::CentralPanel::default_margins().show(ui, |ui| {
                providers::providers_ui(ui, state, view, actions);
            });
        }
        (Screen::Prompts, _) => {
            egui::CentralPanel::default_margins().show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("prompts-scroll")
                    .show(ui, |ui| prompts::prompts_ui(ui, state, view, actions));
            });
        }
        (Screen::Sync, _) => {
            egui::CentralPanel::default_margins().show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("sync-scroll")
                    .show(ui, |ui| sync::sync_ui(ui, state, view, actions));
            });
        }
        (Screen::Usage, _) => {
            egui::CentralPanel::default_margins().show(ui, |ui| {
                usage::usage_ui(ui, state, actions);
            });
        }
        _ => {
            egui::CentralPanel::default_margins().show(ui, |ui| {
                library::library_ui(ui, state, view, actions);
            });
        }
    }

    dialogs::dialogs_ui(ui.ctx(), view, actions);
    dropped_files_ui(ui.ctx(), actions);
    if let Some(path) = view.import_path.as_mut()
        && !sync::import_dialog_ui(ui.ctx(), path, &mut view.file_error, actions)
    {
        view.import_path = None;
        view.file_error = None;
    }
    if let Some(dialog) = view.export.as_mut()
        && !sync::export_dialog_ui(ui.ctx(), dialog, &mut view.file_error, actions)
    {
        view.export = None;
        view.file_error = None;
    }
    sync::conflict_ui(ui.ctx(), state, actions);
}

/// Below this width the story's side panel opens over the story rather than beside it.
const SIDE_BESIDE_MIN_WIDTH: f32 = 860.0;

/// The side panel of a narrow window: over the right of the story, its full height.
fn side_overlay_ui(
    ctx: &egui::Context,
    story_rect: egui::Rect,
    state: &AppState,
    open: &crate::state::OpenStory,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    let width = (story_rect.width() - 48.0).clamp(200.0, 380.0);
    egui::Area::new(egui::Id::unique("story-side-overlay"))
        .order(egui::Order::Foreground)
        .fixed_pos(story_rect.right_top() - egui::vec2(width, 0.0))
        .show(ctx, |ui| {
            egui::Frame::window(ui.style()).show(ui, |ui| {
                let margins = ui.style().spacing.window_margin.sum();
                ui.set_width(width - margins.x);
                ui.set_height(story_rect.height() - margins.y);
                side_panel::side_panel_ui(ui, state, open, view, actions);
            });
        });
}

fn shortcuts(
    ctx: &egui::Context,
    state: &AppState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    // A focused text field keeps Ctrl+Z for its own typing history.
    let typing = ctx.memory(|m| m.focused().is_some());
    let modal_open = view.new_story.is_some() || view.rename.is_some() || view.confirm.is_some();
    ctx.input_mut(|i| {
        // Esc stops the narration, except while an entry is being edited: there it leaves edit mode.
        if state.writing.streaming.is_some()
            && !modal_open
            && view.editing.is_none()
            && i.consume_key(Modifiers::NONE, Key::Escape)
        {
            actions.push(Action::Writing(WritingAction::StopGeneration));
        }
        if !typing && !modal_open {
            // Redo first: Ctrl+Z would also match Ctrl+Shift+Z.
            if i.consume_shortcut(&REDO) || i.consume_shortcut(&REDO_Y) {
                actions.push(Action::Entry(EntryAction::Redo));
            } else if i.consume_shortcut(&UNDO) {
                actions.push(Action::Entry(EntryAction::Undo));
            }
        }
        if i.consume_shortcut(&FIND) {
            match state.screen {
                Screen::Story if state.open.is_some() => {
                    let text = view.find_bar.take().map(|b| b.text).unwrap_or_default();
                    view.find_bar = Some(story_view::FindBar::open_with(&text));
                }
                Screen::Library => view.focus_filter = true,
                _ => {
                    actions.push(Action::Show(Screen::Library));
                    view.focus_filter = true;
                }
            }
        }
        if !modal_open && i.consume_shortcut(&NEW_STORY) {
            view.open_new_story();
        }
        if i.consume_shortcut(&QUIT) {
            actions.push(Action::Quit);
        }
    });
}

/// A file dropped on the window is imported; while one is held over it, the window says so.
fn dropped_files_ui(ctx: &egui::Context, actions: &mut Vec<Action>) {
    let (hovering, dropped) = ctx.input(|i| {
        let dropped: Vec<std::path::PathBuf> = i
            .raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_owned())
            .collect();
        (!i.raw.hovered_files.is_empty(), dropped)
    });
    for path in dropped {
        actions.push(Action::Share(crate::state::ShareAction::ImportFile(path)));
    }
    if hovering {
        egui::Area::new(egui::Id::unique("drop-to-import"))
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.heading("Drop the file to import it");
                });
            });
    }
}

/// How far a transfer is, with what it is doing.
fn transfer_progress(ui: &mut egui::Ui, done: u64, total: u64, what: &str) {
    let fraction = if total > 0 {
        done as f32 / total as f32
    } else {
        0.0
    };
    ui.add(
        egui::ProgressBar::new(fraction)
            .text(what)
            .show_percentage(),
    );
}

/// The button that goes with a failure: check the key, wait out a rate limit, or try again.
pub(crate) fn next_step_ui(ui: &mut egui::Ui, next: &NextStep, actions: &mut Vec<Action>) {
    match next {
        NextStep::CheckKey { profile_id } => {
            if ui
                .button("Check the key")
                .on_hover_text("Open this provider's settings")
                .clicked()
            {
                actions.push(Action::Provider(ProviderAction::EditProfile(
                    profile_id.clone(),
                )));
            }
        }
        NextStep::RetryAt { at_ms, again } => {
            let left_ms = at_ms - crate::domain::now_ms();
            if left_ms > 0 {
                let seconds = (left_ms + 999) / 1000;
                ui.add_enabled(false, egui::Button::new(format!("Retry in {seconds} s")));
                // Only the countdown needs a new frame, once a second.
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(
                        (left_ms % 1000).max(50) as u64,
                    ));
            } else if ui.button("Retry").clicked() {
                actions.push((**again).clone());
            }
        }
        NextStep::Retry(again) => {
            if ui.button("Retry").clicked() {
                actions.push((**again).clone());
            }
        }
        NextStep::SetUpProvider => {
            if ui
                .button("Set up a provider")
                .on_hover_text("Settings > Providers")
                .clicked()
            {
                actions.push(Action::Show(Screen::Providers));
            }
        }
        NextStep::TryAgain(action) => {
            if ui.button("Try again").clicked() {
                actions.push((**action).clone());
            }
        }
    }
}
