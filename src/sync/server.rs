//! The sync server: `POST /sync` as the original app speaks it, on the address shown in the QR code,
//! served by a small fixed pool of workers (jobs) that each keep their own database connection.
//! Bodies over the limit are refused before they are read, sockets time out so a slow peer cannot
//! pin a worker, and the token is compared in constant time.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::SyncError;
use super::envelope::{self, Asked, Envelope};
use super::wire::{BAD_TOKEN, Pairing, StoryListing, SyncResponse, story_not_found};
use crate::domain::StoryId;
use crate::jobs::{self, JobContext, JobHandle, Periodic, Poll, Waker};
use crate::storage::{OnConflict, Store};

/// The original's limit for one message.
pub const BODY_LIMIT: u64 = 100 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// `None` makes a fresh random one.
    pub token: Option<String>,
    pub database: PathBuf,
    pub workers: usize,
    /// How long a socket may sit without sending or taking a byte.
    pub io_timeout: Duration,
    pub body_limit: u64,
}

impl ServerOptions {
    pub fn new(bind: IpAddr, database: PathBuf) -> Self {
        Self {
            bind,
            port: 0,
            token: None,
            database,
            workers: 2,
            io_timeout: Duration::from_secs(30),
            body_limit: BODY_LIMIT,
        }
    }
}

/// What the server did, for the Sync screen and `fabula sync serve`.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEvent {
    Listed {
        peer: String,
    },
    Pulled {
        peer: String,
        title: String,
    },
    Pushed {
        peer: String,
        title: String,
        replaced: bool,
    },
    Refused {
        peer: String,
        reason: String,
    },
    /// The server can no longer accept connections; start it again.
    Stopped {
        reason: String,
    },
}

pub struct SyncServer {
    pub addr: SocketAddr,
    pub pairing: Pairing,
    workers: Vec<JobHandle<ServerEvent>>,
    /// Connects to the server more often than the accept timeout, whatever the workers are doing.
    knocker: Option<Periodic>,
}

/// 128 random bits as 32 hex digits.
pub fn random_token() -> String {
    // Two v4 UUIDs come from the OS's random source; their random bits make up the token.
    let a = uuid::Uuid::new_v4().as_u128();
    let b = uuid::Uuid::new_v4().as_u128();
    format!("{:032x}", a ^ b.rotate_left(64))
}

