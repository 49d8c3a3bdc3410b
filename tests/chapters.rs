//! Chapters on a real database: a file's `chapters` section is read into the table and written
//! back as it came (unknown keys kept), an empty one still re-exports as it was, a replace brings
//! the file's chapters, and the story's memory settings are its `memoryConfig`.

// The shared test set-up starts its own server threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::TempData;
use fabula::domain::{OnConflict, StoryId};
use serde_json::Value;

const FIXTURE: &[u8] = include_bytes!("fixtures/original-1.7.avt");
const STORY: &str = "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41";

fn with_chapter() -> (fabula::domain::StoryBundle, Value) {
    let mut file: Value = serde_json::from_slice(FIXTURE).expect("json");
    let chapter: Value = serde_json::json!({
        "id": "c1", "storyId": STORY, "number": 1, "title": "The Lamp",
        "startEntryId": "a1b2c3d4-0001-4000-8000-000000000001",
        "endEntryId": "a1b2c3d4-0001-4000-8000-000000000002",
        "entryCount": 2, "summary": "Wren climbs to the lamp room and lights the lamp.",
        "startTime": null, "endTime": "{\"years\":0,\"days\":2,\"hours\":5,\"minutes\":30}",
        "keywords": ["lamp"], "characters": ["Wren"], "locations": ["Lamp room"],
        "plotThreads": ["Who answers the light?"], "emotionalTone": "hushed",
        "branchId": null, "createdAt": 1738600000000i64, "arcId": null
    });
    file["chapters"] = Value::Array(vec![chapter.clone()]);
    let bundle = fabula::formats::avt::read(serde_json::to_vec(&file).expect("bytes").as_slice())
        .expect("read");
    (bundle, chapter)
}

/// A library holding the fixture's story (without chapters), and the fixture.
fn with_fixture() -> (
    TempData,
    fabula::storage::Store,
    fabula::domain::StoryBundle,
) {
    let data = TempData::new();
    let mut store = data.open();
    let plain = fabula::formats::avt::read(FIXTURE).expect("read");
    store
        .import_bundle(&plain, OnConflict::Refuse)
        .expect("import");
    (data, store, plain)
}

fn exported_chapters(store: &fabula::storage::Store) -> Option<Value> {
    let bundle = store.export_bundle(&StoryId::from(STORY)).expect("export");
    bundle
        .sections
        .iter()
        .find(|(n, _)| n == "chapters")
        .map(|(_, json)| serde_json::from_str(json).expect("json"))
}

#[test]
fn a_files_chapters_are_stored_and_written_back_as_they_came() {
    let data = TempData::new();
    let mut store = data.open();
    let (bundle, chapter) = with_chapter();
    store
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("import");
    let chapters = store.chapters(&StoryId::from(STORY)).expect("chapters");
    assert_eq!(chapters.len(), 1);
    assert_eq!(chapters[0].heading(), "Chapter 1: The Lamp");
    assert_eq!(chapters[0].plot_threads, ["Who answers the light?"]);
    assert_eq!(
        chapters[0].prompt_tokens,
        Some(fabula::domain::count_tokens(&chapters[0].prompt_text())),
        "counted once, when stored, not at every prompt"
    );
    assert_eq!(exported_chapters(&store), Some(Value::Array(vec![chapter])));
}

#[test]
fn an_empty_section_goes_through_and_a_replace_brings_the_files_chapters() {
    let (_data, mut store, plain) = with_fixture();
    assert!(
        store
            .chapters(&StoryId::from(STORY))
            .expect("chapters")
            .is_empty()
    );
    assert_eq!(
        exported_chapters(&store),
        Some(Value::Array(vec![])),
        "as the file had it"
    );

    let (bundle, _) = with_chapter();
    store
        .import_bundle(&bundle, OnConflict::Replace)
        .expect("replace");
    assert_eq!(
        store
            .chapters(&StoryId::from(STORY))
            .expect("chapters")
            .len(),
        1
    );
    store
        .import_bundle(&plain, OnConflict::Replace)
        .expect("back");
    assert!(
        store
            .chapters(&StoryId::from(STORY))
            .expect("chapters")
            .is_empty(),
        "the file without chapters leaves none"
    );
}

#[test]
fn memory_settings_are_the_stories_memory_config() {
    let (_data, store, _) = with_fixture();
    let story = StoryId::from(STORY);
    let mut settings = store.memory_settings(&story).expect("read");
    assert_eq!(settings.token_threshold, 24_000);
    assert_eq!(settings.recent_buffer, 10);
    settings.token_threshold = 9_000;
    store.save_memory_settings(&story, &settings).expect("save");
    assert_eq!(
        store.memory_settings(&story).expect("read").token_threshold,
        9_000
    );
    let bundle = store.export_bundle(&story).expect("export");
    let config: Value =
        serde_json::from_str(bundle.story.memory_config.as_deref().expect("config")).expect("json");
    assert_eq!(config["tokenThreshold"], 9_000);
    assert_eq!(config["maxChaptersPerRetrieval"], 3, "the other keys kept");
}

