//! The world kept up to date after each narration: the classifier runs on a job once the
//! narration is stored (the story is never held for it), and what it changed is said in the
//! status bar as one line, undone as one step. A failure is a quiet note.

use super::FabulaApp;
use super::undo::Change;
use crate::domain::StoryId;
use crate::domain::world_change::Applied;
use crate::storage::Store;
use crate::writing;

/// What the job hands back: the update, where it is kept (when applied), the narration it was
/// read from, and whether it waits for the writer's word.
type Classified = (Applied, Option<i64>, Option<crate::domain::EntryId>, bool);

/// The classifier's job (one at a time; a newer narration's waits for none).
pub(super) const CLASSIFIER: &str = "classifier";

impl FabulaApp {
    /// Whether the world update after a narration is still running (for tests).
    pub fn is_updating_world(&self) -> bool {
        self.jobs.is_running(CLASSIFIER)
    }

    /// On `branch`, the one the narration was written on (whatever the story shows meanwhile).
    pub(super) fn start_classifier(
        &mut self,
        store: &Store,
        story: &StoryId,
        branch: Option<String>,
    ) {
        if self.jobs.is_running(CLASSIFIER) {
            // The one running reads the story as it was; the next narration reads it again.
            return;
        }
        let path = store.path().to_owned();
        let story = story.clone();
        let keys = self.keys.clone();
        let waker = self.waker();
        let started = self.jobs.start(
            CLASSIFIER,
            "The world update",
            waker,
            move |cx| {
                let outcome = Store::open_worker(&path)
                    .map_err(writing::WritingError::from)
                    .and_then(|store| {
                        store.pin_branch(branch);
                        let ask = store.story_settings(&story)?.ask_before_world;
                        writing::classify_with(
                            &store,
                            keys.as_ref(),
                            &story,
                            cx.cancel_token(),
                            !ask,
                        )
                        .map(|(applied, kept, entry)| (applied, kept, entry, ask))
                    });
                cx.send((story, outcome));
            },
            Self::on_classified,
            |_: &mut FabulaApp| {},
        );
        if let Err(e) = started {
            log::warn!("the world update could not start: {e}");
        }
    }

    fn on_classified(
        &mut self,
        (story, outcome): (StoryId, Result<Classified, writing::WritingError>),
    ) {
        match outcome {
            Ok((applied, ..)) if applied.is_nothing() => {}
            Ok((changes, _, _, true)) => {
                self.state.info(
                    format!(
                        "The world update waits for your word in the World panel: {}",
                        changes.summary
                    ),
                    false,
                );
                self.reload_world_of(&story);
            }
            Ok((applied, kept, ..)) => {
                if !applied.summary.is_empty() {
                    self.state.info(applied.summary.clone(), false);
                }
                self.history.record(Change::WorldChanges {
                    story: story.clone(),
                    kept,
                    applied: Box::new(applied),
                });
                self.reload_world_of(&story);
            }
            Err(e) => {
                self.state
                    .info(format!("The world was not updated: {e}"), false);
            }
        }
    }

    /// Reads the world again when `story` is the open one (a job changed it).
    pub(super) fn reload_world_of(&mut self, story: &StoryId) {
        if self.open_story_id().as_ref() == Some(story)
            && let Some(store) = self.store.take()
        {
            if let Err(e) = self.reload_world(&store) {
                self.state.error(e.to_string());
            }
            self.store = Some(store);
        }
    }
}
