//! The Branches panel: the story's tree (the main line, then each branch under the one it forks
//! from), the one shown marked, a click to show another, rename in place, delete to the Trash;
//! and the checkpoints, each a moment to branch from.

use egui::RichText;

use super::super::ViewState;
use crate::domain::branch::Branch;
use crate::state::{Action, BranchAction, WritingState};

/// A branch's name being edited.
#[derive(Clone, Debug, PartialEq)]
pub struct BranchRename {
    pub id: String,
    pub name: String,
}

/// A name being edited in place: the name to save once Save or Enter says so (the edit then
/// ends), and Cancel ends it with nothing saved.
fn rename_ui(ui: &mut egui::Ui, label: &str, editing: &mut Option<BranchRename>) -> Option<String> {
    let rename = editing.as_mut()?;
    let label = ui.label(label);
    let field = ui
        .text_edit_singleline(&mut rename.name)
        .labelled_by(label.id);
    let done = ui.small_button("Save").clicked()
        || field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if done {
        return editing.take().map(|r| r.name);
    }
    if ui.small_button("Cancel").clicked() {
        *editing = None;
    }
    None
}

/// The branches in tree order with their depth (children under their parent, oldest first).
fn in_tree(branches: &[Branch]) -> Vec<(usize, &Branch)> {
    fn walk<'a>(
        parent: Option<&str>,
        depth: usize,
        branches: &'a [Branch],
        out: &mut Vec<(usize, &'a Branch)>,
    ) {
        for b in branches.iter().filter(|b| b.parent.as_deref() == parent) {
            if out.iter().any(|(_, seen)| seen.id == b.id) {
                continue;
            }
            out.push((depth, b));
            walk(Some(&b.id), depth + 1, branches, out);
        }
    }
    let mut out = Vec::new();
    walk(None, 1, branches, &mut out);
    out
}

pub(super) fn branches_ui(
    ui: &mut egui::Ui,
    writing: &WritingState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    ui.weak(
        "A branch tries another path from any entry (More > Branch from here) and shares \
         everything before it; the story, the narrator and Find follow the branch shown.",
    );
    ui.add_space(4.0);
    let shown = writing.branch.as_deref();
    let mark = |on: bool, name: &str| {
        if on {
            RichText::new(format!("● {name}")).strong()
        } else {
            RichText::new(name)
        }
    };
    ui.horizontal(|ui| {
        if ui
            .selectable_label(shown.is_none(), mark(shown.is_none(), "Main line"))
            .on_hover_text("Show the story's main line")
            .clicked()
            && shown.is_some()
        {
            actions.push(Action::Branch(BranchAction::Switch(None)));
        }
    });
    for (depth, b) in in_tree(&writing.branches) {
        ui.horizontal(|ui| {
            ui.add_space(16.0 * depth as f32);
            let renaming = view.branch_rename.as_ref().is_some_and(|r| r.id == b.id);
            if renaming {
                if let Some(name) = rename_ui(ui, "Name", &mut view.branch_rename) {
                    actions.push(Action::Branch(BranchAction::Rename(b.id.clone(), name)));
                }
                return;
            }
            let on = shown == Some(b.id.as_str());
            if ui
                .selectable_label(on, mark(on, &b.name))
                .on_hover_text("Show this branch")
                .clicked()
                && !on
            {
                actions.push(Action::Branch(BranchAction::Switch(Some(b.id.clone()))));
            }
            if let Some(facts) = writing.branch_facts.iter().find(|f| f.id == b.id) {
                ui.weak(format!(
                    "{} own · {}",
                    match facts.entries {
                        1 => "1 entry".to_owned(),
                        n => format!("{n} entries"),
                    },
                    crate::ui::format::relative_time(facts.last_edited, crate::domain::now_ms())
                ))
                .on_hover_text(format!("Forks after: “{}”", facts.fork_preview));
            }
            if ui.small_button("Rename").clicked() {
                view.branch_rename = Some(BranchRename {
                    id: b.id.clone(),
                    name: b.name.clone(),
                });
            }
            if ui
                .small_button("Delete")
                .on_hover_text("Move the branch to the Trash (Undo brings it back)")
                .clicked()
            {
                actions.push(Action::Branch(BranchAction::Trash(b.id.clone())));
            }
        });
    }
    ui.separator();
    ui.label(RichText::new("Checkpoints").strong());
    if writing.checkpoints.is_empty() {
        ui.weak("None yet. More > Checkpoint here on an entry marks a moment to come back to.");
    }
    for c in &writing.checkpoints {
        let renaming = view
            .checkpoint_rename
            .as_ref()
            .is_some_and(|r| r.id == c.id);
        ui.horizontal_wrapped(|ui| {
            if renaming {
                if let Some(name) = rename_ui(ui, "Checkpoint name", &mut view.checkpoint_rename) {
                    actions.push(Action::Branch(BranchAction::RenameCheckpoint(
                        c.id.clone(),
                        name,
                    )));
                }
                return;
            }
            ui.label(&c.name);
            if let Some(preview) = &c.preview {
                ui.weak(crate::domain::preview(preview, 50));
            }
            if ui
                .small_button("Branch from here")
                .on_hover_text("A new branch from this moment; nothing after it is lost")
                .clicked()
            {
                actions.push(Action::Branch(BranchAction::FromCheckpoint(c.id.clone())));
            }
            let open = writing
                .checkpoint_moment
                .as_ref()
                .is_some_and(|(id, _)| id == &c.id);
            if ui
                .small_button(if open { "Hide world" } else { "World then" })
                .on_hover_text("The world and lorebook as they were at this moment")
                .clicked()
            {
                actions.push(Action::Branch(BranchAction::ShowMoment(
                    (!open).then(|| c.id.clone()),
                )));
            }
            if ui.small_button("Rename").clicked() {
                view.checkpoint_rename = Some(BranchRename {
                    id: c.id.clone(),
                    name: c.name.clone(),
                });
            }
            if ui.small_button("Delete").clicked() {
                actions.push(Action::Branch(BranchAction::DeleteCheckpoint(c.id.clone())));
            }
        });
        if let Some((_, moment)) = writing
            .checkpoint_moment
            .as_ref()
            .filter(|(id, _)| id == &c.id)
        {
            moment_ui(ui, moment);
        }
    }
}

/// The world and lorebook at a checkpoint, name by name.
fn moment_ui(ui: &mut egui::Ui, moment: &crate::domain::branch::CheckpointMoment) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        let line = |ui: &mut egui::Ui, label: &str, names: Vec<&str>| {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(label).strong());
                if names.is_empty() {
                    ui.weak("none");
                } else {
                    ui.label(names.join(", "));
                }
            });
        };
        let w = &moment.world;
        line(
            ui,
            "Characters:",
            w.characters.iter().map(|c| c.name.as_str()).collect(),
        );
        line(
            ui,
            "Places:",
            w.places.iter().map(|p| p.name.as_str()).collect(),
        );
        line(
            ui,
            "Items:",
            w.items.iter().map(|i| i.name.as_str()).collect(),
        );
        line(
            ui,
            "Quests and beats:",
            w.beats.iter().map(|b| b.title.as_str()).collect(),
        );
        if let Some(time) = w.time {
            line(ui, "Time:", vec![time.describe().as_str()]);
        }
        line(
            ui,
            "Lorebook:",
            moment.lore.iter().map(|(n, _)| n.as_str()).collect(),
        );
        if !moment.lore_kept {
            ui.weak("This checkpoint kept no lorebook; it is shown as it stands now.");
        }
    });
}
