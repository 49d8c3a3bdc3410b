//! Server-sent events decoded per the WHATWG rules: CR, LF or CRLF line ends (also split across
//! reads), `data:` lines joined with newlines, `event:`, `id:`, `retry:`, comments, a leading BOM,
//! and UTF-8 split across reads. Bytes never make it panic; bad UTF-8 becomes U+FFFD.

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or "message" when none was given.
    pub event: String,
    pub data: String,
    /// The last event id seen so far in the stream.
    pub id: Option<String>,
}

#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    /// A CR ended the last line; an LF right after it belongs to the same line end.
    after_cr: bool,
    started: bool,
    data: String,
    has_data: bool,
    event: String,
    last_id: Option<String>,
    retry_ms: Option<u64>,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The reconnection time the server asked for, if any.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// Feeds the next bytes of the stream; returns the events completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut events);
                }
                b'\n' => self.end_line(&mut events),
                _ => self.line.push(b),
            }
        }
        events
    }

    fn end_line(&mut self, events: &mut Vec<SseEvent>) {
        let raw = std::mem::take(&mut self.line);
        let mut text = String::from_utf8_lossy(&raw).into_owned();
        if !self.started {
            self.started = true;
            if let Some(rest) = text.strip_prefix('\u{feff}') {
                text = rest.to_owned();
            }
        }
        if text.is_empty() {
            self.dispatch(events);
            return;
        }
        if text.starts_with(':') {
            return;
        }
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_str(), ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        events.push(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<SseEvent> {
        SseDecoder::new().push(input)
    }

    #[test]
    fn joins_data_lines_and_names_events() {
        let events = all(
            b"event: message_start\ndata: {\"a\":\ndata: 1}\n\n: ping comment\ndata: [DONE]\n\n",
        );
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].event, "message_start");
        assert_eq!(events[0].data, "{\"a\":\n1}");
        assert_eq!(events[1].event, "message");
        assert_eq!(events[1].data, "[DONE]");
    }

    #[test]
    fn crlf_cr_and_lf_all_end_lines_and_bom_is_dropped() {
        let lf = all(b"data: x\n\n");
        assert_eq!(all(b"\xEF\xBB\xBFdata: x\r\n\r\n"), lf);
        assert_eq!(all(b"data: x\r\r"), lf);
        // CRLF split between two reads is one line end, not two.
        let mut d = SseDecoder::new();
        let mut got = d.push(b"data: x\r");
        got.extend(d.push(b"\ndata: y\r\n\r\n"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data, "x\ny");
    }

    #[test]
    fn fields_follow_the_spec() {
        let events =
            all(b"id: 7\nretry: 1500\ndata\n\nretry: soon\nid: a\0b\ndata:  two spaces\n\n");
        assert_eq!(
            events[0].data, "",
            "a bare `data` line is an empty data line"
        );
        assert_eq!(events[0].id.as_deref(), Some("7"));
        assert_eq!(
            events[1].data, " two spaces",
            "only one leading space is removed"
        );
        assert_eq!(
            events[1].id.as_deref(),
            Some("7"),
            "an id with NUL is ignored"
        );
        let mut d = SseDecoder::new();
        d.push(b"retry: 1500\nretry: soon\n");
        assert_eq!(d.retry_ms(), Some(1500));
    }

    #[test]
    fn an_event_without_data_or_an_unfinished_one_is_not_dispatched() {
        assert!(all(b"event: ping\n\n").is_empty());
        assert!(all(b"data: never finished\n").is_empty());
    }

    #[test]
    fn utf8_split_across_reads_survives() {
        let text = "data: café ☕ 你好\n\n".as_bytes();
        let mut d = SseDecoder::new();
        let mut got = Vec::new();
        for b in text {
            got.extend(d.push(std::slice::from_ref(b)));
        }
        assert_eq!(got[0].data, "café ☕ 你好");
    }
}
