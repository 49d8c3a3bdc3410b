//! What the UI reads and says: `AppState` (the controller's view of the database, rebuilt by
//! actions), the `Action`s the UI pushes, and the seams it pulls data through (`EntrySource`,
//! `ViewEvent`). Names only `domain`, so the UI depends on this layer and never on the controller.

mod action;

pub use action::{
    Action, BackupAction, BranchAction, EntryAction, LibraryAction, LoreAction, ProviderAction,
    SettingsAction, ShareAction, WorldAction, WritingAction,
};

use std::collections::HashMap;
use std::path::PathBuf;

use crate::domain::{
    ApiProfile, Available, BackupInfo, Budget, Draft, Entry, EntryId, EntryRow, GenerationRecord,
    LoreEntry, ModelInfo, Peer, Prefs, PromptPack, Secret, StoryId, StoryListing, StorySettings,
    StorySummary, Target, Task, TaskAssignment, TrashedEntry, UsageGrouping, UsageRecord,
    UsageTotal,
};

/// Entry texts for the story view, fetched on demand for the rows on screen.
pub trait EntrySource {
    fn len(&self) -> usize;
    fn row(&self, index: usize) -> Option<EntryRow>;
    fn entry(&mut self, index: usize) -> Option<&Entry>;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the controller tells the view about, for the view to act on in its next frame: the
/// controller never writes view state itself.
#[derive(Clone, Debug, PartialEq)]
pub enum ViewEvent {
    /// The entry's text changed: its placed height is stale.
    EntryChanged(EntryId),
    /// New text arrived at the end of the story the user is following.
    ScrollToBottom,
    /// Open this profile's form (Settings > Providers), to check its key.
    EditProfile(ApiProfile),
    /// What the window looked like when it was last closed (the first frame of a launch).
    Restore(Box<ViewMemory>),
    /// A file picked in the import dialog's Browse….
    PickedImport(std::path::PathBuf),
    /// Where the export dialog's Browse… chose to save.
    PickedExport(std::path::PathBuf),
    /// An import or export of a file failed: its dialog opens again with the path and the reason,
    /// so a mistyped name or a wrong folder is one edit away from trying again.
    FileFailed {
        again: crate::state::ShareAction,
        message: String,
    },
}

/// Where the updater is, as the Settings screen shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum UpdateStatus {
    #[default]
    Idle,
    Checking,
    UpToDate {
        latest: String,
    },
    Available(Available),
    Downloading {
        version: String,
        done: u64,
        total: Option<u64>,
    },
    Installed {
        version: String,
    },
    Failed(String),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateState {
    pub status: UpdateStatus,
    pub check_on_start: bool,
    /// Why this build cannot install updates (no signing key), shown next to the button.
    pub install_disabled: Option<String>,
    pub current_version: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Screen {
    #[default]
    Library,
    Story,
    Trash,
    Backups,
    Settings,
    /// Settings > Providers.
    Providers,
    /// Settings > Prompts.
    Prompts,
    /// Settings > Usage.
    Usage,
    /// Sharing stories with other devices.
    Sync,
}

/// Where "Test connection" (or a model-list refresh) of one profile stands.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckStatus {
    Running {
        models_only: bool,
        model: Option<String>,
        reply: String,
    },
    ModelsListed {
        count: usize,
    },
    Passed {
        model: String,
        models: usize,
        reply: String,
        first_token_ms: Option<u64>,
    },
    /// What went wrong, and what to offer: the key checked, a wait, or another test.
    Failed {
        message: String,
        next: Option<NextStep>,
    },
}

impl CheckStatus {
    /// A failure that nothing offered would mend (the check could not even start).
    pub fn failed(message: impl Into<String>) -> Self {
        CheckStatus::Failed {
            message: message.into(),
            next: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProvidersState {
    /// Saved profiles, then those from environment variables.
    pub profiles: Vec<ApiProfile>,
    pub main_profile: Option<String>,
    pub assignments: Vec<(Task, TaskAssignment)>,
    /// Cached model lists by profile id.
    pub models: HashMap<String, Vec<ModelInfo>>,
    pub checks: HashMap<String, CheckStatus>,
    /// Whether keys go to the OS key store (Settings > Providers).
    pub keys_in_keyring: bool,
    /// What the user knows the key store as ("the Secret Service keyring").
    pub keyring_name: String,
    /// Keys are being moved to or from it.
    pub moving_keys: bool,
    /// Local model servers that answered on their default ports, offered as ready profiles.
    pub local_found: Vec<FoundServer>,
}

/// What the window remembers between launches (kept as JSON in the settings table): the library's
/// sort and filter, the open side panel, the last story and where it was read, and each story's
/// half-typed action.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ViewMemory {
    pub sort: String,
    pub filter: String,
    pub side: Option<String>,
    pub open_story: Option<String>,
    /// The entry at the top of the open story's view.
    pub top_entry: Option<usize>,
    /// Story id → (text being typed, action mode).
    pub composers: std::collections::BTreeMap<String, (String, String)>,
}

/// Where and how large the window was, in logical points.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WindowPlace {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

/// A local model server that answered, as the first-launch offer shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundServer {
    pub preset_id: String,
    pub label: String,
    pub base_url: String,
    pub models: usize,
    /// The model the new profile would use (the first listed).
    pub first_model: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UsageState {
    pub grouping: UsageGrouping,
    pub totals: Vec<UsageTotal>,
    /// The newest calls, newest first.
    pub recent: Vec<UsageRecord>,
}

/// A QR code as rows of modules, dark = true.
#[derive(Clone, Debug, PartialEq)]
pub struct QrImage {
    pub width: usize,
    pub modules: Vec<bool>,
}

/// This device's sync server, while it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Serving {
    pub address: String,
    /// Shown on the Sync screen for typing in; never in `Debug`.
    pub token: Secret,
    /// The JSON the QR code carries (it holds the token).
    pub pairing: Secret,
    pub qr: Option<QrImage>,
    /// What other devices did, oldest first.
    pub log: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncBusy {
    Listing,
    Pulling,
    Pushing,
    Importing,
    Exporting,
}

/// A story that is already in the library, waiting for the user to say what to do.
#[derive(Clone, Debug)]
pub struct PendingConflict {
    /// Where to read it again once the user has answered: it is never held in memory meanwhile
    /// (a story can be hundreds of megabytes).
    pub source: ConflictSource,
    /// The title of the copy already here.
    pub title: String,
}

#[derive(Clone, Debug)]
pub enum ConflictSource {
    File(std::path::PathBuf),
    Peer { peer: Peer, story_id: String },
}

/// Why the other device's stories could not be listed, and whether connecting again may work.
#[derive(Clone, Debug)]
pub struct PeerProblem {
    pub message: String,
    pub retryable: bool,
}

/// The Sync screen, imports and exports.
#[derive(Clone, Debug, Default)]
pub struct SyncState {
    pub interfaces: Vec<(String, std::net::IpAddr)>,
    pub serving: Option<Serving>,
    pub peer: Option<Peer>,
    pub peer_stories: Vec<StoryListing>,
    pub peer_error: Option<PeerProblem>,
    pub busy: Option<SyncBusy>,
    /// Done, total, and what is happening.
    pub progress: Option<(u64, u64, String)>,
    pub results: Vec<String>,
    pub conflicts: Vec<PendingConflict>,
}

/// A world update held for the writer to accept or reject, change by change.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingWorld {
    pub story: StoryId,
    /// Where it is kept until decided (it survives switching stories and quitting).
    pub kept: i64,
    pub changes: crate::domain::world_change::Applied,
    /// How many more updates wait after this one.
    pub more: usize,
}

/// A narration being written right now.
#[derive(Clone, Debug, PartialEq)]
pub struct Streaming {
    pub story: StoryId,
    pub target: Target,
    pub text: String,
    pub reasoning: String,
    /// Known once the request is prepared.
    pub model: Option<String>,
    /// The profile the narration is asked of, known once the request is prepared.
    pub profile_id: Option<String>,
    /// Recall at work before the narration: model calls made, and at most.
    pub recalling: Option<(u32, u32)>,
    /// What recall told the narrator (shown under the narration as it streams).
    pub recalled: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum SuggestionStatus {
    #[default]
    Idle,
    Loading,
    Failed(String),
}

/// The writing loop as the story screen shows it.
#[derive(Clone, Debug, Default)]
pub struct WritingState {
    pub story: Option<StoryId>,
    pub streaming: Option<Streaming>,
    /// Narration that was stopped, failed, or interrupted by a crash.
    pub draft: Option<Draft>,
    /// How the window was spent by the latest request.
    pub budget: Option<Budget>,
    /// Lore that fired last turn: name, why, and whether it fit the budget.
    pub lore_fired: Vec<(String, String, bool)>,
    pub lore: Vec<LoreEntry>,
    pub world: crate::domain::World,
    /// Find in the open story.
    pub find: FindInStory,
    /// A world update waiting for the writer's word ("Ask before applying AI changes").
    pub world_pending: Option<PendingWorld>,
    /// The newest world updates, for the World panel's Updates tab.
    pub world_updates: Vec<crate::domain::world_log::KeptUpdate>,
    /// The story's chapters, first to last (the Memory panel).
    pub chapters: Vec<crate::domain::chapter::Chapter>,
    /// The story's branches, the one shown (`None`: the main line), and its checkpoints.
    pub branches: Vec<crate::domain::branch::Branch>,
    pub branch: Option<String>,
    pub checkpoints: Vec<crate::domain::branch::Checkpoint>,
    /// Each branch's own entries, last edit and fork (the Branches panel).
    pub branch_facts: Vec<crate::domain::branch::BranchFacts>,
    /// The checkpoint whose moment the Branches panel shows, with what it saw.
    pub checkpoint_moment: Option<(String, crate::domain::branch::CheckpointMoment)>,
    /// When the story's chapters close and what is recalled from them.
    pub memory: crate::domain::chapter::MemorySettings,
    /// Lorebook changes the lore agent proposes, waiting for the writer's word.
    pub lore_proposals: Vec<crate::domain::lore_proposal::LoreProposal>,
    /// Lore entries marked "keep as written" (the lore agent never touches them).
    pub lore_kept: Vec<crate::domain::LoreId>,
    /// The lore agent at work: model calls made, at most.
    pub lore_agent_work: Option<(u32, u32)>,
    /// What the Memory task is doing right now ("Closing a chapter"), while it runs.
    pub memory_work: Option<&'static str>,
    pub settings: StorySettings,
    pub suggestions: Vec<String>,
    pub suggestions_status: SuggestionStatus,
    /// The newest generations first, once the inspector has been opened.
    pub inspector: Vec<GenerationRecord>,
    pub inspector_loaded: bool,
    pub pack: PromptPack,
    pub last_error: Option<String>,
    /// Where the Export dialog suggests saving; found when a story is first opened.
    pub export_dir: PathBuf,
}

impl WritingState {
    /// The narration being written for `story`, if that is the story it is for.
    pub fn streaming_for(&self, story: &StoryId) -> Option<&Streaming> {
        self.streaming.as_ref().filter(|s| &s.story == story)
    }
}

/// The story on screen and the small index of its entries (text is loaded per visible row).
#[derive(Clone, Debug)]
pub struct OpenStory {
    pub summary: StorySummary,
    pub rows: crate::domain::RowIndex,
    /// Bumped whenever `rows` changes, so the view knows to re-place rows.
    pub rows_version: u64,
    /// While the rest of a long story's index is read on a job: the position the rows held
    /// start at (the newest ones, read first so the story opens at once).
    pub rows_from: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StatusKind {
    Info,
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub text: String,
    pub kind: StatusKind,
    /// Whether an Undo button belongs next to the message.
    pub undoable: bool,
    /// What the user can do about a failure, offered as a button beside it.
    pub next: Option<NextStep>,
    /// When it was said: a note (not an error) goes away after a while.
    pub at_ms: i64,
}

impl Status {
    /// How long a note stays (one with Undo, long enough to reach for it).
    pub fn shown_for_ms(&self) -> Option<i64> {
        match (&self.kind, self.undoable) {
            (StatusKind::Error, _) => None,
            (StatusKind::Info, false) => Some(8_000),
            (StatusKind::Info, true) => Some(20_000),
        }
    }
}

/// The way on from a failure, chosen by what kind of failure it was.
#[derive(Clone, Debug, PartialEq)]
pub enum NextStep {
    /// The provider rejected the key: open that profile to check it.
    CheckKey { profile_id: String },
    /// The provider asked to wait: `again` may be asked for from this time (ms since the epoch) on.
    RetryAt { at_ms: i64, again: Box<Action> },
    /// A dropped connection, a server error or a stall: repeating `again` may well work.
    Retry(Box<Action>),
    /// The other device could not be reached: the same transfer can be asked for again.
    TryAgain(Box<Action>),
    /// Nothing to write with yet: Settings > Providers.
    SetUpProvider,
}

/// Set when the database could not be opened; the window then offers only recovery.
#[derive(Clone, Debug, PartialEq)]
pub struct Fatal {
    pub message: String,
    /// A damaged database can be replaced by its latest backup.
    pub latest_backup: Option<BackupInfo>,
}

#[derive(Debug, Default)]
pub struct AppState {
    pub screen: Screen,
    pub stories: Vec<StorySummary>,
    pub trash_stories: Vec<StorySummary>,
    pub trash_entries: Vec<TrashedEntry>,
    /// Lore entries and world rows in the Trash.
    pub trash_pieces: Vec<crate::domain::TrashedPiece>,
    pub backups: Vec<BackupInfo>,
    pub open: Option<OpenStory>,
    pub prefs: Prefs,
    pub data_dir: PathBuf,
    pub database_path: PathBuf,
    /// The local error log (warnings, errors, panics; secrets redacted).
    pub error_log: PathBuf,
    pub status: Option<Status>,
    pub fatal: Option<Fatal>,
    pub undo_label: Option<String>,
    pub redo_label: Option<String>,
    pub update: UpdateState,
    pub providers: ProvidersState,
    pub usage: UsageState,
    pub writing: WritingState,
    pub sync: SyncState,
    /// How far the library work is, when it can tell (a backup: pages copied, of how many).
    pub library_progress: Option<(u64, u64)>,
    /// The library's search of every story's text.
    pub search: TextSearch,
}

/// How many hits the library's search shows (the newest).
pub const LIBRARY_HITS: usize = 50;

/// The text of every story searched: what was typed, and the newest entries holding it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextSearch {
    pub query: String,
    /// What `hits` were found for (the query may have changed since, and is being searched).
    pub found_for: String,
    pub hits: Vec<crate::domain::search::SearchHit>,
    pub error: Option<String>,
}

impl TextSearch {
    pub fn is_searching(&self) -> bool {
        !self.query.trim().is_empty() && self.query != self.found_for
    }
}

/// Find in the open story: what was typed, and the entries holding it in story order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindInStory {
    pub story: Option<StoryId>,
    pub query: String,
    pub found_for: String,
    pub matches: Vec<EntryId>,
    pub error: Option<String>,
}

impl FindInStory {
    pub fn is_searching(&self) -> bool {
        !self.query.trim().is_empty() && self.query != self.found_for
    }
}

impl AppState {
    pub fn info(&mut self, text: impl Into<String>, undoable: bool) {
        self.status = Some(Status {
            text: text.into(),
            kind: StatusKind::Info,
            undoable,
            next: None,
            at_ms: crate::domain::now_ms(),
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.error_then(text, None);
    }

    /// A failure with what can be done about it (see `NextStep`).
    pub fn error_then(&mut self, text: impl Into<String>, next: Option<NextStep>) {
        let text = text.into();
        log::warn!("{text}");
        self.status = Some(Status {
            text,
            kind: StatusKind::Error,
            undoable: false,
            next,
            at_ms: crate::domain::now_ms(),
        });
    }
}
