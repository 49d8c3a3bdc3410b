//! The sync client: lists, pulls and pushes stories against a peer running Fabula or the original
//! app. Timeouts start from the original's (10 s to list, 30 s per transfer) and grow with the story.

use std::io::Read;
use std::time::Duration;

use super::SyncError;
use super::server::BODY_LIMIT;
use super::wire::{StoryListing, SyncAction, SyncRequest, SyncResponse};
use crate::domain::StoryBundle;
use crate::formats::avt;

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
fn exchange(
    peer: &Peer,
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, Vec<u8>, String), SyncError> {
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
    // Read whole, then parse the slice: several times faster than parsing through a reader, and
    // the client side is not the one with a memory budget.
    let mut body = Vec::new();
    response
        .into_body()
        .into_with_config()
        .limit(BODY_LIMIT + 4096)
        .reader()
        .read_to_end(&mut body)
        .map_err(|e| SyncError::Peer(format!("{where_} stopped sending: {e}")))?;
    Ok((status, body, where_))
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
    let (status, reply, where_) = exchange(peer, &request, transfer_timeout(expected_bytes))?;
    let unreadable = |e: crate::formats::FormatError| {
        SyncError::Peer(format!("The story sent could not be read: {e}"))
    };
    // The usual reply, as both apps write it, is unescaped in one pass straight into the reader;
    // anything else goes through the general parser.
    if status == 200
        && let Some(story) = story_data_fast(&reply)
    {
        return avt::read_slice(&story).map_err(unreadable);
    }
    match parse_reply(status, &reply, &where_)? {
        SyncResponse::StoryData { data } => avt::read_slice(data.as_bytes()).map_err(unreadable),
        other => Err(unexpected(&other)),
    }
}

/// The unescaped story of a reply that starts `{"type":"storyData","data":"` and ends `"}`.
fn story_data_fast(reply: &[u8]) -> Option<Vec<u8>> {
    let rest = reply.strip_prefix(br#"{"type":"storyData","data":""#)?;
    let end = rest.iter().rposition(|&b| b == b'"')?;
    if rest[end + 1..]
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .ne([b'}'])
    {
        return None;
    }
    let escaped = &rest[..end];
    let mut out = Vec::with_capacity(escaped.len());
    let mut i = 0;
    while i < escaped.len() {
        let run = escaped[i..]
            .iter()
            .position(|&b| b == b'\\' || b == b'"')
            .unwrap_or(escaped.len() - i);
        out.extend_from_slice(&escaped[i..i + run]);
        i += run;
        if i >= escaped.len() {
            break;
        }
        if escaped[i] == b'"' {
            // An unescaped quote inside: not the simple shape after all.
            return None;
        }
        let (c, used) = match escaped.get(i + 1)? {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => {
                let hex = |at: usize| {
                    std::str::from_utf8(escaped.get(at..at + 4)?)
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                let first = hex(i + 2)?;
                if (0xD800..0xDC00).contains(&first) {
                    if escaped.get(i + 6..i + 8)? != b"\\u" {
                        return None;
                    }
                    let second = hex(i + 8)?;
                    let code =
                        0x10000 + ((first - 0xD800) << 10) + (second.checked_sub(0xDC00)? & 0x3FF);
                    (char::from_u32(code)?, 12)
                } else {
                    (char::from_u32(first)?, 6)
                }
            }
            _ => return None,
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        i += used;
    }
    Some(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_unescapes_as_serde_does_or_steps_aside() {
        let inner = "{\"a\":\"quote \\\" tab \t newline \n é 🐉 \\\\ / \u{1}\"}";
        let reply = serde_json::to_string(&SyncResponse::StoryData {
            data: inner.to_owned(),
        })
        .expect("json");
        assert!(
            reply.starts_with(r#"{"type":"storyData","data":""#),
            "{reply}"
        );
        assert_eq!(
            story_data_fast(reply.as_bytes()).as_deref(),
            Some(inner.as_bytes())
        );
        // JavaScript may write \u escapes, surrogate pairs included.
        let js = r#"{"type":"storyData","data":"\ud83d\udc09 caf\u00e9"}"#;
        assert_eq!(
            story_data_fast(js.as_bytes()).as_deref(),
            Some("🐉 café".as_bytes())
        );
        for other in [
            r#"{"data":"x","type":"storyData"}"#,
            r#"{"type":"storyData","data":"a"b"}"#,
            r#"{"type":"storyData","data":"bad \q"}"#,
            r#"{"type":"storyData","data":"x"} trailing"#,
        ] {
            assert_eq!(story_data_fast(other.as_bytes()), None, "{other}");
        }
    }
}
