//! Library work that grows with the data, run on jobs with their own connection so the window
//! never waits for it: duplicating a story, deleting one for good, emptying the Trash, a backup
//! made by hand. Start functions run on the UI thread; the closures they hand to the registry run
//! on the job; the `on_*` handlers run on the UI thread again.

use std::path::PathBuf;

use super::FabulaApp;
use crate::domain::StoryId;
use crate::state::{BackupAction, LibraryAction, Screen};
use crate::storage::{DataPaths, Store, StoreError};

/// What a library job did, or why it could not.
pub(super) enum LibraryEvent {
    Duplicated {
        title: String,
    },
    DeletedForever,
    EmptiedTrash,
    /// Pages of the database copied so far, of how many (a backup).
    Progress {
        done: u64,
        total: u64,
    },
    BackedUp {
        path: PathBuf,
    },
    /// The backup is the library now; the one it replaced was kept at `safety`.
    Restored {
        backup: PathBuf,
        safety: Option<PathBuf>,
    },
    Failed(StoreError),
}

/// The job of each kind: one at a time.
const DUPLICATE: &str = "duplicate-story";
const DELETE: &str = "delete-story";
const EMPTY_TRASH: &str = "empty-trash";
const BACKUP: &str = "manual-backup";
const RESTORE: &str = "restore-backup";

impl FabulaApp {
    /// Carries out one backup action (see `BackupAction`).
    pub(super) fn apply_backup(
        &mut self,
        _store: &mut Store,
        action: BackupAction,
    ) -> Result<(), StoreError> {
        match action {
            BackupAction::CreateBackup => self.create_backup(),
            BackupAction::RestoreBackup(_) => {}
        }
        Ok(())
    }

    /// Carries out one library action (see `LibraryAction`).
    pub(super) fn apply_library(
        &mut self,
        store: &mut Store,
        action: LibraryAction,
    ) -> Result<(), StoreError> {
        match action {
            LibraryAction::CreateStory(new) => {
                let story = store.create_story(&new)?;
                self.state
                    .info(format!("Created “{}”.", story.title), false);
                self.open_story(store, &story.id)?;
            }
            LibraryAction::OpenStory(id) => self.open_story(store, &id)?,
            LibraryAction::RenameStory { story, title } => {
                let title = title.trim().to_owned();
                if title.is_empty() {
                    self.state.error("A story needs a title.");
                    return Ok(());
                }
                let before = store.story_summary(&story)?.story.title;
                if before == title {
                    return Ok(());
                }
                store.rename_story(&story, &title)?;
                self.history.record(super::undo::Change::RenameStory {
                    story: story.clone(),
                    before,
                    after: title,
                });
                self.refresh_after_change(store, &story)?;
            }
            LibraryAction::DuplicateStory(id) => self.duplicate_story(id),
            LibraryAction::TrashStory(id) => {
                let title = store.story_summary(&id)?.story.title;
                store.trash_story(&id)?;
                self.history.record(super::undo::Change::TrashStory {
                    story: id.clone(),
                    title: title.clone(),
                });
                if self
                    .state
                    .open
                    .as_ref()
                    .is_some_and(|o| o.summary.story.id == id)
                {
                    self.state.open = None;
                    self.cache.clear();
                    self.state.screen = Screen::Library;
                }
                self.state
                    .info(format!("Moved “{title}” to the Trash."), true);
                self.refresh_library(store)?;
            }
            LibraryAction::RestoreStory(id) => {
                store.restore_story(&id)?;
                self.state.info("Story restored.", false);
                self.refresh_after_change(store, &id)?;
            }
            LibraryAction::DeleteStoryForever(id) => self.delete_story_forever(id),
            LibraryAction::RestorePiece(story, kind, id) => {
                store.restore_piece(&story, kind, &id)?;
                self.state
                    .info(format!("{} restored to its story.", kind.label()), false);
                if self.open_story_id().as_ref() == Some(&story) {
                    self.reload_lore(store, &story)?;
                    self.reload_world(store)?;
                    self.reopen_on_branch(store)?;
                }
                self.refresh_trash(store)?;
            }
            LibraryAction::DeletePieceForever(story, kind, id) => {
                store.delete_piece_forever(&story, kind, &id)?;
                self.state
                    .info(format!("{} deleted permanently.", kind.label()), false);
                self.refresh_trash(store)?;
            }
            LibraryAction::EmptyTrash => self.empty_trash(),
            LibraryAction::SearchText(query) => self.search_text(query),
            LibraryAction::FindInStory(query) => self.find_in_story(query),
        }
        Ok(())
    }

    pub(super) fn duplicate_story(&mut self, id: StoryId) {
        let title = self.story_title_or_default(&id);
        self.run_library_job(
            DUPLICATE,
            "Duplicating a story",
            format!("Duplicating “{title}”…"),
            move |paths, _| {
                let mut store = Store::open_worker(&paths.database())?;
                let copy = store.duplicate_story(&id)?;
                store.checkpoint();
                Ok(LibraryEvent::Duplicated { title: copy.title })
            },
        );
    }

    pub(super) fn delete_story_forever(&mut self, id: StoryId) {
        self.run_library_job(
            DELETE,
            "Deleting a story",
            "Deleting the story permanently…".into(),
            move |paths, _| {
                let store = Store::open_worker(&paths.database())?;
                store.delete_story_forever(&id)?;
                store.checkpoint();
                Ok(LibraryEvent::DeletedForever)
            },
        );
    }