#[test]
fn entries_a_chapter_closes_leave_the_history_and_come_back_when_it_is_deleted() {
    use fabula::domain::EntryKind;
    use fabula::domain::chapter::Chapter;
    let data = TempData::new();
    let story = data.add_story("Long");
    let store = data.open();
    let ids: Vec<_> = (0..6)
        .map(|i| {
            store
                .append_entry(&story, EntryKind::Narration, &format!("Part {i}."))
                .expect("entry")
                .id
        })
        .collect();
    store
        .save_chapter(
            &story,
            &Chapter {
                id: "c1".into(),
                number: 1,
                start_entry: ids[0].clone(),
                end_entry: ids[2].clone(),
                entry_count: 3,
                summary: "The first three parts.".into(),
                ..Chapter::default()
            },
        )
        .expect("chapter");
    let texts = |store: &fabula::storage::Store| -> Vec<String> {
        store
            .history_within(&story, None, 10_000)
            .expect("history")
            .into_iter()
            .map(|h| h.text)
            .collect()
    };
    assert_eq!(texts(&store), ["Part 3.", "Part 4.", "Part 5."]);
    assert_eq!(store.entries_before(&story, None).expect("count"), 3);
    store.trash_chapter(&story, "c1").expect("trash");
    assert_eq!(
        texts(&store).len(),
        6,
        "its entries are back in the history"
    );
    store.restore_chapter(&story, "c1").expect("restore");
    assert_eq!(texts(&store).len(), 3);
}

#[test]
fn the_memory_panel_shows_edits_and_deletes_chapters_with_undo() {
    use common::{click, harness, settle};
    use egui::{Key, Modifiers};
    use egui_kittest::kittest::Queryable;
    let data = TempData::new();
    {
        let mut store = data.open();
        let (bundle, _) = with_chapter();
        store
            .import_bundle(&bundle, OnConflict::Refuse)
            .expect("import");
    }
    let story = StoryId::from(STORY);
    let mut h = harness(&data);
    click(&mut h, "The Lantern Keeper");
    click(&mut h, "Memory");
    // The divider above the chapter's first entry and the panel's heading.
    assert!(h.query_all_by_label("Chapter 1: The Lamp").count() == 2);
    assert!(
        h.query_by_label("Wren climbs to the lamp room and lights the lamp.")
            .is_some()
    );
    // The panel's buttons are the rightmost of their name (the entries have theirs too).
    let rightmost = |h: &egui_kittest::Harness<'static, fabula::app::FabulaApp>, name: &str| {
        h.get_all_by_label(name)
            .max_by(|a, b| a.rect().min.x.total_cmp(&b.rect().min.x))
            .expect(name)
            .click();
    };
    rightmost(&h, "Edit");
    h.run_ok();
    h.get_by_label("Summary").focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("Summary")
        .type_text("Wren lights the lamp; something answers.");
    h.run_ok();
    click(&mut h, "Save");
    settle(&mut h);
    let chapters = data.open().chapters(&story).expect("chapters");
    assert_eq!(
        chapters[0].summary,
        "Wren lights the lamp; something answers."
    );
    assert!(
        h.query_by_label("Wren lights the lamp; something answers.")
            .is_some()
    );

    rightmost(&h, "Delete");
    h.run_ok();
    assert!(data.open().chapters(&story).expect("chapters").is_empty());
    assert!(h.query_all_by_label("Chapter 1: The Lamp").count() == 0);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    settle(&mut h);
    assert_eq!(data.open().chapters(&story).expect("chapters").len(), 1);
    assert!(
        h.query_all_by_label("Chapter 1: The Lamp").count() == 2,
        "Undo brought it back"
    );
}

#[test]
fn a_duplicate_keeps_its_chapters_on_its_own_entries() {
    use fabula::domain::EntryKind;
    use fabula::domain::chapter::Chapter;
    let data = TempData::new();
    let story = data.add_story("Original");
    let mut store = data.open();
    let ids: Vec<_> = (0..5)
        .map(|i| {
            store
                .append_entry(&story, EntryKind::Narration, &format!("Part {i}."))
                .expect("entry")
                .id
        })
        .collect();
    store
        .save_chapter(
            &story,
            &Chapter {
                id: "c1".into(),
                number: 1,
                title: Some("Start".into()),
                start_entry: ids[0].clone(),
                end_entry: ids[2].clone(),
                entry_count: 3,
                summary: "Parts 0 to 2.".into(),
                ..Chapter::default()
            },
        )
        .expect("chapter");
    let copy = store.duplicate_story(&story).expect("duplicate").id;
    let chapters = store.chapters(&copy).expect("chapters");
    assert_eq!(chapters.len(), 1);
    assert_eq!(chapters[0].summary, "Parts 0 to 2.");
    assert_ne!(
        chapters[0].start_entry, ids[0],
        "it closes the copy's own entries"
    );
    let history: Vec<String> = store
        .history_within(&copy, None, 10_000)
        .expect("history")
        .into_iter()
        .map(|h| h.text)
        .collect();
    assert_eq!(
        history,
        ["Part 3.", "Part 4."],
        "the copy's narrator reads the summary too"
    );
    // Deleting the copy's chapter leaves the original's alone.
    store.trash_chapter(&copy, &chapters[0].id).expect("trash");
    assert_eq!(store.chapters(&story).expect("original").len(), 1);
}
