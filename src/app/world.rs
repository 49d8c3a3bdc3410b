//! The controller's side of the story world (UI thread): hand edits saved, rows put in the Trash
//! and the story time set, each one a step Undo takes back.

use super::FabulaApp;
use super::undo::Change;
use crate::state::WorldAction;
use crate::storage::{Store, StoreError};

/// How many world updates the Updates tab lists.
pub(super) const RECENT_UPDATES: usize = 50;

impl FabulaApp {
    /// Carries out one world action (see `WorldAction`).
    pub(super) fn apply_world(
        &mut self,
        store: &mut Store,
        action: WorldAction,
    ) -> Result<(), StoreError> {
        let Some(story) = self.open_story_id() else {
            return Ok(());
        };
        match action {
            WorldAction::Save(row) => {
                let before = store.world_row(&story, row.kind(), row.id())?;
                store.save_world_row(&story, &row)?;
                self.state.info(format!("Saved “{}”.", row.name()), false);
                self.history.record(Change::EditWorld {
                    story: story.clone(),
                    before: before.map(Box::new),
                    after: Box::new(row),
                });
            }
            WorldAction::Trash(kind, id) => {
                let name = store
                    .world_row(&story, kind, &id)?
                    .map(|r| r.name().to_owned())
                    .unwrap_or_default();
                store.trash_world_row(&story, kind, &id)?;
                self.state.info(
                    format!("Moved “{name}” to the Trash. Undo (Ctrl+Z) brings it back."),
                    false,
                );
                self.history.record(Change::TrashWorld {
                    story: story.clone(),
                    kind,
                    id,
                });
            }
            WorldAction::Decide(index, accept) => {
                return self.decide_pending(store, index, accept);
            }
            WorldAction::SetUpdate(id, on) => {
                store.set_world_changes_in_effect(&story, id, on)?;
                self.state.info(
                    if on {
                        "The update is made again while its text is shown."
                    } else {
                        "The update is taken back."
                    },
                    false,
                );
            }
            WorldAction::SaveChapter(chapter) => {
                store.save_chapter(&story, &chapter)?;
                self.state
                    .info(format!("Saved {}.", chapter.heading()), false);
            }
            WorldAction::TrashChapter(id) => {
                store.trash_chapter(&story, &id)?;
                self.state.info(
                    "Chapter moved to the Trash; its entries are back in the narrator's history. Undo (Ctrl+Z) brings it back.",
                    true,
                );
                self.history.record(Change::TrashChapter {
                    story: story.clone(),
                    id,
                });
            }
            WorldAction::EndChapterAt(entry) => {
                self.end_chapter_here(store, entry);
                return Ok(());
            }
            WorldAction::ResummarizeChapter(id) => {
                self.resummarize_chapter(store, id);
                return Ok(());
            }
            WorldAction::SaveMemorySettings(settings) => {
                store.save_memory_settings(&story, &settings)?;
            }
            WorldAction::SetTime(time) => {
                let before = store.world(&story)?.time.unwrap_or_default();
                store.set_story_time(&story, time)?;
                self.history.record(Change::StoryTime {
                    story: story.clone(),
                    before,
                    after: time,
                });
            }
        }
        self.reload_world(store)
    }

    /// After an entry changed (another alternative shown, deleted, restored, undone): the world
    /// updates made for its text follow, taken back or made again, and the note says so.
    pub(super) fn follow_world(
        &mut self,
        store: &Store,
        entry: &crate::domain::EntryId,
    ) -> Result<(), StoreError> {
        let Some(story) = self.open_story_id() else {
            return Ok(());
        };
        let changed = store.follow_text(&story, entry)?;
        if changed.is_empty() {
            return Ok(());
        }
        let said: Vec<String> = changed
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(on, s)| {
                if *on {
                    format!("made again: {s}")
                } else {
                    format!("taken back: {s}")
                }
            })
            .collect();
        if !said.is_empty() {
            self.state.info(
                format!("The world follows the text shown ({}).", said.join("; ")),
                false,
            );
        }
        self.reload_world(store)
    }

    /// Accepts or rejects a change of the waiting update (or all of them). What is accepted is
    /// made and kept beside its narration like any update, and Undo takes it back.
    fn decide_pending(
        &mut self,
        store: &Store,
        index: Option<usize>,
        accept: bool,
    ) -> Result<(), StoreError> {
        let Some(pending) = self.state.writing.world_pending.clone() else {
            return Ok(());
        };
        let (taken, rest) = match index {
            Some(i) => match pending.changes.part(i) {
                Some(part) => (part, pending.changes.without(i)),
                None => return Ok(()),
            },
            None => (
                pending.changes.clone(),
                crate::domain::world_change::Applied::default(),
            ),
        };
        let kept = store.decide_waiting_world_update(
            &pending.story,
            pending.kept,
            &taken,
            accept,
            &rest,
        )?;
        if let Some(kept) = kept {
            self.state
                .info(format!("Applied: {}", taken.summary), false);
            self.history.record(Change::WorldChanges {
                story: pending.story.clone(),
                kept: Some(kept),
                applied: Box::new(taken),
            });
        }
        self.reload_world(store)
    }

    /// Reads the open story's world again (after an edit, an undo or a change from outside).
    pub(super) fn reload_world(&mut self, store: &Store) -> Result<(), StoreError> {
        if let Some(story) = self.open_story_id() {
            self.state.writing.world = store.world(&story)?;
            self.state.writing.world_pending = pending_of(store, &story)?;
            self.state.writing.world_updates =
                store.recent_world_updates(&story, RECENT_UPDATES)?;
            self.state.writing.chapters = store.chapters(&story)?;
            self.state.writing.memory = store.memory_settings(&story)?;
        }
        Ok(())
    }
}

/// The first update of `story` waiting for the writer's word, as the World panel shows it.
pub(super) fn pending_of(
    store: &Store,
    story: &crate::domain::StoryId,
) -> Result<Option<crate::state::PendingWorld>, StoreError> {
    Ok(store
        .waiting_world_update(story)?
        .map(|w| crate::state::PendingWorld {
            story: story.clone(),
            kept: w.kept,
            changes: w.changes,
            more: w.more,
        }))
}
