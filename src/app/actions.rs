//! The controller's entry point for actions (UI thread): each feature's actions go to its own
//! controller (library.rs, writing.rs, sync.rs, providers.rs, settings.rs); the open story's
//! entries and the undo history are handled here.

use super::FabulaApp;
use super::undo::Change;
use crate::domain::{EntryId, EntryKind, EntryRow, RowIndex, StoryId};
use crate::state::{Action, BackupAction, EntryAction, Fatal, OpenStory, Screen, ViewEvent};
use crate::storage::{self, Store, StoreError};

type Outcome = Result<(), StoreError>;

/// The rows a story opens on before the rest of its index arrives: more than any window shows.
const OPEN_TAIL: usize = 400;
pub(super) const ROW_INDEX: &str = "row index";
type RowIndexRead = (StoryId, Option<String>, Result<RowIndex, StoreError>);

impl FabulaApp {
    /// Carries out one entry action (see `EntryAction`).
    pub(super) fn apply_entry(
        &mut self,
        store: &mut Store,
        action: EntryAction,
    ) -> Result<(), StoreError> {
        match action {
            EntryAction::AddEntry { kind, text } => self.add_entry(store, kind, &text)?,
            EntryAction::EditEntry { entry, text } => self.edit_entry(store, &entry, text)?,
            EntryAction::TrashEntry(entry) => {
                let story = store.entry(&entry)?.story_id;
                if let Some(branch) = store.branch_forking_at(&story, &entry)? {
                    self.state.error(format!(
                        "This entry cannot be deleted: the branch “{}” forks from it.",
                        branch.name
                    ));
                    return Ok(());
                }
                store.trash_entry(&entry)?;
                self.sync_row(store, &entry)?;
                self.history.record(Change::TrashEntry {
                    story: story.clone(),
                    entry,
                });
                self.state.info("Entry moved to the Trash.", true);
                self.refresh_after_change(store, &story)?;
            }
            EntryAction::RestoreEntry(entry) => {
                let story = store.entry(&entry)?.story_id;
                store.restore_entry(&entry)?;
                self.state.info("Entry restored to its story.", false);
                self.sync_row(store, &entry)?;
                self.refresh_after_change(store, &story)?;
            }
            EntryAction::DeleteEntryForever(entry) => {
                store.delete_entry_forever(&entry)?;
                self.state.info("Entry deleted permanently.", false);
                self.refresh_trash(store)?;
            }
            EntryAction::Undo => {
                if let Some(change) = self.history.undo(store)? {
                    self.state.info(format!("Undid {}.", change.label()), false);
                    self.after_history_step(store, &change)?;
                }
            }
            EntryAction::Redo => {
                if let Some(change) = self.history.redo(store)? {
                    self.state.info(format!("Redid {}.", change.label()), false);
                    self.after_history_step(store, &change)?;
                }
            }
            EntryAction::SetStoryStyle { pov, tense } => self.set_story_style(store, pov, tense)?,
            EntryAction::SetStoryDetails {
                genre,
                description,
                protagonist,
            } => {
                if let Some(story) = self.open_story_id() {
                    store.set_story_details(&story, &genre, &description, &protagonist)?;
                    if let Some(open) = self.state.open.as_mut() {
                        open.summary = store.story_summary(&story)?;
                    }
                    self.state.info("Saved the story's details.", false);
                }
            }
        }
        Ok(())
    }

    /// Carries out one action; failures become a message in the status bar, never a panic.
    pub fn apply(&mut self, action: Action) {
        let result = match (action, self.store.take()) {
            (Action::Backup(BackupAction::RestoreBackup(path)), store) => {
                self.restore_backup(store, path);
                Ok(())
            }
            (Action::Quit, store) => {
                self.store = store;
                self.close_requested = true;
                Ok(())
            }
            (Action::DismissStatus, store) => {
                self.store = store;
                self.state.status = None;
                Ok(())
            }
            // Also on the recovery screen, where a report is most wanted.
            (Action::CopyDiagnostics, store) => {
                self.store = store;
                self.pending_copy = Some(crate::diagnostics::report(&self.paths.dir));
                self.state.info(
                    "Copied: the version, platform and recent errors, with keys and tokens removed.",
                    false,
                );
                Ok(())
            }
            (action, Some(mut store)) => {
                let result = self.apply_with(&mut store, action);
                self.store = Some(store);
                result
            }
            // Without a database (recovery screen) only restoring a backup makes sense.
            (_, None) => Ok(()),
        };
        if let Err(e) = result {
            self.state.error(e.to_string());
        }
        self.state.undo_label = self.history.undo_label();
        self.state.redo_label = self.history.redo_label();
    }

