//! The only module that names rusqlite and refinery: opening, migrating and querying the database.

mod backup;
mod branch_sections;
mod branches;
mod carried;
mod chapters;
mod checkpoints;
mod drafts;
mod entries;
mod error;
mod exchange;
mod generations;
mod import;
mod lineage;
mod lore;
mod lore_proposals;
mod memory;
mod paths;
mod profiles;
mod renumber;
mod replace;
mod search;
mod settings;
mod stories;
mod story_settings;
mod tokenizer_cache;
mod trash;
mod usage;
mod world;
mod world_changes;
mod world_hand;
mod world_sections;
mod writing;

pub use backup::{list_backups, prune_backups, restore_database, set_aside_damaged};

pub use error::StoreError;
pub use exchange::Imported;
pub use memory::ChapterRoom;
pub use paths::{DataPaths, InstanceLock, documents_dir};
pub use tokenizer_cache::{read_tables, use_tokenizer_cache, write_tables};
pub use world_changes::WaitingUpdate;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

mod embedded {
    refinery::embed_migrations!("migrations");
}

pub type Result<T> = std::result::Result<T, StoreError>;

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

thread_local! {
    static ON_UI_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the calling thread as the window's. Work that grows with the library (`off_ui_thread`)
/// must then never run on it: the window would freeze for as long as it takes.
pub fn mark_ui_thread() {
    ON_UI_THREAD.with(|on| on.set(true));
}

/// Called first by work that grows with the library (a backup, a duplicate, emptying the Trash).
/// On the window's thread that is a bug: a debug build (and so every test) stops on it, a release
/// build logs it and goes on.
fn off_ui_thread(what: &str) {
    if ON_UI_THREAD.with(std::cell::Cell::get) {
        log::error!("{what} ran on the window's thread");
        // A programming error, never input: stopping a debug build is how tests catch it.
        #[allow(clippy::panic)]
        if cfg!(debug_assertions) {
            panic!("{what} ran on the window's thread; run it on a job");
        }
    }
}

/// How long a write waits for another process holding the database before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The open database. All reads and writes of stories go through its methods.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// How often a story's whole row index was read through this connection (see
    /// `row_index_reads`).
    row_index_reads: std::cell::Cell<u64>,
    /// The branch this connection reads and writes on, when a job is bound to one (the one a
    /// narration began on) instead of the story's current branch.
    pinned_branch: std::cell::RefCell<Option<Option<String>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if absent, owner-only) and migrates the database at `path`.
    ///
    /// A file that is not SQLite, fails its consistency check, or was written by a newer
    /// Fabula is refused before anything is written to it.
    pub fn open(path: &Path) -> Result<Self> {
        create_private_file(path)?;
        check_header(path)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| classify(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(path, e))?;
        // Only checks that cost the same for any size: the whole-file check reads every page
        // (seconds for a large library from a cold cache) and runs on a job after the window is up.
        let fresh = check_owner(&conn, path)?;
        refuse_newer_schema(&conn, path)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| classify(path, e))?;
        // FULL makes every committed entry survive a power cut, not only a crash.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| classify(path, e))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| classify(path, e))?;
        // Grouped: every pending migration and its row in the history commit as one transaction.
        // Ungrouped, refinery commits a migration and its history row apart, so a process killed
        // between the two (an update's first launch, closed at once) leaves a change applied but
        // not recorded, and every later open fails on it ("duplicate column").
        embedded::migrations::runner()
            .set_abort_divergent(true)
            .set_grouped(true)
            .run(&mut conn)
            .map_err(|e| StoreError::Migration {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        if fresh {
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(|e| classify(path, e))?;
        }
        Ok(Self {
            conn,
            path: path.to_owned(),
            row_index_reads: std::cell::Cell::new(0),
            pinned_branch: std::cell::RefCell::new(None),
        })
    }

    /// For commands that only read or copy out (list, export, backup): the usual open, or, when the
    /// file cannot be written (a full disk, a read-only file or folder), a read-only connection to
    /// a database already at this version's schema, so reading and copying out still work.
    pub fn open_for_reading(path: &Path) -> Result<Self> {
        match Self::open(path) {
            Err(
                why @ (StoreError::ReadOnly { .. }
                | StoreError::DiskFull { .. }
                | StoreError::Io { .. }
                | StoreError::Migration { .. }),
            ) if path.exists() => {
                // A file that cannot be read this way either keeps the reason it could not be opened.
                let conn = Self::read_only_at_latest_schema(path).map_err(|_| why)?;
                log::info!("{} is opened read-only", path.display());
                Ok(Self {
                    conn,
                    path: path.to_owned(),
                    row_index_reads: std::cell::Cell::new(0),
                    pinned_branch: std::cell::RefCell::new(None),
                })
            }
            other => other,
        }
    }

    fn read_only_at_latest_schema(path: &Path) -> Result<Connection> {
        let conn = open_read_only(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(path, e))?;
        check_owner(&conn, path)?;
        refuse_newer_schema(&conn, path)?;
        // An older schema would need the migrations, which cannot be written here.
        if schema_version(&conn, path)? != Some(latest_schema_version()) {
            return Err(StoreError::ReadOnly {
                path: path.to_owned(),
            });
        }
        Ok(conn)
    }

    /// A second connection to a database this process already opened with [`Store::open`], for a
    /// job thread. It skips the consistency check and migrations (done at open), so it costs a few
    /// milliseconds whatever the database's size.
    pub fn open_worker(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| classify(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(path, e))?;
        refuse_newer_schema(&conn, path)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| classify(path, e))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| classify(path, e))?;
        // A job's commit is durable once its WAL frames are synced; copying them into the main
        // file can wait until the job has answered (see `checkpoint`) or the window's next commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(|e| classify(path, e))?;
        Ok(Self {
            conn,
            path: path.to_owned(),
            row_index_reads: std::cell::Cell::new(0),
            pinned_branch: std::cell::RefCell::new(None),
        })
    }

    /// Copies committed WAL frames into the main file without waiting for readers; for jobs to
    /// run after they have answered whoever was waiting on them.
    pub fn checkpoint(&self) {
        if let Err(e) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            log::warn!("checkpoint of {} failed: {e}", self.path.display());
        }
    }

    /// How long this connection's writes wait for another holder of the write lock; for work that
    /// would rather skip a beat and try again than wait the default.
    pub fn set_busy_timeout(&self, wait: Duration) -> Result<()> {
        self.conn.busy_timeout(wait).map_err(|e| self.err(e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this connection can only read (see `open_for_reading`).
    pub fn is_read_only(&self) -> bool {
        self.conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false)
    }
}

/// The newest schema version this build knows.
pub fn latest_schema_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// Options for writing a file that, when created, only its owner can read: the database, backups,
/// the error log and rescued text hold keys or the writer's words. Callers add how it is created.
pub fn owner_only_file() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

fn create_private_file(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    match owner_only_file().create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::io(path, e)),
    }
}

