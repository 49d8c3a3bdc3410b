//! The World panel: the story's characters, places, inventory, quests and story time, each list
//! editable by hand (new, edit, delete with Undo). Long lists lay out only the rows on screen.

use super::super::ViewState;
use crate::domain::{
    Beat, BeatKind, BeatStatus, Character, CharacterStatus, INVENTORY, Item, Looks, Place,
    StoryTime, World, WorldRow, new_uuid,
};
use crate::state::{Action, WorldAction, WritingState};
use egui::RichText;

/// The panel's tabs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WorldTab {
    #[default]
    Characters,
    Places,
    Inventory,
    Quests,
    Time,
    Updates,
}

impl WorldTab {
    const ALL: [WorldTab; 6] = [
        Self::Characters,
        Self::Places,
        Self::Inventory,
        Self::Quests,
        Self::Time,
        Self::Updates,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Characters => "Characters",
            Self::Places => "Places",
            Self::Inventory => "Inventory",
            Self::Quests => "Quests",
            Self::Time => "Time",
            Self::Updates => "Updates",
        }
    }
}

/// A row being added or edited, with its list fields as the text the user types.
#[derive(Clone, Debug, PartialEq)]
pub struct WorldForm {
    pub row: WorldRow,
    /// Traits, comma-separated (characters).
    pub traits: String,
    pub is_new: bool,
}

impl WorldForm {
    fn new(row: WorldRow, is_new: bool) -> Self {
        let traits = match &row {
            WorldRow::Character(c) => c.traits.join(", "),
            _ => String::new(),
        };
        Self {
            row,
            traits,
            is_new,
        }
    }

    /// The row to save: the list fields read back, and the original's keys for what was edited
    /// dropped (a kept value of an odd type gives way to the one typed here).
    fn finished(&self) -> Result<WorldRow, String> {
        let mut row = self.row.clone();
        let name = match &mut row {
            WorldRow::Character(c) => {
                c.traits = self
                    .traits
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect();
                &c.name
            }
            WorldRow::Place(p) => &p.name,
            WorldRow::Item(i) => &i.name,
            WorldRow::Beat(b) => &b.title,
        };
        if name.trim().is_empty() {
            return Err("Give it a name first.".into());
        }
        crate::domain::world_wire::forget_shadowed_keys(&mut row);
        Ok(row)
    }
}

pub(super) fn world_ui(
    ui: &mut egui::Ui,
    writing: &WritingState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    if let Some(form) = view.world_form.as_mut() {
        let done = egui::ScrollArea::vertical()
            .id_salt("world-form")
            .auto_shrink([false, true])
            .max_height(ui.available_height() - 24.0)
            .show(ui, |ui| form_ui(ui, form, &writing.world))
            .inner;
        match done {
            Some(true) => match form.finished() {
                Ok(row) => {
                    actions.push(Action::World(WorldAction::Save(row)));
                    view.world_form = None;
                    view.world_error = None;
                }
                Err(message) => view.world_error = Some(message),
            },
            Some(false) => {
                view.world_form = None;
                view.world_error = None;
            }
            None => {}
        }
        if let Some(error) = &view.world_error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        return;
    }
    if let Some(pending) = &writing.world_pending {
        pending_ui(ui, pending, actions);
    }
    ui.horizontal_wrapped(|ui| {
        for tab in WorldTab::ALL {
            ui.selectable_value(&mut view.world_tab, tab, tab.label());
        }
    });
    ui.separator();
    let world = &writing.world;
    match view.world_tab {
        WorldTab::Characters => {
            let rows = |i: usize| world.characters.get(i).map(character_text);
            let count = world.characters.len();
            new_button(ui, view, "New character", || {
                WorldRow::Character(Box::new(Character {
                    id: new_uuid(),
                    ..Character::default()
                }))
            });
            list_ui(
                ui,
                view,
                actions,
                count,
                &rows,
                "No characters yet. The people of the story appear here as they are met, or add one by hand.",
            );
        }
        WorldTab::Places => {
            let rows = |i: usize| world.places.get(i).map(place_text);
            let count = world.places.len();
            new_button(ui, view, "New place", || {
                WorldRow::Place(Place {
                    id: new_uuid(),
                    ..Place::default()
                })
            });
            list_ui(ui, view, actions, count, &rows, "No places yet.");
        }
        WorldTab::Inventory => {
            let rows = |i: usize| world.items.get(i).map(|item| item_text(item, world));
            let count = world.items.len();
            new_button(ui, view, "New item", || {
                WorldRow::Item(Item {
                    id: new_uuid(),
                    ..Item::default()
                })
            });
            list_ui(
                ui,
                view,
                actions,
                count,
                &rows,
                "Nothing carried and nothing found yet.",
            );
        }
        WorldTab::Quests => {
            let rows = |i: usize| world.beats.get(i).map(beat_text);
            let count = world.beats.len();
            new_button(ui, view, "New quest or beat", || {
                WorldRow::Beat(Beat {
                    id: new_uuid(),
                    kind: BeatKind::Quest,
                    status: BeatStatus::Active,
                    ..Beat::default()
                })
            });
            list_ui(
                ui,
                view,
                actions,
                count,
                &rows,
                "No quests, milestones or revelations yet.",
            );
        }
        WorldTab::Time => time_ui(ui, world.time.unwrap_or_default(), view, actions),
        WorldTab::Updates => super::world_updates::updates_ui(ui, &writing.world_updates, actions),
    }
}

