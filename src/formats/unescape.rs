//! A JSON string's text unescaped as it is read, for a story sent inside a JSON string: never
//! held whole, one-character escapes taken straight from the buffer.

use std::io::{self, BufRead, Read};

use super::scan::{ScanError, Scanner};

impl<R: BufRead> Scanner<R> {
    /// The text of the string that is next, unescaped as it is read: for a story sent inside a
    /// JSON string, which is never held whole. Read it to its end to go on after the string.
    pub fn string_reader(&mut self) -> Result<Unescape<'_, R>, ScanError> {
        self.expect(b'"')?;
        Ok(Unescape::new(self))
    }
}

/// The content of a JSON string, unescaped as it is read; ends at the closing quote.
pub struct Unescape<'a, R: BufRead> {
    scanner: &'a mut Scanner<R>,
    /// A character an escape stood for, not yet handed out.
    pending: Vec<u8>,
    done: bool,
}

impl<'a, R: BufRead> Unescape<'a, R> {
    /// Reads the string `scanner` is in (its opening quote already taken).
    pub(super) fn new(scanner: &'a mut Scanner<R>) -> Self {
        Self {
            scanner,
            pending: Vec::new(),
            done: false,
        }
    }
}

impl<R: BufRead> Unescape<'_, R> {
    fn hex4(&mut self) -> Result<u32, ScanError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = (self.scanner.next_byte()? as char)
                .to_digit(16)
                .ok_or_else(|| ScanError::BadString("a bad \\u escape".into()))?;
            v = v * 16 + d;
        }
        Ok(v)
    }

    fn escape(&mut self) -> Result<(), ScanError> {
        let bad = |why: &str| ScanError::BadString(why.to_owned());
        let c = match self.scanner.next_byte()? {
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
                    if self.scanner.next_byte()? != b'\\' || self.scanner.next_byte()? != b'u' {
                        return Err(bad("a lone surrogate in a \\u escape"));
                    }
                    let second = self.hex4()?;
                    0x10000 + ((first - 0xD800) << 10) + (second.wrapping_sub(0xDC00) & 0x3FF)
                } else {
                    first
                };
                char::from_u32(code).ok_or_else(|| bad("a bad \\u escape"))?
            }
            other => {
                return Err(ScanError::BadString(format!(
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

    fn read_some(&mut self, out: &mut [u8]) -> Result<usize, ScanError> {
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
            let run = self.scanner.plain_run(&mut out[n..])?;
            if run > 0 {
                n += run;
                continue;
            }
            let buf = self.scanner.buffered()?;
            match buf {
                [] => return Err(ScanError::Eof),
                [b'"', ..] => {
                    self.scanner.consume(1);
                    self.done = true;
                }
                // A story inside a string escapes every quote of its own: the one-character
                // escapes are taken straight from the buffer, not byte by byte.
                [b'\\', escaped, ..] if simple_escape(*escaped).is_some() => {
                    out[n] = simple_escape(*escaped).unwrap_or(*escaped);
                    n += 1;
                    self.scanner.consume(2);
                }
                [b'\\', ..] => {
                    self.scanner.consume(1);
                    self.escape()?;
                }
                [b, ..] => {
                    out[n] = *b;
                    n += 1;
                    self.scanner.consume(1);
                }
            }
        }
        Ok(n)
    }
}

/// The byte a one-character escape (`\n`, `\"` …) stands for; `None` for `\u` and unknown ones.
fn simple_escape(b: u8) -> Option<u8> {
    Some(match b {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        _ => return None,
    })
}

impl<R: BufRead> Read for Unescape<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.read_some(out).map_err(io::Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(text: &[u8], buffer: usize) -> Scanner<io::BufReader<&[u8]>> {
        Scanner::new(io::BufReader::with_capacity(buffer, text))
    }

    #[test]
    fn a_string_reads_unescaped_as_a_stream_and_the_scan_goes_on_after_it() {
        let text = br#""a\"b\\c\n\u00e9\ud83d\udc09 \/end" , 7"#;
        for buffer in [1, 2, 3, 64] {
            let mut scan = scanner(text, buffer);
            let mut out = String::new();
            let mut reader = scan.string_reader().expect("a string");
            // One byte at a time as well as in one go: escapes split across reads.
            let mut byte = [0u8; 1];
            let mut bytes = Vec::new();
            while reader.read(&mut byte).expect("read") == 1 {
                bytes.push(byte[0]);
            }
            out.push_str(std::str::from_utf8(&bytes).expect("utf-8"));
            assert_eq!(out, "a\"b\\c\né🐉 /end", "buffer of {buffer}");
            assert_eq!(scan.one_of(b",").expect("comma"), b',');
        }
        for bad in [
            &br#""\ud83d x""#[..],
            br#""\q""#,
            br#""\u12G4""#,
            br#""cut"#,
        ] {
            let mut scan = scanner(bad, 2);
            let mut out = Vec::new();
            let read = scan.string_reader().expect("quote").read_to_end(&mut out);
            assert!(read.is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
