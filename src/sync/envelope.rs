//! Reading and writing sync messages without holding a story twice: the story inside a push is a
//! JSON string holding JSON, so it is unescaped on the fly into the `.avt` reader, and a pulled
//! story is escaped on the fly into the reply, chunk by chunk.

use std::io::{self, BufRead, BufReader, Read, Write};

use crate::domain::{BundleEntry as StoryEntryRow, StoryBundle};
use crate::formats::{FormatError, avt};

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

struct Bytes<R: Read> {
    inner: BufReader<R>,
    peeked: Option<u8>,
}

fn malformed(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

impl<R: Read> Bytes<R> {
    fn new(body: R) -> Self {
        Self {
            inner: BufReader::with_capacity(1 << 16, body),
            peeked: None,
        }
    }

    fn next(&mut self) -> io::Result<u8> {
        if let Some(b) = self.peeked.take() {
            return Ok(b);
        }
        let b = match self.inner.fill_buf()?.first() {
            Some(b) => *b,
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the message ends early",
                ));
            }
        };
        self.inner.consume(1);
        Ok(b)
    }

    /// Copies plain string bytes (no quote, no backslash) straight from the buffer into `out`.
    fn plain_run(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.peeked.is_some() || out.is_empty() {
            return Ok(0);
        }
        let buf = self.inner.fill_buf()?;
        let window = &buf[..buf.len().min(out.len())];
        let run = memchr::memchr2(b'"', b'\\', window).unwrap_or(window.len());
        out[..run].copy_from_slice(&buf[..run]);
        self.inner.consume(run);
        Ok(run)
    }

    fn peek(&mut self) -> io::Result<u8> {
        let b = self.next()?;
        self.peeked = Some(b);
        Ok(b)
    }

    fn token(&mut self) -> io::Result<u8> {
        loop {
            let b = self.next()?;
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Ok(b);
            }
        }
    }

    fn expect_byte(&mut self, want: u8) -> io::Result<()> {
        let got = self.token()?;
        if got == want {
            Ok(())
        } else {
            Err(malformed(format!(
                "expected '{}' but found '{}'",
                want as char,
                got.escape_ascii()
            )))
        }
    }

    /// A short string (a key, the token, a type); the opening quote is already read.
    fn string(&mut self) -> io::Result<String> {
        let mut raw = vec![b'"'];
        loop {
            let b = self.next()?;
            raw.push(b);
            match b {
                b'\\' => raw.push(self.next()?),
                b'"' => break,
                _ => {}
            }
            if raw.len() > 64 * 1024 {
                return Err(malformed("a key or token is too long"));
            }
        }
        serde_json::from_slice(&raw).map_err(|e| malformed(e.to_string()))
    }

    /// Skips one value whose first byte is `first`.
    fn skip(&mut self, first: u8) -> io::Result<()> {
        match first {
            b'"' => loop {
                match self.next()? {
                    b'\\' => {
                        self.next()?;
                    }
                    b'"' => return Ok(()),
                    _ => {}
                }
            },
            b'{' | b'[' => {
                let mut depth = 1usize;
                while depth > 0 {
                    match self.next()? {
                        b'"' => self.skip(b'"')?,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        _ => {}
                    }
                }
                Ok(())
            }
            _ => {
                // A number or a literal: it ends before the next delimiter.
                while !matches!(
                    self.peek()?,
                    b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                ) {
                    self.next()?;
                }
                Ok(())
            }
        }
    }
}

/// The content of a JSON string, unescaped as it is read; ends at the closing quote.
struct Unescape<'a, R: Read> {
    bytes: &'a mut Bytes<R>,
    pending: Vec<u8>,
    done: bool,
}

impl<R: Read> Unescape<'_, R> {
    fn hex4(&mut self) -> io::Result<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = (self.bytes.next()? as char)
                .to_digit(16)
                .ok_or_else(|| malformed("a bad \\u escape"))?;
            v = v * 16 + d;
        }
        Ok(v)
    }

    fn escape(&mut self) -> io::Result<()> {
        let c = match self.bytes.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    if self.bytes.next()? != b'\\' || self.bytes.next()? != b'u' {
                        return Err(malformed("a lone surrogate in a \\u escape"));
                    }
                    let second = self.hex4()?;
                    0x10000 + ((first - 0xD800) << 10) + (second.wrapping_sub(0xDC00) & 0x3FF)
                } else {
                    first
                };
                char::from_u32(code).ok_or_else(|| malformed("a bad \\u escape"))?
            }
            other => {
                return Err(malformed(format!(
                    "an unknown escape \\{}",
                    other.escape_ascii()
                )));
            }
        };
        let mut buf = [0u8; 4];
        self.pending
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }
}

