//! Find in the open story (Ctrl+F): what is typed is looked for in every entry, the matches are
//! marked in the text, and Enter / F3 (Shift for back) steps from one entry holding it to the
//! next, scrolling it into view. Esc closes the bar.

use egui::{Key, Modifiers};

use super::super::ViewState;
use crate::domain::RowIndex;
use crate::domain::search::SearchQuery;
use crate::state::{Action, FindInStory, LibraryAction};

/// The find bar while it is open.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindBar {
    pub text: String,
    /// Which match (of the entries found) was stepped to last.
    pub current: Option<usize>,
    /// Take the keyboard on the next frame.
    pub focus: bool,
    /// What was last asked for, so typing asks once per change.
    asked: String,
    /// The entry shown when the bar opened (a library hit): stepping goes on from it.
    pub from_entry: Option<crate::domain::EntryId>,
}

impl FindBar {
    pub fn open_with(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            focus: true,
            ..Self::default()
        }
    }
}

pub(super) fn find_bar_ui(
    ui: &mut egui::Ui,
    view: &mut ViewState,
    found: &FindInStory,
    rows: &RowIndex,
    actions: &mut Vec<Action>,
) {
    let Some(bar) = view.find_bar.as_mut() else {
        view.layout.highlight = None;
        return;
    };
    if bar.current.is_none()
        && !found.is_searching()
        && found.found_for == bar.text
        && let Some(entry) = &bar.from_entry
    {
        bar.current = found.matches.iter().position(|m| m == entry);
        bar.from_entry = None;
    }
    let mut step: Option<bool> = None;
    let mut close = false;
    // Esc there leaves the entry's edit, not the find bar.
    let editing_entry = view.editing.is_some();
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Look for");
        let field = ui.add(
            egui::TextEdit::singleline(&mut bar.text)
                .hint_text("text in this story")
                .desired_width(220.0),
        );
        let field = field.labelled_by(label.id);
        if std::mem::take(&mut bar.focus) {
            field.request_focus();
        }
        if field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
            step = Some(!ui.input(|i| i.modifiers.shift));
            field.request_focus();
        }
        let status = if found.query.trim().is_empty() {
            String::new()
        } else if found.is_searching() {
            "Finding…".to_owned()
        } else if let Some(error) = &found.error {
            error.clone()
        } else if found.matches.is_empty() {
            "Not in this story".to_owned()
        } else {
            match bar.current {
                Some(i) => format!("{} of {}", i + 1, found.matches.len()),
                None => crate::domain::count_of(found.matches.len() as u64, "entry", "entries"),
            }
        };
        if ui
            .small_button("‹ Previous")
            .on_hover_text("The entry before (Shift+F3)")
            .clicked()
        {
            step = Some(false);
        }
        if ui
            .small_button("Next ›")
            .on_hover_text("The next entry (F3 or Enter)")
            .clicked()
        {
            step = Some(true);
        }
        ui.weak(status);
        if ui.small_button("Close").on_hover_text("Esc").clicked() {
            close = true;
        }
    });
    ui.input_mut(|i| {
        if i.consume_key(Modifiers::SHIFT, Key::F3) {
            step = Some(false);
        } else if i.consume_key(Modifiers::NONE, Key::F3) {
            step = Some(true);
        }
        if editing_entry {
            return;
        }
        if i.consume_key(Modifiers::NONE, Key::Escape) {
            close = true;
        }
    });
    if close {
        view.find_bar = None;
        view.layout.highlight = None;
        actions.push(Action::Library(LibraryAction::FindInStory(String::new())));
        return;
    }
    if bar.text != bar.asked {
        bar.asked = bar.text.clone();
        bar.current = None;
        actions.push(Action::Library(LibraryAction::FindInStory(
            bar.text.clone(),
        )));
    }
    let query = SearchQuery::parse(&bar.text);
    view.layout.highlight = (!query.is_empty()).then_some(query);
    let Some(forward) = step else {
        return;
    };
    if found.matches.is_empty() || found.is_searching() {
        return;
    }
    let count = found.matches.len();
    let next = match (bar.current, forward) {
        (None, true) => 0,
        (None, false) => count - 1,
        (Some(i), true) => (i + 1) % count,
        (Some(i), false) => (i + count - 1) % count,
    };
    bar.current = Some(next);
    let id = &found.matches[next];
    if let Some(index) = rows.index_of(id) {
        view.layout.start_at_entry(index);
    }
}
