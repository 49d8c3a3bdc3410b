//! A backup as the library lists it, and how many are kept.

use std::path::PathBuf;
use std::time::SystemTime;

/// Automatic backups are kept to this many; manual ones are pruned the same way.
pub const KEEP_BACKUPS: usize = 10;

#[derive(Clone, Debug, PartialEq)]
pub struct BackupInfo {
    pub path: PathBuf,
    pub modified: SystemTime,
    pub size_bytes: u64,
}

impl BackupInfo {
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}
