//! Import and export: the original app's `.avt` exchange file, and Markdown or plain-text manuscripts.

pub mod avt;
pub mod text;

use std::io::Read;

/// Why a file could not be read or written, in words that name the problem.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{0}")]
    Invalid(String),
    #[error("The file could not be read or written: {0}")]
    Io(#[from] std::io::Error),
}

impl FormatError {
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
