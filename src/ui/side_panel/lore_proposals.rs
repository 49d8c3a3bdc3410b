//! The lore agent's proposals in the lorebook panel: each a title, why, and a diff per field
//! (what the entry says now, struck through, and what it would say), with Accept and Reject;
//! Accept all on top. Nothing in the lorebook changes without one of those clicks.

use egui::RichText;

use crate::state::{Action, LoreAction, WritingState};

pub(super) fn review_ui(ui: &mut egui::Ui, writing: &WritingState, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| match writing.lore_agent_work {
        Some((done, of)) => {
            ui.spinner();
            ui.label(format!("Reviewing the lorebook… {done}/{of}"));
        }
        None => {
            if ui
                .button("Review with the lore agent")
                .on_hover_text(
                    "The lore agent reads the newest part of the story and proposes changes \
                         to the lorebook; each waits here for your word",
                )
                .clicked()
            {
                actions.push(Action::Lore(LoreAction::Review));
            }
        }
    });
    let proposals = &writing.lore_proposals;
    if proposals.is_empty() {
        return;
    }
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("Proposed changes ({})", proposals.len())).strong());
        if proposals.len() > 1 && ui.small_button("Accept all").clicked() {
            actions.push(Action::Lore(LoreAction::AcceptAll));
        }
    });
    for p in proposals {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(p.title(&writing.lore)).strong());
            });
            if !p.reason.is_empty() {
                ui.weak(&p.reason);
            }
            for change in p.diff(&writing.lore) {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(format!("{}:", change.field)).small().strong());
                    if !change.before.trim().is_empty() {
                        ui.label(
                            RichText::new(change.before.trim())
                                .strikethrough()
                                .color(ui.visuals().error_fg_color),
                        );
                    }
                    if !change.after.trim().is_empty() {
                        ui.label(
                            RichText::new(change.after.trim())
                                .color(crate::ui::theme::added_text(ui.visuals())),
                        );
                    }
                });
            }
            ui.horizontal(|ui| {
                if ui.small_button("Accept").clicked() {
                    actions.push(Action::Lore(LoreAction::Decide(p.id, true)));
                }
                if ui.small_button("Reject").clicked() {
                    actions.push(Action::Lore(LoreAction::Decide(p.id, false)));
                }
            });
        });
    }
    ui.separator();
}
