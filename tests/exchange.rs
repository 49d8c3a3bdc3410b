//! `.avt` exchange files against a real database: a file written as the original app writes it
//! (tests/fixtures/original-1.7.avt) imports and exports back equal, conflicts never overwrite
//! silently, and bad files are refused with a message and nothing written.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::TempData;
use fabula::domain::{EntryKind, OnConflict, StoryId};
use fabula::formats::{avt, text};
use fabula::storage::StoreError;
use proptest::prelude::*;
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/original-1.7.avt");
const STORY: &str = "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41";

fn fixture_json() -> Value {
    serde_json::from_str(FIXTURE).expect("fixture is JSON")
}

#[test]
fn an_original_file_round_trips_equal_for_every_section() {
    let data = TempData::new();
    let mut store = data.open();
    let bundle = avt::read(FIXTURE.as_bytes()).expect("read");
    let imported = store
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("import");
    assert_eq!(imported.story.as_str(), STORY, "the file's ids are kept");
    assert_eq!(imported.entries, 3);

    // What the app shows: entries, the protagonist from the "self" character, reasoning, times.
    let id = StoryId::from(STORY);
    let summary = store.story_summary(&id).expect("story");
    assert_eq!(summary.story.title, "The Lantern Keeper");
    assert_eq!(summary.story.protagonist.as_deref(), Some("Wren"));
    let rows = store.entry_rows(&id).expect("rows");
    let last = store.entry(&rows[2].id).expect("entry");
    assert_eq!(last.kind, EntryKind::Narration);
    assert!(last.reasoning.starts_with("The player lit the lamp"));
    assert_eq!(last.created_at, 1_738_600_075_000);
    assert_eq!(store.lore(&id).expect("lore")[0].name, "The Drowned Fleet");
    // The world sections are the story's world, not text kept aside.
    let world = store.world(&id).expect("world");
    assert_eq!(world.protagonist().map(|c| c.name.as_str()), Some("Wren"));
    assert_eq!(
        world.characters[0].looks.hair.as_deref(),
        Some("cropped, grey at the temples")
    );
    assert_eq!(
        world.current_place().map(|p| p.name.as_str()),
        Some("Lamp room")
    );
    assert!(world.items[0].is_carried());
    assert_eq!(world.beats[0].status, fabula::domain::BeatStatus::Active);
    assert_eq!(
        world.time.map(|t| t.describe()).as_deref(),
        Some("Day 3, 05:30")
    );

    let mut out = Vec::new();
    avt::write(&store.export_bundle(&id).expect("export"), &mut out).expect("write");
    let exported: Value = serde_json::from_slice(&out).expect("our file is JSON");
    assert_eq!(exported["version"], "1.8.0");
    let input = fixture_json();
    for (key, value) in input.as_object().expect("object") {
        if key == "version" || key == "exportedAt" {
            continue;
        }
        assert_eq!(
            &exported[key], value,
            "section {key} changed on the way through"
        );
    }
    // 1.8.0 adds these; the original's 1.7 file did not have them.
    assert_eq!(exported["currentBgImage"], Value::Null);
    assert_eq!(exported["embeddedImages"], Value::Array(vec![]));
}

#[test]
fn sections_of_every_json_kind_pass_through_compact_or_pretty() {
    let mut v = fixture_json();
    let extras = serde_json::json!({
        "zNumber": -42.5e-1,
        "zText": "a \"quoted\" \\ {brace} [bracket]",
        "zTrue": true,
        "zNull": null,
        "zNested": [1, {"a": "}]", "b": [[], {}]}],
    });
    for (key, value) in extras.as_object().expect("object") {
        v[key] = value.clone();
    }
    v["entries"][0]["futureField"] = serde_json::json!({"kept": ["as", "is"]});
    for text in [
        v.to_string(),
        serde_json::to_string_pretty(&v).expect("pretty"),
    ] {
        let bundle = avt::read(text.as_bytes()).expect("read");
        let back = serde_json::to_value(avt::to_wire(&bundle)).expect("wire");
        for (key, value) in extras.as_object().expect("object") {
            assert_eq!(&back[key], value, "{key}");
        }
        assert_eq!(back["entries"][0]["futureField"]["kept"][1], "is");
        assert_eq!(back["entries"].as_array().map(Vec::len), Some(3));
    }
    assert!(refused(&format!("{} {{}}", v)).contains("after the story"));
}

