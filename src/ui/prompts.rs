//! Settings > Prompts: the narrator and suggestion templates, checked as they are typed, with reset
//! to default and export/import of the whole pack as JSON.

use crate::domain::{PromptPack, TemplateKind, check_template};
use crate::state::{Action, AppState, Screen, WritingAction};

use super::ViewState;

/// The pack being edited and which template is on screen.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptEditor {
    pub pack: PromptPack,
    pub kind: TemplateKind,
    pub path: String,
}

pub fn prompts_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    super::providers::settings_tabs_ui(ui, Screen::Prompts, actions);
    let saved = &state.writing.pack;
    let editor = view.prompt_editor.get_or_insert_with(|| PromptEditor {
        pack: saved.clone(),
        kind: TemplateKind::Adventure,
        path: state
            .data_dir
            .join("prompt-pack.json")
            .display()
            .to_string(),
    });
    ui.heading("Prompt templates");
    ui.weak("What the narrator and the suggestions are told. {{name}} marks a placeholder; a line whose placeholders are all empty is left out.");
    ui.add_space(6.0);
    ui.horizontal_wrapped(|ui| {
        for kind in TemplateKind::ALL {
            ui.selectable_value(&mut editor.kind, kind, kind.label());
        }
    });
    let kind = editor.kind;
    let placeholders: Vec<String> = kind
        .placeholders()
        .iter()
        .map(|p| format!("{{{{{p}}}}}"))
        .collect();
    ui.weak(format!("Placeholders: {}", placeholders.join(" ")));
    let label = ui.label(format!("{} template", kind.label()));
    ui.add(
        egui::TextEdit::multiline(editor.pack.get_mut(kind))
            .font(egui::TextStyle::Monospace)
            .desired_rows(14)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
    let problem = check_template(editor.pack.get(kind), kind.placeholders()).err();
    if let Some(problem) = &problem {
        ui.colored_label(ui.visuals().error_fg_color, problem.to_string());
    }
    let whole = editor.pack.check();
    ui.horizontal(|ui| {
        let dirty = &editor.pack != saved;
        if ui
            .add_enabled(dirty && whole.is_ok(), egui::Button::new("Save templates"))
            .clicked()
        {
            actions.push(Action::Writing(WritingAction::SavePromptPack(
                editor.pack.clone(),
            )));
        }
        if ui
            .add_enabled(
                editor.pack.get(kind) != kind.default_text(),
                egui::Button::new("Reset to default"),
            )
            .on_hover_text("Put this template back as Fabula ships it (saved when you press Save)")
            .clicked()
        {
            *editor.pack.get_mut(kind) = kind.default_text().to_owned();
        }
        if dirty
            && ui
                .button("Revert")
                .on_hover_text("Forget unsaved changes")
                .clicked()
        {
            editor.pack = saved.clone();
        }
        if let Err((other, e)) = &whole
            && *other != kind
        {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("{}: {e}", other.label()),
            );
        }
    });
    ui.add_space(10.0);
    ui.strong("Share a prompt pack");
    let mut imported = false;
    ui.horizontal(|ui| {
        let label = ui.label("File");
        ui.add(egui::TextEdit::singleline(&mut editor.path).desired_width(360.0))
            .labelled_by(label.id);
        if ui
            .button("Export")
            .on_hover_text("Write the saved templates to this file as JSON")
            .clicked()
        {
            actions.push(Action::Writing(WritingAction::ExportPromptPack(
                editor.path.trim().into(),
            )));
        }
        if ui
            .button("Import")
            .on_hover_text("Read templates from this JSON file and save them")
            .clicked()
        {
            actions.push(Action::Writing(WritingAction::ImportPromptPack(
                editor.path.trim().into(),
            )));
            imported = true;
        }
    });
    if imported {
        // Show what got imported once the controller has saved it.
        view.prompt_editor = None;
    }
}
