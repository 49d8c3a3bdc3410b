//! Import and export: the original app's `.avt` exchange file, and Markdown or plain-text manuscripts.

pub mod avt;
mod keyed;
pub mod scan;
pub mod text;
mod unescape;

use std::io::{Read, Write};
use std::path::Path;

use crate::domain::{FileFormat, StoryBundle};

/// Why a file could not be read or written, in words that name the problem.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{0}")]
    Invalid(String),
    #[error("The file could not be read or written: {0}")]
    Io(#[from] std::io::Error),
    /// Whoever took the parts of a file (see `avt::read_parts`) stopped taking them.
    #[error("The reading was stopped before the end of the file.")]
    Stopped,
}

impl FormatError {
    /// As `from_json`, for a value parsed on its own: `place` says which (its line and column
    /// count from that value's start).
    pub fn from_json_in(e: serde_json::Error, place: &str) -> Self {
        match Self::from_json(e) {
            FormatError::Invalid(message) => {
                let (message, end) = match message.strip_suffix('.') {
                    Some(m) => (m, "."),
                    None => (message.as_str(), ""),
                };
                FormatError::Invalid(format!("{message} (in {place}){end}"))
            }
            other => other,
        }
    }

    /// serde_json's message already says what and where (line and column); say which kind it is.
    pub fn from_json(e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        match e.classify() {
            Category::Io => FormatError::Invalid(format!("The file could not be read: {e}")),
            Category::Eof => {
                FormatError::Invalid(format!("The file ends too early; it may be cut off ({e})."))
            }
            Category::Syntax => FormatError::Invalid(format!("The file is not valid JSON ({e}).")),
            Category::Data => {
                FormatError::Invalid(format!("The file is JSON but not a story file: {e}."))
            }
        }
    }
}

/// Counts the bytes read through it, reporting every `every` bytes (for progress bars).
pub struct ProgressReader<R, F> {
    inner: R,
    read: u64,
    reported: u64,
    every: u64,
    on_progress: F,
}

impl<R: Read, F: FnMut(u64)> ProgressReader<R, F> {
    pub fn new(inner: R, every: u64, on_progress: F) -> Self {
        Self {
            inner,
            read: 0,
            reported: 0,
            every: every.max(1),
            on_progress,
        }
    }
}

impl<R: Read, F: FnMut(u64)> Read for ProgressReader<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read - self.reported >= self.every || n == 0 {
            self.reported = self.read;
            (self.on_progress)(self.read);
        }
        Ok(n)
    }
}

/// Writes the story to `path` as `format`, next to it first and then renamed, so a failed export
/// never leaves half a file behind. `with_lore` adds the lorebook to Markdown and text.
pub fn write_story_file(
    bundle: &StoryBundle,
    format: FileFormat,
    with_lore: bool,
    path: &Path,
) -> Result<(), FormatError> {
    write_atomically(path, |file| match format {
        FileFormat::Avt => avt::write(bundle, file),
        FileFormat::Markdown | FileFormat::Text => {
            let flavour = if format == FileFormat::Markdown {
                text::Flavour::Markdown
            } else {
                text::Flavour::Plain
            };
            file.write_all(text::export(bundle, flavour, with_lore).as_bytes())
                .map_err(FormatError::Io)
        }
    })
}

/// As `write_story_file`, from the story's head and its entries as they are read: an `.avt` file
/// is written entry by entry and never holds the story whole (Markdown and text still gather it).
pub fn write_story_file_streamed(
    head: StoryBundle,
    entries: &mut dyn Iterator<Item = crate::domain::BundleEntry>,
    format: FileFormat,
    with_lore: bool,
    path: &Path,
) -> Result<(), FormatError> {
    match format {
        FileFormat::Avt => write_atomically(path, |file| {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
            avt::write_streamed(
                head,
                entries,
                &mut out,
                serde_json::ser::PrettyFormatter::new(),
            )?;
            out.flush().map_err(FormatError::Io)
        }),
        FileFormat::Markdown | FileFormat::Text => {
            let bundle = StoryBundle {
                entries: entries.collect(),
                ..head
            };
            write_story_file(&bundle, format, with_lore, path)
        }
    }
}

/// Writes `path` through a file beside it that is synced and renamed only when whole.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let partial = path.with_extension("partial");
    let written = (|| {
        let mut file = std::fs::File::create(&partial)?;
        write(&mut file)?;
        file.sync_all()?;
        std::fs::rename(&partial, path)?;
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}