impl<R: Read> Read for Unescape<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            if !self.pending.is_empty() {
                let take = self.pending.len().min(out.len() - n);
                out[n..n + take].copy_from_slice(&self.pending[..take]);
                self.pending.drain(..take);
                n += take;
                continue;
            }
            if self.done {
                break;
            }
            let run = self.bytes.plain_run(&mut out[n..])?;
            if run > 0 {
                n += run;
                continue;
            }
            match self.bytes.next()? {
                b'"' => self.done = true,
                b'\\' => self.escape()?,
                b => {
                    out[n] = b;
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

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
    let mut bytes = Bytes::new(body);
    let (mut token, mut asked) = (None, None);
    bytes.expect_byte(b'{')?;
    bytes.members(|bytes, key, first| {
        match (key, first) {
            ("token", b'"') => {
                let given = bytes.string()?;
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
            _ => bytes.skip(first)?,
        }
        Ok(())
    })?;
    Ok(Envelope {
        token: token.ok_or_else(|| malformed("missing field `token`"))?,
        asked: asked.ok_or_else(|| malformed("missing field `action`"))?,
    })
}

impl<R: Read> Bytes<R> {
    fn peek_token(&mut self) -> io::Result<u8> {
        let b = self.token()?;
        self.peeked = Some(b);
        Ok(b)
    }

    /// The members of an object whose `{` is already read, up to and including its `}`: `member`
    /// gets each key and the first byte of its value, and must read or skip the value.
    fn members(
        &mut self,
        mut member: impl FnMut(&mut Self, &str, u8) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.peek_token()? == b'}' {
            self.token()?;
            return Ok(());
        }
        loop {
            self.expect_byte(b'"')?;
            let key = self.string()?;
            self.expect_byte(b':')?;
            let first = self.token()?;
            member(self, &key, first)?;
            match self.token()? {
                b',' => continue,
                b'}' => return Ok(()),
                other => {
                    return Err(malformed(format!(
                        "expected ',' or '}}' but found '{}'",
                        other.escape_ascii()
                    )));
                }
            }
        }
    }
}

/// The action object; a story in it goes to `take_story` when there is one (the token is verified).
fn read_action<R: Read, T>(
    bytes: &mut Bytes<R>,
    mut take_story: Option<TakeStory<'_, T>>,
) -> io::Result<Asked<T>> {
    let (mut kind, mut story_id, mut story) = (None, None, None);
    bytes.members(|bytes, key, first| {
        match (key, first) {
            ("type", b'"') => kind = Some(bytes.string()?),
            ("story_id", b'"') => story_id = Some(bytes.string()?),
            ("story_data", b'"') => {
                story = Some(match take_story.as_mut() {
                    Some(take) => Pushed::Taken(read_embedded(bytes, &mut **take)?),
                    None => Pushed::Read(Box::new(read_embedded(bytes, &mut |r| avt::read(r))?)),
                });
            }
            _ => bytes.skip(first)?,
        }
        Ok(())
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
    let mut bytes = Bytes::new(body);
    let (mut kind, mut message, mut story) = (None, None, None);
    bytes.expect_byte(b'{')?;
    bytes.members(|bytes, key, first| {
        match (key, first) {
            ("type", b'"') => kind = Some(bytes.string()?),
            ("message", b'"') => message = Some(bytes.string()?),
            ("data", b'"') => story = Some(read_embedded(bytes, &mut *take_story)?),
            _ => bytes.skip(first)?,
        }
        Ok(())
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

/// A story sent as a JSON string, read by `take` through its unescaping; the opening quote is
/// read. Whatever `take` leaves of the string (all of it, when the story fails half way) is read
/// to its end, so the message goes on after it.
fn read_embedded<R: Read, T>(
    bytes: &mut Bytes<R>,
    take: &mut dyn FnMut(&mut dyn Read) -> T,
) -> io::Result<T> {
    let mut inner = Unescape {
        bytes,
        pending: Vec::new(),
        done: false,
    };
    let taken = take(&mut inner);
    io::copy(&mut inner, &mut io::sink())?;
    Ok(taken)
}

/// Writes the body of a chunked HTTP reply, one chunk per buffer-full.
pub struct Chunked<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> Chunked<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(1 << 16),
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            write!(self.inner, "{:x}\r\n", self.buf.len())?;
            self.inner.write_all(&self.buf)?;
            self.inner.write_all(b"\r\n")?;
            self.buf.clear();
        }
        Ok(())
    }

    /// The last chunk; the reply is complete after this.
    pub fn finish(mut self) -> io::Result<()> {
        self.emit()?;
        self.inner.write_all(b"0\r\n\r\n")?;
        self.inner.flush()
    }
}

impl<W: Write> Write for Chunked<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 1 << 16 {
            self.emit()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.emit()?;
        self.inner.flush()
    }
}

/// Writes compact JSON already escaped as the inside of a JSON string, in one pass (writing the
/// JSON and then escaping it went over every byte of a story twice). Only strings need it: their
/// quotes and escapes are the only `"` and `\\` compact JSON has, and the runs between escapes
/// contain neither.
struct InsideString;

impl serde_json::ser::Formatter for InsideString {
    fn begin_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\\\"")
    }

    fn end_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\\\"")
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        escape: serde_json::ser::CharEscape,
    ) -> io::Result<()> {
        use serde_json::ser::CharEscape;
        // The inner escape (`\n`), with its backslash escaped for the outer string (`\\n`).
        let letter = match escape {
            CharEscape::Quote => return writer.write_all(b"\\\\\\\""),
            CharEscape::ReverseSolidus => return writer.write_all(b"\\\\\\\\"),
            CharEscape::AsciiControl(byte) => {
                return write!(writer, "\\\\u{byte:04x}");
            }
            CharEscape::Solidus => b'/',
            CharEscape::Backspace => b'b',
            CharEscape::FormFeed => b'f',
            CharEscape::LineFeed => b'n',
            CharEscape::CarriageReturn => b'r',
            CharEscape::Tab => b't',
        };
        writer.write_all(&[b'\\', b'\\', letter])
    }
}

