//! The controller's side of story settings and prompt packs (UI thread): saved to the store, and
//! packs written to and read from files the user picks.

use std::path::Path;

use super::FabulaApp;
use crate::domain::{PromptPack, StorySettings};
use crate::storage::{Store, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

impl FabulaApp {
    pub(super) fn save_story_settings(
        &mut self,
        store: &Store,
        settings: StorySettings,
    ) -> Result<()> {
        if let Some(story) = self.open_story_id() {
            store.save_story_settings(&story, &settings)?;
            self.state.writing.settings = store.story_settings(&story)?;
        }
        Ok(())
    }

    pub(super) fn save_prompt_pack(&mut self, store: &Store, pack: PromptPack) -> Result<()> {
        if let Err((kind, e)) = pack.check() {
            self.state
                .error(format!("The {} template was not saved: {e}", kind.label()));
            return Ok(());
        }
        store.save_prompt_pack(&pack)?;
        self.state.writing.pack = pack;
        self.state.info("Prompt templates saved.", false);
        Ok(())
    }

    pub(super) fn export_prompt_pack(&mut self, store: &Store, path: &Path) -> Result<()> {
        let pack = store.prompt_pack()?;
        let text = serde_json::to_string_pretty(&pack)
            .map_err(|e| StoreError::Invalid(format!("The templates could not be written: {e}")))?;
        match std::fs::write(path, text) {
            Ok(()) => self
                .state
                .info(format!("Templates exported to {}.", path.display()), false),
            Err(e) => self.state.error(format!(
                "The templates could not be written to {}: {e}",
                path.display()
            )),
        }
        Ok(())
    }

    /// Reads a prompt pack; a file that is not a pack, or has an unknown placeholder, changes nothing.
    pub(super) fn import_prompt_pack(&mut self, store: &Store, path: &Path) -> Result<()> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                self.state
                    .error(format!("{} could not be read: {e}", path.display()));
                return Ok(());
            }
        };
        match serde_json::from_str::<PromptPack>(&text) {
            Ok(pack) => self.save_prompt_pack(store, pack),
            Err(e) => {
                self.state.error(format!(
                    "{} is not a prompt pack ({e}); nothing was changed.",
                    path.display()
                ));
                Ok(())
            }
        }
    }

    pub(super) fn set_story_style(
        &mut self,
        store: &Store,
        pov: crate::domain::Pov,
        tense: crate::domain::Tense,
    ) -> Result<()> {
        if let Some(story) = self.open_story_id() {
            store.set_story_style(&story, pov, tense)?;
            if let Some(open) = self.state.open.as_mut() {
                open.summary = store.story_summary(&story)?;
            }
        }
        Ok(())
    }
}
