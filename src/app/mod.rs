//! The controller: owns the store and the session history, applies `Action`s, and is the eframe app.

mod actions;
mod branches;
mod chapters;
mod classifier;
mod entry_cache;
mod exchange;
mod files;
mod generation;
mod keys;
mod library;
mod local;
mod lore;
mod lore_agent;
mod memory;
mod next_step;
pub mod picker;
mod prompts;
mod providers;
mod registry;
mod search;
mod settings;
mod suggestions;
mod sync;
mod undo;
mod updates;
mod world;
mod writing;

pub use entry_cache::{EntryCache, EntryLoader};
pub use generation::GenerationEvent;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::domain::{BackupInfo, FontSize, Prefs, StoryId, ThemeChoice};
use crate::jobs::Waker;
use crate::state::{AppState, Fatal, Screen, ViewEvent};
use crate::storage::{self, DataPaths, InstanceLock, Store, StoreError};
use crate::ui;
use undo::History;

/// How this run was started: what the command line asked of the window.
#[derive(Clone, Debug)]
pub struct Launch {
    pub started: Instant,
    /// Print `first_frame_ms=…` once the first frame is on screen, then close.
    pub quit_after_first_frame: bool,
    pub open_story: Option<StoryId>,
    /// After the first frame, check the whole database and make the daily backup (off in tests and
    /// benchmarks).
    pub auto_backup: bool,
    /// Ask for a newer release after the first frame, at most once a day, if the user allows it.
    pub update_check: bool,
}

impl Default for Launch {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            quit_after_first_frame: false,
            open_story: None,
            auto_backup: false,
            update_check: false,
        }
    }
}

/// Wakes the window from a job thread; ~10 ms lets bursts of events share one frame.
struct EguiWaker(egui::Context);

impl Waker for EguiWaker {
    fn wake(&self) {
        self.0.request_repaint_after(Duration::from_millis(10));
    }
}

type BackupOutcome = Result<Option<BackupInfo>, StoreError>;

pub struct FabulaApp {
    store: Option<Store>,
    paths: DataPaths,
    state: AppState,
    view: ui::ViewState,
    /// What the view is told about next frame; the controller never writes `view` itself.
    view_events: Vec<ViewEvent>,
    cache: EntryCache,
    /// Whole row indexes read on jobs (a long story's, after it opened on its newest rows).
    row_index_jobs: u64,
    history: History,
    launch: Launch,
    frames: u64,
    applied_prefs: Option<Prefs>,
    jobs: registry::Registry,
    update_config: Option<crate::update::UpdateConfig>,
    lorebook: Option<(StoryId, crate::writing::Lorebook)>,
    /// Narrations that arrived whole but could not be stored (full disk, a lock that stayed): held
    /// here, by story, until Keep stores them or the user discards them.
    unsaved: std::collections::HashMap<StoryId, crate::domain::Draft>,
    /// Text for the clipboard, handed to egui at the end of the frame.
    pending_copy: Option<String>,
    sync_server: Option<crate::sync::SyncServer>,
    /// Bumped on every lorebook change, so a matcher built from older lore is not kept.
    lore_version: u64,
    update_cancel: Arc<std::sync::atomic::AtomicBool>,
    waker: Option<Arc<dyn Waker>>,
    close_requested: bool,
    /// Where keys kept outside the database are: the OS key store unless a test gives another.
    keys: Arc<dyn crate::keys::KeyStore>,
    /// Keys work asked for while a keys job ran: it runs next.
    keys_again: Option<keys::KeysWork>,
    /// Where files are picked (the desktop's dialog, or a test's).
    picker: Arc<dyn picker::FilePicker>,
    /// The file import or export running now, to open its dialog again if it fails.
    file_again: Option<crate::state::ShareAction>,
    /// The database's `data_version` when last looked at, and whether the window had the focus.
    data_version: Option<i64>,
    focused: bool,
    /// Where the window is, as last seen (kept when it closes).
    window_place: Option<crate::state::WindowPlace>,
    /// Where to look for local model servers after the first frame (`None`: not in this run).
    local_addresses: Option<Vec<(String, String)>>,
    _lock: Option<InstanceLock>,
}

