//! Writing sync messages in one pass: a story escaped into a JSON string as it is serialized, sent\nin HTTP chunks.

use crate::domain::{BundleEntry as StoryEntryRow, StoryBundle};
use crate::formats::avt;
use std::io::{self, Write};

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
