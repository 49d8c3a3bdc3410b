//! The input box under the story: adventure action types with their prefixes, or an author's
//! direction; Ctrl+Enter stores it and asks the narrator to continue.

use egui::{Key, KeyboardShortcut, Modifiers};

use crate::domain::{ActionType, EntryKind, Story, StoryMode, compose_input};
use crate::state::{Action, EntryAction, WritingAction};

const SUBMIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
const SUBMIT_NARRATION: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Enter);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Composer {
    pub text: String,
    pub action: ActionType,
}

/// Returns whether something was submitted this frame. `busy` while a narration is being written:
/// typing goes on, but nothing new is sent until it ends.
pub fn composer_ui(
    ui: &mut egui::Ui,
    story: &Story,
    settings: &crate::domain::StorySettings,
    composer: &mut Composer,
    busy: bool,
    actions: &mut Vec<Action>,
) -> bool {
    ui.add_space(4.0);
    let adventure = story.mode == StoryMode::Adventure;
    let action = if adventure {
        composer.action
    } else {
        ActionType::Free
    };
    let label_text = if adventure {
        "Your action"
    } else {
        "Author's direction"
    };

    let (mut generate, mut add_only, mut as_narration) = (false, false, false);
    // Taken before the TextEdit sees the keys, so Ctrl+Enter never inserts a newline.
    ui.input_mut(|i| {
        if i.consume_shortcut(&SUBMIT_NARRATION) {
            as_narration = true;
        } else if i.consume_shortcut(&SUBMIT) {
            generate = !busy;
        }
    });

    let label = ui
        .horizontal(|ui| {
            let label = ui.strong(label_text);
            if adventure {
                ui.add_space(8.0);
                for kind in ActionType::ALL {
                    if ui
                        .selectable_label(composer.action == kind, kind.label())
                        .clicked()
                    {
                        composer.action = kind;
                    }
                }
            }
            label
        })
        .inner;
    let hint = if adventure {
        action.hint()
    } else {
        "What should happen next? Describe it, or write the passage yourself."
    };
    ui.add(
        egui::TextEdit::multiline(&mut composer.text)
            .id(egui::Id::unique("composer"))
            .hint_text(hint)
            .desired_rows(3)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);

    let voice = crate::domain::Voice::of(story, settings);
    let composed = compose_input(action, &voice, &composer.text);
    ui.horizontal(|ui| {
        let has_text = composed.is_some();
        let (label, hint) = if has_text {
            (
                "Generate",
                "Add this to the story and let the narrator continue (Ctrl+Enter)",
            )
        } else {
            (
                "Continue",
                "Let the narrator continue the story (Ctrl+Enter)",
            )
        };
        if ui
            .add_enabled(!busy, egui::Button::new(label))
            .on_hover_text(hint)
            .clicked()
        {
            generate = true;
        }
        if ui
            .add_enabled(has_text, egui::Button::new("Add"))
            .on_hover_text("Add to the story without asking the narrator")
            .clicked()
        {
            add_only = true;
        }
        if ui
            .add_enabled(has_text, egui::Button::new("Add as narration"))
            .on_hover_text("Add the text as it is, as narration (Ctrl+Shift+Enter)")
            .clicked()
        {
            as_narration = true;
        }
        if let (true, Some(preview)) = (
            adventure && !matches!(action, ActionType::Free | ActionType::Story),
            &composed,
        ) {
            ui.weak(format!("Will add: {}", crate::domain::preview(preview, 90)));
        }
    });
    ui.add_space(4.0);

    // A "Story" action is the writer narrating, so it lands as narration.
    let kind = if action == ActionType::Story {
        EntryKind::Narration
    } else {
        EntryKind::UserAction
    };
    if as_narration {
        let text = composer.text.trim().to_owned();
        if text.is_empty() {
            return false;
        }
        actions.push(Action::Entry(EntryAction::AddEntry {
            kind: EntryKind::Narration,
            text,
        }));
    } else if add_only {
        let Some(text) = composed else {
            return false;
        };
        actions.push(Action::Entry(EntryAction::AddEntry { kind, text }));
    } else if generate {
        actions.push(Action::Writing(WritingAction::Generate(
            composed.map(|text| (kind, text)),
        )));
    } else {
        return false;
    }
    composer.text.clear();
    true
}
