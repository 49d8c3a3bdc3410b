//! Full-text search on a real database: the index follows every way an entry is written (typed,
//! edited, another alternative shown, imported), deleted entries and stories are not found, words
//! of Chinese and Japanese text are found as well as Latin ones, and what the writer types is
//! never read as the index's query syntax.

// The shared test set-up starts its own server threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::TempData;
use fabula::domain::search::SearchQuery;
use fabula::domain::{EntryKind, OnConflict, StoryId};
use fabula::storage::Store;

fn titles_found(store: &Store, query: &str) -> Vec<String> {
    store
        .search_entries(&SearchQuery::parse(query), None, 50)
        .expect("search")
        .into_iter()
        .map(|h| h.story_title)
        .collect()
}

#[test]
fn the_library_search_finds_entries_newest_first_with_the_match_marked() {
    let data = TempData::new();
    let harbour = data.add_story("Harbour");
    let keeper = data.add_story("Keeper");
    let store = data.open();
    store
        .append_entry(
            &harbour,
            EntryKind::Narration,
            "The lantern swings over the quay.",
        )
        .expect("entry");
    store
        .append_entry(&keeper, EntryKind::UserAction, "I light the LANTERN.")
        .expect("entry");
    store
        .append_entry(&keeper, EntryKind::Narration, "Nothing answers.")
        .expect("entry");
    let hits = store
        .search_entries(&SearchQuery::parse("lantern"), None, 50)
        .expect("search");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].story_title, "Keeper", "newest first");
    assert_eq!(hits[0].snippet, "I light the \u{1}LANTERN\u{2}.");
    assert_eq!(hits[1].story_title, "Harbour");
    // One story only, and every word needed.
    assert_eq!(
        store
            .search_entries(&SearchQuery::parse("lantern"), Some(&harbour), 50)
            .expect("search")
            .len(),
        1
    );
    assert_eq!(titles_found(&store, "lantern quay"), ["Harbour"]);
    assert_eq!(titles_found(&store, r#""over the quay""#), ["Harbour"]);
    assert!(
        titles_found(&store, r#""the quay over""#).is_empty(),
        "a phrase keeps its order"
    );
    // A page at a time.
    assert_eq!(
        store
            .search_entries(&SearchQuery::parse("lantern"), None, 1)
            .expect("search")
            .len(),
        1
    );
}

#[test]
fn the_index_follows_edits_alternatives_and_the_trash() {
    let data = TempData::new();
    let story = data.add_story("Changes");
    let mut store = data.open();
    let entry = store
        .append_entry(&story, EntryKind::Narration, "A gull cries.")
        .expect("entry")
        .id;
    store
        .update_entry_content(&entry, "A heron stands still.")
        .expect("edit");
    assert!(
        titles_found(&store, "gull").is_empty(),
        "the old text is gone from the index"
    );
    assert_eq!(titles_found(&store, "heron"), ["Changes"]);

    store
        .add_alternative(&entry, "A cormorant dives.", "", false)
        .expect("alternative");
    assert!(
        titles_found(&store, "heron").is_empty(),
        "only the text shown is found"
    );
    assert_eq!(titles_found(&store, "cormorant"), ["Changes"]);
    store.select_alternative(&entry, 1).expect("back");
    assert_eq!(titles_found(&store, "heron"), ["Changes"]);

    store.trash_entry(&entry).expect("trash");
    assert!(
        titles_found(&store, "heron").is_empty(),
        "an entry in the Trash is not found"
    );
    store.restore_entry(&entry).expect("restore");
    assert_eq!(titles_found(&store, "heron"), ["Changes"]);
    store.trash_story(&story).expect("trash story");
    assert!(
        titles_found(&store, "heron").is_empty(),
        "nor one of a story in the Trash"
    );
    store.restore_story(&story).expect("restore story");
    store.trash_entry(&entry).expect("trash");
    store.delete_entry_forever(&entry).expect("delete for good");
    assert!(titles_found(&store, "heron").is_empty());
    store.check_search_index().expect("the index is sound");
}

#[test]
fn an_imported_story_is_found() {
    let data = TempData::new();
    let mut store = data.open();
    let bundle = fabula::formats::avt::read(include_bytes!("fixtures/original-1.7.avt").as_slice())
        .expect("read");
    store
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("import");
    let hits = store
        .search_entries(&SearchQuery::parse("black water"), None, 50)
        .expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].story_title, "The Lantern Keeper");
    assert!(
        hits[0].snippet.contains("\u{1}black\u{2}"),
        "{}",
        hits[0].snippet
    );
}