/// The update the classifier proposed, change by change, waiting for Accept or Reject.
fn pending_ui(ui: &mut egui::Ui, pending: &crate::state::PendingWorld, actions: &mut Vec<Action>) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(RichText::new("Proposed by a narration").strong());
        if pending.more > 0 {
            ui.weak(format!(
                "{} after this one.",
                crate::ui::format::count(pending.more as u64, "more waits", "more wait")
            ));
        }
        for (i, line) in pending.changes.lines().iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(line);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.small_button("Reject").clicked() {
                        actions.push(Action::World(WorldAction::Decide(Some(i), false)));
                    }
                    if ui.small_button("Accept").clicked() {
                        actions.push(Action::World(WorldAction::Decide(Some(i), true)));
                    }
                });
            });
        }
        ui.horizontal(|ui| {
            if ui.button("Accept all").clicked() {
                actions.push(Action::World(WorldAction::Decide(None, true)));
            }
            if ui.button("Reject all").clicked() {
                actions.push(Action::World(WorldAction::Decide(None, false)));
            }
        });
    });
}

fn new_button(
    ui: &mut egui::Ui,
    view: &mut ViewState,
    label: &str,
    row: impl FnOnce() -> WorldRow,
) {
    if ui.button(label).clicked() {
        view.world_form = Some(WorldForm::new(row(), true));
        view.world_error = None;
    }
}

/// One list row as it is shown: its title, a line of facts, and the row to edit.
struct RowText {
    title: String,
    facts: String,
    row: WorldRow,
}

fn character_text(c: &Character) -> RowText {
    let mut facts = Vec::new();
    if c.is_protagonist() {
        facts.push("the protagonist".to_owned());
    } else if let Some(r) = c.relationship.as_deref().filter(|r| !r.is_empty()) {
        facts.push(r.to_owned());
    }
    if c.status != CharacterStatus::Active {
        facts.push(c.status.as_str().to_owned());
    }
    if !c.traits.is_empty() {
        facts.push(c.traits.join(", "));
    }
    if let Some(d) = &c.description {
        facts.push(crate::domain::preview(d, 60));
    }
    RowText {
        title: c.name.clone(),
        facts: facts.join(" · "),
        row: WorldRow::Character(Box::new(c.clone())),
    }
}

fn place_text(p: &Place) -> RowText {
    let mut facts = Vec::new();
    if p.current {
        facts.push("you are here".to_owned());
    } else if p.visited {
        facts.push("visited".to_owned());
    }
    if let Some(d) = &p.description {
        facts.push(crate::domain::preview(d, 60));
    }
    RowText {
        title: p.name.clone(),
        facts: facts.join(" · "),
        row: WorldRow::Place(p.clone()),
    }
}

