//! The window between launches (UI thread): what the view looked like and where the window was,
//! kept in the settings table when the window closes and given back to the view at the next start.

use super::FabulaApp;
use crate::state::{ViewEvent, ViewMemory, WindowPlace};
use crate::storage::Store;

const VIEW_KEY: &str = "window.view";
const PLACE_KEY: &str = "window.place";

impl FabulaApp {
    /// The view as it was last closed, handed to the view for its first frame; the story it had
    /// open is opened again unless the command line named one.
    pub(super) fn restore_view(&mut self, store: &Store) {
        let memory: ViewMemory = match store.setting(VIEW_KEY) {
            Ok(Some(text)) => serde_json::from_str(&text).unwrap_or_else(|e| {
                log::warn!("the window's last view could not be read ({e}); starting afresh");
                ViewMemory::default()
            }),
            Ok(None) => return,
            Err(e) => {
                log::warn!("the window's last view could not be read: {e}");
                return;
            }
        };
        if self.launch.open_story.is_none()
            && let Some(id) = memory.open_story.clone()
            && self.state.stories.iter().any(|s| s.story.id.0 == id)
            && let Err(e) = self.open_story(store, &crate::domain::StoryId(id))
        {
            log::warn!("the story open last time could not be opened again: {e}");
        }
        self.view_events.push(ViewEvent::Restore(Box::new(memory)));
    }

    /// Keeps what the window looks like for the next launch (eframe calls this as it closes).
    pub fn remember_window(&mut self) {
        let Some(store) = self.store.as_ref() else {
            return;
        };
        let open = self.state.open.as_ref().map(|o| &o.summary.story.id);
        let memory = self.view.memory(open);
        let saved = serde_json::to_string(&memory)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                store
                    .set_setting(VIEW_KEY, &text)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = saved {
            log::warn!("the window's view was not kept for next time: {e}");
        }
        if let Some(place) = self.window_place
            && let Ok(text) = serde_json::to_string(&place)
            && let Err(e) = store.set_setting(PLACE_KEY, &text)
        {
            log::warn!("the window's place was not kept for next time: {e}");
        }
    }

    /// Where the window was when it last closed, if it is known.
    pub fn saved_window_place(&self) -> Option<WindowPlace> {
        let text = self.store.as_ref()?.setting(PLACE_KEY).ok()??;
        serde_json::from_str::<WindowPlace>(&text)
            .ok()
            .filter(|p| p.width >= 320.0 && p.height >= 240.0)
    }

    /// Notes where the window is, each frame (a read of what egui already knows).
    pub(super) fn note_window_place(&mut self, ctx: &egui::Context) {
        let (outer, inner) = ctx.input(|i| (i.viewport().outer_rect, i.viewport().inner_rect));
        if let (Some(outer), Some(inner)) = (outer, inner) {
            self.window_place = Some(WindowPlace {
                x: outer.min.x,
                y: outer.min.y,
                width: inner.width(),
                height: inner.height(),
            });
        }
    }
}
