//! Reading and writing sync messages without holding a story twice: the story inside a push is a
//! JSON string holding JSON, so it is unescaped on the fly into the `.avt` reader, and a pulled
//! story is escaped on the fly into the reply, chunk by chunk.

mod write;

pub use write::{Chunked, write_push_body, write_story_data};

use std::io::{self, BufReader, Read};

use crate::domain::StoryBundle;
use crate::formats::scan::Scanner;
use crate::formats::{FormatError, avt};

/// The scanner over a message body, read from the socket in large pieces.
type Bytes<R> = Scanner<BufReader<R>>;

fn scanner<R: Read>(body: R) -> Bytes<R> {
    Scanner::new(BufReader::with_capacity(1 << 16, body))
}

fn malformed(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// What a request asked for; a pushed story is already read.
#[derive(Debug)]
pub enum Asked<T> {
    List,
    Pull(String),
    Push(Box<Pushed<T>>),
}

/// A pushed story, as the request was read.
#[derive(Debug)]
pub enum Pushed<T> {
    /// The token came first, so the story went to the reader's `take_story` as it arrived.
    Taken(T),
    /// The story came before the token: it was read whole, to be taken once the token is known.
    Read(Box<Result<StoryBundle, FormatError>>),
}

#[derive(Debug)]
pub struct Envelope<T> {
    pub token: String,
    pub asked: Asked<T>,
}

/// Reads a pushed story's JSON (see `read_request`).
pub type TakeStory<'a, T> = &'a mut dyn FnMut(&mut dyn Read) -> T;

/// Why a request was not read. Nothing about its content is said to a peer that has not shown the
/// token: a bad token and anything unreadable before it are both `Unauthorized`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    TooLarge(String),
    Unauthorized,
    Malformed(String),
    /// The body did not arrive (too slowly, stalled, or the connection dropped).
    Transport(String),
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::TooLarge(m) | RequestError::Malformed(m) | RequestError::Transport(m) => {
                f.write_str(m)
            }
            RequestError::Unauthorized => f.write_str(super::wire::BAD_TOKEN),
        }
    }
}

pub fn too_large(limit: u64) -> String {
    if limit >= 1 << 20 {
        format!("The message is larger than the {} MiB limit.", limit >> 20)
    } else {
        format!("The message is larger than the {limit}-byte limit.")
    }
}

/// Equal-length comparison that takes the same time wherever the first difference is.
pub fn same_token(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// Reads a request body of at most `limit` bytes. The token is checked the moment it is read: a
/// wrong one ends the reading there. A pushed story after the right token goes to `take_story` as
/// it arrives (to be stored while it is read); one before the token is read into a bundle.
pub fn read_request<T>(
    body: impl Read,
    limit: u64,
    token: &str,
    take_story: TakeStory<'_, T>,
) -> Result<Envelope<T>, RequestError> {
    let mut limited = body.take(limit + 1);
    let mut verified = false;
    let result = read_envelope(
        &mut limited,
        &mut |given| {
            verified = same_token(given, token);
            verified
        },
        take_story,
    );
    if limited.limit() == 0 {
        return Err(RequestError::TooLarge(too_large(limit)));
    }
    result.map_err(|e| match e.kind() {
        io::ErrorKind::PermissionDenied => RequestError::Unauthorized,
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof if verified => {
            RequestError::Malformed(format!("Malformed request: {e}"))
        }
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => RequestError::Unauthorized,
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => RequestError::Transport(
            "The message stopped arriving (no data for too long); send it again.".into(),
        ),
        _ => RequestError::Transport(format!("The message could not be read: {e}")),
    })
}

fn read_envelope<T>(
    body: impl Read,
    check_token: &mut dyn FnMut(&str) -> bool,
    take_story: TakeStory<'_, T>,
) -> io::Result<Envelope<T>> {
    let mut bytes = scanner(body);
    let (mut token, mut asked) = (None, None);
    bytes.members(|bytes, key, first| {
        match (key.as_str(), first) {
            ("token", b'"') => {
                let given = bytes.short_string()?;
                if !check_token(&given) {
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        super::wire::BAD_TOKEN,
                    ));
                }
                token = Some(given);
            }
            ("action", b'{') => {
                let verified = token.is_some();
                asked = Some(read_action(bytes, verified.then_some(&mut *take_story))?);
            }
            ("token" | "action", _) => {
                return Err(malformed(format!("`{key}` has the wrong type")));
            }
            _ => bytes.skip_value()?,
        }
        Ok::<_, io::Error>(())
    })?;
    Ok(Envelope {
        token: token.ok_or_else(|| malformed("missing field `token`"))?,
        asked: asked.ok_or_else(|| malformed("missing field `action`"))?,
    })
}