fn item_text(i: &Item, world: &World) -> RowText {
    let mut facts = Vec::new();
    if i.quantity != 1 {
        facts.push(format!("× {}", i.quantity));
    }
    if i.is_carried() {
        facts.push(if i.equipped { "equipped" } else { "carried" }.to_owned());
    } else {
        let at = world
            .places
            .iter()
            .find(|p| p.id == i.location)
            .map_or(i.location.as_str(), |p| p.name.as_str());
        facts.push(format!("at {at}"));
    }
    if let Some(d) = &i.description {
        facts.push(crate::domain::preview(d, 50));
    }
    RowText {
        title: i.name.clone(),
        facts: facts.join(" · "),
        row: WorldRow::Item(i.clone()),
    }
}

fn beat_text(b: &Beat) -> RowText {
    RowText {
        title: b.title.clone(),
        facts: format!("{} · {}", b.kind.label(), b.status.as_str()),
        row: WorldRow::Beat(b.clone()),
    }
}

/// The list, made and laid out only where it is on screen (a world of a thousand characters
/// scrolls as lightly as one of ten).
fn list_ui(
    ui: &mut egui::Ui,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
    count: usize,
    row_at: &dyn Fn(usize) -> Option<RowText>,
    empty: &str,
) {
    if count == 0 {
        ui.weak(empty);
        return;
    }
    let line = ui.text_style_height(&egui::TextStyle::Body);
    let row_height = line * 2.0 + ui.spacing().item_spacing.y * 3.0;
    egui::ScrollArea::vertical()
        .id_salt(("world-list", view.world_tab.label()))
        .auto_shrink([false, false])
        .show_rows(ui, row_height, count, |ui, range| {
            // Only the rows on screen are made into text.
            for row in range.filter_map(row_at) {
                let row = &row;
                ui.allocate_ui(egui::vec2(ui.available_width(), row_height), |ui| {
                    ui.set_height(row_height);
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(&row.title).strong());
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if ui
                                .small_button("Delete")
                                .on_hover_text(format!(
                                    "Move “{}” to the Trash (Undo brings it back)",
                                    row.title
                                ))
                                .clicked()
                            {
                                actions.push(Action::World(WorldAction::Trash(
                                    row.row.kind(),
                                    row.row.id().to_owned(),
                                )));
                            }
                            if ui
                                .small_button("Edit")
                                .on_hover_text(format!("Edit “{}”", row.title))
                                .clicked()
                            {
                                view.world_form = Some(WorldForm::new(row.row.clone(), false));
                                view.world_error = None;
                            }
                        });
                    });
                    ui.add(egui::Label::new(RichText::new(&row.facts).weak()).truncate());
                });
            }
        });
}

fn text_field(ui: &mut egui::Ui, label: &str, value: &mut String) {
    let l = ui.label(label);
    ui.add(egui::TextEdit::singleline(value).desired_width(f32::INFINITY))
        .labelled_by(l.id);
}

fn optional_field(ui: &mut egui::Ui, label: &str, value: &mut Option<String>, lines: bool) {
    let mut text = value.clone().unwrap_or_default();
    let l = ui.label(label);
    let edit = if lines {
        egui::TextEdit::multiline(&mut text).desired_rows(3)
    } else {
        egui::TextEdit::singleline(&mut text)
    };
    if ui
        .add(edit.desired_width(f32::INFINITY))
        .labelled_by(l.id)
        .changed()
    {
        *value = (!text.trim().is_empty()).then_some(text);
    }
}