impl FabulaApp {
    /// Builds the app around the result of opening the database: on failure the window shows
    /// what went wrong and, for a damaged file, offers the latest backup.
    pub fn new(paths: DataPaths, opened: Result<Store, StoreError>, launch: Launch) -> Self {
        // Whole-library work refuses to run on this thread (see storage::off_ui_thread).
        storage::mark_ui_thread();
        let mut state = AppState {
            data_dir: paths.dir.clone(),
            database_path: paths.database(),
            error_log: crate::diagnostics::log_path(&paths.dir),
            ..AppState::default()
        };
        let store = match opened {
            Ok(store) => Some(store),
            Err(e) => {
                let latest_backup = if e.is_damaged_database() {
                    storage::list_backups(&paths.backups())
                        .ok()
                        .and_then(|b| b.into_iter().next())
                } else {
                    None
                };
                state.fatal = Some(Fatal {
                    message: e.to_string(),
                    latest_backup,
                });
                None
            }
        };
        let mut app = Self {
            store,
            paths,
            state,
            view: ui::ViewState::default(),
            view_events: Vec::new(),
            cache: EntryCache::default(),
            row_index_jobs: 0,
            history: History::default(),
            launch,
            frames: 0,
            applied_prefs: None,
            jobs: registry::Registry::default(),
            update_config: None,
            lorebook: None,
            unsaved: std::collections::HashMap::new(),
            pending_copy: None,
            lore_version: 0,
            sync_server: None,
            update_cancel: Arc::default(),
            waker: None,
            close_requested: false,
            keys: Arc::new(crate::keys::OsKeyStore),
            keys_again: None,
            local_addresses: None,
            window_place: None,
            data_version: None,
            focused: false,
            picker: Arc::new(picker::NativePicker),
            file_again: None,
            _lock: None,
        };
        if let Some(store) = app.store.take() {
            if store.is_read_only() {
                app.state.error(
                    "Your library is open read-only: its file cannot be written (a full disk, or a read-only file or folder). You can read, export and back up to another disk; changes are not saved until that is fixed and Fabula is restarted.",
                );
            }
            app.load_prefs(&store);
            if let Err(e) = app.refresh_library(&store) {
                app.state.error(e.to_string());
            }
            if let Some(id) = app.launch.open_story.clone()
                && let Err(e) = app.open_story(&store, &id)
            {
                app.state.error(e.to_string());
            }
            app.restore_view(&store);
            app.store = Some(store);
        }
        app
    }

    /// Keeps keys in `keys` instead of the OS key store (tests, which must not touch the
    /// machine's keyring).
    pub fn with_key_store(mut self, keys: Arc<dyn crate::keys::KeyStore>) -> Self {
        self.state.providers.keyring_name = keys.name().to_owned();
        self.keys = keys;
        self
    }

    /// Where updates come from and go to; without one (tests, benchmarks) updating is unavailable.
    pub fn with_update_config(mut self, config: crate::update::UpdateConfig) -> Self {
        self.state.update.install_disabled = config.disabled_reason();
        self.state.update.current_version = config.current_version.to_string();
        self.update_config = Some(config);
        self
    }

