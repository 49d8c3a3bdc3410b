//! The one JSON lexer: finding where values end in a byte stream without parsing them, so each
//! one can be handed whole to serde_json's slice parser; walking an object's members; and reading
//! a JSON string's text unescaped as a stream. `.avt` files and sync messages both read with it.
//!
//! serde_json reads an `io::Read` one byte at a time; parsing a slice is several times faster.
//! A story file is mostly its entries: the reader takes them one at a time into a reused buffer,
//! which keeps the slice parser's speed while only one entry is ever held as text.
//! The scan only tracks strings and nesting; whether the bytes are valid JSON is the parser's
//! business once it has them.

use std::io::{self, BufRead};

/// Why a scan stopped.
#[derive(Debug)]
pub enum ScanError {
    Io(io::Error),
    /// The input ended inside a value or before one.
    Eof,
    /// A byte that cannot be here.
    Unexpected(u8),
    /// A key (or another short string) longer than `KEY_LIMIT`: nobody writes one; a peer
    /// sending one is stopped before it fills memory.
    TooLong,
    /// A string whose escapes or bytes are not JSON's.
    BadString(String),
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

/// For readers that speak `io::Error` (the sync envelope): the end of input is `UnexpectedEof`,
/// anything unreadable `InvalidData`.
impl From<ScanError> for io::Error {
    fn from(e: ScanError) -> Self {
        match e {
            ScanError::Io(e) => e,
            ScanError::Eof => {
                io::Error::new(io::ErrorKind::UnexpectedEof, "the message ends early")
            }
            ScanError::Unexpected(b) => io::Error::new(
                io::ErrorKind::InvalidData,
                format!("'{}' where it cannot be", b.escape_ascii()),
            ),
            ScanError::TooLong => {
                io::Error::new(io::ErrorKind::InvalidData, "a key or token is too long")
            }
            ScanError::BadString(why) => io::Error::new(io::ErrorKind::InvalidData, why),
        }
    }
}

/// The longest key (or token, or type name) read whole as a string.
pub const KEY_LIMIT: usize = 64 * 1024;

/// Where the bytes of a value go: kept, or dropped when the value is skipped.
trait Keep {
    fn keep(&mut self, bytes: &[u8]);
}

impl Keep for Vec<u8> {
    fn keep(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

struct Drop;

impl Keep for Drop {
    fn keep(&mut self, _: &[u8]) {}
}

/// A buffered byte stream, scanned value by value.
pub struct Scanner<R: BufRead> {
    inner: R,
}

impl<R: BufRead> Scanner<R> {
    pub fn new(inner: R) -> Self {
        Self { inner }
    }

    /// The bytes buffered and not read yet (refilled when empty).
    pub(super) fn buffered(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    /// The reader, positioned at the next unread byte (for parsing one value from the stream).
    pub fn reader(&mut self) -> &mut R {
        &mut self.inner
    }

    pub(super) fn consume(&mut self, n: usize) {
        self.inner.consume(n);
    }

    /// The next byte, read; the end of input is `Eof`.
    pub(super) fn next_byte(&mut self) -> Result<u8, ScanError> {
        let b = *self.inner.fill_buf()?.first().ok_or(ScanError::Eof)?;
        self.consume(1);
        Ok(b)
    }

    /// The next byte that is not whitespace, left unread; `None` at the end of the input.
    pub fn peek_token(&mut self) -> Result<Option<u8>, ScanError> {
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => {
                    let b = buf[i];
                    self.consume(i);
                    return Ok(Some(b));
                }
                None => {
                    let n = buf.len();
                    self.consume(n);
                }
            }
        }
    }

    /// Reads the next non-whitespace byte, which must be `want`.
    pub fn expect(&mut self, want: u8) -> Result<(), ScanError> {
        match self.peek_token()? {
            Some(b) if b == want => {
                self.consume(1);
                Ok(())
            }
            Some(found) => Err(ScanError::Unexpected(found)),
            None => Err(ScanError::Eof),
        }
    }

    /// Reads one of `choices` (after whitespace) and says which.
    pub fn one_of(&mut self, choices: &[u8]) -> Result<u8, ScanError> {
        match self.peek_token()? {
            Some(b) if choices.contains(&b) => {
                self.consume(1);
                Ok(b)
            }
            Some(found) => Err(ScanError::Unexpected(found)),
            None => Err(ScanError::Eof),
        }
    }

    /// Appends the bytes of the next value (after whitespace) to `out`.
    pub fn take_value(&mut self, out: &mut Vec<u8>) -> Result<(), ScanError> {
        self.value_into(out)
    }

    /// Reads past the next value (after whitespace), keeping none of it.
    pub fn skip_value(&mut self) -> Result<(), ScanError> {
        self.value_into(&mut Drop)
    }

    fn value_into(&mut self, out: &mut impl Keep) -> Result<(), ScanError> {
        let first = self.peek_token()?.ok_or(ScanError::Eof)?;
        match first {
            b'"' => self.take_string(out, usize::MAX),
            b'{' | b'[' => self.take_nested(out),
            b',' | b':' | b'}' | b']' => Err(ScanError::Unexpected(first)),
            _ => self.take_scalar(out),
        }
    }

    /// The next value, a string of at most `KEY_LIMIT` bytes, as its text.
    pub fn short_string(&mut self) -> Result<String, ScanError> {
        match self.peek_token()? {
            Some(b'"') => {}
            Some(b) => return Err(ScanError::Unexpected(b)),
            None => return Err(ScanError::Eof),
        }
        let mut raw = Vec::new();
        self.take_string(&mut raw, KEY_LIMIT)?;
        serde_json::from_slice(&raw).map_err(|e| ScanError::BadString(e.to_string()))
    }

    /// The members of the object that is next, from its `{` to its `}`: `member` gets each key
    /// and the first byte of its value (unread), and must read or skip the value.
    pub fn members<E: From<ScanError>>(
        &mut self,
        mut member: impl FnMut(&mut Self, String, u8) -> Result<(), E>,
    ) -> Result<(), E> {
        self.expect(b'{')?;
        if self.peek_token()? == Some(b'}') {
            self.consume(1);
            return Ok(());
        }
        loop {
            let key = self.short_string()?;
            self.expect(b':')?;
            let first = self.peek_token()?.ok_or(ScanError::Eof)?;
            member(self, key, first)?;
            if self.one_of(b",}")? == b'}' {
                return Ok(());
            }
        }
    }

    /// A string, quotes included; the opening quote is next. More than `limit` bytes is `TooLong`.
    fn take_string(&mut self, out: &mut impl Keep, limit: usize) -> Result<(), ScanError> {
        out.keep(b"\"");
        self.consume(1);
        let mut taken = 1usize;
        let mut escaped = false;
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Err(ScanError::Eof);
            }
            let mut from = 0;
            if escaped {
                // The byte after a backslash is never the closing quote.
                from = 1;
                escaped = false;
            }
            let end = match memchr::memchr2(b'"', b'\\', &buf[from..]) {
                Some(i) if buf[from + i] == b'"' => {
                    let end = from + i + 1;
                    out.keep(&buf[..end]);
                    self.consume(end);
                    return Ok(());
                }
                Some(i) => {
                    // A backslash: it and the byte after it are the string's, whatever they are.
                    let end = from + i + 1;
                    if end < buf.len() {
                        end + 1
                    } else {
                        escaped = true;
                        end
                    }
                }
                None => buf.len(),
            };
            taken = taken.saturating_add(end);
            if taken > limit {
                return Err(ScanError::TooLong);
            }
            out.keep(&buf[..end]);
            self.consume(end);
        }
    }

