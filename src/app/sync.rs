//! The controller's side of sharing stories: the sync server behind the QR code, jobs that list,
//! pull and push against another device, and file import and export, with the conflict question.

use std::net::IpAddr;
use std::path::PathBuf;

use super::FabulaApp;
use crate::domain::{FileFormat, OnConflict, Peer, StoryId, StoryListing};
use crate::formats::{FormatError, ProgressReader, write_story_file_streamed};
use crate::jobs::JobContext;
use crate::state::{ConflictSource, PendingConflict, QrImage, Serving, ShareAction, SyncBusy};
use crate::storage::{Store, StoreError};
use crate::sync::{self, ServerEvent, ServerOptions, SyncServer, client};
use crate::transfer::{self, ImportError};

/// What an exchange job (import, pull, push, list) reports.
#[derive(Debug)]
pub enum ExchangeEvent {
    Progress {
        done: u64,
        total: u64,
        what: String,
    },
    Listed(Result<Vec<StoryListing>, String>),
    /// One story done (pulled, pushed or imported), said for the log.
    Done(String),
    /// One story could not be moved; the rest go on.
    Failed(String),
    /// The story is already in the library: ask before doing anything.
    Conflict(ConflictSource, String),
    /// The library changed; re-read what is on screen.
    LibraryChanged,
}

/// The job that lists, pulls, pushes, imports or exports (one transfer at a time).
const EXCHANGE: &str = "exchange";

impl FabulaApp {
    /// Carries out one share action (see `ShareAction`).
    pub(super) fn apply_share(
        &mut self,
        store: &mut Store,
        action: ShareAction,
    ) -> Result<(), StoreError> {
        match action {
            ShareAction::StartSharing(ip) => self.start_sharing(store, ip),
            ShareAction::StopSharing => self.stop_sharing(),
            ShareAction::ConnectPeer { address, token } => {
                self.connect_peer(&address, token.expose())
            }
            ShareAction::PullStories(ids) => self.pull_stories(store, ids),
            ShareAction::PushStories(ids) => self.push_stories(store, ids),
            ShareAction::ImportFile(path) => self.import_file(store, path),
            ShareAction::ResolveConflict(choice) => self.resolve_conflict(store, choice),
            ShareAction::ExportStory {
                story,
                format,
                path,
                lore,
            } => self.export_story(store, story, format, path, lore),
        }
        Ok(())
    }

    pub(super) fn show_sync(&mut self) {
        self.state.sync.interfaces = sync::interfaces();
    }

    pub(super) fn start_sharing(&mut self, store: &Store, ip: IpAddr) {
        self.sync_server = None;
        let options = ServerOptions::new(ip, store.path().to_owned());
        match SyncServer::start(options, self.waker()) {
            Ok(server) => {
                let pairing = serde_json::to_string(&server.pairing).unwrap_or_default();
                let qr = match sync::qr_modules(&pairing) {
                    Ok((width, modules)) => Some(QrImage { width, modules }),
                    Err(e) => {
                        self.state.error(e.to_string());
                        None
                    }
                };
                self.state.sync.serving = Some(Serving {
                    address: server.addr.to_string(),
                    token: crate::domain::Secret::new(server.pairing.token.clone()),
                    pairing: crate::domain::Secret::new(pairing),
                    qr,
                    log: Vec::new(),
                });
                self.sync_server = Some(server);
            }
            Err(e) => self.state.error(e.to_string()),
        }
    }

    pub(super) fn stop_sharing(&mut self) {
        self.sync_server = None;
        self.state.sync.serving = None;
    }

