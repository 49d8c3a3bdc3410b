//! Backups: timestamped online copies in the data folder, daily automatic ones, pruning and restore.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags};

use super::paths::DataPaths;
use super::{Result, Store, StoreError, classify, off_ui_thread, owner_only_file};
use crate::domain::{BackupInfo, KEEP_BACKUPS};

const PREFIX: &str = "fabula-";
const SUFFIX: &str = ".sqlite3";
/// How long a backup keeps trying while the database stays busy before it gives up with a reason.
const BACKUP_PATIENCE: Duration = Duration::from_secs(20);
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
        self.create_backup_showing(paths, tag, &mut |_, _| {})
    }

    /// `create_backup`, telling `progress` the pages copied so far and how many there are.
    pub fn create_backup_showing(
        &self,
        paths: &DataPaths,
        tag: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<BackupInfo> {
        let dir = paths.backups();
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let mut dest = dir.join(backup_name(SystemTime::now(), tag));
        let mut n = 2;
        while dest.exists() {
            dest = dir.join(backup_name(SystemTime::now(), &format!("{tag}-{n}")));
            n += 1;
        }
        self.backup_to_showing(&dest, progress)?;
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

impl Store {
    /// The full consistency check (reads every page); run before the daily backup.
    pub fn integrity_check(&self) -> Result<()> {
        off_ui_thread("integrity_check");
        let report = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
            .map_err(|e| classify(&self.path, e))?;
        if report == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: report,
            })
        }
    }

    /// Writes a consistent copy of the live database to `dest` (SQLite online backup), owner-only
    /// (it holds every stored key). It ends within `BACKUP_PATIENCE` whatever holds the database,
    /// and a failure leaves no partial file behind.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        self.backup_to_showing(dest, &mut |_, _| {})
    }

    /// `backup_to`, telling `progress` the pages copied so far and how many there are.
    pub fn backup_to_showing(&self, dest: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<()> {
        off_ui_thread("backup_to");
        if dest.exists() {
            return Err(StoreError::Io {
                path: dest.to_owned(),
                detail: "a file with that name already exists".into(),
            });
        }
        let partial = dest.with_extension("partial");
        let leftovers = [
            partial.clone(),
            PathBuf::from(format!("{}-journal", partial.display())),
        ];
        let clean = || {
            for file in &leftovers {
                let _ = std::fs::remove_file(file);
            }
        };
        clean();
        let copied = self.copy_into(&partial, dest, progress);
        if copied.is_err() {
            clean();
            return copied;
        }
        // Renaming only a finished copy means a crash mid-backup never leaves a file that looks complete.
        std::fs::rename(&partial, dest).map_err(|e| {
            clean();
            StoreError::io(dest, e)
        })
    }

    fn copy_into(
        &self,
        partial: &Path,
        dest: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<()> {
        // SQLite keeps the mode of a file that exists, so the copy is never readable by others.
        owner_only_file()
            .create_new(true)
            .open(partial)
            .map_err(|e| StoreError::io(dest, e))?;
        // What SQLite cannot name (full disk, read-only and so on are named) is said of the copy.
        let at_dest = |e: rusqlite::Error| match classify(dest, e) {
            StoreError::Sqlite(detail) => StoreError::Io {
                path: dest.to_owned(),
                detail,
            },
            other => other,
        };
        let mut target = Connection::open(partial).map_err(at_dest)?;
        let backup = rusqlite::backup::Backup::new(&self.conn, &mut target).map_err(at_dest)?;
        let give_up = std::time::Instant::now() + BACKUP_PATIENCE;
        loop {
            use rusqlite::backup::StepResult;
            // rusqlite's own loop retries a busy or locked step for ever: on a read-only database
            // whose WAL index cannot be rebuilt every step says busy, and it spun at 100 % CPU.
            let stepped = backup.step(1024);
            let now = backup.progress();
            let total = u64::try_from(now.pagecount).unwrap_or(0);
            let left = u64::try_from(now.remaining).unwrap_or(0);
            progress(total.saturating_sub(left), total);
            match stepped {
                Ok(StepResult::Done) => return Ok(()),
                Ok(StepResult::More) => {}
                Ok(StepResult::Busy | StepResult::Locked)
                    if std::time::Instant::now() < give_up =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(StepResult::Busy | StepResult::Locked) => {
                    return Err(StoreError::Unreadable {
                        path: self.path.clone(),
                        detail: format!(
                            "it stayed locked for {} s (another program is using it, or it is read-only and its -wal/-shm files cannot be updated)",
                            BACKUP_PATIENCE.as_secs()
                        ),
                    });
                }
                Ok(_) => {}
                Err(e) => return Err(at_dest(e)),
            }
        }
    }
}