#[test]
fn conflicts_ask_and_keep_both_or_replace_never_overwrite() {
    let data = TempData::new();
    let mut store = data.open();
    let bundle = avt::read(FIXTURE.as_bytes()).expect("read");
    store
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("first import");
    let id = StoryId::from(STORY);
    let first_entry = store.entry_rows(&id).expect("rows")[0].id.clone();
    // Something only this copy has: an alternative text, which a replace must not lose.
    store
        .add_alternative(&first_entry, "A different opening.", "", false)
        .expect("alternative");

    let refused = store.import_bundle(&bundle, OnConflict::Refuse);
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("already in Fabula as “The Lantern Keeper”")),
        "{refused:?}"
    );

    let copy = store
        .import_bundle(&bundle, OnConflict::KeepBoth)
        .expect("keep both");
    assert_ne!(copy.story, id);
    assert_eq!(copy.title, "The Lantern Keeper (imported)");
    let exported = store.export_bundle(&copy.story).expect("export copy");
    assert!(
        exported
            .entries
            .iter()
            .all(|e| !bundle.entries.iter().any(|old| old.id == e.id))
    );
    assert_eq!(
        exported.entries[1].parent_id.as_deref(),
        Some(exported.entries[0].id.as_str()),
        "references follow the new ids"
    );
    let checkpoints = &exported
        .sections
        .iter()
        .find(|(k, _)| k == "checkpoints")
        .expect("kept")
        .1;
    assert!(checkpoints.contains(exported.entries[0].id.as_str()));
    assert!(!checkpoints.contains(STORY));

    let replaced = store
        .import_bundle(&bundle, OnConflict::Replace)
        .expect("replace");
    assert_eq!(replaced.story, id);
    let trashed = replaced.replaced.expect("the old one went to the Trash");
    let in_trash = store.trashed_stories().expect("trash");
    assert_eq!(in_trash.len(), 1);
    assert_eq!(in_trash[0].story.id, trashed);
    // The trashed copy still has its alternative; the replacement is the file's text.
    let trashed_bundle = store.export_bundle(&trashed).expect("trashed");
    let old_first = &trashed_bundle.entries[0];
    assert_eq!(old_first.content, "A different opening.");
    // Its entries got fresh ids of the same UUID v4 form as any other, all different.
    let ids: std::collections::HashSet<&str> = trashed_bundle
        .entries
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(ids.len(), trashed_bundle.entries.len());
    for id in &ids {
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{id}"
        );
        assert!(
            parts[2].starts_with('4') && "89ab".contains(&parts[3][..1]),
            "{id}"
        );
        assert!(
            id.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(!bundle.entries.iter().any(|e| e.id.as_str() == *id));
    }
    assert!(
        store
            .entry(&first_entry)
            .expect("entry")
            .content
            .starts_with("The lamp room")
    );
    assert_eq!(store.list_stories().expect("library").len(), 2);
}

