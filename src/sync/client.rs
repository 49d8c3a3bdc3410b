//! The sync client: lists, pulls and pushes stories against a peer running Fabula or the original
//! app. Timeouts start from the original's (10 s to list, 30 s per transfer) and grow with the story.

use std::io::Read;
use std::time::Duration;

use super::SyncError;
use super::envelope::{self, PullReply};
use super::server::BODY_LIMIT;
use super::wire::{StoryListing, SyncAction, SyncRequest, SyncResponse};
use crate::domain::StoryBundle;

/// Where a peer listens and the token it showed (typed in or read from its QR code).
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    pub host: String,
    pub port: u16,
    pub token: String,
}

impl Peer {
    /// Parses "HOST:PORT" (an IPv6 address in brackets).
    pub fn parse(address: &str, token: &str) -> Result<Self, SyncError> {
        let address = address.trim();
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| SyncError::Peer(format!("“{address}” is not HOST:PORT.")))?;
        let port: u16 = port
            .parse()
            .map_err(|_| SyncError::Peer(format!("“{port}” is not a port number.")))?;
        if host.is_empty() {
            return Err(SyncError::Peer(format!("“{address}” has no host.")));
        }
        Ok(Self {
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
            token: token.trim().to_owned(),
        })
    }

    fn url(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}/sync", self.host, self.port)
        } else {
            format!("http://{}:{}/sync", self.host, self.port)
        }
    }
}

const LIST_TIMEOUT: Duration = Duration::from_secs(10);
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(30);
/// The slowest link a transfer is expected to survive; bigger stories get proportionally longer.
const SLOWEST_BYTES_PER_SECOND: u64 = 1 << 20;

fn call(peer: &Peer, action: SyncAction, timeout: Duration) -> Result<SyncResponse, SyncError> {
    let body = serde_json::to_vec(&SyncRequest {
        token: peer.token.clone(),
        action,
    })
    .map_err(|e| SyncError::Peer(e.to_string()))?;
    send(peer, &body, timeout)
}

fn send(peer: &Peer, body: &[u8], timeout: Duration) -> Result<SyncResponse, SyncError> {
    let (status, reply, where_) = exchange(peer, body, timeout)?;
    parse_reply(status, &reply, &where_)
}

/// Posts `body` and returns the status, the whole reply and the peer's address for messages.
/// Sends `body` and returns the reply's status and its body as a reader, limited in size.
fn post(
    peer: &Peer,
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, impl Read + use<>, String), SyncError> {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("Fabula/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let where_ = format!("{}:{}", peer.host, peer.port);
    let response = agent
        .post(&peer.url())
        .header("Content-Type", "application/json")
        .send(body)
        .map_err(|e| match e {
            ureq::Error::Timeout(_) => SyncError::Peer(format!("{where_} did not answer in time.")),
            ureq::Error::Io(io) => SyncError::Peer(format!("Could not reach {where_}: {io}")),
            other => SyncError::Peer(format!("Could not reach {where_}: {other}")),
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
        .map_err(|e| SyncError::Peer(format!("{where_} stopped sending: {e}")))?;
    Ok(body)
}

fn parse_reply(status: u16, body: &[u8], where_: &str) -> Result<SyncResponse, SyncError> {
    match serde_json::from_slice::<SyncResponse>(body) {
        Ok(SyncResponse::Error { message }) => Err(SyncError::Refused(message)),
        Ok(reply) => Ok(reply),
        Err(e) if status != 200 => Err(SyncError::Peer(format!(
            "{where_} answered {status}, not a sync reply ({e})."
        ))),
        Err(e) => Err(SyncError::Peer(format!(
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
    let request = serde_json::to_vec(&SyncRequest {
        token: peer.token.clone(),
        action: SyncAction::PullStory {
            story_id: story_id.to_owned(),
        },
    })
    .map_err(|e| SyncError::Peer(e.to_string()))?;
    let (status, reader, where_) = post(peer, &request, transfer_timeout(expected_bytes))?;
    if status != 200 {
        let reply = parse_reply(status, &read_whole(reader, &where_)?, &where_)?;
        return Err(unexpected(&reply));
    }
    match envelope::read_pull_reply(reader) {
        Ok(PullReply::Story(read)) => {
            (*read).map_err(|e| SyncError::Peer(format!("The story sent could not be read: {e}")))
        }
        Ok(PullReply::Refused(message)) => Err(SyncError::Refused(message)),
        Ok(PullReply::Other(kind)) => Err(SyncError::Peer(format!(
            "The peer answered with “{kind}”, which does not fit the request."
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(SyncError::Peer(format!(
            "{where_} sent a reply Fabula could not read: {e}"
        ))),
        Err(e) => Err(SyncError::Peer(format!("{where_} stopped sending: {e}"))),
    }
}

/// Sends a story; returns the peer's message.
pub fn push(peer: &Peer, bundle: &StoryBundle) -> Result<String, SyncError> {
    let body = super::envelope::push_body(&peer.token, bundle)
        .map_err(|e| SyncError::Peer(e.to_string()))?;
    let timeout = transfer_timeout(body.len() as u64);
    match send(peer, &body, timeout)? {
        SyncResponse::Success { message } => Ok(message),
        other => Err(unexpected(&other)),
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
    SyncError::Peer(format!(
        "The peer answered with {kind}, which does not fit the request."
    ))
}
