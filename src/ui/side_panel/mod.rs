//! The story's side panel: the world, the lorebook (entries, which fired last turn and why), the
//! chapters of the story's memory, the story's writing settings, and the prompt inspector.

mod branches;
mod inspector;
mod lore;
mod lore_proposals;
mod memory;
mod story_settings;
mod world;
mod world_updates;

pub use branches::BranchRename;
pub use lore::LoreForm;
pub use memory::ChapterEdit;
pub use story_settings::SettingsForm;
pub use world::{WorldForm, WorldTab};

use inspector::inspector_ui;
use lore::lorebook_ui;
use story_settings::settings_ui;

use super::ViewState;
use crate::state::{Action, AppState, OpenStory};

/// Which page the story's side panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SidePanel {
    World,
    Lorebook,
    Memory,
    Branches,
    Settings,
    Inspector,
}

impl SidePanel {
    pub const ALL: [SidePanel; 6] = [
        SidePanel::World,
        SidePanel::Lorebook,
        SidePanel::Memory,
        SidePanel::Branches,
        SidePanel::Settings,
        SidePanel::Inspector,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SidePanel::World => "World",
            SidePanel::Lorebook => "Lorebook",
            SidePanel::Memory => "Memory",
            SidePanel::Branches => "Branches",
            SidePanel::Settings => "Story settings",
            SidePanel::Inspector => "Prompt inspector",
        }
    }
}

pub fn side_panel_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    open: &OpenStory,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    let Some(panel) = view.side else {
        return;
    };
    ui.horizontal(|ui| {
        ui.weak(match panel {
            SidePanel::World => "Who, where, what and when",
            SidePanel::Lorebook => "Told to the narrator when it matters",
            SidePanel::Memory => "Chapters and their summaries",
            SidePanel::Branches => "Other paths through the story",
            SidePanel::Settings => "How this story is written",
            SidePanel::Inspector => "What was sent and received",
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .small_button("Close panel")
                .on_hover_text("Hide the side panel")
                .clicked()
            {
                view.side = None;
            }
        });
    });
    ui.separator();
    if panel == SidePanel::World {
        // Its lists scroll themselves, a screenful laid out at a time.
        world::world_ui(ui, &state.writing, view, actions);
        return;
    }
    egui::ScrollArea::vertical()
        .id_salt(("side-panel", panel.label()))
        .auto_shrink([false, false])
        .show(ui, |ui| match panel {
            SidePanel::World => {}
            SidePanel::Lorebook => lorebook_ui(ui, open, &state.writing, view, actions),
            SidePanel::Memory => memory::memory_ui(ui, &state.writing, view, actions),
            SidePanel::Branches => branches::branches_ui(ui, &state.writing, view, actions),
            SidePanel::Settings => settings_ui(ui, state, open, view, actions),
            SidePanel::Inspector => inspector_ui(ui, &state.writing, view),
        });
}
