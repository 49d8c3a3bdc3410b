//! The transfer job that sync and story files share (one at a time): its events, folded into
//! `SyncState` on the UI thread, and the import that asks when a story is here already.

use super::FabulaApp;
use crate::domain::{OnConflict, StoryListing};
use crate::formats::FormatError;
use crate::jobs::JobContext;
use crate::state::{ConflictSource, PendingConflict, SyncBusy};
use crate::storage::Store;
use crate::storage::StoreError;
use crate::sync::{SyncError, client};
use crate::transfer::{self, ImportError};
use std::path::PathBuf;

/// Why one transfer failed, kept by kind until the status bar decides what to offer.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{0}")]
    Sync(#[from] SyncError),
    #[error("{0}")]
    Import(#[from] ImportError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Format(#[from] FormatError),
    #[error("{} could not be opened: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} could not be written: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: FormatError,
    },
    #[error("{0} was not found.")]
    NotFound(String),
}

impl ExchangeError {
    /// Whether repeating the same transfer may work: the network came back, the database is no
    /// longer locked, space was freed. A refusal, a bad file or a conflict would fail the same way.
    pub fn is_retryable(&self) -> bool {
        fn store(e: &StoreError) -> bool {
            matches!(e, StoreError::Locked { .. } | StoreError::DiskFull { .. })
        }
        match self {
            ExchangeError::Sync(SyncError::Story(e)) => store(e),
            ExchangeError::Sync(e) => e.is_retryable(),
            ExchangeError::Import(ImportError::Store(e)) | ExchangeError::Store(e) => store(e),
            ExchangeError::Import(_)
            | ExchangeError::Format(_)
            | ExchangeError::Open { .. }
            | ExchangeError::Write { .. }
            | ExchangeError::NotFound(_) => false,
        }
    }
}

/// What an exchange job (import, pull, push, list) reports.
#[derive(Debug)]
pub enum ExchangeEvent {
    Progress {
        done: u64,
        total: u64,
        what: String,
    },
    Listed(Result<Vec<StoryListing>, SyncError>),
    /// One story done (pulled, pushed or imported), said for the log.
    Done(String),
    /// One story could not be moved; the rest go on. `story` names it when there were several;
    /// `again` is the action that repeats it, offered when the error says that may work.
    Failed {
        story: Option<String>,
        error: ExchangeError,
        again: Option<crate::state::Action>,
    },
    /// The story is already in the library: ask before doing anything.
    Conflict(ConflictSource, String),
    /// The library changed; re-read what is on screen.
    LibraryChanged,
}

/// The job that lists, pulls, pushes, imports or exports (one transfer at a time).
const EXCHANGE: &str = "exchange";

/// Sends an event; a closed channel means the window is gone and nobody is listening.
impl ExchangeEvent {
    /// A failure nothing would come of repeating as it is.
    pub(super) fn failed(error: impl Into<ExchangeError>) -> Self {
        ExchangeEvent::Failed {
            story: None,
            error: error.into(),
            again: None,
        }
    }
}

pub(super) fn say(cx: &JobContext<ExchangeEvent>, event: ExchangeEvent) {
    let _ = cx.send(event);
}

impl FabulaApp {
    pub(super) fn exchange_job(
        &mut self,
        busy: SyncBusy,
        work: impl FnOnce(&JobContext<ExchangeEvent>) + Send + 'static,
    ) {
        if self.jobs.is_running(EXCHANGE) {
            self.state
                .error("Another transfer is still running; wait for it to finish.");
            return;
        }
        let waker = self.waker();
        let started = self.jobs.start(
            EXCHANGE,
            "The transfer",
            waker,
            work,
            Self::on_exchange_event,
            Self::on_exchange_end,
        );
        match started {
            Ok(()) => {
                self.state.sync.busy = Some(busy);
                self.state.sync.progress = None;
            }
            Err(e) => self
                .state
                .error(format!("The transfer could not be started: {e}")),
        }
    }