#[test]
fn a_replace_writes_only_what_differs_and_trashes_the_old_story_only_when_it_would_lose_something()
{
    let data = TempData::new();
    let mut store = data.open();
    let file = avt::read(FIXTURE.as_bytes()).expect("read");
    let id = StoryId::from(STORY);
    store
        .import_bundle(&file, OnConflict::Refuse)
        .expect("first import");
    let summary = |store: &fabula::storage::Store| store.story_summary(&id).expect("story");
    let words_of_live_entries = |store: &fabula::storage::Store| -> u64 {
        store
            .export_bundle(&id)
            .expect("export")
            .entries
            .iter()
            .map(|e| e.content.split_whitespace().count() as u64)
            .sum()
    };

    // The same story again (a sync of an unchanged story): nothing to keep, nothing in the Trash.
    let same = store
        .import_bundle(&file, OnConflict::Replace)
        .expect("same");
    assert_eq!((same.replaced.clone(), same.updated), (None, true));
    assert!(store.trashed_stories().expect("trash").is_empty());
    assert_eq!(store.list_stories().expect("library").len(), 1);

    // A story that grew elsewhere: the new entry is added, nothing goes to the Trash.
    let mut grown = file.clone();
    let mut added = grown.entries[2].clone();
    added.id = fabula::domain::EntryId::new();
    added.parent_id = Some(grown.entries[2].id.as_str().to_owned());
    added.position += 1;
    added.content = "The fog lifted at last over the harbour.".into();
    grown.entries.push(added.clone());
    let grew = store
        .import_bundle(&grown, OnConflict::Replace)
        .expect("grown");
    assert_eq!((grew.replaced.clone(), grew.updated), (None, true));
    assert!(store.trashed_stories().expect("trash").is_empty());
    assert_eq!(
        store.export_bundle(&id).expect("export").entries,
        grown.entries
    );
    assert_eq!(summary(&store).entry_count, 4);
    assert_eq!(summary(&store).word_count, words_of_live_entries(&store));

    // An entry trashed here and absent from the file stays in the entry Trash, restorable.
    let local = store
        .append_entry(&id, EntryKind::UserAction, "I wave at the fog.")
        .expect("local entry");
    store.trash_entry(&local.id).expect("trash entry");
    let again = store
        .import_bundle(&grown, OnConflict::Replace)
        .expect("again");
    assert_eq!(again.replaced, None);
    store.restore_entry(&local.id).expect("still restorable");
    store.trash_entry(&local.id).expect("trash entry");

    // An entry the file changes: the story as it was goes to the Trash first, whole.
    let mut edited = grown.clone();
    edited.entries[1].content = "The lamp went out.".into();
    let changed = store
        .import_bundle(&edited, OnConflict::Replace)
        .expect("edited");
    let trashed = changed.replaced.clone().expect("the old story was kept");
    assert!(!changed.updated);
    let old = store.export_bundle(&trashed).expect("trashed copy");
    assert_eq!(old.entries.len(), 4);
    assert_eq!(old.entries[1].content, grown.entries[1].content);
    assert_eq!(
        old.entries[3].parent_id.as_deref(),
        Some(old.entries[2].id.as_str()),
        "the copy's references follow its new ids"
    );
    assert!(
        old.entries
            .iter()
            .all(|e| grown.entries.iter().all(|g| g.id != e.id))
    );
    assert_eq!(
        store.export_bundle(&id).expect("export").entries,
        edited.entries
    );
    assert_eq!(summary(&store).word_count, words_of_live_entries(&store));
    let in_trash = store.trashed_stories().expect("trash");
    assert_eq!(in_trash.len(), 1);
    assert_eq!(in_trash[0].entry_count, 4);

    // An entry the file no longer has: kept in a second copy, gone from the story.
    let mut shorter = edited.clone();
    shorter.entries.pop();
    let removed = store
        .import_bundle(&shorter, OnConflict::Replace)
        .expect("shorter");
    let second = removed.replaced.expect("kept");
    assert_eq!(store.export_bundle(&second).expect("copy").entries.len(), 4);
    assert_eq!(
        store.export_bundle(&id).expect("export").entries,
        shorter.entries
    );
    assert_eq!(summary(&store).entry_count, 3);

    // Lore the file changes is kept the same way.
    let mut relored = shorter.clone();
    relored.lore[0].entry.description = "Sunk in a single night.".into();
    let lore_changed = store
        .import_bundle(&relored, OnConflict::Replace)
        .expect("lore");
    let third = lore_changed.replaced.expect("kept");
    assert_eq!(
        store.lore(&third).expect("old lore")[0].description,
        shorter.lore[0].entry.description
    );
    assert_eq!(
        store.lore(&id).expect("lore")[0].description,
        "Sunk in a single night."
    );
    assert_eq!(store.trashed_stories().expect("trash").len(), 3);
}