    /// An object or array, up to its matching close; strings inside are skipped whole.
    fn take_nested(&mut self, out: &mut impl Keep) -> Result<(), ScanError> {
        let mut depth = 0usize;
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Err(ScanError::Eof);
            }
            let mut i = 0;
            let mut string_next = false;
            while let Some(&b) = buf.get(i) {
                match b {
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            out.keep(&buf[..=i]);
                            self.consume(i + 1);
                            return Ok(());
                        }
                    }
                    b'"' => {
                        string_next = true;
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
            out.keep(&buf[..i]);
            self.consume(i);
            if string_next {
                self.take_string(out, usize::MAX)?;
            }
        }
    }

    /// A number, `true`, `false` or `null`: up to the next delimiter.
    fn take_scalar(&mut self, out: &mut impl Keep) -> Result<(), ScanError> {
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            match buf
                .iter()
                .position(|b| b.is_ascii_whitespace() || b",:{}[]\"".contains(b))
            {
                Some(i) => {
                    out.keep(&buf[..i]);
                    self.consume(i);
                    return Ok(());
                }
                None => {
                    let n = buf.len();
                    out.keep(buf);
                    self.consume(n);
                }
            }
        }
    }

    /// Plain string bytes (no quote, no backslash) copied straight from the buffer into `out`.
    pub(super) fn plain_run(&mut self, out: &mut [u8]) -> Result<usize, ScanError> {
        if out.is_empty() {
            return Ok(0);
        }
        let buf = self.inner.fill_buf()?;
        let window = &buf[..buf.len().min(out.len())];
        let run = memchr::memchr2(b'"', b'\\', window).unwrap_or(window.len());
        out[..run].copy_from_slice(&buf[..run]);
        self.consume(run);
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Read;

    fn values(text: &[u8], buffer: usize) -> Result<Vec<String>, String> {
        let mut scanner = Scanner::new(io::BufReader::with_capacity(buffer, text));
        let mut found = Vec::new();
        scanner.expect(b'[').map_err(|e| format!("{e:?}"))?;
        if scanner.peek_token().map_err(|e| format!("{e:?}"))? == Some(b']') {
            return Ok(found);
        }
        loop {
            let mut out = Vec::new();
            scanner.take_value(&mut out).map_err(|e| format!("{e:?}"))?;
            found.push(String::from_utf8_lossy(&out).into_owned());
            if scanner.one_of(b",]").map_err(|e| format!("{e:?}"))? == b']' {
                return Ok(found);
            }
        }
    }

    #[test]
    fn values_end_where_json_says_they_do() {
        let text = br#"[ {"a":"}\"]","b":[1,{"c":"\\"}]} ,"x\\\"y", 12.5e3,true , null,[] ]"#;
        for buffer in [1, 2, 3, 7, 64] {
            assert_eq!(
                values(text, buffer).expect("scanned"),
                [
                    r#"{"a":"}\"]","b":[1,{"c":"\\"}]}"#,
                    r#""x\\\"y""#,
                    "12.5e3",
                    "true",
                    "null",
                    "[]"
                ],
                "buffer of {buffer}"
            );
        }
    }

    fn scanner(text: &[u8], buffer: usize) -> Scanner<io::BufReader<&[u8]>> {
        Scanner::new(io::BufReader::with_capacity(buffer, text))
    }

    #[test]
    fn members_give_each_key_and_skipped_values_leave_the_rest_in_place() {
        let text = br#" { "a" : [1,{"x":"]"}], "k\u00e9y":"v", "n":-2.5e1 ,"o":{} } tail"#;
        for buffer in [1, 2, 5, 64] {
            let mut scan = scanner(text, buffer);
            let mut seen = Vec::new();
            scan.members(|scan, key, first| {
                match key.as_str() {
                    "kéy" => seen.push(format!("{key}={}", scan.short_string()?)),
                    _ => {
                        seen.push(format!("{key}:{}", first as char));
                        scan.skip_value()?;
                    }
                }
                Ok::<_, ScanError>(())
            })
            .expect("members");
            assert_eq!(seen, ["a:[", "kéy=v", "n:-", "o:{"], "buffer of {buffer}");
            assert_eq!(scan.peek_token().expect("tail"), Some(b't'));
        }
        let mut empty = scanner(b"{}", 1);
        let mut called = false;
        empty
            .members(|_, _, _| {
                called = true;
                Ok::<_, ScanError>(())
            })
            .expect("empty object");
        assert!(!called);
        let missing_colon = scanner(br#"{"a" 1}"#, 3).members(|s, _, _| s.skip_value());
        assert!(matches!(missing_colon, Err(ScanError::Unexpected(b'1'))));
    }

    #[test]
    fn a_key_longer_than_the_limit_is_refused_before_it_is_all_read() {
        let mut text = b"\"".to_vec();
        text.extend(std::iter::repeat_n(b'k', KEY_LIMIT * 4));
        text.extend_from_slice(b"\":1");
        let mut scan = scanner(&text, 4096);
        assert!(matches!(scan.short_string(), Err(ScanError::TooLong)));
        let mut left = Vec::new();
        scan.reader().read_to_end(&mut left).expect("rest");
        assert!(
            left.len() > KEY_LIMIT * 2,
            "stopped at the limit, not at the end"
        );
    }

    #[test]
    fn a_cut_value_is_eof() {
        for cut in [
            r#"[{"a":"b"#,
            r#"[{"a":"b\"#,
            r#"[{"a":[1,2"#,
            r#"["x"#,
            "[12",
        ] {
            assert!(
                values(cut.as_bytes(), 2).is_err_and(|e| e.contains("Eof")),
                "{cut}"
            );
        }
        assert!(values(b"[1,,2]", 2).is_err_and(|e| e.contains("Unexpected(44)")));
    }

    proptest! {
        #[test]
        fn every_value_serde_writes_is_found_whole(
            strings in proptest::collection::vec(any::<String>(), 0..6),
            numbers in proptest::collection::vec(any::<i64>(), 0..4),
            buffer in 1usize..40,
        ) {
            let value = serde_json::json!([
                strings,
                {"n": numbers, "s": strings.first()},
                strings.get(1),
                numbers.first(),
            ]);
            let text = serde_json::to_vec(&value).expect("json");
            let found = values(&text, buffer).expect("scanned");
            let parsed: Vec<serde_json::Value> = found
                .iter()
                .map(|v| serde_json::from_str(v).expect("each value parses alone"))
                .collect();
            prop_assert_eq!(serde_json::Value::Array(parsed), value);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = values(&bytes, 5);
        }
    }
}
