//! Editing an entry in place: one TextEdit for the entry being edited, never one per row.

use egui::{Key, KeyboardShortcut, Modifiers};

use super::super::EditState;

const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);

pub(super) enum EditEnd {
    Save(String),
    SaveAndRegenerate(String),
    Cancel,
}

/// The in-place editor. Returns what ended the edit, or `None` to keep editing.
pub(super) fn edit_ui(
    ui: &mut egui::Ui,
    edit: &mut EditState,
    label: egui::Id,
    can_regenerate: bool,
) -> Option<EditEnd> {
    let id = egui::Id::unique(("edit-entry", edit.entry.as_str()));
    let focused = ui.memory(|m| m.has_focus(id));
    if focused && ui.input_mut(|i| i.consume_shortcut(&SAVE)) {
        return Some(EditEnd::Save(edit.text.clone()));
    }
    let response = ui
        .add(
            egui::TextEdit::multiline(&mut edit.text)
                .id(id)
                .desired_width(f32::INFINITY)
                .desired_rows(3),
        )
        .labelled_by(label);
    if std::mem::take(&mut edit.request_focus) {
        response.request_focus();
    }
    // Esc leaves edit mode keeping what was typed: nothing written is ever thrown away by a key.
    if response.lost_focus() && ui.input(|i| i.key_pressed(Key::Escape)) {
        return Some(EditEnd::Save(edit.text.clone()));
    }
    let mut result = None;
    ui.horizontal(|ui| {
        if ui
            .button("Save")
            .on_hover_text("Save (Ctrl+Enter or Esc)")
            .clicked()
        {
            result = Some(EditEnd::Save(edit.text.clone()));
        }
        if can_regenerate
            && ui
                .button("Save and regenerate")
                .on_hover_text("Save the action and write its narration again")
                .clicked()
        {
            result = Some(EditEnd::SaveAndRegenerate(edit.text.clone()));
        }
        if ui
            .button("Cancel")
            .on_hover_text("Discard these changes")
            .clicked()
        {
            result = Some(EditEnd::Cancel);
        }
    });
    result
}
