//! Where Fabula keeps its data, and the lock that keeps two windows off one data folder.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::{Result, StoreError};

pub const DATABASE_FILE: &str = "fabula.sqlite3";
const BACKUP_FOLDER: &str = "backups";
const LOCK_FILE: &str = "fabula.lock";

/// The data folder and the files in it.
#[derive(Clone, Debug, PartialEq)]
pub struct DataPaths {
    pub dir: PathBuf,
}

impl DataPaths {
    /// The platform's data folder (e.g. `~/.local/share/fabula`) unless `override_dir` is given
    /// (from `--data-dir` or `FABULA_DATA_DIR`).
    pub fn resolve(override_dir: Option<PathBuf>) -> Result<Self> {
        if let Some(dir) = override_dir {
            return Ok(Self { dir });
        }
        directories::ProjectDirs::from("", "", "fabula")
            .map(|p| Self {
                dir: p.data_dir().to_owned(),
            })
            .ok_or_else(|| StoreError::Io {
                path: PathBuf::from("~"),
                detail: "no home folder found; pass --data-dir or set FABULA_DATA_DIR".into(),
            })
    }

    pub fn database(&self) -> PathBuf {
        self.dir.join(DATABASE_FILE)
    }

    pub fn backups(&self) -> PathBuf {
        self.dir.join(BACKUP_FOLDER)
    }

    /// Creates the data folder (owner-only) and its backup folder when they are missing. Writes
    /// nothing else: on a full disk or a read-only folder, reading and copying out must still work,
    /// and a write that fails later says so itself.
    pub fn ensure(&self) -> Result<()> {
        create_private_dir(&self.dir)?;
        create_private_dir(&self.backups())
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| StoreError::io(dir, e))
}

/// Held by the GUI for as long as it runs; the OS releases it if the process dies.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

impl InstanceLock {
    pub fn acquire(paths: &DataPaths) -> Result<Self> {
        let path = paths.dir.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        // A restart after an update starts the new process while the old one is closing:
        // give the old one a moment to let go.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::AlreadyRunning {
                        path: paths.dir.clone(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(StoreError::io(&path, e)),
            }
        }
    }
}

/// Where exports go by default: the user's documents folder, else the home folder, else `fallback`.
pub fn documents_dir(fallback: &Path) -> PathBuf {
    directories::UserDirs::new()
        .map(|dirs| {
            dirs.document_dir()
                .unwrap_or_else(|| dirs.home_dir())
                .to_path_buf()
        })
        .unwrap_or_else(|| fallback.to_path_buf())
}
