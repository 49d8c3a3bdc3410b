//! A story's identity and settings: mode, point of view, tense and the library's summary of it.

use super::ids::StoryId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StoryMode {
    #[default]
    Adventure,
    CreativeWriting,
}

impl StoryMode {
    pub const ALL: [StoryMode; 2] = [StoryMode::Adventure, StoryMode::CreativeWriting];

    /// The spelling used by the exchange format and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            StoryMode::Adventure => "adventure",
            StoryMode::CreativeWriting => "creative-writing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            StoryMode::Adventure => "Adventure",
            StoryMode::CreativeWriting => "Creative writing",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Pov {
    First,
    #[default]
    Second,
    Third,
}

impl Pov {
    pub const ALL: [Pov; 3] = [Pov::First, Pov::Second, Pov::Third];

    pub fn as_str(self) -> &'static str {
        match self {
            Pov::First => "first",
            Pov::Second => "second",
            Pov::Third => "third",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Pov::First => "First person",
            Pov::Second => "Second person",
            Pov::Third => "Third person",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Tense {
    Past,
    #[default]
    Present,
}

impl Tense {
    pub const ALL: [Tense; 2] = [Tense::Past, Tense::Present];

    pub fn as_str(self) -> &'static str {
        match self {
            Tense::Past => "past",
            Tense::Present => "present",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Tense::Past => "Past tense",
            Tense::Present => "Present tense",
        }
    }
}

/// What the user fills in to start a story.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewStory {
    pub title: String,
    pub mode: StoryMode,
    pub pov: Pov,
    pub tense: Tense,
    pub genre: String,
    pub description: String,
    /// Used for third-person action prefixes ("Mara says, …").
    pub protagonist: String,
}

impl NewStory {
    /// The title to store: a blank title becomes "Untitled story" so no story is nameless.
    pub fn effective_title(&self) -> String {
        let t = self.title.trim();
        if t.is_empty() {
            "Untitled story".to_owned()
        } else {
            t.to_owned()
        }
    }
}

/// A stored story with the fields the app edits; the exchange format's other fields live in JSON columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Story {
    pub id: StoryId,
    pub title: String,
    pub description: Option<String>,
    pub genre: Option<String>,
    pub mode: StoryMode,
    pub pov: Pov,
    pub tense: Tense,
    pub protagonist: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One row of the library: the story plus the counts the library shows.
#[derive(Clone, Debug, PartialEq)]
pub struct StorySummary {
    pub story: Story,
    pub entry_count: u64,
    pub word_count: u64,
    /// Set when the story is in the Trash.
    pub deleted_at: Option<i64>,
}