fn check_header(path: &Path) -> Result<()> {
    let mut header = Vec::with_capacity(16);
    std::fs::File::open(path)
        .and_then(|f| f.take(16).read_to_end(&mut header))
        .map_err(|e| StoreError::io(path, e))?;
    if header.is_empty() || header.as_slice() == SQLITE_HEADER {
        Ok(())
    } else {
        Err(StoreError::NotADatabase {
            path: path.to_owned(),
        })
    }
}

/// Marks Fabula's databases in the SQLite header (offset 68), so another program's file is
/// recognised at once and never has Fabula's tables added to it: "Fabu".
const APPLICATION_ID: i32 = 0x4661_6275;

/// Databases other programs mark with an application id, to name in the refusal.
const KNOWN_APPLICATION_IDS: &[(i32, &str)] = &[
    (0x4750_4B47, "a GeoPackage map file"),
    (0x4750_3130, "a GeoPackage map file"),
    (0x4D50_4258, "an MBTiles map file"),
    (0x0F05_5112, "a Fossil repository"),
    (0x0F05_5113, "a Fossil repository"),
    (0x4242_4c50, "an Apple Photos or Core Data store"),
];

/// Whether the file is Fabula's: marked, or an unmarked one Fabula wrote before marking (its
/// schema history and `stories` table tell), or empty. Returns true when it still needs the mark.
/// Costs a header read and a look at the schema, whatever the file's size.
fn check_owner(conn: &Connection, path: &Path) -> Result<bool> {
    let id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| classify(path, e))?;
    if id == APPLICATION_ID {
        return Ok(false);
    }
    let refuse = |what: String| StoreError::Foreign {
        path: path.to_owned(),
        what,
    };
    if id != 0 {
        let what = KNOWN_APPLICATION_IDS
            .iter()
            .find(|(known, _)| *known == id)
            .map_or_else(
                || format!("another program's SQLite database (application id {id:#010x})"),
                |(_, name)| (*name).to_owned(),
            );
        return Err(refuse(what));
    }
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| classify(path, e))?;
    if tables.is_empty() {
        return Ok(true);
    }
    let has = |name: &str| tables.iter().any(|t| t == name);
    if has("refinery_schema_history") && has("stories") && has("entries") {
        return Ok(true);
    }
    // The migration runner makes its history table before the first (grouped) migration
    // begins: a first launch killed in between leaves that table alone and empty. It is Fabula's
    // and still new; refusing it would lock the writer out of their own data folder.
    if tables.len() == 1 && has("refinery_schema_history") {
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM refinery_schema_history", [], |r| {
                r.get(0)
            })
            .map_err(|e| classify(path, e))?;
        if rows == 0 {
            return Ok(true);
        }
    }
    // The original app's database (Aventura, Tauri + SQLite) has these; it is imported, not opened.
    if has("stories") && has("story_entries") {
        return Err(refuse(
            "the original Aventura app's database; bring its stories over with Import instead"
                .into(),
        ));
    }
    let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
    let more = if tables.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    Err(refuse(format!(
        "another program's SQLite database (its tables: {}{more})",
        shown.join(", ")
    )))
}

