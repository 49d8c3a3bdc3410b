//! Everything the UI can ask the controller to do.

use std::path::PathBuf;

use crate::domain::{
    ApiProfile, EntryId, EntryKind, FileFormat, FontSize, LoreEntry, LoreId, NewStory, OnConflict,
    Pov, PromptPack, Secret, StoryId, StorySettings, Task, TaskAssignment, Tense, ThemeChoice,
    UsageGrouping,
};

use super::Screen;

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Show(Screen),
    CreateStory(NewStory),
    OpenStory(StoryId),
    RenameStory {
        story: StoryId,
        title: String,
    },
    DuplicateStory(StoryId),
    TrashStory(StoryId),
    RestoreStory(StoryId),
    DeleteStoryForever(StoryId),
    EmptyTrash,
    AddEntry {
        kind: EntryKind,
        text: String,
    },
    EditEntry {
        entry: EntryId,
        text: String,
    },
    TrashEntry(EntryId),
    RestoreEntry(EntryId),
    DeleteEntryForever(EntryId),
    Undo,
    Redo,
    CreateBackup,
    RestoreBackup(PathBuf),
    SetTheme(ThemeChoice),
    SetFontSize(FontSize),
    DismissStatus,
    CheckForUpdates,
    InstallUpdate,
    CancelUpdate,
    SetCheckUpdatesOnStart(bool),
    /// The version, platform and recent errors (redacted) onto the clipboard, for a bug report.
    CopyDiagnostics,
    RestartAfterUpdate,
    SaveProfile(ApiProfile),
    DeleteProfile(String),
    /// Keep API keys in the OS key store (true) or in the database.
    SetKeysInKeyring(bool),
    SetMainProfile(String),
    /// "Test connection": list the models and stream a one-line reply.
    CheckProfile(String),
    RefreshModels(String),
    ToggleFavouriteModel {
        profile: String,
        model: String,
    },
    AssignTask(Task, TaskAssignment),
    ShowUsage(UsageGrouping),
    /// Store what the user wrote (if anything) and write the next narration.
    Generate(Option<(EntryKind, String)>),
    /// Write another alternative of this narration from the context before it.
    Regenerate(EntryId),
    EditAndRegenerate {
        entry: EntryId,
        text: String,
    },
    StopGeneration,
    KeepDraft,
    RetryDraft,
    DiscardDraft,
    SelectAlternative {
        entry: EntryId,
        index: u32,
    },
    SaveLore(LoreEntry),
    TrashLore(LoreId),
    SaveStorySettings(StorySettings),
    SavePromptPack(PromptPack),
    /// The prompt inspector's panel opened: read its list.
    ShowInspector,
    ExportPromptPack(PathBuf),
    ImportPromptPack(PathBuf),
    StartSharing(std::net::IpAddr),
    StopSharing,
    ConnectPeer {
        address: String,
        token: Secret,
    },
    PullStories(Vec<String>),
    PushStories(Vec<StoryId>),
    ImportFile(PathBuf),
    /// The answer to "already in the library": keep both, replace, or (None) leave it.
    ResolveConflict(Option<OnConflict>),
    ExportStory {
        story: StoryId,
        format: FileFormat,
        path: PathBuf,
        lore: bool,
    },
    /// Point of view and tense of the open story.
    SetStoryStyle {
        pov: Pov,
        tense: Tense,
    },
}
