//! The world updates of a story as the World panel's Updates tab lists them: what each did, the
//! narration it was read from, and whether it is in effect.

use super::EntryId;

/// Where one kept update stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateStanding {
    InEffect,
    /// Its narration is deleted or shows another alternative; it comes back with the text.
    TextNotShown,
    /// The writer took it back; it stays back until made again.
    TakenBack,
    /// It waits for the writer's word.
    Waiting,
}

impl UpdateStanding {
    pub fn label(self) -> &'static str {
        match self {
            Self::InEffect => "in effect",
            Self::TextNotShown => "its text is not shown",
            Self::TakenBack => "taken back",
            Self::Waiting => "waiting for your word",
        }
    }
}

/// One kept update, newest first in the list.
#[derive(Clone, Debug, PartialEq)]
pub struct KeptUpdate {
    pub id: i64,
    pub entry: EntryId,
    /// The start of the narration it was read from.
    pub narration: String,
    pub lines: Vec<String>,
    pub standing: UpdateStanding,
    pub created_at: i64,
}