    fn exchange_job(
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

    pub(super) fn connect_peer(&mut self, address: &str, token: &str) {
        let peer = match Peer::parse(address, token) {
            Ok(p) => p,
            Err(e) => {
                self.state.sync.peer_error = Some(e.to_string());
                return;
            }
        };
        self.state.sync.peer_error = None;
        self.state.sync.peer = Some(peer.clone());
        self.exchange_job(SyncBusy::Listing, move |cx| {
            say(
                cx,
                ExchangeEvent::Listed(client::list(&peer).map_err(|e| e.to_string())),
            );
        });
    }

    pub(super) fn pull_stories(&mut self, store: &Store, ids: Vec<String>) {
        let Some(peer) = self.state.sync.peer.clone() else {
            return;
        };
        let path = store.path().to_owned();
        let titles = self.peer_titles(&ids);
        self.exchange_job(SyncBusy::Pulling, move |cx| {
            let mut store = match Store::open_worker(&path) {
                Ok(s) => s,
                Err(e) => return say(cx, ExchangeEvent::Failed(e.to_string())),
            };
            let total = ids.len() as u64;
            for (i, (id, title)) in ids.iter().zip(titles).enumerate() {
                if cx.is_cancelled() {
                    break;
                }
                say(
                    cx,
                    ExchangeEvent::Progress {
                        done: i as u64,
                        total,
                        what: format!("Pulling “{title}”"),
                    },
                );
                // Stored as it arrives; a story already here is asked about, then pulled again.
                let source = ConflictSource::Peer {
                    peer: peer.clone(),
                    story_id: id.clone(),
                };
                match client::pull_into(&peer, id, 0, &mut |story| {
                    transfer::import_avt_spooled(&mut store, story, OnConflict::Refuse)
                }) {
                    Ok(imported) => imported_or_ask(&store, imported, source, cx),
                    Err(e) => say(cx, ExchangeEvent::Failed(format!("“{title}”: {e}"))),
                }
            }
        });
    }

    fn peer_titles(&self, ids: &[String]) -> Vec<String> {
        ids.iter()
            .map(|id| {
                self.state
                    .sync
                    .peer_stories
                    .iter()
                    .find(|s| &s.id == id)
                    .map_or_else(|| id.clone(), |s| s.title.clone())
            })
            .collect()
    }

    pub(super) fn push_stories(&mut self, store: &Store, ids: Vec<StoryId>) {
        let Some(peer) = self.state.sync.peer.clone() else {
            return;
        };
        let path = store.path().to_owned();
        self.exchange_job(SyncBusy::Pushing, move |cx| {
            let store = match Store::open_worker(&path) {
                Ok(s) => s,
                Err(e) => return say(cx, ExchangeEvent::Failed(e.to_string())),
            };
            let total = ids.len() as u64;
            for (i, id) in ids.iter().enumerate() {
                if cx.is_cancelled() {
                    break;
                }
                let title = match store.story_title(id) {
                    Ok(Some(title)) => title,
                    Ok(None) => {
                        say(
                            cx,
                            ExchangeEvent::Failed(format!("Story {id} was not found.")),
                        );
                        continue;
                    }
                    Err(e) => {
                        say(cx, ExchangeEvent::Failed(e.to_string()));
                        continue;
                    }
                };
                say(
                    cx,
                    ExchangeEvent::Progress {
                        done: i as u64,
                        total,
                        what: format!("Pushing “{title}”"),
                    },
                );
                match client::push(&peer, &store, id) {
                    Ok(message) => say(cx, ExchangeEvent::Done(message)),
                    Err(e) => say(cx, ExchangeEvent::Failed(format!("“{title}”: {e}"))),
                }
            }
            if let Ok(stories) = client::list(&peer) {
                say(cx, ExchangeEvent::Listed(Ok(stories)));
            }
        });
    }

    /// Reads an .avt file on a job (with progress for big files) and imports it, asking on conflict.
    pub(super) fn import_file(&mut self, store: &Store, file: PathBuf) {
        let path = store.path().to_owned();
        self.exchange_job(SyncBusy::Importing, move |cx| {
            let opened = match std::fs::File::open(&file) {
                Ok(f) => f,
                Err(e) => {
                    return say(
                        cx,
                        ExchangeEvent::Failed(format!(
                            "{} could not be opened: {e}",
                            file.display()
                        )),
                    );
                }
            };
            let total = opened.metadata().map(|m| m.len()).unwrap_or(0);
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let reader = ProgressReader::new(opened, 1 << 20, |done| {
                say(
                    cx,
                    ExchangeEvent::Progress {
                        done,
                        total,
                        what: format!("Reading {name}"),
                    },
                );
            });
            let mut store = match Store::open_worker(&path) {
                Ok(store) => store,
                Err(e) => return say(cx, ExchangeEvent::Failed(e.to_string())),
            };
            let imported =
                transfer::import_avt(&mut store, reader, OnConflict::Refuse).map_err(|e| match e {
                    ImportError::Format(e) => {
                        ImportError::Format(FormatError::Invalid(format!("{name}: {e}")))
                    }
                    other => other,
                });
            imported_or_ask(&store, imported, ConflictSource::File(file.clone()), cx);
        });
    }

    /// The user's answer to "this story is already here".
    pub(super) fn resolve_conflict(&mut self, store: &Store, choice: Option<OnConflict>) {
        let Some(pending) = self.state.sync.conflicts.first().cloned() else {
            return;
        };
        self.state.sync.conflicts.remove(0);
        let Some(mode) = choice else {
            self.state
                .info(format!("“{}” was left as it is.", pending.title), false);
            return;
        };
        let path = store.path().to_owned();
        self.exchange_job(SyncBusy::Importing, move |cx| {
            let imported = import_again(&path, &pending.source, mode);
            match imported {
                Ok(imported) => {
                    say(
                        cx,
                        ExchangeEvent::Done(match imported.replaced {
                            Some(_) => format!(
                                "Replaced “{}”; the copy you had is in the Trash.",
                                imported.title
                            ),
                            None if imported.updated => format!(
                                "Updated “{}” to this version; nothing you had was lost.",
                                imported.title
                            ),
                            None => format!("Added “{}”.", imported.title),
                        }),
                    );
                    say(cx, ExchangeEvent::LibraryChanged);
                }
                Err(e) => say(cx, ExchangeEvent::Failed(e)),
            }
        });
    }

    /// Writes the story to a file on a job: a long story takes a while to read and write.
    pub(super) fn export_story(
        &mut self,
        store: &Store,
        story: StoryId,
        format: FileFormat,
        file: PathBuf,
        lore: bool,
    ) {
        let path = store.path().to_owned();
        self.exchange_job(SyncBusy::Exporting, move |cx| {
            let written = Store::open_worker(&path)
                .and_then(|store| {
                    store.stream_story(&story, |head, rows| {
                        let title = head.story.title.clone();
                        write_story_file_streamed(head, rows, format, lore, &file)
                            .map(|()| title)
                            .map_err(|e| format!("{} could not be written: {e}", file.display()))
                    })
                })
                .map_err(|e| e.to_string())
                .and_then(std::convert::identity);
            say(
                cx,
                match written {
                    Ok(title) => {
                        ExchangeEvent::Done(format!("Exported “{title}” to {}.", file.display()))
                    }
                    Err(e) => ExchangeEvent::Failed(e),
                },
            );
        });
    }

    /// Server events and transfer progress, every frame.
    pub(super) fn poll_sync(&mut self) {
        if let Some(server) = self.sync_server.as_mut() {
            let events = server.poll();
            let mut library_changed = false;
            let mut stopped = None;
            if let Some(serving) = self.state.sync.serving.as_mut() {
                for event in events {
                    let line = match event {
                        ServerEvent::Listed { peer } => format!("{peer} looked at your stories"),
                        ServerEvent::Pulled { peer, title } => format!("{peer} copied “{title}”"),
                        ServerEvent::Pushed {
                            peer,
                            title,
                            replaced,
                        } => {
                            library_changed = true;
                            if replaced {
                                format!(
                                    "{peer} sent “{title}” (your previous copy is in the Trash)"
                                )
                            } else {
                                format!("{peer} sent “{title}”")
                            }
                        }
                        ServerEvent::Refused { peer, reason } => format!("{peer}: {reason}"),
                        ServerEvent::Stopped { reason } => {
                            stopped = Some(reason.clone());
                            reason
                        }
                    };
                    serving.log.push(line);
                }
            }
            if let Some(reason) = stopped {
                self.sync_server = None;
                self.state.sync.serving = None;
                self.state.error(reason);
            }
            if library_changed && let Some(store) = self.store.take() {
                if let Err(e) = self.refresh_library(&store) {
                    self.state.error(e.to_string());
                }
                self.store = Some(store);
            }
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
                sync.peer_error = Some(e);
                false
            }
            ExchangeEvent::Done(message) => {
                sync.results.push(message.clone());
                self.state.info(message, false);
                true
            }
            ExchangeEvent::Failed(message) => {
                sync.results.push(message.clone());
                self.state.error(message);
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
        self.state.sync.busy = None;
        self.state.sync.progress = None;
    }

    /// Whether a transfer or import is running (for tests).
    pub fn is_transferring(&self) -> bool {
        self.jobs.is_running(EXCHANGE)
    }
}

/// Reports a streamed import: added, or already here (asked about, with where to read it again).
fn imported_or_ask(
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
                    "Added “{}” ({} entries).",
                    imported.title, imported.entries
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
        Err(e) => say(cx, ExchangeEvent::Failed(e.to_string())),
    }
}

/// The story asked about, read again from where it came and stored under the user's answer.
fn import_again(
    path: &std::path::Path,
    source: &ConflictSource,
    mode: OnConflict,
) -> Result<crate::storage::Imported, String> {
    let mut store = Store::open_worker(path).map_err(|e| e.to_string())?;
    let imported = match source {
        ConflictSource::File(file) => {
            let opened = std::fs::File::open(file)
                .map_err(|e| format!("{} could not be opened: {e}", file.display()))?;
            transfer::import_avt(&mut store, opened, mode).map_err(|e| e.to_string())
        }
        ConflictSource::Peer { peer, story_id } => {
            client::pull_into(peer, story_id, 0, &mut |story| {
                transfer::import_avt_spooled(&mut store, story, mode)
            })
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
        }
    };
    store.checkpoint();
    imported
}

/// Sends an event; a closed channel means the window is gone and nobody is listening.
fn say(cx: &JobContext<ExchangeEvent>, event: ExchangeEvent) {
    let _ = cx.send(event);
}