    fn apply_with(&mut self, store: &mut Store, action: Action) -> Outcome {
        match action {
            Action::Show(screen) => {
                match screen {
                    Screen::Library => self.refresh_library(store)?,
                    Screen::Trash => self.refresh_trash(store)?,
                    Screen::Backups => self.refresh_backups(),
                    Screen::Story if self.state.open.is_none() => return Ok(()),
                    Screen::Providers => self.refresh_providers(store)?,
                    Screen::Usage => self.refresh_usage(store, self.state.usage.grouping)?,
                    Screen::Prompts => self.state.writing.pack = store.prompt_pack()?,
                    Screen::Sync => self.show_sync(),
                    Screen::Story | Screen::Settings => {}
                }
                self.state.screen = screen;
            }
            Action::DismissStatus | Action::CopyDiagnostics | Action::Quit => {}
            Action::Library(action) => self.apply_library(store, action)?,
            Action::Entry(action) => self.apply_entry(store, action)?,
            Action::Writing(action) => self.apply_writing(store, action)?,
            Action::Lore(action) => self.apply_lore(store, action)?,
            Action::World(action) => self.apply_world(store, action)?,
            Action::Branch(action) => self.apply_branch(store, action)?,
            Action::Share(action) => self.apply_share(store, action)?,
            Action::Provider(action) => self.apply_provider(store, action)?,
            Action::Settings(action) => self.apply_settings(store, action)?,
            Action::Backup(action) => self.apply_backup(store, action)?,
        }
        Ok(())
    }

    pub(super) fn refresh_library(&mut self, store: &Store) -> Outcome {
        self.state.stories = store.list_stories()?;
        Ok(())
    }

    pub(super) fn refresh_trash(&mut self, store: &Store) -> Outcome {
        self.state.trash_stories = store.trashed_stories()?;
        self.state.trash_entries = store.trashed_entries()?;
        self.state.trash_pieces = store.trashed_pieces()?;
        Ok(())
    }

    pub(super) fn refresh_backups(&mut self) {
        match storage::list_backups(&self.paths.backups()) {
            Ok(list) => self.state.backups = list,
            Err(e) => self.state.error(e.to_string()),
        }
    }

    pub(super) fn open_story(&mut self, store: &Store, id: &StoryId) -> Outcome {
        let summary = store.story_summary(id)?;
        // A long story opens on its newest rows; the rest of its index follows from a job, so
        // opening costs the same whatever the length.
        let mut tail = store.entry_rows_tail(id, OPEN_TAIL + 1)?;
        let rows_from = (tail.len() > OPEN_TAIL).then(|| {
            tail.remove(0);
            tail.first().map_or(0, |r| r.position)
        });
        let rows = RowIndex::from_rows(tail);
        let version = self.state.open.as_ref().map_or(0, |o| o.rows_version) + 1;
        self.cache.clear();
        self.state.open = Some(OpenStory {
            summary,
            rows,
            rows_version: version,
            rows_from,
        });
        if rows_from.is_some() {
            self.read_row_index(id, store.current_branch(id)?);
        }
        self.state.screen = Screen::Story;
        self.load_writing(store, id)
    }

    /// Reads the whole index of the open story on a job (on the branch it shows now) and puts
    /// the rows before those held in front of them.
    fn read_row_index(&mut self, id: &StoryId, branch: Option<String>) {
        if self.jobs.is_running(ROW_INDEX) {
            // One for a story left meanwhile is still reading; when it ends, this one starts.
            return;
        }
        let path = self.paths.database();
        let story = id.clone();
        let started = self.jobs.start(
            ROW_INDEX,
            "Reading the story's index",
            self.waker(),
            move |cx| {
                let started = std::time::Instant::now();
                let rows = Store::open_worker(&path).and_then(|store| {
                    store.pin_branch(branch.clone());
                    store.entry_row_index(&story)
                });
                if let Ok(rows) = &rows {
                    log::debug!(
                        "row index: {} rows read in {} ms",
                        rows.len(),
                        started.elapsed().as_millis()
                    );
                }
                cx.send((story, branch, rows));
            },
            |app: &mut FabulaApp, (story, branch, rows): RowIndexRead| {
                let still = app.state.open.as_ref().is_some_and(|o| {
                    o.summary.story.id == story && o.rows_from.is_some()
                }) && app.state.writing.branch == branch;
                if !still {
                    return;
                }
                let Some(open) = app.state.open.as_mut() else {
                    return;
                };
                let Some(from) = open.rows_from.take() else {
                    return;
                };
                match rows {
                    Ok(mut all) => {
                        app.row_index_jobs += 1;
                        all.keep_before_then(from, std::mem::take(&mut open.rows));
                        open.rows = all;
                        open.rows_version += 1;
                    }
                    Err(e) => app.state.error(format!(
                        "The rest of the story's index could not be read ({e}); the newest entries are shown."
                    )),
                }
            },
            |app: &mut FabulaApp| {
                if let Some(open) = app.state.open.as_ref().filter(|o| o.rows_from.is_some()) {
                    let id = open.summary.story.id.clone();
                    app.read_row_index(&id, app.state.writing.branch.clone());
                }
            },
        );
        if let Err(e) = started {
            self.state.error(format!(
                "The rest of the story's index could not be read ({e}); the newest entries are shown."
            ));
        }
    }

