//! The World panel through the real UI on a real database: the world of a file from the original
//! app shown in its tabs, a row added, edited, deleted and brought back by Undo, and the story time
//! moved on.

// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{TempData, click, harness, settle, type_into};
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use fabula::domain::{OnConflict, StoryId};

const FIXTURE: &str = include_str!("fixtures/original-1.7.avt");
const STORY: &str = "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41";

#[test]
fn the_world_panel_shows_edits_and_undoes_the_story_world() {
    let data = TempData::new();
    {
        let mut store = data.open();
        let bundle = fabula::formats::avt::read(FIXTURE.as_bytes()).expect("read");
        store
            .import_bundle(&bundle, OnConflict::Refuse)
            .expect("import");
    }
    let story = StoryId::from(STORY);
    let mut h = harness(&data);
    click(&mut h, "The Lantern Keeper");
    click(&mut h, "World");
    settle(&mut h);
    assert!(h.query_by_label("Wren").is_some(), "the file's character");
    assert!(
        h.query_by_label_contains("the protagonist").is_some(),
        "marked as the protagonist"
    );
    click(&mut h, "Places");
    assert!(h.query_by_label("Lamp room").is_some());
    assert!(h.query_by_label_contains("you are here").is_some());

    // A new item, typed in by hand.
    click(&mut h, "Inventory");
    assert!(h.query_by_label("Brass key").is_some());
    click(&mut h, "New item");
    click(&mut h, "Save");
    assert!(
        h.query_by_label("Give it a name first.").is_some(),
        "a nameless row is refused with a reason"
    );
    type_into(&mut h, "Name", "Coil of rope");
    click(&mut h, "Save");
    settle(&mut h);
    assert!(h.query_by_label("Coil of rope").is_some());
    let items = data.open().world(&story).expect("world").items;
    assert_eq!(items.len(), 2);
    assert!(items[1].is_carried(), "carried unless said otherwise");

    // Deleted, then back with Undo.
    // The Delete on the rope's own row (the story's entries have theirs too).
    let rope = h.get_by_label("Coil of rope").rect();
    h.get_all_by_label("Delete")
        .find(|d| {
            (d.rect().center().y - rope.center().y).abs() < 8.0 && d.rect().min.x > rope.min.x
        })
        .expect("the rope's Delete")
        .click();
    h.run_ok();
    assert!(
        h.query_by_label("Coil of rope").is_none(),
        "gone from the list"
    );
    assert_eq!(data.open().world(&story).expect("world").items.len(), 1);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    settle(&mut h);
    assert!(
        h.query_by_label("Coil of rope").is_some(),
        "Undo brought it back"
    );

    // Time moves on, and Undo sets it back.
    click(&mut h, "Time");
    assert!(h.query_by_label_contains("Day 3, 05:30").is_some());
    click(&mut h, "+1 hour");
    settle(&mut h);
    assert!(h.query_by_label_contains("Day 3, 06:30").is_some());
    assert_eq!(
        data.open()
            .world(&story)
            .expect("world")
            .time
            .map(|t| t.hours),
        Some(6)
    );
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    settle(&mut h);
    assert!(h.query_by_label_contains("Day 3, 05:30").is_some());
}