    fn on_exchange_event(&mut self, event: ExchangeEvent) {
        let sync = &mut self.state.sync;
        let library_changed = match event {
            ExchangeEvent::Progress { done, total, what } => {
                sync.progress = Some((done, total, what));
                false
            }
            ExchangeEvent::Listed(Ok(stories)) => {
                sync.peer_stories = stories;
                sync.peer_error = None;
                false
            }
            ExchangeEvent::Listed(Err(e)) => {
                sync.peer_error = Some(crate::state::PeerProblem {
                    message: e.to_string(),
                    retryable: e.is_retryable(),
                });
                false
            }
            ExchangeEvent::Done(message) => {
                sync.results.push(message.clone());
                self.state.info(message, false);
                true
            }
            ExchangeEvent::Failed {
                story,
                error,
                again,
            } => {
                let message = match story {
                    Some(title) => format!("“{title}”: {error}"),
                    None => error.to_string(),
                };
                sync.results.push(message.clone());
                if let Some(again) = self.file_again.take() {
                    self.view_events.push(crate::state::ViewEvent::FileFailed {
                        again,
                        message: message.clone(),
                    });
                }
                let next = again
                    .filter(|_| error.is_retryable())
                    .map(|action| crate::state::NextStep::TryAgain(Box::new(action)));
                self.state.error_then(message, next);
                false
            }
            ExchangeEvent::Conflict(source, title) => {
                sync.conflicts.push(PendingConflict { source, title });
                false
            }
            ExchangeEvent::LibraryChanged => true,
        };
        if library_changed && let Some(store) = self.store.take() {
            if let Err(e) = self.refresh_library(&store) {
                self.state.error(e.to_string());
            }
            self.store = Some(store);
        }
    }

    fn on_exchange_end(&mut self) {
        self.file_again = None;
        self.state.sync.busy = None;
        self.state.sync.progress = None;
    }

    /// Whether a transfer or import is running (for tests).
    pub fn is_transferring(&self) -> bool {
        self.jobs.is_running(EXCHANGE)
    }
}

/// Reports a streamed import: added, or already here (asked about, with where to read it again).
pub(super) fn imported_or_ask(
    store: &Store,
    imported: Result<crate::storage::Imported, ImportError>,
    source: ConflictSource,
    cx: &JobContext<ExchangeEvent>,
) {
    match imported {
        Ok(imported) => {
            say(
                cx,
                ExchangeEvent::Done(format!(
                    "Added “{}” ({}).",
                    imported.title,
                    crate::domain::count_of(imported.entries as u64, "entry", "entries")
                )),
            );
            say(cx, ExchangeEvent::LibraryChanged);
            // Here rather than in the window's next commit, which would wait for it.
            store.checkpoint();
        }
        Err(ImportError::Conflict { story, message }) => {
            let title = store.story_title(&story).ok().flatten().unwrap_or(message);
            say(cx, ExchangeEvent::Conflict(source, title));
        }
        Err(e) => say(cx, ExchangeEvent::failed(e)),
    }
}

/// The story asked about, read again from where it came and stored under the user's answer.
pub(super) fn import_again(
    path: &std::path::Path,
    source: &ConflictSource,
    mode: OnConflict,
) -> Result<crate::storage::Imported, ExchangeError> {
    let mut store = Store::open_worker(path)?;
    let imported = match source {
        ConflictSource::File(file) => {
            let opened = std::fs::File::open(file).map_err(|source| ExchangeError::Open {
                path: file.clone(),
                source,
            })?;
            transfer::import_avt(&mut store, opened, mode).map_err(ExchangeError::from)
        }
        ConflictSource::Peer { peer, story_id } => {
            client::pull_into(peer, story_id, 0, &mut |story| {
                transfer::import_avt_spooled(&mut store, story, mode)
            })?
            .map_err(ExchangeError::from)
        }
    };
    store.checkpoint();
    imported
}