/// Equal-length comparison that takes the same time wherever the first difference is.
fn same_token(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

impl SyncServer {
    pub fn start(options: ServerOptions, waker: Arc<dyn Waker>) -> Result<Self, SyncError> {
        let listener = TcpListener::bind((options.bind, options.port))
            .map_err(|e| SyncError::Server(format!("Could not listen on {}: {e}", options.bind)))?;
        // Accepted sockets inherit these, so every connection reads and writes with a deadline.
        // (tiny_http cannot set them per connection.) The listener's own accept then times out
        // too, which would end tiny_http's accept loop: a ticker knocks more often than that.
        let socket = socket2::SockRef::from(&listener);
        let timeouts = socket
            .set_read_timeout(Some(options.io_timeout))
            .and_then(|()| socket.set_write_timeout(Some(options.io_timeout)));
        if let Err(e) = timeouts {
            log::warn!("sync: socket timeouts could not be set: {e}");
        }
        let addr = listener
            .local_addr()
            .map_err(|e| SyncError::Server(e.to_string()))?;
        let server = Arc::new(
            tiny_http::Server::from_listener(listener, None)
                .map_err(|e| SyncError::Server(e.to_string()))?,
        );
        let token = options.token.clone().unwrap_or_else(random_token);
        let mut workers = Vec::new();
        let serving = Arc::new(AtomicUsize::new(0));
        for i in 0..options.workers.max(1) {
            let server = server.clone();
            let token = token.clone();
            let options = options.clone();
            let serving = serving.clone();
            let job = jobs::spawn(&format!("sync-{i}"), waker.clone(), move |cx| {
                serve(&server, &token, &options, &serving, cx);
            })
            .map_err(|e| SyncError::Server(format!("The sync workers could not start: {e}")))?;
            workers.push(job);
        }
        let knocker = Periodic::start("sync-knock", options.io_timeout / 3, move || knock_on(addr))
            .map_err(|e| SyncError::Server(format!("The sync server could not start: {e}")))?;
        Ok(Self {
            addr,
            knocker: Some(knocker),
            pairing: Pairing {
                ip: addr.ip().to_string(),
                port: addr.port(),
                token,
                version: env!("CARGO_PKG_VERSION").to_owned(),
            },
            workers,
        })
    }

    /// What happened since the last call.
    pub fn poll(&mut self) -> Vec<ServerEvent> {
        let mut out = Vec::new();
        for job in &mut self.workers {
            match job.poll() {
                Poll::Events(events) | Poll::Finished(events) => out.extend(events),
                Poll::Panicked { name, events } => {
                    out.extend(events);
                    log::error!("sync worker {name} stopped unexpectedly");
                }
            }
        }
        out
    }
}

impl Drop for SyncServer {
    fn drop(&mut self) {
        // Workers look at their flag between requests (at least every 200 ms) and leave; the last
        // one out drops tiny_http's server, which closes the port.
        for job in &self.workers {
            job.cancel();
        }
        self.knocker = None;
        for job in self.workers.drain(..) {
            job.wait();
        }
    }
}

/// A connection to our own address that closes at once: it keeps the accept call from timing out.
fn knock_on(addr: SocketAddr) {
    let target = if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    };
    if let Err(e) = std::net::TcpStream::connect_timeout(&target, Duration::from_secs(1)) {
        log::warn!("sync: could not reach our own server at {target}: {e}");
    }
}

/// One worker: answers requests until cancelled. `serving` counts the requests all workers are
/// answering at the moment.
fn serve(
    server: &tiny_http::Server,
    token: &str,
    options: &ServerOptions,
    serving: &AtomicUsize,
    cx: &JobContext<ServerEvent>,
) {
    let mut store: Option<Store> = None;
    // A push leaves its story in the WAL; copying it into the main file waits until no worker
    // has a request, so it does not slow the pull that often follows a push.
    let mut checkpoint_due = false;
    while !cx.is_cancelled() {
        let request = match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(r)) => r,
            Ok(None) => {
                if let Some(store) = store
                    .as_ref()
                    .filter(|_| checkpoint_due && serving.load(Ordering::SeqCst) == 0)
                {
                    store.checkpoint();
                    checkpoint_due = false;
                }
                continue;
            }
            Err(e) => {
                // tiny_http's accept loop has ended; nothing more will arrive.
                cx.send(ServerEvent::Stopped {
                    reason: format!("The sync server stopped: {e}"),
                });
                return;
            }
        };
        if store.is_none() {
            match Store::open_worker(&options.database) {
                Ok(s) => store = Some(s),
                Err(e) => {
                    respond(
                        request,
                        200,
                        &SyncResponse::Error {
                            message: format!("The library could not be opened: {e}"),
                        },
                    );
                    continue;
                }
            }
        }
        if let Some(store) = store.as_mut() {
            serving.fetch_add(1, Ordering::SeqCst);
            checkpoint_due |= handle(request, store, token, options, cx);
            serving.fetch_sub(1, Ordering::SeqCst);
        }
    }
    if let Some(store) = store.as_ref().filter(|_| checkpoint_due) {
        store.checkpoint();
    }
}

pub(super) fn too_large(limit: u64) -> String {
    if limit >= 1 << 20 {
        format!("The message is larger than the {} MiB limit.", limit >> 20)
    } else {
        format!("The message is larger than the {limit}-byte limit.")
    }
}

