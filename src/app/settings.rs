//! Settings the user changes by hand (look, updates), applied on the UI thread.

use super::FabulaApp;
use crate::state::SettingsAction;
use crate::storage::{Store, StoreError};

impl FabulaApp {
    /// Carries out one settings action (see `SettingsAction`).
    pub(super) fn apply_settings(
        &mut self,
        store: &mut Store,
        action: SettingsAction,
    ) -> Result<(), StoreError> {
        match action {
            SettingsAction::CheckForUpdates => self.check_for_updates(),
            SettingsAction::InstallUpdate => self.install_update(),
            SettingsAction::CancelUpdate => self.cancel_update(),
            SettingsAction::SetCheckUpdatesOnStart(on) => self.set_check_on_start(store, on)?,
            SettingsAction::RestartAfterUpdate => self.restart(),
            SettingsAction::SetTheme(theme) => {
                store.set_setting(crate::domain::ThemeChoice::KEY, theme.as_str())?;
                self.state.prefs.theme = theme;
            }
            SettingsAction::SetFontSize(size) => {
                store.set_setting(crate::domain::FontSize::KEY, size.as_str())?;
                self.state.prefs.font_size = size;
            }
            SettingsAction::SetLineWidth(width) => {
                store.set_setting(crate::domain::LineWidth::KEY, width.as_str())?;
                self.state.prefs.line_width = width;
            }
        }
        Ok(())
    }
}
