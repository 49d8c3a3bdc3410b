//! Story files into the store as they are read: the parser on the caller's thread, the inserts on
//! a second one joined by a short channel, so a large import costs about the slower of the two
//! rather than their sum, and the story is never held whole. A story coming over the network is
//! first spooled to a file, so the write transaction never waits on the network.

use std::io::Read;
use std::sync::mpsc;

use crate::domain::{ImportPart, OnConflict, StoryId};
use crate::formats::{FormatError, avt};
use crate::jobs;
use crate::storage::{Imported, Store, StoreError};

/// Why a streamed import kept nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Format(FormatError),
    #[error("{0}")]
    Store(StoreError),
    /// Refused under `OnConflict::Refuse`: `story` (the file's) is here already, or its entries
    /// are. Nothing was written; the caller asks and imports again with the answer.
    #[error("{message}")]
    Conflict { message: String, story: StoryId },
}

/// Parts in flight between the parser and the inserts (each `IMPORT_BATCH` entries).
const IN_FLIGHT: usize = 4;

/// Reads an `.avt` story from `reader` and stores it as it is read, in one transaction: a bad file
/// or a failed write keeps nothing of it.
pub fn import_avt(
    store: &mut Store,
    reader: impl Read,
    on_conflict: OnConflict,
) -> Result<Imported, ImportError> {
    let (send, receive) = mpsc::sync_channel::<ImportPart>(IN_FLIGHT);
    let mut story = None;
    let ran = jobs::alongside(
        "import",
        move || store.import_parts(on_conflict, receive.into_iter()),
        || {
            let mut send_part = |part: ImportPart| {
                if let ImportPart::Story(head) = &part {
                    story = Some(head.id.clone());
                }
                send.send(part).is_ok()
            };
            let read = avt::read_parts(reader, &mut send_part);
            drop(send);
            read
        },
    );
    let (stored, read) = ran.map_err(|e| {
        ImportError::Store(StoreError::Invalid(format!(
            "The import could not start (no thread for it: {e})."
        )))
    })?;
    match (stored, read) {
        (Ok(imported), Ok(())) => Ok(imported),
        // The store stopped taking parts: its reason is the one that counts.
        (Err(StoreError::Conflict(message)), Err(FormatError::Stopped) | Ok(())) => match story {
            Some(story) => Err(ImportError::Conflict { message, story }),
            None => Err(ImportError::Store(StoreError::Conflict(message))),
        },
        (Err(stored), Err(FormatError::Stopped) | Ok(())) => Err(ImportError::Store(stored)),
        (_, Err(read)) => Err(ImportError::Format(read)),
    }
}

/// As `import_avt`, for a story arriving over the network (a push, a pull): it is first copied to
/// an owner-only file beside the database, then stored from there. Storing straight from the
/// socket would keep the write transaction open for as long as a slow link takes, and every other
/// writer (the window saving what you type) would wait on it. The file is removed afterwards.
pub fn import_avt_spooled(
    store: &mut Store,
    mut reader: impl Read,
    on_conflict: OnConflict,
) -> Result<Imported, ImportError> {
    let dir = store
        .path()
        .parent()
        .map_or_else(std::env::temp_dir, std::path::Path::to_path_buf);
    let spool = Spool(dir.join(format!(".incoming-{}.avt", crate::domain::new_uuid())));
    let failed = |e: std::io::Error| ImportError::Store(StoreError::io(&spool.0, e));
    let mut file = crate::storage::owner_only_file()
        .create_new(true)
        .read(true)
        .open(&spool.0)
        .map_err(failed)?;
    let copied = std::io::copy(&mut reader, &mut file);
    // A reader that failed half way (a dropped connection) is the story's problem, not the disk's.
    copied.map_err(|e| {
        if e.kind() == std::io::ErrorKind::StorageFull {
            failed(e)
        } else {
            ImportError::Format(FormatError::Invalid(format!(
                "The story stopped arriving: {e}"
            )))
        }
    })?;
    use std::io::Seek;
    file.rewind().map_err(failed)?;
    import_avt(
        store,
        std::io::BufReader::with_capacity(1 << 16, file),
        on_conflict,
    )
}

/// The spooled copy of an incoming story, removed however the import ends.
struct Spool(std::path::PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        if self.0.exists()
            && let Err(e) = std::fs::remove_file(&self.0)
        {
            log::warn!("{} could not be removed: {e}", self.0.display());
        }
    }
}
