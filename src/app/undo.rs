//! The session's undo and redo history: each change knows how to revert and repeat itself.

use crate::domain::{EntryId, LoreId, StoryId, StoryTime, WorldKind, WorldRow};
use crate::storage::{Store, StoreError};

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    AddEntry {
        story: StoryId,
        entry: EntryId,
    },
    EditEntry {
        story: StoryId,
        entry: EntryId,
        before: String,
        after: String,
    },
    TrashEntry {
        story: StoryId,
        entry: EntryId,
    },
    TrashStory {
        story: StoryId,
        title: String,
    },
    RenameStory {
        story: StoryId,
        before: String,
        after: String,
    },
    TrashChapter {
        story: StoryId,
        id: String,
    },
    TrashBranch {
        story: StoryId,
        id: String,
    },
    TrashLore {
        story: StoryId,
        lore: LoreId,
    },
    /// The writer's word on the lore agent's proposals (one, or all at once).
    DecideLore {
        story: StoryId,
        proposals: Vec<i64>,
        accepted: bool,
    },
    /// A generation step: the action typed (if one was) and the narration written for it, undone
    /// and redone together so a narration never stays without the action it answers.
    Turn {
        story: StoryId,
        action: Option<EntryId>,
        narration: EntryId,
    },
    /// A world row added (`before` none) or edited by hand.
    EditWorld {
        story: StoryId,
        before: Option<Box<WorldRow>>,
        after: Box<WorldRow>,
    },
    TrashWorld {
        story: StoryId,
        kind: WorldKind,
        id: String,
    },
    StoryTime {
        story: StoryId,
        before: StoryTime,
        after: StoryTime,
    },
    /// What the classifier changed after a narration, as one step.
    WorldChanges {
        story: StoryId,
        /// Where the update is kept beside its narration (so Undo and the text stay in step).
        kept: Option<i64>,
        applied: Box<crate::domain::world_change::Applied>,
    },
}

impl Change {
    pub fn label(&self) -> String {
        match self {
            Change::AddEntry { .. } => "add entry".into(),
            Change::EditEntry { .. } => "edit entry".into(),
            Change::TrashEntry { .. } => "delete entry".into(),
            Change::TrashStory { title, .. } => format!("delete “{title}”"),
            Change::RenameStory { after, .. } => format!("rename to “{after}”"),
            Change::TrashLore { .. } => "delete lore entry".into(),
            Change::DecideLore { accepted: true, .. } => "accept the lore change".into(),
            Change::DecideLore { .. } => "reject the lore change".into(),
            Change::TrashChapter { .. } => "delete chapter".into(),
            Change::TrashBranch { .. } => "delete branch".into(),
            Change::Turn { .. } => "the last turn".into(),
            Change::EditWorld { before: None, .. } => "add to the world".into(),
            Change::EditWorld { .. } => "edit the world".into(),
            Change::TrashWorld { kind, .. } => format!("delete {}", kind.label().to_lowercase()),
            Change::StoryTime { .. } => "set the story time".into(),
            Change::WorldChanges { .. } => "the world update".into(),
        }
    }

    /// The story whose entries this change touches, if any.
    pub fn story(&self) -> &StoryId {
        match self {
            Change::AddEntry { story, .. }
            | Change::EditEntry { story, .. }
            | Change::TrashEntry { story, .. }
            | Change::TrashStory { story, .. }
            | Change::RenameStory { story, .. }
            | Change::TrashLore { story, .. }
            | Change::DecideLore { story, .. }
            | Change::TrashChapter { story, .. }
            | Change::TrashBranch { story, .. }
            | Change::Turn { story, .. }
            | Change::EditWorld { story, .. }
            | Change::TrashWorld { story, .. }
            | Change::StoryTime { story, .. }
            | Change::WorldChanges { story, .. } => story,
        }
    }

    fn revert(&self, store: &Store) -> Result<(), StoreError> {
        match self {
            Change::AddEntry { entry, .. } => store.trash_entry(entry),
            Change::EditEntry { entry, before, .. } => store.update_entry_content(entry, before),
            Change::TrashEntry { entry, .. } => store.restore_entry(entry),
            Change::TrashStory { story, .. } => store.restore_story(story),
            Change::RenameStory { story, before, .. } => store.rename_story(story, before),
            Change::TrashLore { lore, .. } => store.restore_lore(lore),
            Change::DecideLore { proposals, .. } => proposals
                .iter()
                .rev()
                .try_for_each(|id| store.undecide_lore_proposal(*id)),
            Change::TrashChapter { story, id } => store.restore_chapter(story, id),
            Change::TrashBranch { story, id } => store.restore_branch(story, id),
            Change::EditWorld { .. }
            | Change::TrashWorld { .. }
            | Change::StoryTime { .. }
            | Change::WorldChanges { .. } => revert_world(store, self),
            Change::Turn {
                action, narration, ..
            } => {
                store.trash_entry(narration)?;
                action.as_ref().map_or(Ok(()), |a| store.trash_entry(a))
            }
        }
    }