/// The action object; a story in it goes to `take_story` when there is one (the token is verified).
fn read_action<R: Read, T>(
    bytes: &mut Bytes<R>,
    mut take_story: Option<TakeStory<'_, T>>,
) -> io::Result<Asked<T>> {
    let (mut kind, mut story_id, mut story) = (None, None, None);
    bytes.members(|bytes, key, first| {
        match (key.as_str(), first) {
            ("type", b'"') => kind = Some(bytes.short_string()?),
            ("story_id", b'"') => story_id = Some(bytes.short_string()?),
            ("story_data", b'"') => {
                story = Some(match take_story.as_mut() {
                    Some(take) => Pushed::Taken(read_embedded(bytes, &mut **take)?),
                    None => Pushed::Read(Box::new(read_embedded(bytes, &mut |r| avt::read(r))?)),
                });
            }
            _ => bytes.skip_value()?,
        }
        Ok::<_, io::Error>(())
    })?;
    match kind.as_deref() {
        Some("listStories") => Ok(Asked::List),
        Some("pullStory") => Ok(Asked::Pull(
            story_id.ok_or_else(|| malformed("missing field `story_id`"))?,
        )),
        Some("pushStory") => Ok(Asked::Push(Box::new(
            story.ok_or_else(|| malformed("missing field `story_data`"))?,
        ))),
        Some(other) => Err(malformed(format!("unknown variant `{other}`"))),
        None => Err(malformed("missing field `type`")),
    }
}

/// How a peer answered a pull.
pub enum PullReply<T> {
    /// `storyData`, its story as `take_story` read it.
    Story(T),
    /// `error`, with the peer's message.
    Refused(String),
    /// Any other reply type.
    Other(String),
}

/// Reads the reply to a pull as it arrives: the story inside `data` is unescaped straight into
/// `take_story` (the `.avt` reader, or an import), so it is read while the peer is still sending,
/// and never held as text.
pub fn read_pull_reply<T>(
    body: impl Read,
    take_story: TakeStory<'_, T>,
) -> io::Result<PullReply<T>> {
    let mut bytes = scanner(body);
    let (mut kind, mut message, mut story) = (None, None, None);
    bytes.members(|bytes, key, first| {
        match (key.as_str(), first) {
            ("type", b'"') => kind = Some(bytes.short_string()?),
            ("message", b'"') => message = Some(bytes.short_string()?),
            ("data", b'"') => story = Some(read_embedded(bytes, &mut *take_story)?),
            _ => bytes.skip_value()?,
        }
        Ok::<_, io::Error>(())
    })?;
    match kind.as_deref() {
        Some("storyData") => story
            .map(PullReply::Story)
            .ok_or_else(|| malformed("missing field `data`")),
        Some("error") => Ok(PullReply::Refused(message.unwrap_or_default())),
        Some(other) => Ok(PullReply::Other(other.to_owned())),
        None => Err(malformed("missing field `type`")),
    }
}

/// A story sent as a JSON string, read by `take` through its unescaping. Whatever `take` leaves of the string (all of it, when the story fails half way) is read
/// to its end, so the message goes on after it.
fn read_embedded<R: Read, T>(
    bytes: &mut Bytes<R>,
    take: &mut dyn FnMut(&mut dyn Read) -> T,
) -> io::Result<T> {
    let mut inner = bytes.string_reader()?;
    let taken = take(&mut inner);
    io::copy(&mut inner, &mut io::sink())?;
    Ok(taken)
}
