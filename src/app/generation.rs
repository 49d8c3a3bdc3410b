//! The narrator's job (runs on its own thread): prepares the prompt, streams the narration and
//! stores it, reporting each step to the window as a `GenerationEvent`.

use crate::domain::{StoryId, Target};
use crate::jobs::JobContext;
use crate::providers::Delta;
use crate::storage::Store;
use crate::writing::{self, Lorebook, Outcome, WritingError};

/// What a generation job reports.
#[derive(Debug)]
pub enum GenerationEvent {
    Prepared {
        model: String,
        profile_id: String,
        budget: crate::domain::Budget,
        lore: Vec<(String, String, bool)>,
    },
    /// The lorebook the job built, for the next generation to reuse.
    Lorebook(u64, StoryId, Lorebook),
    Delta(Delta),
    /// How it ended; a failure keeps its kind, so the window can offer the right next step.
    Done(std::result::Result<Outcome, WritingError>),
}

pub(super) fn generation_job(
    path: &std::path::Path,
    keys: &dyn crate::keys::KeyStore,
    story: &StoryId,
    target: Target,
    (lore_version, lorebook): (u64, Option<Lorebook>),
    cx: &JobContext<GenerationEvent>,
) {
    let result = (|| -> std::result::Result<Outcome, WritingError> {
        let mut store = Store::open_worker(path)?;
        let lorebook = match lorebook {
            Some(book) => book,
            None => {
                let book = Lorebook::load(&store, story)?;
                cx.send(GenerationEvent::Lorebook(
                    lore_version,
                    story.clone(),
                    book.clone(),
                ));
                book
            }
        };
        let prepared = writing::prepare(&store, keys, story, target, &lorebook, cx.cancel_token())?;
        cx.send(GenerationEvent::Prepared {
            model: prepared.call.model.clone(),
            profile_id: prepared.call.profile.id.clone(),
            budget: prepared.prompt.budget,
            lore: prepared.lore.clone(),
        });
        writing::run(&mut store, &prepared, cx.cancel_token(), &mut |delta| {
            cx.send(GenerationEvent::Delta(delta.clone()));
        })
    })();
    cx.send(GenerationEvent::Done(result));
}
