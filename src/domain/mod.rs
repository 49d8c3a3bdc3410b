//! The story model and its rules: pure data and functions, no I/O, no egui, no threads.

mod entry;
mod ids;
mod input;
mod prefs;
mod profile;
mod story;
mod text;

pub use entry::{Entry, EntryKind, EntryRow};
pub use ids::{EntryId, StoryId, new_uuid, now_ms};
pub use input::{ActionType, compose_input};
pub use prefs::{FontSize, Prefs, ThemeChoice};
pub use profile::{
    ApiProfile, CallOutcome, ModelInfo, Pricing, ProfileSource, Reasoning, Secret, Task,
    TaskAssignment, UsageGrouping, UsageRecord, UsageTotal,
};
pub use story::{NewStory, Pov, Story, StoryMode, StorySummary, Tense};
pub use text::{count_words, preview};