#[test]
fn chinese_and_japanese_words_are_found_short_or_long() {
    let data = TempData::new();
    let story = data.add_story("東京物語");
    let store = data.open();
    store
        .append_entry(&story, EntryKind::Narration, "我们明天去东京看樱花。")
        .expect("entry");
    store
        .append_entry(&story, EntryKind::Narration, "灯台の光が海を照らしている。")
        .expect("entry");
    assert_eq!(
        titles_found(&store, "东京"),
        ["東京物語"],
        "a two-character word"
    );
    assert_eq!(
        titles_found(&store, "看樱花"),
        ["東京物語"],
        "a longer one, through the index"
    );
    assert_eq!(titles_found(&store, "灯台 海"), ["東京物語"]);
    assert!(titles_found(&store, "北京").is_empty());
    let found = store
        .find_in_story(&story, &SearchQuery::parse("光"))
        .expect("find");
    assert_eq!(found.len(), 1);
}

#[test]
fn what_the_writer_types_is_never_read_as_query_syntax() {
    let data = TempData::new();
    let story = data.add_story("Syntax");
    let store = data.open();
    store
        .append_entry(
            &story,
            EntryKind::Narration,
            "She said \"NEAR(the door)\" - twice* OR not.",
        )
        .expect("entry");
    for typed in [
        "NEAR(the",
        "door)",
        "twice*",
        "- twice",
        "OR",
        "\"unclosed",
        "a\"b\"c",
        "content:door",
        "^she",
    ] {
        let hits = store
            .search_entries(&SearchQuery::parse(typed), None, 50)
            .unwrap_or_else(|e| panic!("{typed}: {e}"));
        assert!(hits.len() <= 1, "{typed}");
    }
    assert_eq!(
        titles_found(&store, "twice*"),
        ["Syntax"],
        "the star is text"
    );
    assert_eq!(titles_found(&store, "content:door"), Vec::<String>::new());
}

#[test]
fn find_in_a_story_lists_every_match_in_story_order() {
    let data = TempData::new();
    let story = data.add_story("Finds");
    let store = data.open();
    let mut ids = Vec::new();
    for text in [
        "The bell rings.",
        "Silence.",
        "Again the BELL.",
        "bells everywhere",
    ] {
        ids.push(
            store
                .append_entry(&story, EntryKind::Narration, text)
                .expect("entry")
                .id,
        );
    }
    store.trash_entry(&ids[3]).expect("trash");
    let found = store
        .find_in_story(&story, &SearchQuery::parse("bell"))
        .expect("find");
    assert_eq!(found, [ids[0].clone(), ids[2].clone()]);
    let other = StoryId::from("no-such-story");
    assert!(
        store
            .find_in_story(&other, &SearchQuery::parse("bell"))
            .expect("find")
            .is_empty()
    );
}

#[test]
fn a_story_written_again_by_import_or_sync_is_found_by_its_new_text_and_its_kept_copy_by_the_old() {
    let data = TempData::new();
    let mut store = data.open();
    let mut bundle =
        fabula::formats::avt::read(include_bytes!("fixtures/original-1.7.avt").as_slice())
            .expect("read");
    store
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("import");
    let before = store
        .search_entries(&SearchQuery::parse("black water"), None, 50)
        .expect("search");
    assert_eq!(before.len(), 1);
    let changed = bundle
        .entries
        .iter_mut()
        .find(|e| e.content.contains("black water"))
        .expect("the entry");
    changed.content = "The wick catches. Out on the silver sea, a heron lifts.".into();
    store
        .import_bundle(&bundle, OnConflict::Replace)
        .expect("replace");
    assert_eq!(
        titles_found(&store, "silver sea"),
        ["The Lantern Keeper"],
        "the new text"
    );
    assert!(
        titles_found(&store, "black water").is_empty(),
        "the old text is in the kept copy, which is in the Trash"
    );
    let kept = store.trashed_stories().expect("trash");
    assert_eq!(kept.len(), 1, "the replaced story was kept");
    store.restore_story(&kept[0].story.id).expect("restore");
    let found = store
        .search_entries(&SearchQuery::parse("black water"), None, 50)
        .expect("search");
    assert_eq!(found.len(), 1, "the kept copy is found once restored");
    assert_eq!(found[0].story_id, kept[0].story.id);
    // Untouched stories stay in the index through another's import.
    let other = data.add_story("Other");
    store
        .append_entry(&other, EntryKind::Narration, "Quiet fog over the marsh.")
        .expect("entry");
    store
        .import_bundle(&bundle, OnConflict::Replace)
        .expect("again");
    assert_eq!(titles_found(&store, "marsh"), ["Other"]);
    // The index's own check: every indexed row matches what the entries hold.
    store.check_search_index().expect("the index is sound");
}
