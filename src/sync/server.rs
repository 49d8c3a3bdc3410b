//! The sync server: `POST /sync` as the original app speaks it, on the address shown in the QR code,
//! served by a small fixed pool of workers (jobs) that each keep their own database connection.
//! Bodies over the limit are refused before they are read, sockets time out so a slow peer cannot
//! pin a worker, and the token is compared in constant time.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::SyncError;
use super::envelope::{self, Asked, Envelope, Pushed, RequestError};
use super::wire::{Pairing, SyncResponse, story_not_found};
use crate::domain::{OnConflict, StoryBundle, StoryId, StoryListing};
use crate::formats::{FormatError, avt};
use crate::jobs::{self, JobContext, JobHandle, Periodic, Poll, Waker};
use crate::storage::Store;
use crate::transfer::{self, ImportError};

/// The original's limit for one message.
pub const BODY_LIMIT: u64 = 100 * 1024 * 1024;

#[derive(Clone)]
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

/// The token never shows in a log line.
impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("database", &self.database)
            .field("workers", &self.workers)
            .field("io_timeout", &self.io_timeout)
            .field("body_limit", &self.body_limit)
            .finish()
    }
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

/// Requests answered at the same time, each on its own thread; past this a request is told the
/// server is busy. Slow peers hold a slot only until their body's deadline.
const MAX_IN_FLIGHT: usize = 64;
/// Every body may take this long, whatever its size...
const BODY_GRACE: Duration = Duration::from_secs(5);
/// ...and must arrive at least this fast on average after it (bytes per second): a peer trickling
/// a byte a second is let go after the grace, not after hours.
const MIN_BODY_RATE: f64 = 16.0 * 1024.0;

/// What every request's thread shares.
struct Shared {
    token: String,
    options: ServerOptions,
    /// Requests being answered now.
    serving: AtomicUsize,
    /// A push left its story in the WAL; copied into the main file when no request is running, so
    /// it does not slow the pull that often follows a push.
    checkpoint_due: AtomicBool,
    /// Idle database connections, reused by the next request.
    stores: Mutex<Vec<Store>>,
    /// One push writes at a time; the next waits here rather than failing on SQLite's busy timeout.
    writing: Mutex<()>,
    /// Where the server listens, to find a refused request's socket (see `hang_up`).
    addr: SocketAddr,
}

