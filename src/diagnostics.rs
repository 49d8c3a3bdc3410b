//! The local error log (kept on this machine, never sent): warnings, errors and panics go to a
//! small rotating file in the data folder with secrets redacted, and a diagnostics report for bug
//! reports is read back from it. Also the process's logger, which redacts every line it prints.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::domain::redact;

pub const LOG_FILE: &str = "fabula.log";
/// The log is rotated to `fabula.log.1` past this size, so it never grows without bound.
const ROTATE_AT: u64 = 512 * 1024;
/// How much of the log's end a diagnostics report carries.
const REPORT_TAIL: usize = 16 * 1024;

/// Where the error log of a data folder is.
pub fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join(LOG_FILE)
}

/// Appends warning and error lines to the error log, rotating it when it grows too large. A line
/// that cannot be written (full disk) is dropped: the log must never stop what it records.
struct ErrorLog {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl ErrorLog {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: Mutex::new(None),
        }
    }

    fn append(&self, line: &str) {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        if file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .is_some_and(|m| m.len() > ROTATE_AT)
        {
            *file = None;
            let _ = std::fs::rename(&self.path, self.path.with_extension("log.1"));
        }
        if file.is_none() {
            *file = crate::storage::owner_only_file()
                .create(true)
                .append(true)
                .open(&self.path)
                .ok();
        }
        if let Some(f) = file.as_mut() {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// The process's logger: env_logger's filtering and format on stderr, every message redacted, and
/// warnings and errors also in the error log.
struct Logger {
    inner: env_logger::Logger,
    errors: Option<ErrorLog>,
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
            || (self.errors.is_some() && metadata.level() <= log::Level::Warn)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = redact(&record.args().to_string());
        if self.inner.enabled(record.metadata()) {
            self.inner.log(
                &log::Record::builder()
                    .args(format_args!("{message}"))
                    .metadata(record.metadata().clone())
                    .module_path(record.module_path())
                    .file(record.file())
                    .line(record.line())
                    .build(),
            );
        }
        if let Some(errors) = self
            .errors
            .as_ref()
            .filter(|_| record.level() <= log::Level::Warn)
        {
            let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
            errors.append(&format!(
                "{at} {} {}: {message}\n",
                record.level(),
                record.target()
            ));
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Starts logging for the process: stderr as `RUST_LOG` asks (default warnings), and the error log
/// in `data_dir` when given. The HTTP and TLS libraries are held to `info` whatever `RUST_LOG`
/// says: at trace they dump request headers, keys included. Panics are logged before the usual
/// report. Call once, first thing.
pub fn init(data_dir: Option<&Path>) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"));
    for noisy in ["ureq", "ureq_proto", "rustls", "tiny_http", "self_update"] {
        builder.filter_module(noisy, log::LevelFilter::Info);
    }
    let inner = builder.build();
    let errors = data_dir.map(|dir| ErrorLog::new(log_path(dir)));
    let max = if errors.is_some() {
        inner.filter().max(log::LevelFilter::Warn)
    } else {
        inner.filter()
    };
    if log::set_boxed_logger(Box::new(Logger { inner, errors })).is_ok() {
        log::set_max_level(max);
    }
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        log::error!(
            "panic in thread {}: {info}",
            thread.name().unwrap_or("unnamed")
        );
        default_hook(info);
    }));
}

/// A report to paste into a bug report: version, platform, data folder and the end of the error
/// log, secrets redacted (again: lines written by an older version may predate redaction).
pub fn report(data_dir: &Path) -> String {
    let log = log_path(data_dir);
    let tail = read_tail(&log, REPORT_TAIL);
    let recent = if tail.trim().is_empty() {
        "(no errors logged)".to_owned()
    } else {
        redact(&tail)
    };
    format!(
        "Fabula {version}\nPlatform: {os} {arch} ({family})\nError log: {log}\n\nRecent errors:\n{recent}\n",
        version = env!("CARGO_PKG_VERSION"),
        os = std::env::consts::OS,
        arch = std::env::consts::ARCH,
        family = std::env::consts::FAMILY,
        log = log.display(),
    )
}

/// The last `max` bytes of a file as text, starting at a line: bounded, whatever the file's size.
fn read_tail(path: &Path, max: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(max as u64);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::with_capacity(max);
    if file.take(max as u64).read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match (start > 0, text.find('\n')) {
        (true, Some(newline)) => text[newline + 1..].to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_and_the_report_is_redacted_and_bounded() {
        let dir = tempfile::tempdir().expect("dir");
        let log = ErrorLog::new(log_path(dir.path()));
        let line = format!(
            "{} WARN x: key sk-abcdefghijklmnop1234 refused\n",
            "x".repeat(200)
        );
        for _ in 0..(ROTATE_AT as usize / line.len() + 10) {
            log.append(&line);
        }
        assert!(dir.path().join("fabula.log.1").exists(), "rotated");
        let size = std::fs::metadata(log_path(dir.path())).expect("log").len();
        assert!(size < ROTATE_AT, "the new log starts small: {size}");
        let shown = report(dir.path());
        assert!(shown.contains(env!("CARGO_PKG_VERSION")));
        assert!(shown.contains("refused"));
        assert!(!shown.contains("sk-abcdefghijklmnop1234"), "{shown}");
        assert!(shown.len() < REPORT_TAIL + 1024);
    }

    #[test]
    fn an_empty_folder_reports_no_errors() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(report(dir.path()).contains("(no errors logged)"));
    }
}
