//! The sync server: `POST /sync` as the original app speaks it, on the address shown in the QR code,
//! served by a small fixed pool of workers (jobs) that each keep their own database connection.
//! Bodies over the limit are refused before they are read, sockets time out so a slow peer cannot
//! pin a worker, and the token is compared in constant time.

mod handle;
mod respond;

pub use handle::parse_request;

use handle::handle;
use respond::{error, respond, respond_leaving_body};

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::jobs::{self, JobContext, JobHandle, Periodic, Poll, Waker};
use crate::storage::Store;
use crate::sync::SyncError;
use crate::sync::wire::Pairing;

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

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_compare_by_content_only() {
        use crate::sync::envelope::same_token;
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abd", "abc"));
        assert!(!same_token("ab", "abc"));
        assert!(!same_token("", "abc"));
        let t = super::random_token();
        assert_eq!(t.len(), 32);
        assert_ne!(t, super::random_token());
    }
}