/// Reads one request body, at most `limit` bytes. Any bytes at all give a message, never a panic.
pub fn parse_request(body: impl Read, limit: u64) -> Result<Envelope, String> {
    envelope::read_request(body, limit)
}

/// The pulled story streamed from the database into a chunked reply, entry by entry: it is never
/// held whole, as a bundle or as a string.
fn respond_story(request: tiny_http::Request, store: &Store, id: &StoryId) -> Result<(), String> {
    let head = match store.export_head(id) {
        Ok(head) => head,
        Err(e) => {
            respond(request, 200, &error(e.to_string()));
            return Err(e.to_string());
        }
    };
    let mut raw = request.into_writer();
    let status = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let sent = store
        .stream_entries(id, |rows| {
            raw.write_all(status.as_bytes())?;
            let mut body = envelope::Chunked::new(&mut raw);
            envelope::write_story_data(head, rows, &mut body)?;
            body.finish()
        })
        .map_err(|e| e.to_string())?;
    // Headers are already out: a failure now can only close the connection.
    if let Err(e) = sent {
        log::debug!("sync: the story could not be sent: {e}");
    }
    Ok(())
}

fn respond(request: tiny_http::Request, status: u16, body: &SyncResponse) {
    let text = serde_json::to_string(body).unwrap_or_else(|_| {
        r#"{"type":"error","message":"The reply could not be written"}"#.to_owned()
    });
    let mut response = tiny_http::Response::from_string(text).with_status_code(status);
    if let Ok(header) =
        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
    {
        response.add_header(header);
    }
    if let Err(e) = request.respond(response) {
        log::debug!("sync: the reply could not be sent: {e}");
    }
}

fn error(message: impl Into<String>) -> SyncResponse {
    SyncResponse::Error {
        message: message.into(),
    }
}

/// Answers one request; true when it wrote to the database.
fn handle(
    mut request: tiny_http::Request,
    store: &mut Store,
    token: &str,
    options: &ServerOptions,
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
        respond(request, status, &error(reason));
        false
    };
    if *request.method() != tiny_http::Method::Post || request.url() != "/sync" {
        let what = format!("No such endpoint: {} {}", request.method(), request.url());
        return refuse(request, 404, what);
    }
    let limit = options.body_limit;
    if request.body_length().is_some_and(|n| n as u64 > limit) {
        return refuse(request, 413, too_large(limit));
    }
    let started = std::time::Instant::now();
    let parsed = parse_request(request.as_reader(), limit);
    log::debug!("sync: request read in {} ms", started.elapsed().as_millis());
    let sync = match parsed {
        Ok(s) => s,
        Err(reason) => {
            let status = if reason.contains("limit") { 413 } else { 200 };
            return refuse(request, status, reason);
        }
    };
    if !same_token(&sync.token, token) {
        return refuse(request, 200, BAD_TOKEN.to_owned());
    }
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
                    let sending = std::time::Instant::now();
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
        Asked::Push(pushed) => match *pushed {
            Ok(bundle) => {
                // Never silently: a story already here goes to the Trash before the new one lands.
                let importing = std::time::Instant::now();
                let result = store.import_bundle(&bundle, OnConflict::Replace);
                log::debug!("sync: stored in {} ms", importing.elapsed().as_millis());
                match result {
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
                    Err(e) => error(e.to_string()),
                }
            }
            Err(e) => error(format!("The story could not be read: {e}")),
        },
    };
    let wrote = matches!(reply, SyncResponse::Success { .. });
    respond(request, 200, &reply);
    wrote
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_compare_by_content_only() {
        assert!(super::same_token("abc", "abc"));
        assert!(!super::same_token("abd", "abc"));
        assert!(!super::same_token("ab", "abc"));
        assert!(!super::same_token("", "abc"));
        let t = super::random_token();
        assert_eq!(t.len(), 32);
        assert_ne!(t, super::random_token());
    }
}