    fn repeat(&self, store: &Store) -> Result<(), StoreError> {
        match self {
            Change::AddEntry { entry, .. } => store.restore_entry(entry),
            Change::EditEntry { entry, after, .. } => store.update_entry_content(entry, after),
            Change::TrashEntry { entry, .. } => store.trash_entry(entry),
            Change::TrashStory { story, .. } => store.trash_story(story),
            Change::RenameStory { story, after, .. } => store.rename_story(story, after),
            Change::TrashLore { lore, .. } => store.trash_lore(lore),
            Change::DecideLore {
                proposals,
                accepted,
                ..
            } => proposals.iter().try_for_each(|id| {
                if *accepted {
                    store.accept_lore_proposal(*id).map(|_| ())
                } else {
                    store.reject_lore_proposal(*id)
                }
            }),
            Change::TrashChapter { story, id } => store.trash_chapter(story, id),
            Change::TrashBranch { story, id } => store.trash_branch(story, id),
            Change::EditWorld { .. }
            | Change::TrashWorld { .. }
            | Change::StoryTime { .. }
            | Change::WorldChanges { .. } => repeat_world(store, self),
            Change::Turn {
                action, narration, ..
            } => {
                if let Some(a) = action {
                    store.restore_entry(a)?;
                }
                store.restore_entry(narration)
            }
        }
    }
}

/// Undo of a world change, in the store.
fn revert_world(store: &Store, change: &Change) -> Result<(), StoreError> {
    match change {
        Change::EditWorld {
            story,
            before,
            after,
        } => match before {
            Some(before) => store.save_world_row(story, before),
            None => store.trash_world_row(story, after.kind(), after.id()),
        },
        Change::TrashWorld { story, kind, id } => store.restore_world_row(story, *kind, id),
        Change::StoryTime { story, before, .. } => store.set_story_time(story, *before),
        Change::WorldChanges {
            story,
            kept: Some(id),
            ..
        } => store.set_world_changes_in_effect(story, *id, false),
        Change::WorldChanges { story, applied, .. } => {
            store.apply_world_changes(story, applied, true)
        }
        _ => Ok(()),
    }
}

/// Redo of a world change, in the store.
fn repeat_world(store: &Store, change: &Change) -> Result<(), StoreError> {
    match change {
        Change::EditWorld { story, after, .. } => store.save_world_row(story, after),
        Change::TrashWorld { story, kind, id } => store.trash_world_row(story, *kind, id),
        Change::StoryTime { story, after, .. } => store.set_story_time(story, *after),
        Change::WorldChanges {
            story,
            kept: Some(id),
            ..
        } => store.set_world_changes_in_effect(story, *id, true),
        Change::WorldChanges { story, applied, .. } => {
            store.apply_world_changes(story, applied, false)
        }
        _ => Ok(()),
    }
}

/// How many steps back a session can go; old steps fall off the bottom.
const MAX_STEPS: usize = 500;

#[derive(Debug, Default)]
pub struct History {
    undo: Vec<Change>,
    redo: Vec<Change>,
}

impl History {
    pub fn record(&mut self, change: Change) {
        self.redo.clear();
        self.undo.push(change);
        if self.undo.len() > MAX_STEPS {
            self.undo.remove(0);
        }
    }

    pub fn undo(&mut self, store: &Store) -> Result<Option<Change>, StoreError> {
        let Some(change) = self.undo.pop() else {
            return Ok(None);
        };
        if let Err(e) = change.revert(store) {
            self.undo.push(change);
            return Err(e);
        }
        self.redo.push(change.clone());
        Ok(Some(change))
    }

    pub fn redo(&mut self, store: &Store) -> Result<Option<Change>, StoreError> {
        let Some(change) = self.redo.pop() else {
            return Ok(None);
        };
        if let Err(e) = change.repeat(store) {
            self.redo.push(change);
            return Err(e);
        }
        self.undo.push(change.clone());
        Ok(Some(change))
    }

    /// A narration written for the newest step: an action added just before it joins it as one
    /// turn; without one (Continue) the narration is a turn of its own.
    pub fn record_narration(&mut self, story: &StoryId, narration: EntryId) {
        let action = match self.undo.last() {
            Some(Change::AddEntry { story: s, entry }) if s == story => Some(entry.clone()),
            _ => None,
        };
        if action.is_some() {
            self.undo.pop();
        }
        self.record(Change::Turn {
            story: story.clone(),
            action,
            narration,
        });
    }

    pub fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
    }

    pub fn undo_label(&self) -> Option<String> {
        self.undo.last().map(Change::label)
    }

    pub fn redo_label(&self) -> Option<String> {
        self.redo.last().map(Change::label)
    }
}
