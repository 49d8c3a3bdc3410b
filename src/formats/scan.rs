//! Finding where JSON values end in a byte stream, without parsing them, so each one can be
//! handed whole to serde_json's slice parser.
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
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

/// A buffered byte stream, scanned value by value.
pub struct Scanner<R: BufRead> {
    inner: R,
}

impl<R: BufRead> Scanner<R> {
    pub fn new(inner: R) -> Self {
        Self { inner }
    }

    /// The reader, positioned at the next unread byte (for parsing one value from the stream).
    pub fn reader(&mut self) -> &mut R {
        &mut self.inner
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
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
        let first = self.peek_token()?.ok_or(ScanError::Eof)?;
        match first {
            b'"' => self.take_string(out),
            b'{' | b'[' => self.take_nested(out),
            b',' | b':' | b'}' | b']' => Err(ScanError::Unexpected(first)),
            _ => self.take_scalar(out),
        }
    }

    /// A string, quotes included; the opening quote is next.
    fn take_string(&mut self, out: &mut Vec<u8>) -> Result<(), ScanError> {
        out.push(b'"');
        self.consume(1);
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
            match memchr::memchr2(b'"', b'\\', &buf[from..]) {
                Some(i) if buf[from + i] == b'"' => {
                    let end = from + i + 1;
                    out.extend_from_slice(&buf[..end]);
                    self.consume(end);
                    return Ok(());
                }
                Some(i) => {
                    // A backslash: it and the byte after it are the string's, whatever they are.
                    let end = from + i + 1;
                    if end < buf.len() {
                        out.extend_from_slice(&buf[..=end]);
                        self.consume(end + 1);
                    } else {
                        out.extend_from_slice(&buf[..end]);
                        self.consume(end);
                        escaped = true;
                    }
                }
                None => {
                    let n = buf.len();
                    out.extend_from_slice(buf);
                    self.consume(n);
                }
            }
        }
    }

    /// An object or array, up to its matching close; strings inside are skipped whole.
    fn take_nested(&mut self, out: &mut Vec<u8>) -> Result<(), ScanError> {
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
                            out.extend_from_slice(&buf[..=i]);
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
            out.extend_from_slice(&buf[..i]);
            self.consume(i);
            if string_next {
                self.take_string(out)?;
            }
        }
    }

    /// A number, `true`, `false` or `null`: up to the next delimiter.
    fn take_scalar(&mut self, out: &mut Vec<u8>) -> Result<(), ScanError> {
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
                    out.extend_from_slice(&buf[..i]);
                    self.consume(i);
                    return Ok(());
                }
                None => {
                    let n = buf.len();
                    out.extend_from_slice(buf);
                    self.consume(n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
