//! A generation in progress or left over (the draft), and the prompt inspector's record of one call.

use super::ids::{EntryId, StoryId};
use super::prompt::Budget;

/// How a draft came to be there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DraftState {
    /// Still streaming, or the app stopped while it was (a crash, a kill, Ctrl+C in the CLI).
    Streaming,
    Cancelled,
    Failed,
}

impl DraftState {
    pub fn as_str(self) -> &'static str {
        match self {
            DraftState::Streaming => "streaming",
            DraftState::Cancelled => "cancelled",
            DraftState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DraftState::Streaming,
            DraftState::Cancelled,
            DraftState::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// Narration that is not (yet) part of the story.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub story_id: StoryId,
    /// `None` for the next narration; otherwise the entry being regenerated.
    pub target: Option<EntryId>,
    pub content: String,
    pub reasoning: String,
    pub state: DraftState,
    pub error: Option<String>,
    pub model: Option<String>,
    pub started_at: i64,
    pub updated_at: i64,
}

/// One call as the prompt inspector shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerationRecord {
    pub id: i64,
    pub story_id: Option<StoryId>,
    pub task: String,
    pub provider: String,
    pub model: String,
    pub url: String,
    /// The exact request body sent (keys travel in headers and are not part of it).
    pub request: String,
    pub response: String,
    pub reasoning: String,
    /// The provider's usage numbers as JSON, when it sent them.
    pub usage: Option<String>,
    pub budget: Option<Budget>,
    /// Lore entries that fired, with why, one per line.
    pub lore: Option<String>,
    pub outcome: String,
    pub error: Option<String>,
    pub created_at: i64,
}

/// How many generations the inspector keeps.
pub const KEEP_GENERATIONS: usize = 50;
