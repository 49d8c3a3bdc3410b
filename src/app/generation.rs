//! The narrator's job (runs on its own thread): prepares the prompt, streams the narration and
//! stores it, reporting each step to the window as a `GenerationEvent`.

use crate::domain::{StoryId, Target};
use crate::jobs::JobContext;
use crate::providers::Delta;
use crate::storage::Store;
use crate::writing::{self, Lorebook, Outcome};

/// What a generation job reports.
#[derive(Debug)]
pub enum GenerationEvent {
    Prepared {
        model: String,
        budget: crate::domain::Budget,
        kept: usize,
        lore: Vec<(String, String, bool)>,
    },
    /// The lorebook the job built, for the next generation to reuse.
    Lorebook(u64, StoryId, Lorebook),
    Delta(Delta),
    Done(std::result::Result<Outcome, String>),
}

pub(super) fn generation_job(
    path: &std::path::Path,
    keys: &dyn crate::keys::KeyStore,
    story: &StoryId,
    target: Target,
    (lore_version, lorebook): (u64, Option<Lorebook>),
    cx: &JobContext<GenerationEvent>,
) {
    let result = (|| -> std::result::Result<Outcome, String> {
        let mut store = Store::open_worker(path).map_err(|e| e.to_string())?;
        let lorebook = match lorebook {
            Some(book) => book,
            None => {
                let book = Lorebook::load(&store, story).map_err(|e| e.to_string())?;
                cx.send(GenerationEvent::Lorebook(
                    lore_version,
                    story.clone(),
                    book.clone(),
                ));
                book
            }
        };
        let prepared = writing::prepare(&store, keys, story, target, &lorebook, cx.cancel_token())
            .map_err(|e| e.to_string())?;
        cx.send(GenerationEvent::Prepared {
            model: prepared.call.model.clone(),
            budget: prepared.prompt.budget,
            kept: prepared.prompt.kept,
            lore: prepared.lore.clone(),
        });
        writing::run(&mut store, &prepared, cx.cancel_token(), &mut |delta| {
            cx.send(GenerationEvent::Delta(delta.clone()));
        })
        .map_err(|e| e.to_string())
    })();
    cx.send(GenerationEvent::Done(result));
}
