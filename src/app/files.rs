//! Story files in and out (UI thread, the reading and writing on the transfer job): a file
//! imported, the question when its story is here already, a story exported.

use super::FabulaApp;
use super::exchange::{ExchangeError, ExchangeEvent, import_again, imported_or_ask, say};
use crate::domain::{FileFormat, OnConflict, StoryId};
use crate::formats::{FormatError, ProgressReader, write_story_file_streamed};
use crate::state::{ConflictSource, SyncBusy};
use crate::storage::Store;
use crate::transfer::{self, ImportError};
use std::path::PathBuf;

impl FabulaApp {
    /// Reads an .avt file on a job (with progress for big files) and imports it, asking on conflict.
    pub(super) fn import_file(&mut self, store: &Store, file: PathBuf) {
        let path = store.path().to_owned();
        self.exchange_job(SyncBusy::Importing, move |cx| {
            let opened = match std::fs::File::open(&file) {
                Ok(f) => f,
                Err(source) => {
                    return say(
                        cx,
                        ExchangeEvent::failed(ExchangeError::Open {
                            path: file.clone(),
                            source,
                        }),
                    );
                }
            };
            let total = opened.metadata().map(|m| m.len()).unwrap_or(0);
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let reader = ProgressReader::new(opened, 1 << 20, |done| {
                say(
                    cx,
                    ExchangeEvent::Progress {
                        done,
                        total,
                        what: format!("Reading {name}"),
                    },
                );
            });
            let mut store = match Store::open_worker(&path) {
                Ok(store) => store,
                Err(e) => return say(cx, ExchangeEvent::failed(e)),
            };
            let imported =
                transfer::import_avt(&mut store, reader, OnConflict::Refuse).map_err(|e| match e {
                    ImportError::Format(e) => {
                        ImportError::Format(FormatError::Invalid(format!("{name}: {e}")))
                    }
                    other => other,
                });
            imported_or_ask(&store, imported, ConflictSource::File(file.clone()), cx);
        });
    }

    /// The user's answer to "this story is already here".
    pub(super) fn resolve_conflict(&mut self, store: &Store, choice: Option<OnConflict>) {
        let Some(pending) = self.state.sync.conflicts.first().cloned() else {
            return;
        };
        self.state.sync.conflicts.remove(0);
        let Some(mode) = choice else {
            self.state
                .info(format!("“{}” was left as it is.", pending.title), false);
            return;
        };
        let path = store.path().to_owned();
        self.exchange_job(SyncBusy::Importing, move |cx| {
            let imported = import_again(&path, &pending.source, mode);
            match imported {
                Ok(imported) => {
                    say(
                        cx,
                        ExchangeEvent::Done(match imported.replaced {
                            Some(_) => format!(
                                "Replaced “{}”; the copy you had is in the Trash.",
                                imported.title
                            ),
                            None if imported.updated => format!(
                                "Updated “{}” to this version; nothing you had was lost.",
                                imported.title
                            ),
                            None => format!("Added “{}”.", imported.title),
                        }),
                    );
                    say(cx, ExchangeEvent::LibraryChanged);
                }
                Err(e) => say(cx, ExchangeEvent::failed(e)),
            }
        });
    }

    /// Writes the story to a file on a job: a long story takes a while to read and write.
    pub(super) fn export_story(
        &mut self,
        store: &Store,
        story: StoryId,
        format: FileFormat,
        file: PathBuf,
        lore: bool,
    ) {
        let path = store.path().to_owned();
        self.exchange_job(SyncBusy::Exporting, move |cx| {
            let written = Store::open_worker(&path)
                .and_then(|store| {
                    store.stream_story(&story, |head, rows| {
                        let title = head.story.title.clone();
                        write_story_file_streamed(head, rows, format, lore, &file)
                            .map(|()| title)
                            .map_err(|source| ExchangeError::Write {
                                path: file.clone(),
                                source,
                            })
                    })
                })
                .map_err(ExchangeError::from)
                .and_then(std::convert::identity);
            say(
                cx,
                match written {
                    Ok(title) => {
                        ExchangeEvent::Done(format!("Exported “{title}” to {}.", file.display()))
                    }
                    Err(e) => ExchangeEvent::failed(e),
                },
            );
        });
    }
}
