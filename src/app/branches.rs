//! The controller's side of branches and checkpoints (UI thread): made, shown, renamed and put in
//! the Trash (undoable); the story is opened again on the branch it shows, so the view, the
//! narrator's history, search and undo all read that lineage.

use super::FabulaApp;
use super::undo::Change;
use crate::state::BranchAction;
use crate::storage::{Store, StoreError};

type Outcome = Result<(), StoreError>;

impl FabulaApp {
    pub(super) fn apply_branch(&mut self, store: &Store, action: BranchAction) -> Outcome {
        let Some(story) = self.open_story_id() else {
            return Ok(());
        };
        match action {
            BranchAction::New(entry, alternative) => {
                let name = format!("Branch {}", self.state.writing.branches.len() + 1);
                let branch = store.create_branch_with(&story, &entry, alternative, &name)?;
                self.state.info(
                    format!(
                        "“{}” starts here; the story now shows it (rename it in the Branches panel).",
                        branch.name
                    ),
                    false,
                );
            }
            BranchAction::FromCheckpoint(id) => {
                let Some(checkpoint) = store.checkpoints(&story)?.into_iter().find(|c| c.id == id)
                else {
                    return Err(StoreError::NotFound(format!("Checkpoint {id}")));
                };
                // Back to the checkpoint's own line first, so the fork is where it was made.
                store.switch_branch(&story, checkpoint.branch.as_deref())?;
                let branch = store.create_branch(
                    &story,
                    &checkpoint.entry,
                    &format!("From “{}”", checkpoint.name),
                )?;
                self.state.info(
                    format!(
                        "“{}” starts at the checkpoint; nothing after it was lost.",
                        branch.name
                    ),
                    false,
                );
            }
            BranchAction::Switch(branch) => {
                if self.jobs.is_running(super::writing::GENERATION) {
                    self.state.info(
                        "The narration being written lands on the branch it started on.",
                        false,
                    );
                }
                store.switch_branch(&story, branch.as_deref())?;
            }
            BranchAction::Rename(id, name) => store.rename_branch(&story, &id, &name)?,
            BranchAction::Trash(id) => {
                store.trash_branch(&story, &id)?;
                self.history.record(Change::TrashBranch {
                    story: story.clone(),
                    id,
                });
                self.state.info(
                    "Branch moved to the Trash. Undo (Ctrl+Z) brings it back.",
                    true,
                );
            }
            BranchAction::Checkpoint(entry) => {
                let name = format!("Checkpoint {}", self.state.writing.checkpoints.len() + 1);
                let made = store.create_checkpoint(&story, &entry, &name)?;
                self.state.info(
                    format!("“{}” marks this moment (Branches panel).", made.name),
                    false,
                );
            }
            BranchAction::DeleteCheckpoint(id) => store.delete_checkpoint(&story, &id)?,
            BranchAction::RenameCheckpoint(id, name) => {
                store.rename_checkpoint(&story, &id, &name)?
            }
            BranchAction::ShowMoment(Some(id)) => {
                let moment = store.checkpoint_moment(&story, &id)?;
                self.state.writing.checkpoint_moment = Some((id, moment));
                return Ok(());
            }
            BranchAction::ShowMoment(None) => {
                self.state.writing.checkpoint_moment = None;
                return Ok(());
            }
        }
        self.reopen_on_branch(store)
    }

    /// Opens the story again as its current branch shows it (the view, the world, the memory).
    pub(super) fn reopen_on_branch(&mut self, store: &Store) -> Outcome {
        let Some(story) = self.open_story_id() else {
            return Ok(());
        };
        let before = self.state.writing.branch.clone();
        let now = store.current_branch(&story)?;
        if before != now {
            self.open_story(store, &story)?;
        } else {
            self.state.writing.branches = store.branches(&story)?;
            self.state.writing.checkpoints = store.checkpoints(&story)?;
            self.state.writing.branch_facts = store.branch_facts(&story)?;
        }
        Ok(())
    }
}
