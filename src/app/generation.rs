//! The narrator's job (runs on its own thread): recalls from past chapters, prepares the prompt,
//! streams the narration and stores it, reporting each step to the window as a
//! `GenerationEvent`.

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
    /// Recall at work: model calls made, at most.
    Recalling(u32, u32),
    /// What recall found (told to the narrator), or why it found nothing.
    Recalled(std::result::Result<Option<writing::Recalled>, String>),
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
        let cancel = cx.cancel_token();
        // Recall failing never stops the narration: it is said, and the narration goes on.
        let recalled = writing::recall(&store, keys, story, &target, cancel, &mut |done, of| {
            cx.send(GenerationEvent::Recalling(done, of));
        })
        .map_err(|e| e.to_string());
        let told = recalled
            .as_ref()
            .ok()
            .and_then(|r| r.as_ref())
            .map(|r| r.text.clone());
        cx.send(GenerationEvent::Recalled(recalled));
        let prepared = writing::prepare_recalled(
            &store,
            keys,
            story,
            target,
            &lorebook,
            cancel,
            told.as_deref(),
        )?;
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