/// Returns `Some(true)` to save, `Some(false)` to cancel.
fn form_ui(ui: &mut egui::Ui, form: &mut WorldForm, world: &World) -> Option<bool> {
    let kind = form.row.kind();
    ui.label(
        RichText::new(if form.is_new {
            format!("New {}", kind.label().to_lowercase())
        } else {
            format!("Edit {}", kind.label().to_lowercase())
        })
        .strong(),
    );
    // Above the fields, so they are in sight however long the form is.
    let mut done = None;
    ui.horizontal(|ui| {
        if ui.button("Save").clicked() {
            done = Some(true);
        }
        if ui.button("Cancel").clicked() {
            done = Some(false);
        }
    });
    match &mut form.row {
        WorldRow::Character(c) => {
            text_field(ui, "Name", &mut c.name);
            optional_field(ui, "Description", &mut c.description, true);
            let mut protagonist = c.is_protagonist();
            if ui
                .checkbox(&mut protagonist, "This is the protagonist")
                .changed()
            {
                c.relationship = protagonist.then(|| "self".to_owned());
            }
            if !protagonist {
                optional_field(ui, "Relationship", &mut c.relationship, false);
            }
            text_field(ui, "Traits (comma-separated)", &mut form.traits);
            ui.horizontal(|ui| {
                ui.label("Status");
                for status in CharacterStatus::ALL {
                    ui.radio_value(&mut c.status, status, status.as_str());
                }
            });
            ui.label(RichText::new("Looks").strong());
            for (key, label) in Looks::LABELS {
                if let Some(slot) = c.looks.field_mut(key) {
                    optional_field(ui, label, slot, false);
                }
            }
        }
        WorldRow::Place(p) => {
            text_field(ui, "Name", &mut p.name);
            optional_field(ui, "Description", &mut p.description, true);
            ui.checkbox(&mut p.current, "The protagonist is here now");
            ui.checkbox(&mut p.visited, "Visited");
        }
        WorldRow::Item(i) => {
            text_field(ui, "Name", &mut i.name);
            optional_field(ui, "Description", &mut i.description, true);
            ui.horizontal(|ui| {
                let l = ui.label("Quantity");
                ui.add(egui::DragValue::new(&mut i.quantity).range(0..=1_000_000))
                    .labelled_by(l.id);
            });
            let at = if i.is_carried() {
                "Carried".to_owned()
            } else {
                world
                    .places
                    .iter()
                    .find(|p| p.id == i.location)
                    .map_or(i.location.clone(), |p| format!("At {}", p.name))
            };
            egui::ComboBox::from_label("Where")
                .selected_text(at)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut i.location, INVENTORY.to_owned(), "Carried");
                    for p in &world.places {
                        ui.selectable_value(
                            &mut i.location,
                            p.id.clone(),
                            format!("At {}", p.name),
                        );
                    }
                });
            if i.is_carried() {
                ui.checkbox(&mut i.equipped, "Equipped");
            } else {
                i.equipped = false;
            }
        }
        WorldRow::Beat(b) => {
            text_field(ui, "Title", &mut b.title);
            optional_field(ui, "Description", &mut b.description, true);
            egui::ComboBox::from_label("Kind")
                .selected_text(b.kind.label())
                .show_ui(ui, |ui| {
                    for kind in BeatKind::ALL {
                        ui.selectable_value(&mut b.kind, kind, kind.label());
                    }
                });
            ui.horizontal(|ui| {
                ui.label("Status");
                for status in BeatStatus::ALL {
                    ui.radio_value(&mut b.status, status, status.as_str());
                }
            });
        }
    }
    done
}

fn time_ui(ui: &mut egui::Ui, now: StoryTime, view: &mut ViewState, actions: &mut Vec<Action>) {
    ui.label(format!("In the story it is {}.", now.describe()));
    ui.horizontal_wrapped(|ui| {
        for (label, minutes) in [("+15 min", 15), ("+1 hour", 60), ("+1 day", 24 * 60)] {
            if ui
                .button(label)
                .on_hover_text("Move the story's clock on")
                .clicked()
            {
                actions.push(Action::World(WorldAction::SetTime(now.advanced(minutes))));
            }
        }
    });
    ui.add_space(6.0);
    let edit = view.world_time.get_or_insert(now);
    ui.horizontal_wrapped(|ui| {
        for (label, value, max) in [
            ("Years", &mut edit.years, 100_000),
            ("Days", &mut edit.days, 364),
            ("Hours", &mut edit.hours, 23),
            ("Minutes", &mut edit.minutes, 59),
        ] {
            let l = ui.label(label);
            ui.add(egui::DragValue::new(value).range(0..=max))
                .labelled_by(l.id);
        }
    });
    let edited = *edit;
    if ui
        .add_enabled(edited != now, egui::Button::new("Set the time"))
        .clicked()
    {
        actions.push(Action::World(WorldAction::SetTime(edited)));
        view.world_time = None;
    }
}
