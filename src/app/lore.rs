//! The controller's side of the lorebook (UI thread): entries saved and put in the Trash, and the
//! matcher built from them, kept until the lore changes.

use super::FabulaApp;
use crate::domain::{LoreEntry, LoreId, StoryId};
use crate::state::LoreAction;
use crate::storage::{Store, StoreError};
use crate::writing::Lorebook;

type Result<T> = std::result::Result<T, StoreError>;

impl FabulaApp {
    /// Carries out one lore action (see `LoreAction`).
    pub(super) fn apply_lore(
        &mut self,
        store: &mut Store,
        action: LoreAction,
    ) -> std::result::Result<(), StoreError> {
        match action {
            LoreAction::SaveLore(entry) => self.save_lore(store, entry)?,
            LoreAction::TrashLore(id) => self.trash_lore(store, &id)?,
            LoreAction::SetKept(id, kept) => {
                store.set_lore_kept(&id, kept)?;
                if let Some(story) = self.open_story_id() {
                    self.reload_lore(store, &story)?;
                }
            }
            LoreAction::Review => {
                if let Some(story) = self.open_story_id() {
                    self.start_lore_agent(store, &story, None);
                }
            }
            LoreAction::Decide(id, accept) => self.decide_lore(store, vec![id], accept)?,
            LoreAction::AcceptAll => {
                let all = self
                    .state
                    .writing
                    .lore_proposals
                    .iter()
                    .map(|p| p.id)
                    .collect();
                self.decide_lore(store, all, true)?;
            }
        }
        Ok(())
    }

    /// Reads the open story's lorebook, its "keep as written" marks and the waiting proposals
    /// again (after a change); the matcher is rebuilt on the next generation.
    pub(super) fn reload_lore(&mut self, store: &Store, story: &StoryId) -> Result<()> {
        if self.open_story_id().as_ref() == Some(story) {
            self.state.writing.lore = store.lore(story)?;
            self.state.writing.lore_kept = store.kept_lore(story)?;
            self.state.writing.lore_proposals = store.pending_lore_proposals(story)?;
        }
        self.forget_lorebook();
        Ok(())
    }

    /// Accepts or rejects proposals, in order, as one undoable step; one that cannot be carried
    /// out (its entry is gone, or kept as written) stops there with a message.
    fn decide_lore(&mut self, store: &Store, ids: Vec<i64>, accept: bool) -> Result<()> {
        let Some(story) = self.open_story_id() else {
            return Ok(());
        };
        let mut done = Vec::new();
        let mut failed = None;
        for id in ids {
            let outcome = if accept {
                store.accept_lore_proposal(id).map(|_| ())
            } else {
                store.reject_lore_proposal(id)
            };
            match outcome {
                Ok(()) => done.push(id),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let count = done.len();
        if !done.is_empty() {
            self.history.record(super::undo::Change::DecideLore {
                story: story.clone(),
                proposals: done,
                accepted: accept,
            });
        }
        self.reload_lore(store, &story)?;
        match failed {
            Some(e) => self.state.error(e.to_string()),
            None if accept => self.state.info(
                format!(
                    "{} made to the lorebook. Undo (Ctrl+Z) takes {} back.",
                    crate::domain::count_of(count as u64, "change", "changes"),
                    if count == 1 { "it" } else { "them" }
                ),
                true,
            ),
            None => self
                .state
                .info("Rejected; the lorebook is as it was.", true),
        }
        Ok(())
    }

    /// The open story's lorebook with its matcher if it is built; after a change it is rebuilt on
    /// the generation job (5,000 entries take ~18 ms, too long for a frame) and sent back here.
    /// After any lorebook change; a book still being built by a running job is then ignored.
    /// When the window gets the focus back: if something else wrote to the library meanwhile
    /// (lore added with `fabula lore add`, a story imported from the shell), what is on screen is
    /// read again. One PRAGMA when nothing changed.
    pub(super) fn notice_outside_changes(&mut self) {
        let Some(store) = self.store.take() else {
            return;
        };
        let seen = store.data_version().ok();
        if seen.is_some() && seen != self.data_version {
            let first = self.data_version.is_none();
            self.data_version = seen;
            if !first {
                let refreshed =
                    self.refresh_library(&store)
                        .and_then(|()| match self.open_story_id() {
                            Some(story) => store.lore(&story).map(|lore| {
                                self.state.writing.lore = lore;
                            }),
                            None => Ok(()),
                        });
                self.forget_lorebook();
                if let Err(e) = refreshed {
                    self.state.error(e.to_string());
                }
            }
        }
        self.store = Some(store);
    }

    pub(super) fn forget_lorebook(&mut self) {
        self.lorebook = None;
        self.lore_version += 1;
    }

    pub(super) fn cached_lorebook(&self, story: &StoryId) -> Option<Lorebook> {
        self.lorebook
            .as_ref()
            .filter(|(id, _)| id == story)
            .map(|(_, book)| book.clone())
    }

    pub(super) fn save_lore(&mut self, store: &Store, entry: LoreEntry) -> Result<()> {
        let saved = store.save_lore(&entry)?;
        self.state.writing.lore = store.lore(&saved.story_id)?;
        self.forget_lorebook();
        self.state.info(format!("Saved “{}”.", saved.name), false);
        Ok(())
    }

    pub(super) fn trash_lore(&mut self, store: &Store, id: &LoreId) -> Result<()> {
        let name = self
            .state
            .writing
            .lore
            .iter()
            .find(|l| &l.id == id)
            .map(|l| l.name.clone())
            .unwrap_or_default();
        store.trash_lore(id)?;
        self.forget_lorebook();
        self.history.record(super::undo::Change::TrashLore {
            story: self.open_story_id().unwrap_or_default(),
            lore: id.clone(),
        });
        if let Some(story) = self.open_story_id() {
            self.state.writing.lore = store.lore(&story)?;
        }
        self.state
            .info(format!("Deleted “{name}” from the lorebook."), true);
        Ok(())
    }
}
