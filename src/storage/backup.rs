//! Backups: timestamped online copies in the data folder, daily automatic ones, pruning and restore.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags};

use super::paths::DataPaths;
use super::{Result, Store, StoreError};
use crate::domain::{BackupInfo, KEEP_BACKUPS};

const PREFIX: &str = "fabula-";
const SUFFIX: &str = ".sqlite3";
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A name that sorts by time: `fabula-2026-11-24T11-36-17.123Z.sqlite3`.
fn backup_name(at: SystemTime, tag: &str) -> String {
    let stamp = humantime::format_rfc3339_millis(at)
        .to_string()
        .replace(':', "-");
    format!("{PREFIX}{stamp}{tag}{SUFFIX}")
}

/// Backups in the folder, newest first.
pub fn list_backups(dir: &Path) -> Result<Vec<BackupInfo>> {
    let read = match std::fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(dir, e)),
    };
    let mut out = Vec::new();
    for item in read.flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(PREFIX) && name.ends_with(SUFFIX)) {
            continue;
        }
        if let Ok(meta) = item.metadata() {
            out.push(BackupInfo {
                path: item.path(),
                modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                size_bytes: meta.len(),
            });
        }
    }
    // Names carry the time, so they order correctly even if mtimes were touched by a copy.
    out.sort_by_key(|b| std::cmp::Reverse(b.file_name()));
    Ok(out)
}

/// Deletes all but the newest `keep` automatic backups; manual and pre-restore ones
/// (which carry a tag after the time) are the user's to delete.
pub fn prune_backups(dir: &Path, keep: usize) -> Result<()> {
    let automatic = list_backups(dir)?
        .into_iter()
        .filter(|b| b.file_name().ends_with(&format!("Z{SUFFIX}")));
    for old in automatic.skip(keep) {
        std::fs::remove_file(&old.path).map_err(|e| StoreError::io(&old.path, e))?;
    }
    Ok(())
}

impl Store {
    /// A new timestamped backup in the data folder's backup folder.
    pub fn create_backup(&self, paths: &DataPaths, tag: &str) -> Result<BackupInfo> {
        let dir = paths.backups();
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let mut dest = dir.join(backup_name(SystemTime::now(), tag));
        let mut n = 2;
        while dest.exists() {
            dest = dir.join(backup_name(SystemTime::now(), &format!("{tag}-{n}")));
            n += 1;
        }
        self.backup_to(&dest)?;
        let size_bytes = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
        Ok(BackupInfo {
            path: dest,
            modified: SystemTime::now(),
            size_bytes,
        })
    }

    /// The start-up backup: made when the newest backup is a day old or more, then pruned.
    /// Returns the new backup, if one was due. The whole-file check runs first: a damaged
    /// database must not rotate good old backups out.
    pub fn auto_backup_if_due(&self, paths: &DataPaths) -> Result<Option<BackupInfo>> {
        let backups = list_backups(&paths.backups())?;
        let due = backups.first().is_none_or(|newest| {
            SystemTime::now()
                .duration_since(newest.modified)
                .map(|age| age >= DAY)
                .unwrap_or(false)
        });
        if !due {
            return Ok(None);
        }
        self.integrity_check()?;
        let made = self.create_backup(paths, "")?;
        prune_backups(&paths.backups(), KEEP_BACKUPS)?;
        Ok(Some(made))
    }
}

/// Replaces the database with a backup. The store must be closed (dropped) first; the caller
/// backs up the current database before calling this. The backup is checked before anything
/// is replaced, and the swap is a rename, so a failure leaves the current database in place.
pub fn restore_database(paths: &DataPaths, backup: &Path) -> Result<()> {
    verify_backup(backup)?;
    let db = paths.database();
    let staging = db.with_extension("restoring");
    let _ = std::fs::remove_file(&staging);
    std::fs::copy(backup, &staging).map_err(|e| StoreError::io(&staging, e))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(&staging, e))?;
    // A closed database has its WAL checkpointed; stale side files would be replayed onto the restored one.
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", db.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| StoreError::io(&staging, e))?;
    }
    std::fs::rename(&staging, &db).map_err(|e| StoreError::io(&db, e))?;
    Ok(())
}

fn verify_backup(backup: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| super::classify(backup, e))?;
    let report: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| super::classify(backup, e))?;
    if report != "ok" {
        return Err(StoreError::Corrupt {
            path: backup.to_owned(),
            detail: report,
        });
    }
    let has_stories: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stories')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| super::classify(backup, e))?;
    if has_stories {
        Ok(())
    } else {
        Err(StoreError::NotADatabase {
            path: backup.to_owned(),
        })
    }
}

/// Moves a damaged database (and its WAL side files) aside under a timestamped name, so a
/// restore never overwrites it and the user keeps it for recovery tools.
pub fn set_aside_damaged(paths: &DataPaths) -> Result<Option<PathBuf>> {
    let db = paths.database();
    if !db.exists() {
        return Ok(None);
    }
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(':', "-");
    let aside = paths.dir.join(format!("fabula-damaged-{stamp}.sqlite3"));
    std::fs::rename(&db, &aside).map_err(|e| StoreError::io(&db, e))?;
    for side in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{side}", db.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{side}", aside.display()));
            std::fs::rename(&from, &to).map_err(|e| StoreError::io(&from, e))?;
        }
    }
    Ok(Some(aside))
}
