//! The Sync screen (share this library behind a QR code; list, pull and push another device's
//! stories), the import and export dialogs, and the question asked when a story is already here.

use std::collections::BTreeSet;

use egui::{ColorImage, TextureOptions};

use super::ViewState;
use crate::domain::StoryId;
use crate::domain::{FileFormat, OnConflict};
use crate::state::{Action, AppState, QrImage, ShareAction, SyncBusy};

/// Sync screen fields the controller does not need until a button is pressed.
#[derive(Default)]
pub struct SyncView {
    pub interface: usize,
    pub address: String,
    pub token: String,
    pub pull: BTreeSet<String>,
    pub push: BTreeSet<StoryId>,
    qr: Option<(String, egui::TextureHandle)>,
}

/// The export dialog's choices.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportDialog {
    pub story: StoryId,
    pub format: FileFormat,
    pub path: String,
    pub lore: bool,
}

fn qr_texture(ctx: &egui::Context, qr: &QrImage) -> egui::TextureHandle {
    // A four-module light border is part of the code: scanners need it.
    const QUIET: usize = 4;
    let size = qr.width + 2 * QUIET;
    let mut pixels = vec![super::theme::QR_LIGHT; size * size];
    for y in 0..qr.width {
        for x in 0..qr.width {
            if qr.modules.get(y * qr.width + x).copied().unwrap_or(false) {
                pixels[(y + QUIET) * size + x + QUIET] = super::theme::QR_DARK;
            }
        }
    }
    let image = ColorImage::new([size, size], pixels);
    // Nearest filtering keeps the modules sharp when scaled up.
    ctx.load_texture("sync-qr", image, TextureOptions::NEAREST)
}

pub fn sync_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    let sync = &state.sync;
    ui.heading("Sync with another device");
    ui.weak("Share this library on your local network, or connect to another device running Fabula or Aventura. Nothing is ever overwritten: a story that is already here is yours to keep, copy or replace (whatever a replace would change goes to the Trash first).");
    ui.add_space(8.0);
    ui.columns(2, |cols| {
        share_ui(&mut cols[0], state, view, actions);
        peer_ui(&mut cols[1], state, view, actions);
    });
    if let Some((done, total, what)) = &sync.progress {
        ui.add_space(6.0);
        super::transfer_progress(ui, *done, *total, what);
    } else if let Some(busy) = sync.busy {
        ui.weak(match busy {
            SyncBusy::Listing => "Asking for the list of stories…",
            SyncBusy::Pulling => "Pulling…",
            SyncBusy::Pushing => "Pushing…",
            SyncBusy::Importing => "Importing…",
            SyncBusy::Exporting => "Exporting…",
        });
    }
    if !sync.results.is_empty() {
        ui.add_space(6.0);
        ui.strong("Done so far");
        for line in sync.results.iter().rev().take(12) {
            ui.label(line);
        }
    }
}

fn share_ui(ui: &mut egui::Ui, state: &AppState, view: &mut ViewState, actions: &mut Vec<Action>) {
    let sync = &state.sync;
    let sv = &mut view.sync;
    ui.strong("This device");
    match &sync.serving {
        None => {
            if sync.interfaces.is_empty() {
                ui.weak("No network address was found.");
                return;
            }
            sv.interface = sv.interface.min(sync.interfaces.len() - 1);
            let (name, ip) = &sync.interfaces[sv.interface];
            ui.horizontal(|ui| {
                ui.label("Share on");
                egui::ComboBox::from_id_salt("sync-interface")
                    .selected_text(format!("{ip} ({name})"))
                    .show_ui(ui, |ui| {
                        for (i, (name, ip)) in sync.interfaces.iter().enumerate() {
                            ui.selectable_value(&mut sv.interface, i, format!("{ip} ({name})"));
                        }
                    })
                    .response
                    .widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Share on")
                    });
            });
            if ui
                .button("Start sharing")
                .on_hover_text(
                    "Let devices on this network that know the code see and exchange your stories",
                )
                .clicked()
            {
                actions.push(Action::Share(ShareAction::StartSharing(*ip)));
            }
        }
        Some(serving) => {
            if let Some(qr) = &serving.qr {
                let fresh = sv
                    .qr
                    .as_ref()
                    .is_none_or(|(p, _)| p != serving.pairing.expose());
                if fresh {
                    sv.qr = Some((
                        serving.pairing.expose().to_owned(),
                        qr_texture(ui.ctx(), qr),
                    ));
                }
                if let Some((_, texture)) = &sv.qr {
                    // Whole pixels per module keep every module the same size on screen.
                    let modules = texture.size()[0].max(1);
                    let side = (240 / modules).max(2) as f32 * modules as f32;
                    ui.add(
                        egui::Image::new((texture.id(), egui::vec2(side, side)))
                            .alt_text("QR code with this device's address and token"),
                    );
                }
            }
            ui.label(format!("Address: {}", serving.address));
            ui.horizontal(|ui| {
                ui.label(format!("Token: {}", serving.token.expose()));
                super::copy::copy_button(ui, "Copy", "Copy the token", || {
                    serving.token.expose().to_owned()
                });
            });
            ui.weak("Scan the code in Aventura or Fabula on the other device, or type the address and token there.");
            if ui.button("Stop sharing").clicked() {
                actions.push(Action::Share(ShareAction::StopSharing));
            }
            for line in serving.log.iter().rev().take(8) {
                ui.weak(line);
            }
        }
    }
}