    /// Keeps the single-instance lock alive as long as the window.
    pub fn with_lock(mut self, lock: InstanceLock) -> Self {
        self._lock = Some(lock);
        self
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn is_failed(&self) -> bool {
        self.state.fatal.is_some()
    }

    fn load_prefs(&mut self, store: &Store) {
        self.state.update.check_on_start = store
            .setting(updates::CHECK_ON_START_KEY)
            .ok()
            .flatten()
            .is_none_or(|v| v != "false");
        let theme = store
            .setting(ThemeChoice::KEY)
            .ok()
            .flatten()
            .and_then(|s| ThemeChoice::parse(&s));
        let size = store
            .setting(FontSize::KEY)
            .ok()
            .flatten()
            .and_then(|s| FontSize::parse(&s));
        let line_width = store
            .setting(crate::domain::LineWidth::KEY)
            .ok()
            .flatten()
            .and_then(|s| crate::domain::LineWidth::parse(&s));
        self.state.prefs = Prefs {
            theme: theme.unwrap_or_default(),
            font_size: size.unwrap_or_default(),
            line_width: line_width.unwrap_or_default(),
        };
    }

    /// Work that must happen every frame, also while the window is hidden.
    pub fn logic(&mut self, ctx: &egui::Context) {
        // The next frame's logic runs only once frame 1 has been painted and presented: that is
        // the moment the window first shows the story (not after frame 2 is drawn as well).
        if self.frames == 1 && self.launch.quit_after_first_frame {
            println!(
                "first_frame_ms={}",
                self.launch.started.elapsed().as_millis()
            );
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if self.applied_prefs != Some(self.state.prefs) {
            ui::apply_prefs(ctx, self.state.prefs);
            self.applied_prefs = Some(self.state.prefs);
        }
        if self.waker.is_none() {
            self.waker = Some(Arc::new(EguiWaker(ctx.clone())));
        }
        self.deliver_job_events();
        self.poll_sync();
        self.note_window_place(ctx);
        let focused = ctx.input(|i| i.focused);
        if focused && !self.focused {
            self.notice_outside_changes();
        }
        self.focused = focused;
    }

    /// How often the window read a story's whole row index: once per story opened (tests hold an
    /// edit, a delete, a restore and an undo to reading none).
    pub fn row_index_reads(&self) -> u64 {
        self.store.as_ref().map_or(0, Store::row_index_reads) + self.row_index_jobs
    }

    /// Whether the daily backup job is still running (for tests and a clean exit).
    pub fn is_backing_up(&self) -> bool {
        self.jobs.is_running(DAILY_BACKUP)
    }

    /// Draws one frame and applies what the user asked for in it.
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        self.frames += 1;
        let mut actions = Vec::new();
        {
            let empty = crate::domain::RowIndex::default();
            let rows = self.state.open.as_ref().map_or(&empty, |o| &o.rows);
            let mut loader = EntryLoader {
                store: self.store.as_ref(),
                cache: &mut self.cache,
                rows,
            };
            let events = std::mem::take(&mut self.view_events);
            ui::root_ui(
                ui,
                &self.state,
                &mut self.view,
                events,
                &mut loader,
                &mut actions,
            );
        }
        let changed = !actions.is_empty();
        for action in actions {
            self.apply(action);
        }
        if let Some(text) = self.pending_copy.take() {
            ui.ctx().copy_text(text);
        }
        if changed {
            ui.ctx().request_repaint();
        }
        if std::mem::take(&mut self.close_requested) {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
        self.after_frame(ui.ctx());
    }

    fn after_frame(&mut self, ctx: &egui::Context) {
        match self.frames {
            1 if self.launch.quit_after_first_frame => ctx.request_repaint(),
            2 => {
                if self.launch.auto_backup {
                    self.start_auto_backup(ctx);
                }
                if self.launch.update_check {
                    self.start_update_check_if_due();
                }
                self.look_for_local_servers();
                self.move_waiting_keys();
            }
            _ => {}
        }
    }

    /// The daily backup reads the whole database (integrity check, then copy), so it runs on a
    /// job with its own connection, after the first frame, never delaying the window.
    fn start_auto_backup(&mut self, ctx: &egui::Context) {
        // A read-only library cannot be backed up beside itself (and is checked by the backup to
        // another disk the user makes).
        if self.store.as_ref().is_none_or(Store::is_read_only) {
            return;
        }
        let paths = self.paths.clone();
        let waker: Arc<dyn Waker> = Arc::new(EguiWaker(ctx.clone()));
        let started = self.jobs.start(
            DAILY_BACKUP,
            "The daily backup",
            waker,
            move |cx| {
                // Opening checks only what costs the same for any size; the whole-file check runs
                // here, on every start, and a damaged page sends the window to the recovery screen.
                let outcome = Store::open_worker(&paths.database()).and_then(|s| {
                    match s.auto_backup_if_due(&paths)? {
                        Some(made) => Ok(Some(made)),
                        None => s.integrity_check().map(|()| None),
                    }
                });
                cx.send(outcome);
            },
            Self::on_daily_backup,
            |_| {},
        );
        if let Err(e) = started {
            self.state
                .error(format!("The daily backup could not be started: {e}"));
        }
    }

    fn on_daily_backup(&mut self, outcome: BackupOutcome) {
        match outcome {
            Ok(Some(made)) => {
                log::info!("daily backup written to {}", made.path.display());
                if self.state.screen == Screen::Backups {
                    self.refresh_backups();
                }
            }
            Ok(None) => {}
            Err(e) if e.is_damaged_database() => {
                // Nothing more is written to a damaged file: the recovery screen takes over.
                self.store = None;
                self.state.fatal = Some(Fatal {
                    message: format!("{e} Your existing backups were kept."),
                    latest_backup: storage::list_backups(&self.paths.backups())
                        .ok()
                        .and_then(|b| b.into_iter().next()),
                });
            }
            Err(e) => self
                .state
                .error(format!("The daily backup could not be made: {e}")),
        }
    }
}

/// The daily backup's job (one at a time).
const DAILY_BACKUP: &str = "daily-backup";

impl eframe::App for FabulaApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        FabulaApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.remember_window();
    }
}

/// Opens the window and runs until it closes. Returns whether the database was usable at the end.
pub fn run_gui(app: FabulaApp) -> Result<bool, eframe::Error> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Fabula")
        .with_app_id("fabula")
        .with_inner_size([1100.0, 760.0])
        .with_min_inner_size([560.0, 420.0]);
    // Where it was last time (a window manager may still place it where it likes).
    if let Some(place) = app.saved_window_place() {
        viewport = viewport
            .with_inner_size([place.width, place.height])
            .with_position([place.x, place.y]);
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    let healthy = std::rc::Rc::new(std::cell::Cell::new(true));
    let healthy_out = healthy.clone();
    struct Watch(FabulaApp, std::rc::Rc<std::cell::Cell<bool>>);
    impl eframe::App for Watch {
        fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
            eframe::App::logic(&mut self.0, ctx, frame);
        }
        fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
            eframe::App::ui(&mut self.0, ui, frame);
            self.1.set(!self.0.is_failed());
        }
        fn on_exit(&mut self, gl: Option<&eframe::glow::Context>) {
            eframe::App::on_exit(&mut self.0, gl);
        }
    }
    healthy.set(!app.is_failed());
    eframe::run_native(
        "Fabula",
        options,
        Box::new(move |_cc| Ok(Box::new(Watch(app, healthy)))),
    )?;
    Ok(healthy_out.get())
}
