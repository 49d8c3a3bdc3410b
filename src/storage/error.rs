//! The errors storage reports, worded so the UI and CLI can show them as they are.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{} is not a Fabula database (it is not an SQLite file). It has not been changed.", path.display())]
    NotADatabase { path: PathBuf },
    #[error("{} is not a Fabula database: it is {what}. Fabula changed nothing in it; choose another data folder (--data-dir) or move the file away.", path.display())]
    Foreign { path: PathBuf, what: String },
    #[error(
        "The database {} is damaged ({}). It has not been changed. Restore a backup: the window offers the latest one, and they are all in the backups folder beside it.",
        path.display(),
        first_line(detail)
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "The database {} was written by a newer version of Fabula (schema {found}, this version knows up to {supported}). Update Fabula to open it; nothing was changed.",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("The database {} is locked by another program (is Fabula already running?).", path.display())]
    Locked { path: PathBuf },
    #[error("Fabula is already running with the data folder {} (close the other window first).", path.display())]
    AlreadyRunning { path: PathBuf },
    #[error("The disk holding {} is full: the last change was not saved. Reading, exporting and backups to another disk still work; free some space to write again.", path.display())]
    DiskFull { path: PathBuf },
    #[error("The database {} is read-only (the file's or folder's permissions, or a read-only disk): the last change was not saved. Reading, exporting and backups still work.", path.display())]
    ReadOnly { path: PathBuf },
    #[error("The database {} could not be read: {detail}. Nothing was changed.", path.display())]
    Unreadable { path: PathBuf, detail: String },
    #[error("Cannot use {}: {detail}", path.display())]
    Io { path: PathBuf, detail: String },
    #[error("Could not update the database schema of {}: {detail}", path.display())]
    Migration { path: PathBuf, detail: String },
    #[error("{0}")]
    Conflict(String),
    /// The parts of an import stopped before the story was complete (its reader failed or
    /// stopped); nothing of it was kept.
    #[error("The story ended before it was complete; nothing of it was imported.")]
    Incomplete,
    /// Input that cannot be stored as it is (said in words the user can act on).
    #[error("{0}")]
    Invalid(String),
    #[error("{0} was not found.")]
    NotFound(String),
    #[error(
        "The database could not do that ({0}); nothing was changed. If it happens again, Settings > Copy diagnostics gathers what a bug report needs."
    )]
    Sqlite(String),
}

/// SQLite's integrity report lists every damaged page; the first says enough in a sentence.
fn first_line(report: &str) -> String {
    let mut lines = report
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches("*** in database main ***")
                .trim()
        })
        .filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or(report.trim());
    match lines.count() {
        0 => first.to_owned(),
        1 => format!("{first}, and 1 more problem"),
        more => format!("{first}, and {more} more problems"),
    }
}

impl StoreError {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::StorageFull {
            return StoreError::DiskFull {
                path: path.to_owned(),
            };
        }
        StoreError::Io {
            path: path.to_owned(),
            detail: e.to_string(),
        }
    }

    /// Whether restoring a backup is the way out (the file itself is unreadable).
    pub fn is_damaged_database(&self) -> bool {
        matches!(
            self,
            StoreError::NotADatabase { .. } | StoreError::Corrupt { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_damage_report_is_one_clause() {
        let report = "*** in database main ***\nPage 12: btreeInitPage() returns error code 11\nPage 13: never used";
        assert_eq!(
            super::first_line(report),
            "Page 12: btreeInitPage() returns error code 11, and 1 more problem"
        );
        assert_eq!(
            super::first_line("database disk image is malformed"),
            "database disk image is malformed"
        );
    }
}