fn peer_ui(ui: &mut egui::Ui, state: &AppState, view: &mut ViewState, actions: &mut Vec<Action>) {
    let sync = &state.sync;
    let sv = &mut view.sync;
    let busy = sync.busy.is_some();
    ui.strong("Another device");
    egui::Grid::new("peer-form").num_columns(2).show(ui, |ui| {
        let label = ui.label("Address");
        ui.add(egui::TextEdit::singleline(&mut sv.address).hint_text("192.168.1.23:53817"))
            .labelled_by(label.id);
        ui.end_row();
        let label = ui.label("Token");
        ui.add(egui::TextEdit::singleline(&mut sv.token).hint_text("from its Sync screen"))
            .labelled_by(label.id);
        ui.end_row();
    });
    if ui
        .add_enabled(
            !busy && !sv.address.trim().is_empty(),
            egui::Button::new("Connect"),
        )
        .clicked()
    {
        actions.push(Action::Share(ShareAction::ConnectPeer {
            address: sv.address.clone(),
            token: crate::domain::Secret::new(sv.token.clone()),
        }));
    }
    if let Some(problem) = &sync.peer_error {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(ui.visuals().error_fg_color, &problem.message);
            if problem.retryable
                && !busy
                && ui
                    .button("Try again")
                    .on_hover_text("Connect to the other device again")
                    .clicked()
            {
                actions.push(Action::Share(ShareAction::ConnectPeer {
                    address: sv.address.clone(),
                    token: crate::domain::Secret::new(sv.token.clone()),
                }));
            }
        });
    }
    if sync.peer.is_none() {
        return;
    }
    ui.add_space(6.0);
    ui.label(format!("Their stories ({})", sync.peer_stories.len()));
    egui::ScrollArea::vertical()
        .id_salt("peer-stories")
        .max_height(180.0)
        .show(ui, |ui| {
            for story in &sync.peer_stories {
                let mut on = sv.pull.contains(&story.id);
                let text = format!("{} · {} entries", story.title, story.entry_count);
                if ui.checkbox(&mut on, text).changed() {
                    if on {
                        sv.pull.insert(story.id.clone());
                    } else {
                        sv.pull.remove(&story.id);
                    }
                }
            }
        });
    let chosen: Vec<String> = sv.pull.iter().cloned().collect();
    if ui
        .add_enabled(
            !busy && !chosen.is_empty(),
            egui::Button::new(match chosen.len() {
                0 => "Pull here (tick stories first)".to_owned(),
                n => format!("Pull {n} here"),
            }),
        )
        .clicked()
    {
        actions.push(Action::Share(ShareAction::PullStories(chosen)));
        sv.pull.clear();
    }
    ui.add_space(6.0);
    ui.label("Your stories");
    egui::ScrollArea::vertical()
        .id_salt("push-stories")
        .max_height(180.0)
        .show(ui, |ui| {
            for s in &state.stories {
                let mut on = sv.push.contains(&s.story.id);
                let text = format!("{} · {} entries ", s.story.title, s.entry_count);
                if ui.checkbox(&mut on, text).changed() {
                    if on {
                        sv.push.insert(s.story.id.clone());
                    } else {
                        sv.push.remove(&s.story.id);
                    }
                }
            }
        });
    let chosen: Vec<StoryId> = sv.push.iter().cloned().collect();
    if ui
        .add_enabled(
            !busy && !chosen.is_empty(),
            egui::Button::new(match chosen.len() {
                0 => "Push there (tick stories first)".to_owned(),
                n => format!("Push {n} there"),
            }),
        )
        .clicked()
    {
        actions.push(Action::Share(ShareAction::PushStories(chosen)));
        sv.push.clear();
    }
}

