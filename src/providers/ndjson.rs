//! Newline-delimited JSON (Ollama's stream): one value per line, lines split across reads,
//! CRLF tolerated, blank lines skipped. Yields the line text; the protocol parses it.

#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    line: Vec<u8>,
}

impl NdjsonDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes; returns the complete, non-blank lines they finished.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                if let Some(line) = self.take_line() {
                    lines.push(line);
                }
            } else {
                self.line.push(b);
            }
        }
        lines
    }

    /// The last line when the stream ended without a newline after it.
    pub fn finish(&mut self) -> Option<String> {
        self.take_line()
    }

    fn take_line(&mut self) -> Option<String> {
        let raw = std::mem::take(&mut self.line);
        let text = String::from_utf8_lossy(&raw);
        let text = text.strip_suffix('\r').unwrap_or(&text).trim();
        (!text.is_empty()).then(|| text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_reads_and_skips_blanks() {
        let mut d = NdjsonDecoder::new();
        let mut got = d.push(b"{\"a\":1}\r\n\n{\"b\":");
        got.extend(d.push(b"2}\n{\"done\":true}"));
        assert_eq!(got, vec!["{\"a\":1}", "{\"b\":2}"]);
        assert_eq!(d.finish().as_deref(), Some("{\"done\":true}"));
        assert_eq!(d.finish(), None);
    }
}
