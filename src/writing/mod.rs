//! The writing loop's pipeline, shared by the window and the CLI: prepare the narrator's request from
//! the store, stream it while keeping a draft on disk, then write the narration (or keep the draft).

mod classify;
mod lore_agent;
mod memory;
mod prepare;
mod recall;
mod run;
mod suggest;
mod task;

pub use classify::{classify, classify_with};
pub use lore_agent::{LoreAgentRun, review_lore};
pub use memory::{chapter_check, end_chapter_at, resummarize};
pub use prepare::{Prepared, narrator_call, prepare, prepare_recalled};
pub use recall::{Recalled, recall};
pub use run::{Ending, Outcome, run, skipped_note};
pub use suggest::suggest;

use std::sync::Arc;

use crate::domain::{LoreEntry, LoreMatcher, StoryId, TemplateError, TemplateKind};
use crate::providers::ProviderError;
use crate::storage::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum WritingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("The {} template has a problem: {error}", kind.label())]
    Template {
        kind: TemplateKind,
        error: TemplateError,
    },
    #[error("Only narration can be regenerated.")]
    NotNarration,
    /// A helper task's answer (the classifier's, the Memory task's) could not be used; nothing
    /// was changed.
    #[error("{0}")]
    Classifier(String),
}

/// A story's lorebook with its matcher, built once per change and shared with generation jobs.
#[derive(Clone, Debug)]
pub struct Lorebook {
    pub entries: Arc<Vec<LoreEntry>>,
    pub matcher: Arc<LoreMatcher>,
}

impl Lorebook {
    pub fn new(entries: Vec<LoreEntry>) -> Self {
        let matcher = LoreMatcher::new(&entries);
        Self {
            entries: Arc::new(entries),
            matcher: Arc::new(matcher),
        }
    }

    pub fn load(store: &Store, story: &StoryId) -> Result<Self, StoreError> {
        Ok(Self::new(store.lore(story)?))
    }
}
