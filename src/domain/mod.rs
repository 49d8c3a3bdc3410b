//! The story model and its rules: pure data and functions, no I/O, no egui, no threads.

mod backup;
pub mod branch;
mod bundle;
mod catalog;
pub mod chapter;
mod entry;
mod exchange;
mod generation;
mod ids;
mod input;
mod lore;
pub mod lore_proposal;
mod prefs;
pub mod pretty;
mod profile;
mod prompt;
mod redact;
mod release;
pub mod row_index;
pub mod search;
mod story;
mod story_settings;
mod text;
mod tokens;
mod verbs;
pub mod when;
mod world;
pub mod world_change;
pub mod world_log;
pub mod world_merge;
pub mod world_wire;

pub use backup::{BackupInfo, KEEP_BACKUPS};
pub use bundle::{
    BundleEntry, BundleLore, BundleStory, IMPORT_BATCH, IdRemap, ImportPart, JsonRewriter,
    StoryBundle,
};
pub use catalog::{PRESETS, Preset, Protocol, ReasoningStyle, preset};
pub use entry::{AlternativePosition, Entry, EntryKind, EntryRow, Target, TrashedEntry};
pub use exchange::{FileFormat, OnConflict, Peer, PeerError, StoryListing};
pub use generation::{Draft, DraftState, GenerationRecord, KEEP_GENERATIONS};
pub use ids::{AlternativeId, EntryId, LoreId, StoryId, new_uuid, now_ms};
pub use input::{ActionType, Voice, compose_input};
pub use lore::{
    FireReason, FiredLore, InjectionMode, LoreEntry, LoreKind, LoreMatcher, LoreSelection,
    MatchSource, select_lore,
};
pub use prefs::{FontSize, LineWidth, Prefs, ThemeChoice};
pub use profile::{
    ApiProfile, CallOutcome, ModelInfo, Pricing, ProfileSource, Reasoning, Secret, Task,
    TaskAssignment, UsageGrouping, UsageRecord, UsageTotal,
};
pub use prompt::{
    AssembledPrompt, Budget, HistoryItem, NARRATOR_PLACEHOLDERS, PromptInput, PromptPack,
    SUGGESTION_PLACEHOLDERS, TemplateError, TemplateKind, assemble, check_template,
    parse_suggestions, render_template, style_instruction, suggestions_prompt,
};
pub use redact::redact;
pub use release::Available;
pub use row_index::{RowIndex, RowKey};
pub use story::{NewStory, Pov, Story, StoryMode, StorySummary, Tense};
pub use story_settings::{
    DEFAULT_CONTEXT_WINDOW, DEFAULT_MAX_OUTPUT, NarrationLength, Pronouns, StorySettings,
};
pub use text::{
    count_of, count_words, end_sentence, file_stem, joint, plain_error, preview, thousands,
};
pub use tokens::{build_o200k_tables, count_tokens, set_tables_source};
pub use world::{
    Beat, BeatKind, BeatStatus, Character, CharacterStatus, INVENTORY, Item, Looks, PieceKind,
    Place, StoryTime, TrashedPiece, World, WorldKind, WorldRow,
};
