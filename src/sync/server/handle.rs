//! One request, on its own job thread: the token checked the moment it is read, the body read at\na minimum pace, then a list, a pull or a push carried out against the store.

use super::respond::{error, respond, respond_leaving_body, respond_story};
use super::{BODY_GRACE, MIN_BODY_RATE, ServerEvent, Shared};
use crate::domain::{OnConflict, StoryBundle, StoryId, StoryListing};
use crate::formats::{FormatError, avt};
use crate::jobs::JobContext;
use crate::storage::Store;
use crate::sync::envelope::{self, Asked, Envelope, Pushed, RequestError};
use crate::sync::wire::{SyncResponse, story_not_found};
use crate::transfer::{self, ImportError};
use std::io::Read;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

/// A request body that must keep coming: past the grace, fewer bytes than the minimum rate allows
/// end the read with `TimedOut`.
struct Paced<R> {
    inner: R,
    started: Instant,
    read: u64,
}

impl<R: Read> Read for Paced<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let late = self.started.elapsed().saturating_sub(BODY_GRACE);
        if late > Duration::ZERO && (self.read as f64) < MIN_BODY_RATE * late.as_secs_f64() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the message arrived too slowly",
            ));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Reads one request body, at most `limit` bytes, checking `token` as soon as it is read; a pushed
/// story is read into a bundle. Any bytes at all give a refusal, never a panic.
pub fn parse_request(
    body: impl Read,
    limit: u64,
    token: &str,
) -> Result<Envelope<Result<StoryBundle, FormatError>>, RequestError> {
    read_paced(body, limit, token, &mut |story| avt::read(story))
}

/// As `parse_request`, a pushed story after the token going to `take_story` as it arrives.
fn read_paced<T>(
    body: impl Read,
    limit: u64,
    token: &str,
    take_story: envelope::TakeStory<'_, T>,
) -> Result<Envelope<T>, RequestError> {
    envelope::read_request(
        Paced {
            inner: body,
            started: Instant::now(),
            read: 0,
        },
        limit,
        token,
        take_story,
    )
}

/// Answers one request; true when it wrote to the database.
pub(super) fn handle(
    mut request: tiny_http::Request,
    store: &mut Store,
    shared: &Shared,
    cx: &JobContext<ServerEvent>,
) -> bool {
    let peer = request
        .remote_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    let refuse = |request, status, reason: String| {
        cx.send(ServerEvent::Refused {
            peer: peer.clone(),
            reason: reason.clone(),
        });
        if status == 413 || status == 408 {
            respond_leaving_body(request, shared.addr, status, &error(reason));
        } else {
            respond(request, status, &error(reason));
        }
        false
    };
    if *request.method() != tiny_http::Method::Post || request.url() != "/sync" {
        let what = format!("No such endpoint: {} {}", request.method(), request.url());
        return refuse(request, 404, what);
    }
    let limit = shared.options.body_limit;
    if request.body_length().is_some_and(|n| n as u64 > limit) {
        return refuse(request, 413, envelope::too_large(limit));
    }
    let started = Instant::now();
    // A pushed story is stored as it arrives, in one transaction that commits once all of it has
    // been read; the story already here goes to the Trash in the same transaction.
    let mut store_pushed = |story: &mut dyn Read| {
        let _one_writer = shared
            .writing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        transfer::import_avt_spooled(store, story, OnConflict::Replace)
    };
    let parsed = read_paced(request.as_reader(), limit, &shared.token, &mut store_pushed);
    log::debug!("sync: request read in {} ms", started.elapsed().as_millis());
    let sync = match parsed {
        Ok(s) => s,
        Err(refused) => {
            let status = match refused {
                RequestError::TooLarge(_) => 413,
                RequestError::Transport(_) => 408,
                RequestError::Unauthorized | RequestError::Malformed(_) => 200,
            };
            return refuse(request, status, refused.to_string());
        }
    };
    let reply = match sync.asked {
        Asked::List => match store.list_stories() {
            Ok(stories) => {
                cx.send(ServerEvent::Listed { peer: peer.clone() });
                SyncResponse::StoriesList {
                    stories: stories
                        .into_iter()
                        .map(|s| StoryListing {
                            id: s.story.id.0,
                            title: s.story.title,
                            genre: s.story.genre,
                            updated_at: s.story.updated_at,
                            entry_count: i64::try_from(s.entry_count).unwrap_or(i64::MAX),
                        })
                        .collect(),
                }
            }
            Err(e) => error(e.to_string()),
        },
        Asked::Pull(story_id) => {
            let id = StoryId(story_id.clone());
            match store.story_title(&id) {
                Ok(Some(title)) => {
                    cx.send(ServerEvent::Pulled {
                        peer: peer.clone(),
                        title,
                    });
                    let sending = Instant::now();
                    let sent = respond_story(request, store, &id);
                    log::debug!("sync: story sent in {} ms", sending.elapsed().as_millis());
                    if let Err(e) = sent {
                        log::warn!("sync: could not send {story_id}: {e}");
                    }
                    return false;
                }
                Ok(None) => error(story_not_found(&story_id)),
                Err(e) => error(e.to_string()),
            }
        }
        Asked::Push(pushed) => {
            let stored = match *pushed {
                Pushed::Taken(stored) => stored,
                Pushed::Read(read) => match *read {
                    Ok(bundle) => {
                        let _one_writer = shared
                            .writing
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner);
                        store
                            .import_bundle(&bundle, OnConflict::Replace)
                            .map_err(ImportError::Store)
                    }
                    Err(e) => Err(ImportError::Format(e)),
                },
            };
            log::debug!("sync: push handled in {} ms", started.elapsed().as_millis());
            match stored {
                Ok(imported) => {
                    let replaced = imported.replaced.is_some();
                    cx.send(ServerEvent::Pushed {
                        peer: peer.clone(),
                        title: imported.title.clone(),
                        replaced,
                    });
                    SyncResponse::Success {
                        message: if replaced {
                            format!(
                                "Story “{}” received; the previous copy is in the Trash.",
                                imported.title
                            )
                        } else {
                            format!("Story “{}” received.", imported.title)
                        },
                    }
                }
                Err(ImportError::Format(e)) => error(format!("The story could not be read: {e}")),
                Err(e @ (ImportError::Store(_) | ImportError::Conflict { .. })) => {
                    error(e.to_string())
                }
            }
        }
    };
    let wrote = matches!(reply, SyncResponse::Success { .. });
    respond(request, 200, &reply);
    wrote
}
