//! File pickers (UI thread here, the dialog itself on a job): the desktop's own dialog through its
//! portal, opened in the last folder used, with what was picked handed back to the window. Tests
//! put a picker of their own in its place.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::FabulaApp;
use crate::state::{ShareAction, ViewEvent};
use crate::storage::Store;

/// Where the user picks a file; `None` when they cancelled (or no dialog could be shown).
pub trait FilePicker: Send + Sync {
    fn open_file(&self, title: &str, folder: &Path) -> Option<PathBuf>;
    fn save_file(&self, title: &str, folder: &Path, name: &str) -> Option<PathBuf>;
}

/// The desktop's dialog (on Linux through the XDG desktop portal).
pub struct NativePicker;

impl FilePicker for NativePicker {
    fn open_file(&self, title: &str, folder: &Path) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .set_directory(folder)
            .add_filter("Story files", &["avt", "json"])
            .add_filter("All files", &["*"])
            .pick_file()
    }

    fn save_file(&self, title: &str, folder: &Path, name: &str) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .set_directory(folder)
            .set_file_name(name)
            .save_file()
    }
}

/// The dialog on screen (one at a time).
const PICKER: &str = "file-picker";
const LAST_FOLDER_KEY: &str = "files.last_folder";

/// What a picked file is for.
enum Picked {
    Import(Option<PathBuf>),
    Export(Option<PathBuf>),
}

impl FabulaApp {
    /// Puts `picker` in the place of the desktop's dialog (tests).
    pub fn with_file_picker(mut self, picker: Arc<dyn FilePicker>) -> Self {
        self.picker = picker;
        self
    }

    /// The folder a dialog opens in: the last one a file was picked in, else the documents folder.
    fn picker_folder(&self, store: &Store) -> PathBuf {
        store
            .setting(LAST_FOLDER_KEY)
            .ok()
            .flatten()
            .map(PathBuf::from)
            .filter(|p| p.is_dir())
            .unwrap_or_else(|| crate::storage::documents_dir(&self.state.data_dir))
    }

    pub(super) fn pick(&mut self, store: &Store, what: ShareAction) {
        let folder = self.picker_folder(store);
        let picker = self.picker.clone();
        let waker = self.waker();
        let started = self.jobs.start(
            PICKER,
            "A file dialog",
            waker,
            move |cx| {
                let picked = match what {
                    ShareAction::PickExportPath { name } => {
                        Picked::Export(picker.save_file("Export the story", &folder, &name))
                    }
                    _ => Picked::Import(picker.open_file("Import a story file", &folder)),
                };
                cx.send(picked);
            },
            |app: &mut FabulaApp, picked: Picked| app.on_picked(picked),
            |_: &mut FabulaApp| {},
        );
        if let Err(e) = started {
            self.state
                .error(format!("The file dialog could not be shown: {e}"));
        }
    }

    fn on_picked(&mut self, picked: Picked) {
        let (Picked::Import(Some(path)) | Picked::Export(Some(path))) = &picked else {
            return;
        };
        if let (Some(store), Some(folder)) = (self.store.as_ref(), path.parent())
            && let Err(e) = store.set_setting(LAST_FOLDER_KEY, &folder.display().to_string())
        {
            log::warn!("the folder picked in was not kept for next time: {e}");
        }
        match picked {
            Picked::Import(Some(path)) => self.view_events.push(ViewEvent::PickedImport(path)),
            Picked::Export(Some(path)) => self.view_events.push(ViewEvent::PickedExport(path)),
            _ => {}
        }
    }
}