    /// After a change to `story`: re-reads the open story's title and counts, and the list on
    /// screen. The Library and Trash lists are re-read whenever they are shown, so a list that is
    /// not on screen is left alone (it would be a whole-library query per keystroke-sized edit).
    pub(super) fn refresh_after_change(&mut self, store: &Store, story: &StoryId) -> Outcome {
        if let Some(open) = self
            .state
            .open
            .as_mut()
            .filter(|o| &o.summary.story.id == story)
        {
            open.summary = store.story_summary(story)?;
        }
        match self.state.screen {
            Screen::Library => self.refresh_library(store),
            Screen::Trash => self.refresh_trash(store),
            Screen::Story
            | Screen::Backups
            | Screen::Settings
            | Screen::Providers
            | Screen::Prompts
            | Screen::Sync
            | Screen::Usage => Ok(()),
        }
    }

    /// Brings the open story's row of `entry` up to date: in its place while the entry is live,
    /// gone once it is not. The index itself is never re-read (it grows with the story); finding
    /// the row is a pass over it in memory.
    fn sync_row(&mut self, store: &Store, entry: &EntryId) -> Outcome {
        let live = store.entry_row(entry)?;
        self.cache.forget(entry);
        let Some(open) = self.state.open.as_mut() else {
            return Ok(());
        };
        open.rows.remove(entry);
        if let Some((story, row)) = live
            && story == open.summary.story.id
        {
            open.rows.insert_in_place(row);
        }
        open.rows_version += 1;
        self.view_events
            .push(ViewEvent::EntryChanged(entry.clone()));
        self.follow_world(store, entry)
    }

    pub(super) fn add_entry(&mut self, store: &Store, kind: EntryKind, text: &str) -> Outcome {
        let Some(open) = self.state.open.as_mut() else {
            return Ok(());
        };
        if text.trim().is_empty() {
            return Ok(());
        }
        let story = open.summary.story.id.clone();
        let entry = store.append_entry(&story, kind, text)?;
        open.rows.push(EntryRow {
            id: entry.id.clone(),
            kind,
            char_count: u32::try_from(text.chars().count()).unwrap_or(u32::MAX),
            position: entry.position,
        });
        open.rows_version += 1;
        open.summary.entry_count += 1;
        open.summary.word_count += crate::domain::count_words(text);
        open.summary.story.updated_at = entry.updated_at;
        self.history.record(Change::AddEntry {
            story,
            entry: entry.id.clone(),
        });
        self.cache.put(entry);
        Ok(())
    }

    pub(super) fn edit_entry(&mut self, store: &Store, id: &EntryId, text: String) -> Outcome {
        let before = match self.cache.get(id) {
            Some(e) => e.clone(),
            None => store.entry(id)?,
        };
        if before.content == text {
            return Ok(());
        }
        store.update_entry_content(id, &text)?;
        self.cache.set_content(id, &text);
        if let Some(open) = self
            .state
            .open
            .as_mut()
            .filter(|o| o.summary.story.id == before.story_id)
        {
            open.rows
                .set_chars(id, u32::try_from(text.chars().count()).unwrap_or(u32::MAX));
            open.rows_version += 1;
        }
        self.history.record(Change::EditEntry {
            story: before.story_id.clone(),
            entry: id.clone(),
            before: before.content,
            after: text,
        });
        self.refresh_after_change(store, &before.story_id)
    }

    fn after_history_step(&mut self, store: &Store, change: &Change) -> Outcome {
        let story = change.story().clone();
        match change {
            Change::EditEntry { entry, .. }
            | Change::AddEntry { entry, .. }
            | Change::TrashEntry { entry, .. } => self.sync_row(store, entry)?,
            Change::Turn {
                action, narration, ..
            } => {
                if let Some(action) = action {
                    self.sync_row(store, action)?;
                }
                self.sync_row(store, narration)?;
            }
            Change::TrashStory { .. } => {
                if self
                    .state
                    .open
                    .as_ref()
                    .is_some_and(|o| o.summary.story.id == story)
                    && store.story_summary(&story)?.deleted_at.is_some()
                {
                    self.state.open = None;
                    self.state.screen = Screen::Library;
                }
            }
            Change::RenameStory { .. } => {}
            Change::TrashLore { .. } | Change::DecideLore { .. } => {
                self.reload_lore(store, &story)?;
            }
            Change::TrashChapter { .. } => self.reload_world(store)?,
            Change::TrashBranch { .. } => self.reopen_on_branch(store)?,
            Change::EditWorld { .. }
            | Change::TrashWorld { .. }
            | Change::StoryTime { .. }
            | Change::WorldChanges { .. } => {
                self.reload_world(store)?;
            }
        }
        self.refresh_after_change(store, &story)
    }

    /// Backs up (or, when damaged, sets aside) the current database, swaps in `backup`, reopens.
    pub(super) fn reopen_after_restore(&mut self) -> Outcome {
        match Store::open(&self.paths.database()) {
            Ok(store) => {
                self.state.fatal = None;
                self.state.screen = Screen::Library;
                self.load_prefs(&store);
                let r = self.refresh_library(&store);
                self.store = Some(store);
                self.refresh_backups();
                r
            }
            Err(e) => {
                self.state.fatal = Some(Fatal {
                    message: e.to_string(),
                    latest_backup: None,
                });
                Err(e)
            }
        }
    }
}
