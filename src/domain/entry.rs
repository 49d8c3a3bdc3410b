//! Story entries: what the user wrote (actions, directions), narration, and notes.

use super::ids::{EntryId, StoryId};
use super::story::StoryMode;

/// The kind stored with an entry; spelled as the exchange format spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    UserAction,
    Narration,
    System,
    Retry,
}

impl EntryKind {
    pub const ALL: [EntryKind; 4] = [
        EntryKind::UserAction,
        EntryKind::Narration,
        EntryKind::System,
        EntryKind::Retry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::UserAction => "user_action",
            EntryKind::Narration => "narration",
            EntryKind::System => "system",
            EntryKind::Retry => "retry",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the story view calls this kind: a user entry is an "action" in adventure
    /// mode and a "direction" in creative writing, as in the original app.
    pub fn label(self, mode: StoryMode) -> &'static str {
        match (self, mode) {
            (EntryKind::UserAction, StoryMode::Adventure) => "Action",
            (EntryKind::UserAction, StoryMode::CreativeWriting) => "Direction",
            (EntryKind::Narration, _) => "Narration",
            (EntryKind::System | EntryKind::Retry, _) => "Note",
        }
    }
}

/// A whole entry as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub id: EntryId,
    pub story_id: StoryId,
    pub kind: EntryKind,
    pub content: String,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// What the model thought before writing this text; empty when it did not say.
    pub reasoning: String,
    /// Which of the entry's alternative texts is shown, when it has more than one.
    pub alternative: Option<AlternativePosition>,
    /// The provider stopped this text at its length limit (not at an end it chose).
    pub cut_off: bool,
}

/// "2 of 3": the active alternative (1-based) and how many there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlternativePosition {
    pub index: u32,
    pub count: u32,
}

/// The small per-entry facts the story view needs for every entry to place rows
/// without loading their text.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryRow {
    pub id: EntryId,
    pub kind: EntryKind,
    pub char_count: u32,
    /// Where it stands in the story, so a row can be put back in its place without re-reading.
    pub position: i64,
}

/// An entry in the Trash, with the story it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct TrashedEntry {
    pub entry: Entry,
    pub story_title: String,
    pub deleted_at: i64,
}

/// What a generation writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A new narration at the end of the story.
    Next,
    /// Another alternative of this narration entry, written from the context before it.
    Regenerate(EntryId),
    /// This narration, cut off at the length limit, written on from where it stops; the longer
    /// text becomes its newest alternative (the cut one stays, one step back).
    Continue(EntryId),
}

impl Target {
    /// The entry a regeneration writes another alternative of.
    pub fn entry(&self) -> Option<&EntryId> {
        match self {
            Target::Next => None,
            Target::Regenerate(id) | Target::Continue(id) => Some(id),
        }
    }
}
