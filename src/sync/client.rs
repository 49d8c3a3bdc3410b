//! The sync client: lists, pulls and pushes stories against a peer running Fabula or the original
//! app. Timeouts start from the original's (10 s to list, 30 s per transfer) and grow with the story.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use super::SyncError;
use super::envelope::{self, PullReply, TakeStory};
use super::server::BODY_LIMIT;
use super::wire::{SyncAction, SyncRequest, SyncResponse};
use crate::domain::{Peer, StoryBundle, StoryId, StoryListing};
use crate::formats::avt;
use crate::jobs;
use crate::storage::Store;

/// The peer's sync endpoint.
fn url_of(peer: &Peer) -> String {
    format!("http://{}/sync", peer.address())
}

const LIST_TIMEOUT: Duration = Duration::from_secs(10);
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(30);
/// The slowest link a transfer is expected to survive; bigger stories get proportionally longer.
const SLOWEST_BYTES_PER_SECOND: u64 = 1 << 20;

fn call(peer: &Peer, action: SyncAction, timeout: Duration) -> Result<SyncResponse, SyncError> {
    let body = serde_json::to_vec(&SyncRequest {
        token: peer.token.expose().to_owned(),
        action,
    })
    .map_err(|e| SyncError::Unreadable(e.to_string()))?;
    send(peer, &body, timeout)
}

fn send(peer: &Peer, body: &[u8], timeout: Duration) -> Result<SyncResponse, SyncError> {
    let (status, reply, where_) = exchange(peer, body, timeout)?;
    parse_reply(status, &reply, &where_)
}

/// Sends `body` and returns the reply's status and its body as a reader, limited in size.
fn post(
    peer: &Peer,
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, ureq::BodyReader<'static>, String), SyncError> {
    post_body(peer, body, timeout)
}

/// As `post`, for a body read as it is sent (chunked when its length is not known).
fn post_body<B: ureq::AsSendBody>(
    peer: &Peer,
    body: B,
    timeout: Duration,
) -> Result<(u16, ureq::BodyReader<'static>, String), SyncError> {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("Fabula/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let where_ = format!("{}:{}", peer.host, peer.port);
    let response = agent
        .post(&url_of(peer))
        .header("Content-Type", "application/json")
        .send(body)
        .map_err(|e| match e {
            ureq::Error::Timeout(_) => {
                SyncError::Unreachable(format!("{where_} did not answer in time."))
            }
            ureq::Error::Io(io) => {
                SyncError::Unreachable(format!("Could not reach {where_}: {io}"))
            }
            other => SyncError::Unreachable(format!("Could not reach {where_}: {other}")),
        })?;
    let status = response.status().as_u16();
    let reader = response
        .into_body()
        .into_with_config()
        .limit(BODY_LIMIT + 4096)
        .reader();
    Ok((status, reader, where_))
}

fn exchange(
    peer: &Peer,
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, Vec<u8>, String), SyncError> {
    let (status, reader, where_) = post(peer, body, timeout)?;
    let body = read_whole(reader, &where_)?;
    Ok((status, body, where_))
}

fn read_whole(mut reader: impl Read, where_: &str) -> Result<Vec<u8>, SyncError> {
    let mut body = Vec::new();
    reader
        .read_to_end(&mut body)
        .map_err(|e| SyncError::Unreachable(format!("{where_} stopped sending: {e}")))?;
    Ok(body)
}

fn parse_reply(status: u16, body: &[u8], where_: &str) -> Result<SyncResponse, SyncError> {
    match serde_json::from_slice::<SyncResponse>(body) {
        Ok(SyncResponse::Error { message }) => Err(SyncError::Refused(message)),
        Ok(reply) => Ok(reply),
        Err(e) if status != 200 => Err(SyncError::Unreadable(format!(
            "{where_} answered {status}, not a sync reply ({e})."
        ))),
        Err(e) => Err(SyncError::Unreadable(format!(
            "{where_} sent a reply Fabula could not read: {e}"
        ))),
    }
}

pub fn list(peer: &Peer) -> Result<Vec<StoryListing>, SyncError> {
    match call(peer, SyncAction::ListStories, LIST_TIMEOUT)? {
        SyncResponse::StoriesList { stories } => Ok(stories),
        other => Err(unexpected(&other)),
    }
}

/// The story as the peer has it; storing it (and the conflict rule) is the caller's.
pub fn pull(peer: &Peer, story_id: &str, expected_bytes: u64) -> Result<StoryBundle, SyncError> {
    pull_into(peer, story_id, expected_bytes, &mut |story| {
        avt::read(story)
    })?
    .map_err(|e| SyncError::Unreadable(format!("The story sent could not be read: {e}")))
}