/// A read-only connection. A WAL database needs its `-shm` index even to be read; where that file
/// cannot be made (a full disk, a read-only folder) and no unapplied `-wal` is left, the file is
/// read as immutable, which needs neither.
fn open_read_only(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    // Opening is lazy: the first read is what finds the index missing.
    let plain = Connection::open_with_flags(path, flags).and_then(|conn| {
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        Ok(conn)
    });
    let error = match plain {
        Ok(conn) => return Ok(conn),
        Err(e) => classify(path, e),
    };
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(error);
    }
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    Connection::open_with_flags(&uri, flags | OpenFlags::SQLITE_OPEN_URI)
        .map_err(|e| classify(path, e))
}

/// The newest migration applied to the file; `None` before the first (no history table yet).
fn schema_version(conn: &Connection, path: &Path) -> Result<Option<i64>> {
    let has_history: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| classify(path, e))?;
    if !has_history {
        return Ok(None);
    }
    conn.query_row(
        "SELECT MAX(version) FROM refinery_schema_history",
        [],
        |r| r.get(0),
    )
    .map_err(|e| classify(path, e))
}

fn refuse_newer_schema(conn: &Connection, path: &Path) -> Result<()> {
    let supported = latest_schema_version();
    match schema_version(conn, path)? {
        Some(found) if found > supported => Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found,
            supported,
        }),
        _ => Ok(()),
    }
}

/// Turns SQLite's error codes into the cases a user can act on.
fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
            path: path.to_owned(),
        },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_owned(),
            detail: e.to_string(),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
            path: path.to_owned(),
        },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
            path: path.to_owned(),
        },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => StoreError::Io {
            path: path.to_owned(),
            detail: e.to_string(),
        },
        Some(ErrorCode::DiskFull) => StoreError::DiskFull {
            path: path.to_owned(),
        },
        // What a full disk often looks like from SQLite's side: its side files (-wal, -shm) could
        // not be grown. The file itself may be fine.
        Some(ErrorCode::SystemIoFailure) => StoreError::Io {
            path: path.to_owned(),
            detail: format!("{e} (the disk may be full, failing or read-only)"),
        },
        _ => StoreError::Sqlite(e.to_string()),
    }
}

impl Store {
    fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, e)
    }

    /// A transaction for one step that must be whole, or none when the step is part of a
    /// caller's transaction already (whose commit makes it whole).
    fn step(&self) -> Result<Step<'_>> {
        let tx = match self.conn.is_autocommit() {
            true => Some(self.conn.unchecked_transaction().map_err(|e| self.err(e))?),
            false => None,
        };
        Ok(Step {
            conn: &self.conn,
            tx,
        })
    }
}

/// See `Store::step`; reads and writes go through it as through the connection.
struct Step<'a> {
    conn: &'a Connection,
    tx: Option<rusqlite::Transaction<'a>>,
}

impl Step<'_> {
    fn commit(self) -> rusqlite::Result<()> {
        match self.tx {
            Some(tx) => tx.commit(),
            None => Ok(()),
        }
    }
}

impl std::ops::Deref for Step<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}
