//! Search through the real UI on a real database: the library's search box finds text in every
//! story and a click opens the story at that entry with Find marking it; Ctrl+F in a story steps
//! through the entries holding a word with F3 and Shift+F3, and Esc closes it.

// The shared test set-up starts its own server threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{TempData, click, harness, settle, type_into};
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use fabula::domain::EntryKind;

fn stories(data: &TempData) {
    let harbour = data.add_story("Harbour");
    let keeper = data.add_story("Keeper");
    let store = data.open();
    for text in [
        "The bell rings over the water.",
        "Gulls.",
        "Again the BELL, nearer now.",
    ] {
        store
            .append_entry(&harbour, EntryKind::Narration, text)
            .expect("entry");
    }
    store
        .append_entry(&keeper, EntryKind::Narration, "夜の灯台で鐘が鳴る。")
        .expect("entry");
}

#[test]
fn the_library_search_finds_text_in_any_story_and_opens_it_there() {
    let data = TempData::new();
    stories(&data);
    let mut h = harness(&data);
    type_into(&mut h, "Filter", "灯台");
    settle(&mut h);
    assert!(h.query_by_label("Found in the text").is_some());
    let hit = h
        .query_by_label_contains("Keeper  夜の灯台で鐘が鳴る")
        .expect("the hit: its story, then its text");
    hit.click();
    h.run_ok();
    settle(&mut h);
    assert!(
        h.query_by_label("Story: Keeper").is_some(),
        "the story opened"
    );
    assert!(
        h.query_by_label("1 of 1").is_some(),
        "Find marks it there, stepping on from it"
    );

    click(&mut h, "Library");
    h.get_by_label("Filter").focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("Filter").type_text("zanzibar");
    h.run_ok();
    settle(&mut h);
    assert!(h.query_by_label("No entry holds that text.").is_some());
}

#[test]
fn ctrl_f_steps_through_the_story_with_f3_and_esc_closes_it() {
    let data = TempData::new();
    stories(&data);
    let mut h = harness(&data);
    click(&mut h, "Harbour");
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run_ok();
    h.get_by_label("Look for").type_text("bell");
    h.run_ok();
    settle(&mut h);
    assert!(
        h.query_by_label("2 entries").is_some(),
        "both bells, any case"
    );
    h.key_press(Key::F3);
    h.run_ok();
    assert!(h.query_by_label("1 of 2").is_some());
    h.key_press(Key::F3);
    h.run_ok();
    assert!(h.query_by_label("2 of 2").is_some());
    h.key_press(Key::F3);
    h.run_ok();
    assert!(h.query_by_label("1 of 2").is_some(), "round to the first");
    h.key_press_modifiers(Modifiers::SHIFT, Key::F3);
    h.run_ok();
    assert!(h.query_by_label("2 of 2").is_some());
    click(&mut h, "Next ›");
    assert!(h.query_by_label("1 of 2").is_some());

    h.get_by_label("Look for").focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("Look for").type_text("heron");
    h.run_ok();
    settle(&mut h);
    assert!(h.query_by_label("Not in this story").is_some());

    h.key_press(Key::Escape);
    h.run_ok();
    assert!(h.query_by_label("Not in this story").is_none(), "closed");
    assert!(h.query_by_label("Next ›").is_none());
}