/// "Already in your library": asked once per story, over whatever screen is open.
pub fn conflict_ui(ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
    let Some(conflict) = state.sync.conflicts.first() else {
        return;
    };
    egui::Window::new("Already in your library")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            ui.label(format!(
                "“{}” is already here. What should happen to the incoming copy?",
                conflict.title
            ));
            ui.horizontal(|ui| {
                if ui
                    .button("Keep both")
                    .on_hover_text("Add it as a copy with “(imported)” after its title")
                    .clicked()
                {
                    actions.push(Action::Share(ShareAction::ResolveConflict(Some(OnConflict::KeepBoth))));
                }
                if ui
                    .button("Replace mine")
                    .on_hover_text("Yours becomes this version; if that changes or removes anything of yours, your version goes to the Trash first")
                    .clicked()
                {
                    actions.push(Action::Share(ShareAction::ResolveConflict(Some(OnConflict::Replace))));
                }
                if ui.button("Skip").clicked() {
                    actions.push(Action::Share(ShareAction::ResolveConflict(None)));
                }
            });
        });
}

/// Returns true while the dialog stays open.
pub fn import_dialog_ui(
    ctx: &egui::Context,
    path: &mut String,
    error: &mut Option<String>,
    actions: &mut Vec<Action>,
) -> bool {
    let mut open = true;
    egui::Window::new("Import a story file")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            ui.label("An .avt file exported by Fabula or Aventura.");
            let label = ui.label("File");
            let field = ui
                .add(
                    egui::TextEdit::singleline(path)
                        .desired_width(380.0)
                        .hint_text("/home/me/story.avt"),
                )
                .labelled_by(label.id);
            file_error_ui(ui, field.changed(), error);
            ui.horizontal(|ui| {
                if ui
                    .button("Browse…")
                    .on_hover_text("Choose the file in the desktop's file dialog")
                    .clicked()
                {
                    actions.push(Action::Share(ShareAction::PickImportFile));
                }
                if ui
                    .add_enabled(!path.trim().is_empty(), egui::Button::new("Import"))
                    .clicked()
                {
                    actions.push(Action::Share(ShareAction::ImportFile(path.trim().into())));
                    open = false;
                }
                if ui.button("Cancel").clicked() {
                    open = false;
                }
            });
        });
    open
}

/// Why the file of this dialog failed last time, until the path is edited.
fn file_error_ui(ui: &mut egui::Ui, edited: bool, error: &mut Option<String>) {
    if edited {
        *error = None;
    }
    if let Some(message) = error {
        ui.colored_label(ui.visuals().error_fg_color, message.as_str());
    }
}

/// Returns true while the dialog stays open.
pub fn export_dialog_ui(
    ctx: &egui::Context,
    dialog: &mut ExportDialog,
    error: &mut Option<String>,
    actions: &mut Vec<Action>,
) -> bool {
    let mut open = true;
    egui::Window::new("Export the story")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            for format in FileFormat::ALL {
                if ui.radio(dialog.format == format, format.label()).clicked()
                    && dialog.format != format
                {
                    // Keep the chosen folder and name; only the extension follows the format.
                    if let Some(stem) = dialog.path.rsplit_once('.').map(|(s, _)| s.to_owned()) {
                        dialog.path = format!("{stem}.{}", format.extension());
                    }
                    dialog.format = format;
                }
            }
            if dialog.format != FileFormat::Avt {
                ui.checkbox(&mut dialog.lore, "Add the lorebook at the end");
            }
            let label = ui.label("Save as");
            let field = ui
                .add(egui::TextEdit::singleline(&mut dialog.path).desired_width(380.0))
                .labelled_by(label.id);
            file_error_ui(ui, field.changed(), error);
            // Only a stat, and only while the dialog is open: asked before a file is replaced.
            let exists =
                !dialog.path.trim().is_empty() && std::path::Path::new(dialog.path.trim()).exists();
            if exists {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    "A file with this name exists; exporting replaces it.",
                );
            }
            ui.horizontal(|ui| {
                if ui
                    .button("Browse…")
                    .on_hover_text("Choose where to save in the desktop's file dialog")
                    .clicked()
                {
                    let name = std::path::Path::new(dialog.path.trim())
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    actions.push(Action::Share(ShareAction::PickExportPath { name }));
                }
                let label = if exists { "Replace the file" } else { "Export" };
                if ui
                    .add_enabled(!dialog.path.trim().is_empty(), egui::Button::new(label))
                    .clicked()
                {
                    actions.push(Action::Share(ShareAction::ExportStory {
                        story: dialog.story.clone(),
                        format: dialog.format,
                        path: dialog.path.trim().into(),
                        lore: dialog.lore,
                    }));
                    open = false;
                }
                if ui.button("Cancel").clicked() {
                    open = false;
                }
            });
        });
    open
}
