//! The controller's side of sharing stories: the sync server behind the QR code, jobs that list,
//! pull and push against another device, and file import and export, with the conflict question.

use std::net::IpAddr;

use super::FabulaApp;
use super::exchange::{ExchangeError, ExchangeEvent, imported_or_ask, say};
use crate::domain::{OnConflict, Peer, StoryId};
use crate::state::{Action, ConflictSource, QrImage, Serving, ShareAction, SyncBusy};
use crate::storage::{Store, StoreError};
use crate::sync::{self, ServerEvent, ServerOptions, SyncError, SyncServer, client};
use crate::transfer::{self};

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
            ShareAction::ImportFile(path) => {
                self.file_again = Some(ShareAction::ImportFile(path.clone()));
                self.import_file(store, path);
            }
            what @ (ShareAction::PickImportFile | ShareAction::PickExportPath { .. }) => {
                self.pick(store, what)
            }
            ShareAction::ResolveConflict(choice) => self.resolve_conflict(store, choice),
            ShareAction::ExportStory {
                story,
                format,
                path,
                lore,
            } => {
                self.file_again = Some(ShareAction::ExportStory {
                    story: story.clone(),
                    format,
                    path: path.clone(),
                    lore,
                });
                self.export_story(store, story, format, path, lore);
            }
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

    pub(super) fn connect_peer(&mut self, address: &str, token: &str) {
        let peer = match Peer::parse(address, token) {
            Ok(p) => p,
            Err(e) => {
                self.state.sync.peer_error = Some(crate::state::PeerProblem {
                    message: e.to_string(),
                    retryable: false,
                });
                return;
            }
        };
        self.state.sync.peer_error = None;
        self.state.sync.peer = Some(peer.clone());
        self.exchange_job(SyncBusy::Listing, move |cx| {
            say(cx, ExchangeEvent::Listed(client::list(&peer)));
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
                Err(e) => return say(cx, ExchangeEvent::failed(e)),
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
                    Err(e) => say(
                        cx,
                        failed_with_peer(
                            &title,
                            e,
                            Action::Share(ShareAction::PullStories(vec![id.clone()])),
                        ),
                    ),
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
                Err(e) => return say(cx, ExchangeEvent::failed(e)),
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
                            ExchangeEvent::failed(ExchangeError::NotFound(format!("Story {id}"))),
                        );
                        continue;
                    }
                    Err(e) => {
                        say(cx, ExchangeEvent::failed(e));
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
                    Err(e) => say(
                        cx,
                        failed_with_peer(
                            &title,
                            e,
                            Action::Share(ShareAction::PushStories(vec![id.clone()])),
                        ),
                    ),
                }
            }
            if let Ok(stories) = client::list(&peer) {
                say(cx, ExchangeEvent::Listed(Ok(stories)));
            }
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
}

/// A transfer of one story that failed: worth trying again when the other device could not be
/// reached or sent something unreadable, not when it refused.
fn failed_with_peer(title: &str, error: SyncError, again: Action) -> ExchangeEvent {
    ExchangeEvent::Failed {
        story: Some(title.to_owned()),
        error: error.into(),
        again: Some(again),
    }
}