    pub(super) fn empty_trash(&mut self) {
        self.run_library_job(
            EMPTY_TRASH,
            "Emptying the Trash",
            "Emptying the Trash…".into(),
            |paths, _| {
                let mut store = Store::open_worker(&paths.database())?;
                store.empty_trash()?;
                store.checkpoint();
                Ok(LibraryEvent::EmptiedTrash)
            },
        );
    }

    pub(super) fn create_backup(&mut self) {
        self.run_library_job(
            BACKUP,
            "The backup",
            "Backing up the library…".into(),
            |paths, _| {
                let made =
                    Store::open_worker(&paths.database())?.create_backup(paths, "-manual")?;
                Ok(LibraryEvent::BackedUp { path: made.path })
            },
        );
    }

    /// Makes `backup` the library: the current database is backed up first (or, when damaged, set
    /// aside), then swapped for it, on a job; the window reopens the library when it is done.
    pub(super) fn restore_backup(&mut self, store: Option<Store>, backup: PathBuf) {
        let damaged = store.is_none();
        // The swap needs every connection of this thread to the old file closed.
        drop(store);
        self.cache.clear();
        self.history.clear();
        self.state.open = None;
        self.run_library_job(
            RESTORE,
            "Restoring a backup",
            "Restoring the backup…".into(),
            move |paths, say| {
                let safety = if damaged {
                    crate::storage::set_aside_damaged(paths)?
                } else {
                    // Without a safety copy nothing is replaced.
                    let store = Store::open_worker(&paths.database())?;
                    let made = store.create_backup_showing(
                        paths,
                        "-pre-restore",
                        &mut |done, total| {
                            say(LibraryEvent::Progress { done, total });
                        },
                    )?;
                    Some(made.path)
                };
                crate::storage::restore_database(paths, &backup)?;
                Ok(LibraryEvent::Restored { backup, safety })
            },
        );
        if !self.jobs.is_running(RESTORE) {
            // Not started: the library is still the one it was.
            if let Err(e) = self.reopen_after_restore() {
                self.state.error(e.to_string());
            }
        }
    }

    /// Whether library work is under way (for tests and a clean exit).
    pub fn library_busy(&self) -> bool {
        [
            DUPLICATE,
            DELETE,
            EMPTY_TRASH,
            BACKUP,
            RESTORE,
            super::actions::ROW_INDEX,
        ]
        .iter()
        .any(|name| self.jobs.is_running(name))
            || self.is_searching()
    }

    fn story_title_or_default(&self, id: &StoryId) -> String {
        self.state
            .stories
            .iter()
            .chain(&self.state.trash_stories)
            .find(|s| &s.story.id == id)
            .map_or_else(|| "the story".into(), |s| s.story.title.clone())
    }

    fn run_library_job(
        &mut self,
        name: &str,
        label: &str,
        doing: String,
        work: impl FnOnce(&DataPaths, &dyn Fn(LibraryEvent)) -> Result<LibraryEvent, StoreError>
        + Send
        + 'static,
    ) {
        let paths = self.paths.clone();
        let waker = self.waker();
        let started = self.jobs.start(
            name,
            label,
            waker,
            move |cx| {
                let say = |event| {
                    cx.send(event);
                };
                cx.send(work(&paths, &say).unwrap_or_else(LibraryEvent::Failed));
            },
            Self::on_library_event,
            Self::on_library_job_end,
        );
        match started {
            Ok(()) => self.state.info(doing, false),
            Err(e) => self.state.error(e.to_string()),
        }
    }

    fn on_library_event(&mut self, event: LibraryEvent) {
        match event {
            LibraryEvent::Progress { done, total } => {
                self.state.library_progress = Some((done, total));
                return;
            }
            LibraryEvent::Duplicated { title } => {
                self.state.info(format!("Duplicated as “{title}”."), false);
            }
            LibraryEvent::DeletedForever => {
                // Steps about a story that no longer exists would fail.
                self.history.clear();
                self.state.info("Story deleted permanently.", false);
            }
            LibraryEvent::EmptiedTrash => {
                // Undo steps that would restore what is now gone can no longer work.
                self.history.clear();
                self.state.info("The Trash is empty.", false);
            }
            LibraryEvent::BackedUp { path } => {
                self.state
                    .info(format!("Backed up to {}.", path.display()), false);
            }
            LibraryEvent::Restored { backup, safety } => {
                let kept = safety
                    .map(|p| format!(" The previous database was kept as {}.", p.display()))
                    .unwrap_or_default();
                self.state.info(
                    format!(
                        "Restored {}.{kept}",
                        backup.file_name().unwrap_or_default().to_string_lossy()
                    ),
                    false,
                );
            }
            LibraryEvent::Failed(e) => self.state.error(e.to_string()),
        }
        self.state.undo_label = self.history.undo_label();
        self.state.redo_label = self.history.redo_label();
    }

    /// Re-reads the list on screen, which the job may have changed.
    fn on_library_job_end(&mut self) {
        self.state.library_progress = None;
        if self.store.is_none() && !self.jobs.is_running(RESTORE) {
            // A restore ended (or failed, leaving the old file): open whichever is in place, and
            // keep the message the restore left.
            let said = self.state.status.take();
            if let Err(e) = self.reopen_after_restore() {
                self.state.error(e.to_string());
                return;
            }
            if said.is_some() {
                self.state.status = said;
            }
        }
        let Some(store) = self.store.take() else {
            return;
        };
        let refreshed = match self.state.screen {
            Screen::Library => self.refresh_library(&store),
            Screen::Trash => self.refresh_trash(&store),
            _ => Ok(()),
        };
        if self.state.screen == Screen::Backups {
            self.refresh_backups();
        }
        self.store = Some(store);
        if let Err(e) = refreshed {
            self.state.error(e.to_string());
        }
    }
}
