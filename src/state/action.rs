//! Everything the UI can ask the controller to do.

use std::path::PathBuf;

use crate::domain::{
    ApiProfile, EntryId, EntryKind, FileFormat, FontSize, LoreEntry, LoreId, NewStory, OnConflict,
    Pov, PromptPack, Secret, StoryId, StorySettings, Task, TaskAssignment, Tense, ThemeChoice,
    UsageGrouping,
};

use super::Screen;

/// Everything the UI can ask the controller to do, by feature; each feature's actions are
/// applied by its own controller in app/.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Show(Screen),
    DismissStatus,
    /// The version, platform and recent errors (redacted) onto the clipboard, for a bug report.
    CopyDiagnostics,
    /// Close the window (Ctrl+Q): what it looked like is kept for the next launch.
    Quit,
    Library(LibraryAction),
    Entry(EntryAction),
    Writing(WritingAction),
    Lore(LoreAction),
    World(WorldAction),
    Branch(BranchAction),
    Share(ShareAction),
    Provider(ProviderAction),
    Settings(SettingsAction),
    Backup(BackupAction),
}

/// The library: stories made, opened, renamed, copied, put in the Trash or deleted.
#[derive(Clone, Debug, PartialEq)]
pub enum LibraryAction {
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
    /// Search the text of every story for what is typed (the newest hits first).
    SearchText(String),
    /// Find what is typed in the open story.
    FindInStory(String),
    /// A lore entry or world row in the Trash, back into its story (or deleted for good).
    RestorePiece(StoryId, crate::domain::PieceKind, String),
    DeletePieceForever(StoryId, crate::domain::PieceKind, String),
    EmptyTrash,
}

/// The open story's entries and the undo history.
#[derive(Clone, Debug, PartialEq)]
pub enum EntryAction {
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
    /// Point of view and tense of the open story.
    SetStoryStyle {
        pov: Pov,
        tense: Tense,
    },
    /// Genre, description and protagonist of the open story (blank: none).
    SetStoryDetails {
        genre: String,
        description: String,
        protagonist: String,
    },
}

/// The writing loop: narrations, drafts, alternatives, story settings and prompts.
#[derive(Clone, Debug, PartialEq)]
pub enum WritingAction {
    /// Store what the user wrote (if anything) and write the next narration.
    Generate(Option<(EntryKind, String)>),
    /// Write another alternative of this narration from the context before it.
    Regenerate(EntryId),
    /// Write on from where this narration was cut off at the length limit, in place.
    Continue(EntryId),
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
    SaveStorySettings(StorySettings),
    SavePromptPack(PromptPack),
    /// The prompt inspector's panel opened: read its list.
    ShowInspector,
    ExportPromptPack(PathBuf),
    ImportPromptPack(PathBuf),
}

/// The open story's world, edited by hand.
#[derive(Clone, Debug, PartialEq)]
pub enum WorldAction {
    Save(crate::domain::WorldRow),
    Trash(crate::domain::WorldKind, String),
    SetTime(crate::domain::StoryTime),
    /// One kept update taken back (`false`) or made again, from the Updates tab.
    SetUpdate(i64, bool),
    /// A chapter's title or summary edited in the Memory panel.
    SaveChapter(Box<crate::domain::chapter::Chapter>),
    /// A chapter to the Trash (its entries go back into the narrator's history).
    TrashChapter(String),
    /// "End chapter here": a chapter closed by hand, up to this entry.
    EndChapterAt(EntryId),
    /// The chapter's summary written again from its entries.
    ResummarizeChapter(String),
    SaveMemorySettings(crate::domain::chapter::MemorySettings),
    /// Of the waiting update: accept (`true`) or reject the change at this index of its lines,
    /// or (None) all of them.
    Decide(Option<usize>, bool),
}

/// The open story's branches and checkpoints.
#[derive(Clone, Debug, PartialEq)]
pub enum BranchAction {
    /// "Branch from here": a new branch forking after the entry, shown at once; with an
    /// alternative (1-based), the branch starts with that text of the entry shown.
    New(EntryId, Option<u32>),
    /// Show a branch (`None`: the main line).
    Switch(Option<String>),
    Rename(String, String),
    Trash(String),
    /// A named checkpoint at the entry.
    Checkpoint(EntryId),
    /// "Branch from here" on a checkpoint: a new branch from its entry (a restore that loses
    /// nothing).
    FromCheckpoint(String),
    DeleteCheckpoint(String),
    RenameCheckpoint(String, String),
    /// Show (or, `None`, hide) the world and lorebook as they were at a checkpoint.
    ShowMoment(Option<String>),
}

/// The open story's lorebook.
#[derive(Clone, Debug, PartialEq)]
pub enum LoreAction {
    SaveLore(LoreEntry),
    TrashLore(LoreId),
    /// "Keep as written": the lore agent must leave the entry as it is.
    SetKept(LoreId, bool),
    /// The lore agent, run on demand over the newest part of the story.
    Review,
    /// A waiting proposal accepted (`true`) or rejected.
    Decide(i64, bool),
    AcceptAll,
}

/// Sharing with other devices, and story files in and out.
#[derive(Clone, Debug, PartialEq)]
pub enum ShareAction {
    StartSharing(std::net::IpAddr),
    StopSharing,
    ConnectPeer {
        address: String,
        token: Secret,
    },
    PullStories(Vec<String>),
    PushStories(Vec<StoryId>),
    ImportFile(PathBuf),
    /// The desktop's dialog for a file to import (it fills the import dialog).
    PickImportFile,
    /// The desktop's dialog for where to export, suggesting `name`.
    PickExportPath {
        name: String,
    },
    /// The answer to "already in the library": keep both, replace, or (None) leave it.
    ResolveConflict(Option<OnConflict>),
    ExportStory {
        story: StoryId,
        format: FileFormat,
        path: PathBuf,
        lore: bool,
    },
}

/// Providers, models, task assignments and usage.
#[derive(Clone, Debug, PartialEq)]
pub enum ProviderAction {
    /// Settings > Providers with this profile's form open (from "Check the key").
    EditProfile(String),
    SaveProfile(ApiProfile),
    /// A local server found on its default port becomes a profile (the main one if none is).
    UseLocalServer(crate::state::FoundServer),
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
}

/// Look, and updates.
#[derive(Clone, Debug, PartialEq)]
pub enum SettingsAction {
    SetTheme(ThemeChoice),
    SetFontSize(FontSize),
    SetLineWidth(crate::domain::LineWidth),
    CheckForUpdates,
    InstallUpdate,
    CancelUpdate,
    SetCheckUpdatesOnStart(bool),
    RestartAfterUpdate,
}

/// Backups made and restored by hand.
#[derive(Clone, Debug, PartialEq)]
pub enum BackupAction {
    CreateBackup,
    RestoreBackup(PathBuf),
}
