//! The envelope's byte-level JSON reader: tokens of the sync message read straight from the socket,\nand a story inside a JSON string unescaped on the fly for the .avt reader.

use std::io::{self, BufRead, BufReader, Read};

pub(super) struct Bytes<R: Read> {
    inner: BufReader<R>,
    peeked: Option<u8>,
}

pub(super) fn malformed(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

impl<R: Read> Bytes<R> {
    pub(super) fn new(body: R) -> Self {
        Self {
            inner: BufReader::with_capacity(1 << 16, body),
            peeked: None,
        }
    }

    pub(super) fn next(&mut self) -> io::Result<u8> {
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
    pub(super) fn plain_run(&mut self, out: &mut [u8]) -> io::Result<usize> {
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

    pub(super) fn peek(&mut self) -> io::Result<u8> {
        let b = self.next()?;
        self.peeked = Some(b);
        Ok(b)
    }

    pub(super) fn token(&mut self) -> io::Result<u8> {
        loop {
            let b = self.next()?;
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Ok(b);
            }
        }
    }

    pub(super) fn expect_byte(&mut self, want: u8) -> io::Result<()> {
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
    pub(super) fn string(&mut self) -> io::Result<String> {
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
    pub(super) fn skip(&mut self, first: u8) -> io::Result<()> {
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

impl<R: Read> Bytes<R> {
    pub(super) fn peek_token(&mut self) -> io::Result<u8> {
        let b = self.token()?;
        self.peeked = Some(b);
        Ok(b)
    }

    /// The members of an object whose `{` is already read, up to and including its `}`: `member`
    /// gets each key and the first byte of its value, and must read or skip the value.
    pub(super) fn members(
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

/// The content of a JSON string, unescaped as it is read; ends at the closing quote.
pub(super) struct Unescape<'a, R: Read> {
    bytes: &'a mut Bytes<R>,
    pending: Vec<u8>,
    done: bool,
}

impl<'a, R: Read> Unescape<'a, R> {
    /// Reads the JSON string `bytes` is at (its opening quote already taken) as its text.
    pub(super) fn new(bytes: &'a mut Bytes<R>) -> Self {
        Self {
            bytes,
            pending: Vec::new(),
            done: false,
        }
    }
}

impl<R: Read> Unescape<'_, R> {
    pub(super) fn hex4(&mut self) -> io::Result<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = (self.bytes.next()? as char)
                .to_digit(16)
                .ok_or_else(|| malformed("a bad \\u escape"))?;
            v = v * 16 + d;
        }
        Ok(v)
    }

    pub(super) fn escape(&mut self) -> io::Result<()> {
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