/// Serializes `value` as the inside of a JSON string.
#[cfg(test)]
fn write_inside_string(value: &impl serde::Serialize, out: impl Write) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, InsideString);
    value.serialize(&mut serializer).map_err(io::Error::other)
}

/// The body of a push, `{"token":…,"action":{"type":"pushStory","story_data":"<story JSON>"}}`,
/// written as it is made: the entries come from `entries` one at a time and are escaped straight
/// into `out`.
pub fn write_push_body(
    token: &str,
    head: StoryBundle,
    entries: &mut dyn Iterator<Item = StoryEntryRow>,
    out: impl Write,
) -> io::Result<()> {
    let mut out = out;
    out.write_all(br#"{"token":"#)?;
    serde_json::to_writer(&mut out, token).map_err(io::Error::other)?;
    out.write_all(br#","action":{"type":"pushStory","story_data":""#)?;
    avt::write_streamed(head, entries, &mut out, InsideString).map_err(io::Error::other)?;
    out.write_all(b"\"}}")?;
    Ok(())
}

/// `{"type":"storyData","data":"<the story as compact JSON>"}`, written as it is made: the entries
/// come from `entries` one at a time and are escaped straight into `out`.
pub fn write_story_data(
    head: StoryBundle,
    entries: &mut dyn Iterator<Item = StoryEntryRow>,
    out: impl Write,
) -> io::Result<()> {
    let mut out = out;
    out.write_all(br#"{"type":"storyData","data":""#)?;
    avt::write_streamed(head, entries, &mut out, InsideString).map_err(io::Error::other)?;
    out.write_all(b"\"}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn json_written_inside_a_string_reads_back_equal(
            texts in proptest::collection::vec(any::<String>(), 0..4),
            controls in "[ a-z\"\\\\/\n\r\t\u{0}\u{8}\u{c}\u{1f}\u{7f}é🐉]{0,40}",
            number in any::<i64>(),
        ) {
            let value = serde_json::json!({
                "texts": texts,
                controls.clone(): [controls, number, null, true, 1.5],
                "nested": {"empty": {}, "list": []},
            });
            let mut out = b"\"".to_vec();
            write_inside_string(&value, &mut out).expect("write");
            out.push(b'"');
            let inner: String = serde_json::from_slice(&out).expect("a valid JSON string");
            prop_assert_eq!(&inner, &serde_json::to_string(&value).expect("compact"));
            let back: serde_json::Value = serde_json::from_str(&inner).expect("valid JSON inside");
            prop_assert_eq!(back, value);
        }
    }
}