/// Pulls a story into `take_story` as it arrives (an import that stores it while it is read).
pub fn pull_into<T>(
    peer: &Peer,
    story_id: &str,
    expected_bytes: u64,
    take_story: TakeStory<'_, T>,
) -> Result<T, SyncError> {
    let request = serde_json::to_vec(&SyncRequest {
        token: peer.token.expose().to_owned(),
        action: SyncAction::PullStory {
            story_id: story_id.to_owned(),
        },
    })
    .map_err(|e| SyncError::Unreadable(e.to_string()))?;
    let (status, reader, where_) = post(peer, &request, transfer_timeout(expected_bytes))?;
    if status != 200 {
        let reply = parse_reply(status, &read_whole(reader, &where_)?, &where_)?;
        return Err(unexpected(&reply));
    }
    match envelope::read_pull_reply(reader, take_story) {
        Ok(PullReply::Story(taken)) => Ok(taken),
        Ok(PullReply::Refused(message)) => Err(SyncError::Refused(message)),
        Ok(PullReply::Other(kind)) => Err(SyncError::Unreadable(format!(
            "The peer answered with “{kind}”, which does not fit the request."
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(SyncError::Unreadable(
            format!("{where_} sent a reply Fabula could not read: {e}"),
        )),
        Err(e) => Err(SyncError::Unreachable(format!(
            "{where_} stopped sending: {e}"
        ))),
    }
}

/// Sends a story straight from the database: the body is written as it is sent (a chunked
/// request), so the story is never held whole. Returns the peer's message.
pub fn push(peer: &Peer, store: &Store, id: &StoryId) -> Result<String, SyncError> {
    let text_bytes = store.story_text_bytes(id).map_err(store_error)?;
    // Its texts alone are over the limit: the peer would refuse it and end the connection.
    if text_bytes > BODY_LIMIT {
        return Err(SyncError::TooLarge {
            limit_mib: BODY_LIMIT >> 20,
        });
    }
    let timeout = transfer_timeout(text_bytes);
    let (mut body, pipe) = pipe();
    let ran = jobs::alongside(
        "sync-push",
        move || {
            let mut pipe = pipe;
            post_body(peer, ureq::SendBody::from_reader(&mut pipe), timeout).and_then(
                |(status, reader, where_)| {
                    parse_reply(status, &read_whole(reader, &where_)?, &where_)
                },
            )
        },
        move || {
            let written = write_push_body(&mut body, peer.token.expose(), store, id);
            match written {
                Ok(()) => body.finish(),
                // Dropped unfinished: the request is cut off, never sent short.
                Err(e) => Err(e),
            }
        },
    );
    let (reply, written) =
        ran.map_err(|e| SyncError::Unreachable(format!("No thread to send on: {e}")))?;
    // A story that could not be read says so, rather than the cut-off request it caused.
    if let Err(WriteFailure::Story(e)) = written {
        return Err(e);
    }
    match reply {
        Ok(SyncResponse::Success { message }) => Ok(message),
        Ok(other) => Err(unexpected(&other)),
        // A peer ends the connection on a message over its limit, before reading it all.
        Err(SyncError::Unreachable(message)) if text_bytes > BODY_LIMIT / 2 => {
            Err(SyncError::Unreachable(format!(
                "{message} (a story this large may be over the {} MiB a sync message may hold)",
                BODY_LIMIT >> 20
            )))
        }
        Err(e) => Err(e),
    }
}

fn store_error(e: crate::storage::StoreError) -> SyncError {
    SyncError::Story(e)
}

enum WriteFailure {
    /// Reading the story from the database failed.
    Story(SyncError),
    /// The request stopped taking the body (its own error says why).
    Sending,
}

fn write_push_body(
    body: &mut PipeWriter,
    token: &str,
    store: &Store,
    id: &StoryId,
) -> Result<(), WriteFailure> {
    let sent = store.stream_story(id, |head, rows| {
        envelope::write_push_body(token, head, rows, &mut *body)
    });
    match sent {
        Err(e) => Err(WriteFailure::Story(store_error(e))),
        Ok(Err(_)) => Err(WriteFailure::Sending),
        Ok(Ok(())) => Ok(()),
    }
}

/// The bytes of a body on their way from the thread writing them to the one sending them, a
/// bounded number of chunks at a time.
fn pipe() -> (PipeWriter, PipeReader) {
    let (send, receive) = mpsc::sync_channel(PIPE_CHUNKS);
    (
        PipeWriter {
            send,
            buf: Vec::with_capacity(PIPE_CHUNK),
        },
        PipeReader {
            receive,
            chunk: Vec::new(),
            at: 0,
            ended: false,
        },
    )
}

const PIPE_CHUNK: usize = 64 << 10;
const PIPE_CHUNKS: usize = 16;

/// `None` marks the end of a complete body.
struct PipeWriter {
    send: mpsc::SyncSender<Option<Vec<u8>>>,
    buf: Vec<u8>,
}

impl PipeWriter {
    fn finish(mut self) -> Result<(), WriteFailure> {
        self.flush().map_err(|_| WriteFailure::Sending)?;
        self.send.send(None).map_err(|_| WriteFailure::Sending)
    }
}

impl Write for PipeWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIPE_CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(PIPE_CHUNK));
        self.send
            .send(Some(chunk))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

struct PipeReader {
    receive: mpsc::Receiver<Option<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
    ended: bool,
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            match self.receive.recv() {
                Ok(Some(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(None) => self.ended = true,
                // The writer stopped before the end: the request must fail, not end short.
                Err(_) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the story stopped before its end",
                    ));
                }
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn transfer_timeout(bytes: u64) -> Duration {
    TRANSFER_TIMEOUT.max(Duration::from_secs(bytes / SLOWEST_BYTES_PER_SECOND * 2))
}

fn unexpected(reply: &SyncResponse) -> SyncError {
    let kind = match reply {
        SyncResponse::StoriesList { .. } => "a story list",
        SyncResponse::StoryData { .. } => "a story",
        SyncResponse::Success { .. } => "a success message",
        SyncResponse::Error { .. } => "an error",
    };
    SyncError::Unreadable(format!(
        "The peer answered with {kind}, which does not fit the request."
    ))
}