impl Shared {
    fn take_store(&self) -> Result<Store, crate::storage::StoreError> {
        let idle = self
            .stores
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(store) => Ok(store),
            None => Store::open_worker(&self.options.database),
        }
    }

    fn give_back(&self, store: Store) {
        self.stores
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(store);
    }

    fn checkpoint_if_idle(&self) {
        if self.serving.load(Ordering::SeqCst) != 0
            || !self.checkpoint_due.swap(false, Ordering::SeqCst)
        {
            return;
        }
        match self.take_store() {
            Ok(store) => {
                store.checkpoint();
                self.give_back(store);
            }
            Err(e) => log::warn!("sync: the checkpoint could not open the library: {e}"),
        }
    }
}

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
        let shared = Arc::new(Shared {
            token: token.clone(),
            options: options.clone(),
            serving: AtomicUsize::new(0),
            checkpoint_due: AtomicBool::new(false),
            stores: Mutex::new(Vec::new()),
            writing: Mutex::new(()),
            addr,
        });
        let mut workers = Vec::new();
        for i in 0..options.workers.max(1) {
            let server = server.clone();
            let shared = shared.clone();
            let job = jobs::spawn(&format!("sync-{i}"), waker.clone(), move |cx| {
                dispatch(&server, &shared, cx);
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

/// One dispatcher: hands each request to a thread of its own until cancelled, so a slow peer never
/// keeps another waiting.
fn dispatch(server: &tiny_http::Server, shared: &Arc<Shared>, cx: &JobContext<ServerEvent>) {
    while !cx.is_cancelled() {
        let request = match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(r)) => r,
            Ok(None) => {
                shared.checkpoint_if_idle();
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
        if shared.serving.fetch_add(1, Ordering::SeqCst) >= MAX_IN_FLIGHT {
            shared.serving.fetch_sub(1, Ordering::SeqCst);
            respond_leaving_body(
                request,
                shared.addr,
                503,
                &error("This device is busy with other requests; try again in a moment."),
            );
            continue;
        }
        // The request waits in a slot the thread takes it from: if no thread can start, the
        // closure is gone but the request is still here, and is answered in the dispatcher.
        let slot = Arc::new(Mutex::new(Some(request)));
        let started = jobs::detach("sync-request", {
            let (slot, shared, cx) = (slot.clone(), shared.clone(), cx.clone());
            move || {
                if let Some(request) = take(&slot) {
                    answer(request, &shared, &cx);
                }
                shared.serving.fetch_sub(1, Ordering::SeqCst);
            }
        });
        if let Err(e) = started {
            log::warn!("sync: no thread for a request ({e}); answering it in the dispatcher");
            if let Some(request) = take(&slot) {
                answer(request, shared, cx);
            }
            shared.serving.fetch_sub(1, Ordering::SeqCst);
        }
    }
    shared.checkpoint_if_idle();
}

fn take(slot: &Mutex<Option<tiny_http::Request>>) -> Option<tiny_http::Request> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// Answers one request on a pooled connection.
fn answer(request: tiny_http::Request, shared: &Shared, cx: &JobContext<ServerEvent>) {
    match shared.take_store() {
        Ok(mut store) => {
            if handle(request, &mut store, shared, cx) {
                shared.checkpoint_due.store(true, Ordering::SeqCst);
            }
            shared.give_back(store);
        }
        Err(e) => respond(
            request,
            200,
            &error(format!("The library could not be opened: {e}")),
        ),
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
    let mut headers = vec![(&b"Content-Type"[..], &b"application/json"[..])];
    // After a refusal the rest of the body is not worth reading: the connection ends.
    if status >= 400 {
        headers.push((&b"Connection"[..], &b"close"[..]));
    }
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name, value) {
            response.add_header(header);
        }
    }
    if let Err(e) = request.respond(response) {
        log::debug!("sync: the reply could not be sent: {e}");
    }
}

/// Bodies tiny_http may read and throw away after a refusal. Past this it must never try: it
/// allocates the whole remaining length at once, so one request declaring a petabyte would abort
/// the process (the window with it).
const DISCARD_AT_MOST: u64 = 1 << 30;

/// Answers a request whose body was not read (too large, or arriving too slowly), then ends its
/// connection. tiny_http reads the rest of a body before the connection goes on, which for a
/// trickling peer takes for ever: that happens on a thread of its own, so the request's slot is
/// free at once. A body too large even to throw away is left unread (see `DISCARD_AT_MOST`).
fn respond_leaving_body(
    request: tiny_http::Request,
    server: SocketAddr,
    status: u16,
    body: &SyncResponse,
) {
    let text = serde_json::to_string(body).unwrap_or_default();
    let hand_back = move || {
        let peer = request.remote_addr().copied();
        let too_big = request
            .body_length()
            .is_some_and(|n| n as u64 > DISCARD_AT_MOST);
        // Upgrading sends the status line and headers and hands the connection over with the
        // body unread; the answer's own body follows by hand (tiny_http sends none then).
        let mut response = tiny_http::Response::empty(status);
        let length = text.len().to_string();
        for (name, value) in [
            (&b"Content-Type"[..], &b"application/json"[..]),
            (&b"Content-Length"[..], length.as_bytes()),
        ] {
            if let Ok(header) = tiny_http::Header::from_bytes(name, value) {
                response.add_header(header);
            }
        }
        let mut stream = request.upgrade("close", response);
        if let Err(e) = stream
            .write_all(text.as_bytes())
            .and_then(|()| stream.flush())
        {
            log::debug!("sync: a refusal could not be sent: {e}");
        }
        if let Some(peer) = peer {
            hang_up(peer, server);
        }
        if too_big {
            // Dropping the stream would have tiny_http read (and first allocate) the rest.
            std::mem::forget(stream);
        } else {
            // The socket is shut down: what is left of the body reads as ended at once.
            drop(stream);
        }
    };
    // Sending the answer can wait on a peer that does not read: not on the request's slot.
    if let Err(e) = jobs::detach("sync-refuse", hand_back) {
        log::warn!("sync: no thread to answer a refused request: {e}");
    }
}

/// Shuts down the connection between `peer` and this server once its refusal is sent: tiny_http
/// keeps a connection open after any answer unless the request itself said "close", and offers no
/// way to end one, so the socket is found among this process's descriptors by its two addresses.
/// Shutting down (not closing) leaves the descriptor to tiny_http, whose reads then end.
#[cfg(target_os = "linux")]
fn hang_up(peer: SocketAddr, server: SocketAddr) {
    use std::os::fd::BorrowedFd;
    let Ok(descriptors) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in descriptors.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: the descriptor is only asked for its addresses and, when both match, shut down;
        // one closed and reused meanwhile is whatever it is now, and is matched again by its
        // addresses before anything is done to it.
        #[allow(unsafe_code)]
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        let matches = socket.peer_addr().ok().and_then(|a| a.as_socket()) == Some(peer)
            && socket
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .is_some_and(|local| local.port() == server.port());
        if matches {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// Elsewhere the connection ends when the peer closes it or its read times out.
#[cfg(not(target_os = "linux"))]
fn hang_up(_peer: SocketAddr, _server: SocketAddr) {}

fn error(message: impl Into<String>) -> SyncResponse {
    SyncResponse::Error {
        message: message.into(),
    }
}

/// Answers one request; true when it wrote to the database.
fn handle(
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

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_compare_by_content_only() {
        use super::envelope::same_token;
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abd", "abc"));
        assert!(!same_token("ab", "abc"));
        assert!(!same_token("", "abc"));
        let t = super::random_token();
        assert_eq!(t.len(), 32);
        assert_ne!(t, super::random_token());
    }
}