fn refused(text: &str) -> String {
    match avt::read(text.as_bytes()) {
        Ok(_) => panic!("accepted: {text:.80}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_files_are_refused_with_a_message_that_names_the_problem() {
    let cut = &FIXTURE[..FIXTURE.len() / 2];
    assert!(refused(cut).contains("ends too early"), "{}", refused(cut));
    assert!(refused("hello").contains("not valid JSON"));
    assert!(refused("[]").contains("not a story file"));

    let mut v = fixture_json();
    v["version"] = "2.0.0".into();
    assert!(refused(&v.to_string()).contains("version 2.0.0"));

    let mut v = fixture_json();
    v.as_object_mut().expect("object").remove("story");
    assert!(refused(&v.to_string()).contains("missing field `story`"));

    let mut v = fixture_json();
    v["entries"] = serde_json::json!({"not": "a list"});
    assert!(refused(&v.to_string()).contains("not a story file"));

    let mut v = fixture_json();
    v["entries"][1]["id"] = v["entries"][0]["id"].clone();
    assert!(refused(&v.to_string()).contains("appears twice"));

    let mut v = fixture_json();
    v["entries"][1]["parentId"] = "nowhere".into();
    assert!(refused(&v.to_string()).contains("parent entry nowhere that is not in the file"));

    let mut v = fixture_json();
    v["entries"][0]["type"] = "monologue".into();
    assert!(refused(&v.to_string()).contains("unknown type “monologue”"));

    let mut v = fixture_json();
    v["entries"][0]["storyId"] = "someone-else".into();
    assert!(refused(&v.to_string()).contains("belongs to another story"));

    let mut v = fixture_json();
    v["story"]["createdAt"] = "yesterday".into();
    assert!(refused(&v.to_string()).contains("timestamp"));

    let mut v = fixture_json();
    v["entries"][1]
        .as_object_mut()
        .expect("entry")
        .remove("content");
    assert!(refused(&v.to_string()).contains("missing field `content`"));

    let mut v = fixture_json();
    v["entries"][0]["createdAt"] = serde_json::json!([1]);
    assert!(refused(&v.to_string()).contains("timestamp"));

    let mut v = fixture_json();
    v["entries"][0]["position"] = "first".into();
    assert!(refused(&v.to_string()).contains("not a story file"));

    // A key given twice would let a file say two things at once.
    let text = fixture_json().to_string();
    let twice = text.replacen("\"content\":", "\"content\":\"one\",\"content\":", 1);
    assert!(
        refused(&twice).contains("duplicate field `content`"),
        "{}",
        refused(&twice)
    );
    let twice = text.replacen("{", "{\"version\":\"1.0.0\",", 1);
    assert!(refused(&twice).contains("duplicate field `version`"));
}

#[test]
fn a_refused_file_writes_nothing() {
    let data = TempData::new();
    let mut store = data.open();
    let mut v = fixture_json();
    v["lorebookEntries"][0]["injection"]["mode"] = "sometimes".into();
    let err = avt::read(v.to_string().as_bytes()).expect_err("refused");
    assert!(err.to_string().contains("injection mode “sometimes”"));
    assert!(store.list_stories().expect("library").is_empty());
    // And an accepted file is all there after the one transaction.
    let bundle = avt::read(FIXTURE.as_bytes()).expect("read");
    store
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("import");
    assert_eq!(store.list_stories().expect("library")[0].entry_count, 3);
}

#[test]
fn an_import_sets_the_counts_and_leaves_the_count_trigger_working() {
    let data = TempData::new();
    let mut store = data.open();
    let bundle = avt::read(FIXTURE.as_bytes()).expect("read");
    store
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("import");
    let id = StoryId::from(STORY);
    let words: u64 = bundle
        .entries
        .iter()
        .map(|e| fabula::domain::count_words(&e.content))
        .sum();
    let summary = store.story_summary(&id).expect("summary");
    assert_eq!((summary.entry_count, summary.word_count), (3, words));

    // An import that fails inside its transaction (its entry ids are taken) leaves nothing, and
    // the counting trigger it set aside is back.
    let mut clash = bundle.clone();
    clash.story.id = StoryId::from("another-story");
    assert!(store.import_bundle(&clash, OnConflict::Refuse).is_err());
    assert_eq!(store.story_title(&clash.story.id).expect("query"), None);
    store
        .append_entries(&id, [(EntryKind::UserAction, "one two three")])
        .expect("append");
    let summary = store.story_summary(&id).expect("summary");
    assert_eq!((summary.entry_count, summary.word_count), (4, words + 3));
}

#[test]
fn markdown_and_text_read_as_manuscripts() {
    let bundle = avt::read(FIXTURE.as_bytes()).expect("read");
    let md = text::export_in(
        &bundle,
        text::Flavour::Markdown,
        true,
        &jiff::tz::TimeZone::UTC,
    );
    assert!(md.starts_with("# The Lantern Keeper\n"));
    assert!(
        md.contains("*Adventure · Second person · Present tense · Mystery · started 3 Feb 2025*")
    );
    // 16:26 UTC on 3 February is already the 4th in Tokyo: the writer's own day is written.
    let tokyo = jiff::tz::TimeZone::fixed(jiff::tz::offset(9));
    assert!(
        text::export_in(&bundle, text::Flavour::Markdown, true, &tokyo)
            .contains("started 4 Feb 2025")
    );
    assert!(md.contains("> **Action:** I light the lamp.\n"));
    assert!(md.contains("## Lorebook\n\n**The Drowned Fleet** (Faction): Ships lost off the cape"));
    let plain = text::export(&bundle, text::Flavour::Plain, false);
    assert!(plain.starts_with("The Lantern Keeper\n==================\n"));
    assert!(plain.contains("[Action] I light the lamp.\n"));
    assert!(!plain.contains("Drowned Fleet"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = avt::read(&bytes[..]);
    }

    #[test]
    // Cutting only the trailing newline leaves a whole file, so cuts stop before it.
    fn any_cut_of_a_valid_file_is_refused_not_panicked(at in 0usize..FIXTURE.trim_end().len()) {
        let cut = &FIXTURE.as_bytes()[..at];
        prop_assert!(avt::read(cut).is_err());
    }
}

#[test]
fn an_avt_written_entry_by_entry_is_the_same_file_as_one_written_whole() {
    let data = TempData::new();
    let mut store = data.open();
    let bundle = avt::read(FIXTURE.as_bytes()).expect("read");
    let id = store
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("import")
        .story;
    let whole = data.dir.path().join("whole.avt");
    let streamed = data.dir.path().join("streamed.avt");
    fabula::formats::write_story_file(
        &store.export_bundle(&id).expect("bundle"),
        fabula::domain::FileFormat::Avt,
        false,
        &whole,
    )
    .expect("whole");
    store
        .stream_story(&id, |head, rows| {
            fabula::formats::write_story_file_streamed(
                head,
                rows,
                fabula::domain::FileFormat::Avt,
                false,
                &streamed,
            )
        })
        .expect("rows")
        .expect("streamed");
    // The same text but for the moment of export.
    let without_time = |path: &std::path::Path| -> String {
        std::fs::read_to_string(path)
            .expect("read")
            .lines()
            .filter(|l| !l.trim_start().starts_with("\"exportedAt\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_time(&streamed), without_time(&whole));
    assert!(
        without_time(&whole).contains("\n  \"story\""),
        "pretty, as the original writes files"
    );
}

/// A story of `n` entries each pointing at the one before, as a file, for the streamed reader.
fn chained_story_file(n: usize) -> Value {
    let mut v = fixture_json();
    let template = v["entries"][0].clone();
    let entries: Vec<Value> = (0..n)
        .map(|i| {
            let mut e = template.clone();
            e["id"] = format!("chain-{i}").into();
            e["position"] = (i as i64).into();
            e["content"] = format!("Entry number {i}, with a few words.").into();
            e["parentId"] = if i == 0 {
                Value::Null
            } else {
                format!("chain-{}", i - 1).into()
            };
            e["metadata"] =
                serde_json::json!({"previous": format!("chain-{}", i.saturating_sub(1))});
            e
        })
        .collect();
    v["entries"] = entries.into();
    v
}

#[test]
fn a_streamed_import_stores_what_a_whole_one_does_in_any_key_order() {
    let file = chained_story_file(1_000);
    let whole_data = TempData::new();
    let mut whole = whole_data.open();
    let bundle = avt::read(file.to_string().as_bytes()).expect("read");
    whole
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("whole");
    let expected = whole.export_bundle(&StoryId::from(STORY)).expect("export");

    // The entries before the story (JSON keys in any order): they wait for it, then go in.
    let mut reordered = serde_json::Map::new();
    reordered.insert("entries".into(), file["entries"].clone());
    for (k, v) in file.as_object().expect("object") {
        if k != "entries" {
            reordered.insert(k.clone(), v.clone());
        }
    }
    for text in [file.to_string(), Value::Object(reordered).to_string()] {
        let data = TempData::new();
        let mut store = data.open();
        let imported =
            fabula::transfer::import_avt(&mut store, text.as_bytes(), OnConflict::Refuse)
                .expect("streamed");
        assert_eq!(imported.entries, 1_000);
        let got = store.export_bundle(&imported.story).expect("export");
        assert_eq!(got.story, expected.story);
        assert_eq!(got.entries, expected.entries);
        assert_eq!(got.lore, expected.lore);
        assert_eq!(got.sections, expected.sections);
        let summary = store.story_summary(&imported.story).expect("summary");
        assert_eq!(summary.entry_count, 1_000);
    }
}

#[test]
fn a_streamed_import_cut_anywhere_keeps_nothing_and_leaves_the_checks_on() {
    let text = chained_story_file(700).to_string();
    let data = TempData::new();
    let mut store = data.open();
    // Cut inside the entries (past the first batches already stored), inside the lorebook, and
    // a file whose last entry points at a parent that is not there.
    let mut dangling = chained_story_file(700);
    dangling["entries"][699]["parentId"] = "nowhere".into();
    let cases = [
        text[..text.len() * 3 / 5].to_owned(),
        text[..text.find("\"lorebookEntries\"").expect("lore") + 40].to_owned(),
        dangling.to_string(),
    ];
    for cut in &cases {
        let failed = fabula::transfer::import_avt(&mut store, cut.as_bytes(), OnConflict::Refuse);
        let message = failed.expect_err("refused").to_string();
        assert!(
            message.contains("cut off")
                || message.contains("ends too early")
                || message.contains("nowhere"),
            "{message}"
        );
        assert!(store.list_stories().expect("library").is_empty());
        assert_eq!(
            store.story_title(&StoryId::from(STORY)).expect("query"),
            None
        );
    }
    // Then the whole file goes in, with its counts kept by the trigger set aside during imports.
    let imported = fabula::transfer::import_avt(&mut store, text.as_bytes(), OnConflict::Refuse)
        .expect("whole file");
    store
        .append_entries(&imported.story, [(EntryKind::UserAction, "one two three")])
        .expect("append");
    assert_eq!(
        store
            .story_summary(&imported.story)
            .expect("summary")
            .entry_count,
        701
    );
    // Deleting it removes its entries with it (the foreign keys are back on after an import), so
    // the same file imports again without its ids being taken.
    store.trash_story(&imported.story).expect("trash");
    store
        .delete_story_forever(&imported.story)
        .expect("delete forever");
    fabula::transfer::import_avt(&mut store, text.as_bytes(), OnConflict::Refuse)
        .expect("the ids are free again");
}

#[test]
fn entry_ids_another_story_holds_get_new_ones_and_every_reference_follows() {
    let data = TempData::new();
    let mut store = data.open();
    let mut file = chained_story_file(600);
    // Children before their parents in the file: a child is stored before its parent's id is
    // found taken, and must still end up pointing at the parent's new id.
    let entries = file["entries"].as_array_mut().expect("entries");
    entries.reverse();
    let text = file.to_string();
    fabula::transfer::import_avt(&mut store, text.as_bytes(), OnConflict::Refuse).expect("first");
    // The same entries under another story id: a copy made elsewhere from the same file.
    let other = text.replace(STORY, "a-copy-made-elsewhere");
    let refused = fabula::transfer::import_avt(&mut store, other.as_bytes(), OnConflict::Refuse)
        .expect_err("refused")
        .to_string();
    assert!(
        refused.contains("already in Fabula, in “The Lantern Keeper”"),
        "{refused}"
    );
    assert_eq!(store.list_stories().expect("library").len(), 1);

    let copy = fabula::transfer::import_avt(&mut store, other.as_bytes(), OnConflict::KeepBoth)
        .expect("keep both");
    assert_eq!(copy.story, StoryId::from("a-copy-made-elsewhere"));
    let copied = store.export_bundle(&copy.story).expect("export");
    let original = store.export_bundle(&StoryId::from(STORY)).expect("export");
    assert_eq!(copied.entries.len(), 600);
    let original_ids: std::collections::HashSet<_> =
        original.entries.iter().map(|e| e.id.0.clone()).collect();
    for (i, e) in copied.entries.iter().enumerate() {
        assert!(!original_ids.contains(&e.id.0), "entry {i} kept a taken id");
        if i > 0 {
            let before = &copied.entries[i - 1].id.0;
            assert_eq!(e.parent_id.as_deref(), Some(before.as_str()), "entry {i}");
            assert!(
                e.metadata
                    .as_deref()
                    .is_some_and(|m| m.contains(before.as_str())),
                "entry {i}'s metadata names the new id: {:?}",
                e.metadata
            );
        }
    }
    // And the copy beside the story already here gets new ids throughout, story id too.
    let third = fabula::transfer::import_avt(&mut store, text.as_bytes(), OnConflict::KeepBoth)
        .expect("a third");
    assert_ne!(third.story, StoryId::from(STORY));
    assert_eq!(third.title, "The Lantern Keeper (imported)");
    let third = store.export_bundle(&third.story).expect("export");
    assert!(
        third
            .entries
            .iter()
            .all(|e| !original_ids.contains(&e.id.0))
    );
    assert_eq!(store.list_stories().expect("library").len(), 3);
}

/// A world edited here goes out in the file as the original writes it, with the keys Fabula does
/// not model still on each row; a legacy list of looks is read into its parts; a duplicate takes
/// the world and the lore along; a replace keeps the old world in the Trash copy.
#[test]
fn the_world_is_edited_exported_duplicated_and_kept_through_a_replace() {
    use fabula::domain::WorldRow;
    use fabula::domain::{Item, WorldKind};
    let data = TempData::new();
    let mut store = data.open();
    let mut v = fixture_json();
    v["characters"][0]["visualDescriptors"] = serde_json::json!(["Hair: white", "a limp"]);
    let bundle = avt::read(v.to_string().as_bytes()).expect("read");
    store
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("import");
    let id = StoryId::from(STORY);
    let wren = &store.world(&id).expect("world").characters[0];
    assert_eq!(wren.looks.hair.as_deref(), Some("white"));
    assert_eq!(wren.looks.distinguishing.as_deref(), Some("a limp"));

    let rope = Item {
        id: "i-rope".into(),
        name: "Rope".into(),
        quantity: 2,
        ..Item::default()
    };
    store
        .save_world_row(&id, &WorldRow::Item(rope))
        .expect("add");
    let mut out = Vec::new();
    avt::write(&store.export_bundle(&id).expect("export"), &mut out).expect("write");
    let exported: Value = serde_json::from_slice(&out).expect("json");
    let items = exported["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["name"], "Rope");
    assert_eq!(items[1]["storyId"], STORY);
    assert_eq!(items[1]["location"], "inventory");
    assert_eq!(
        exported["characters"][0]["translatedName"],
        Value::Null,
        "unknown keys stay on their row"
    );
    assert!(
        exported["characters"][0]
            .as_object()
            .expect("object")
            .contains_key("translatedDescription")
    );

    store
        .trash_world_row(&id, WorldKind::Item, "i-rope")
        .expect("trash");
    assert_eq!(store.world(&id).expect("world").items.len(), 1);
    store
        .restore_world_row(&id, WorldKind::Item, "i-rope")
        .expect("restore");
    assert_eq!(store.world(&id).expect("world").items.len(), 2);

    let copy = store.duplicate_story(&id).expect("duplicate");
    let copied = store.world(&copy.id).expect("copy's world");
    assert_eq!(copied.items.len(), 2, "the world came along");
    assert_eq!(
        store.lore(&copy.id).expect("lore").len(),
        store.lore(&id).expect("lore").len()
    );
    assert_ne!(
        store.lore(&copy.id).expect("lore")[0].id,
        store.lore(&id).expect("lore")[0].id,
        "under new lore ids"
    );

    // The original file again, replacing: the rope is not in it, so the story as it was (with
    // the rope) is kept in the Trash.
    let original = avt::read(FIXTURE.as_bytes()).expect("read");
    let replaced = store
        .import_bundle(&original, OnConflict::Replace)
        .expect("replace");
    assert_eq!(store.world(&id).expect("world").items.len(), 1);
    let trashed = replaced.replaced.expect("a Trash copy");
    assert_eq!(store.world(&trashed).expect("trash world").items.len(), 2);
}
