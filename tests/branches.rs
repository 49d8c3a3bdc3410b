//! Branches on a real database: a branch made from any entry copies nothing and sees its
//! ancestors' entries up to each fork (three levels deep, forks at the first and the last
//! entry), new entries land on the branch shown, a branch other branches fork from cannot be
//! deleted, and a file's tree comes in and goes out as it was — or, when it cannot be, is refused
//! with a message and nothing written.
// The shared test set-up starts its own server threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::TempData;
use fabula::domain::{EntryId, EntryKind, OnConflict, StoryId};
use fabula::storage::Store;
use serde_json::{Value, json};

const FIXTURE: &[u8] = include_bytes!("fixtures/original-1.7.avt");
const STORY: &str = "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41";

fn texts(store: &Store, story: &StoryId) -> Vec<String> {
    let rows = store.entry_rows(story).expect("rows");
    rows.iter()
        .map(|r| store.entry(&r.id).expect("entry").content)
        .collect()
}

fn add(store: &Store, story: &StoryId, text: &str) -> EntryId {
    store
        .append_entry(story, EntryKind::Narration, text)
        .expect("entry")
        .id
}

#[test]
fn a_branch_sees_its_lineage_up_to_each_fork_three_levels_deep() {
    let data = TempData::new();
    let story = data.add_story("Tree");
    let store = data.open();
    let m: Vec<EntryId> = (0..5)
        .map(|i| add(&store, &story, &format!("m{i}")))
        .collect();
    let entries_before = store.entry_rows(&story).expect("rows").len();

    let a = store.create_branch(&story, &m[2], "A").expect("branch A");
    assert_eq!(a.parent, None, "it forks from the main line");
    assert_eq!(
        store.current_branch(&story).expect("current").as_deref(),
        Some(a.id.as_str())
    );
    assert_eq!(
        texts(&store, &story),
        ["m0", "m1", "m2"],
        "nothing after the fork, nothing copied"
    );
    let a0 = add(&store, &story, "a0");
    add(&store, &story, "a1");
    assert_eq!(texts(&store, &story), ["m0", "m1", "m2", "a0", "a1"]);

    let b = store.create_branch(&story, &a0, "B").expect("branch B");
    assert_eq!(b.parent.as_deref(), Some(a.id.as_str()));
    add(&store, &story, "b0");
    assert_eq!(texts(&store, &story), ["m0", "m1", "m2", "a0", "b0"]);
    let history: Vec<String> = store
        .history_within(&story, None, 10_000)
        .expect("history")
        .into_iter()
        .map(|h| h.text)
        .collect();
    assert_eq!(
        history,
        ["m0", "m1", "m2", "a0", "b0"],
        "the narrator reads the same lineage"
    );
    assert_eq!(store.entries_before(&story, None).expect("count"), 5);

    store.switch_branch(&story, Some(&a.id)).expect("to A");
    assert_eq!(texts(&store, &story), ["m0", "m1", "m2", "a0", "a1"]);
    store.switch_branch(&story, None).expect("to main");
    assert_eq!(texts(&store, &story), ["m0", "m1", "m2", "m3", "m4"]);
    add(&store, &story, "m5");
    store.switch_branch(&story, Some(&b.id)).expect("to B");
    assert_eq!(
        texts(&store, &story),
        ["m0", "m1", "m2", "a0", "b0"],
        "main's new entry is not on B"
    );

    // Forks at the very first and the very last entry of the main line.
    let first = store
        .create_branch(&story, &m[0], "From the start")
        .expect("first");
    assert_eq!(texts(&store, &story), ["m0"]);
    store.switch_branch(&story, None).expect("main");
    let last_id = store
        .entry_rows(&story)
        .expect("rows")
        .last()
        .expect("last")
        .id
        .clone();
    store
        .create_branch(&story, &last_id, "From the end")
        .expect("last");
    assert_eq!(texts(&store, &story), ["m0", "m1", "m2", "m3", "m4", "m5"]);
    assert_eq!(entries_before, 5);
    assert_eq!(store.branches(&story).expect("branches").len(), 4);
    assert_eq!(first.fork_entry, m[0]);
}

#[test]
fn a_branch_others_fork_from_is_kept_and_a_leaf_goes_to_the_trash_and_back() {
    let data = TempData::new();
    let story = data.add_story("Tree");
    let store = data.open();
    let m0 = add(&store, &story, "m0");
    let a = store.create_branch(&story, &m0, "The duel").expect("A");
    let a0 = add(&store, &story, "a0");
    let b = store.create_branch(&story, &a0, "The flight").expect("B");
    let err = store
        .trash_branch(&story, &a.id)
        .expect_err("B forks from it");
    assert_eq!(
        err.to_string(),
        "“The duel” cannot be deleted while “The flight” fork from it."
    );
    assert_eq!(
        store
            .branch_forking_at(&story, &a0)
            .expect("fork")
            .map(|f| f.name),
        Some("The flight".to_owned()),
        "the entry a branch forks from is known, to refuse its deletion"
    );
    store.trash_branch(&story, &b.id).expect("leaf");
    assert_eq!(
        store.current_branch(&story).expect("current").as_deref(),
        Some(a.id.as_str()),
        "back on its parent"
    );
    assert_eq!(store.branches(&story).expect("branches").len(), 1);
    store.restore_branch(&story, &b.id).expect("restore");
    store.switch_branch(&story, Some(&b.id)).expect("switch");
    assert_eq!(texts(&store, &story), ["m0", "a0"]);
    store
        .rename_branch(&story, &b.id, "  The escape ")
        .expect("rename");
    assert_eq!(store.branches(&story).expect("b")[1].name, "The escape");
    assert!(store.rename_branch(&story, &b.id, " ").is_err());
    assert!(store.switch_branch(&story, Some("nowhere")).is_err());
}

/// The fixture with a branch forking after its second entry, one entry on it, a checkpoint, and
/// the story on that branch.
fn with_branch(branches: Value) -> Vec<u8> {
    let mut file: Value = serde_json::from_slice(FIXTURE).expect("json");
    let mut entry = file["entries"][2].clone();
    entry["id"] = json!("a1b2c3d4-0001-4000-8000-0000000000b1");
    entry["position"] = json!(3);
    entry["content"] = json!("On the other path, Wren lets the lamp go dark.");
    entry["branchId"] = json!("br-1");
    file["entries"].as_array_mut().expect("entries").push(entry);
    file["branches"] = branches;
    file["story"]["currentBranchId"] = json!("br-1");
    serde_json::to_vec(&file).expect("bytes")
}

fn one_branch() -> Value {
    json!([{"id": "br-1", "storyId": STORY, "name": "The dark lamp", "parentBranchId": null,
            "forkEntryId": "a1b2c3d4-0001-4000-8000-000000000002", "checkpointId": null,
            "createdAt": 1738600000000i64, "colour": "amber"}])
}

#[test]
fn a_files_tree_comes_in_opens_on_its_branch_and_goes_out_as_it_came() {
    let data = TempData::new();
    let mut store = data.open();
    let bytes = with_branch(one_branch());
    let bundle = fabula::formats::avt::read(bytes.as_slice()).expect("read");
    store
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("import");
    let story = StoryId::from(STORY);
    let branches = store.branches(&story).expect("branches");
    assert_eq!(branches.len(), 1);
    assert_eq!(branches[0].name, "The dark lamp");
    assert_eq!(
        store.current_branch(&story).expect("current").as_deref(),
        Some("br-1")
    );
    let shown = texts(&store, &story);
    assert_eq!(
        shown.len(),
        3,
        "two shared entries and the branch's own: {shown:?}"
    );
    assert_eq!(shown[2], "On the other path, Wren lets the lamp go dark.");
    assert_eq!(
        store.checkpoints(&story).expect("checkpoints")[0].name,
        "Before the lamp"
    );

    // Out again: the sections as the file had them, key for key (the unknown "colour" too).
    let out = store.export_bundle(&story).expect("export");
    let section = |name: &str| -> Value {
        serde_json::from_str(&out.sections.iter().find(|(n, _)| n == name).expect(name).1)
            .expect("json")
    };
    assert_eq!(section("branches"), one_branch());
    let original: Value = serde_json::from_slice(FIXTURE).expect("json");
    let back = section("checkpoints");
    assert_eq!(back, original["checkpoints"]);
    let keys = |v: &Value| {
        v[0].as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(&back),
        keys(&original["checkpoints"]),
        "in the file's order"
    );
}

#[test]
fn a_tree_that_cannot_be_is_refused_and_nothing_is_written() {
    for (branches, why) in [
        (
            json!([{"id": "br-1", "name": "Loop", "parentBranchId": "br-2",
                    "forkEntryId": "a1b2c3d4-0001-4000-8000-000000000002"},
                   {"id": "br-2", "name": "Back", "parentBranchId": "br-1",
                    "forkEntryId": "a1b2c3d4-0001-4000-8000-0000000000b1"}]),
            "loop",
        ),
        (
            json!([{"id": "br-1", "name": "Orphan", "parentBranchId": "gone",
                    "forkEntryId": "a1b2c3d4-0001-4000-8000-000000000002"}]),
            "parent branch that is not in the file",
        ),
        (
            json!([{"id": "br-1", "name": "Adrift", "parentBranchId": null,
                    "forkEntryId": "no-such-entry"}]),
            "forks from an entry that is not in the file",
        ),
    ] {
        let data = TempData::new();
        let mut store = data.open();
        let bundle = fabula::formats::avt::read(with_branch(branches).as_slice()).expect("read");
        let err = store
            .import_bundle(&bundle, OnConflict::Refuse)
            .expect_err("refused");
        assert!(
            err.to_string()
                .starts_with("The file's branches cannot be read"),
            "{err}"
        );
        assert!(err.to_string().contains(why), "{err}");
        assert!(
            store.list_stories().expect("library").is_empty(),
            "nothing written"
        );
    }
}

#[test]
fn the_branches_panel_switches_and_a_narration_lands_where_it_began() {
    use common::fake_llm::{FakeProvider, Reply, Step, wire};
    use common::{click, harness, type_into};
    use egui::{Key, Modifiers};
    use egui_kittest::kittest::Queryable;
    use std::time::{Duration, Instant};
    let data = TempData::new();
    // The narration pauses mid-stream long enough to switch branch under it.
    let server = FakeProvider::start(vec![
        Reply::stream(
            "text/event-stream",
            &wire::openai(&["The bridge ", "held."], 40, 4),
        )
        .then_at(2, Step::Sleep(Duration::from_millis(1500))),
    ]);
    let (story, other, m0) = {
        let store = data.open();
        common::local_profile(&store, &server.base);
        let story = data.add_story("Two Roads");
        let mut settings = store.story_settings(&story).expect("settings");
        settings.track_world = false;
        settings.suggestions = false;
        store.save_story_settings(&story, &settings).expect("save");
        let m0 = add(&store, &story, "The road split at the old bridge.");
        add(&store, &story, "Mara crossed the bridge.");
        let other = store
            .create_branch(&story, &m0, "The ford")
            .expect("branch");
        add(&store, &story, "Mara waded through the ford.");
        store.switch_branch(&story, None).expect("main");
        (story, other, m0)
    };
    let mut h = harness(&data);
    click(&mut h, "Two Roads");
    assert!(h.query_by_label("Mara crossed the bridge.").is_some());
    assert!(h.query_by_label("Mara waded through the ford.").is_none());
    click(&mut h, "Branches");
    assert!(
        h.query_by_label("● Main line").is_some(),
        "the line shown is marked"
    );

    // Write on the main line, and switch to the ford while the narration streams.
    type_into(&mut h, "Your action", "look down");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.query_by_label_contains("The bridge").is_none() {
        assert!(Instant::now() < deadline, "the stream never started");
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    click(&mut h, "The ford");
    assert!(h.query_by_label("Mara waded through the ford.").is_some());
    assert!(
        h.query_by_label_contains("Branch: The ford").is_some(),
        "the title row says so"
    );
    while h.state().is_generating() {
        assert!(Instant::now() < deadline, "the narration never ended");
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    h.run_ok();
    assert!(
        h.query_by_label("The bridge held.").is_none(),
        "the narration is not shown on the ford"
    );
    let store = data.open();
    assert_eq!(
        store.current_branch(&story).expect("current").as_deref(),
        Some(other.id.as_str())
    );
    assert_eq!(
        texts(&store, &story),
        [
            "The road split at the old bridge.",
            "Mara waded through the ford."
        ]
    );
    store.switch_branch(&story, None).expect("main");
    let main = texts(&store, &story);
    assert_eq!(
        main.last().map(String::as_str),
        Some("The bridge held."),
        "it landed on main: {main:?}"
    );

    // Deleting the fork entry is refused, naming the branch; the branch goes to the Trash and
    // Undo brings it back.
    drop(store);
    click(&mut h, "Rename");
    h.run_ok();
    assert!(h.query_by_label("Save").is_some());
    click(&mut h, "Cancel");
    // The panel's Delete is the rightmost (the entries have theirs too).
    h.get_all_by_label("Delete")
        .max_by(|a, b| a.rect().min.x.total_cmp(&b.rect().min.x))
        .expect("Delete")
        .click();
    h.run_ok();
    assert!(
        h.query_by_label("● Main line").is_some(),
        "back on the main line"
    );
    assert!(data.open().branches(&story).expect("branches").is_empty());
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert_eq!(data.open().branches(&story).expect("branches").len(), 1);
    assert!(h.query_by_label("The ford").is_some());
    h.state_mut().apply(fabula::state::Action::Entry(
        fabula::state::EntryAction::TrashEntry(m0.clone()),
    ));
    h.run_ok();
    assert!(
        h.query_by_label_contains(
            "This entry cannot be deleted: the branch “The ford” forks from it."
        )
        .is_some()
    );
    assert!(
        data.open()
            .entry_rows(&story)
            .expect("rows")
            .iter()
            .any(|r| r.id == m0),
        "the entry stays"
    );
}

#[test]
fn find_and_the_memory_read_the_branch_shown_and_a_duplicate_keeps_the_tree() {
    use fabula::domain::search::SearchQuery;
    let data = TempData::new();
    let story = data.add_story("Tree");
    let mut store = data.open();
    let m0 = add(&store, &story, "The lantern swung.");
    add(&store, &story, "On the main line the lantern broke.");
    let branch = store.create_branch(&story, &m0, "Whole").expect("branch");
    add(&store, &story, "On the branch the lantern held.");
    let found = |store: &Store| {
        store
            .find_in_story(&story, &SearchQuery::parse("lantern"))
            .expect("find")
            .len()
    };
    assert_eq!(found(&store), 2, "the shared entry and the branch's own");
    let room = store.chapter_room(&story, 1).expect("room");
    assert_eq!(
        room.entries, 1,
        "outside a buffer of one: the shared entry alone"
    );
    store.switch_branch(&story, None).expect("main");
    assert_eq!(found(&store), 2);

    store
        .switch_branch(&story, Some(&branch.id))
        .expect("branch");
    let copy = store.duplicate_story(&story).expect("duplicate").id;
    let branches = store.branches(&copy).expect("branches");
    assert_eq!(branches.len(), 1);
    assert_ne!(
        branches[0].fork_entry, m0,
        "it forks from the copy's own entry"
    );
    assert_eq!(
        texts(&store, &copy),
        ["The lantern swung.", "On the branch the lantern held."],
        "the copy opens on the same branch"
    );
}

#[test]
fn a_deleted_branch_is_in_the_trash_to_restore_or_delete_for_good_with_its_entries() {
    use fabula::domain::PieceKind;
    let data = TempData::new();
    let story = data.add_story("Tree");
    let store = data.open();
    let m0 = add(&store, &story, "m0");
    let gone = store
        .create_branch(&story, &m0, "Dead end")
        .expect("branch");
    add(&store, &story, "Nothing here.");
    store.trash_branch(&story, &gone.id).expect("trash");
    let pieces = store.trashed_pieces().expect("trash");
    let listed = pieces
        .iter()
        .find(|p| p.kind == PieceKind::Branch)
        .expect("listed in the Trash");
    assert_eq!(
        (listed.name.as_str(), listed.story_title.as_str()),
        ("Dead end", "Tree")
    );
    store
        .restore_piece(&story, PieceKind::Branch, &gone.id)
        .expect("restore");
    assert_eq!(store.branches(&story).expect("branches").len(), 1);
    store.trash_branch(&story, &gone.id).expect("trash again");
    let before = store.export_bundle(&story).expect("export").entries.len();
    store
        .delete_piece_forever(&story, PieceKind::Branch, &gone.id)
        .expect("for good");
    let after = store.export_bundle(&story).expect("export").entries.len();
    assert_eq!(
        before - after,
        1,
        "its own entry went with it, the shared one stayed"
    );
    assert!(
        store
            .trashed_pieces()
            .expect("trash")
            .iter()
            .all(|p| p.kind != PieceKind::Branch)
    );
}

#[test]
fn a_chapter_closed_on_a_branch_takes_no_text_out_of_another_lines_prompt() {
    use fabula::domain::chapter::Chapter;
    let data = TempData::new();
    let story = data.add_story("Tree");
    let store = data.open();
    let m0 = add(&store, &story, "m0");
    let branch = store.create_branch(&story, &m0, "A").expect("branch");
    let a0 = add(&store, &story, "a0");
    store.switch_branch(&story, None).expect("main");
    // Main's entry comes after the branch's in position: a chapter closing A's a0..a1 spans it.
    add(&store, &story, "m1");
    store.switch_branch(&story, Some(&branch.id)).expect("A");
    let a1 = add(&store, &story, "a1");
    store
        .save_chapter(
            &story,
            &Chapter {
                id: "ca".into(),
                branch_id: Some(branch.id.clone()),
                number: 1,
                start_entry: a0.clone(),
                end_entry: a1.clone(),
                entry_count: 2,
                summary: "On A.".into(),
                ..Chapter::default()
            },
        )
        .expect("chapter");
    let history = |store: &Store| -> Vec<String> {
        store
            .history_within(&story, None, 10_000)
            .expect("history")
            .into_iter()
            .map(|h| h.text)
            .collect()
    };
    assert_eq!(
        history(&store),
        ["m0"],
        "A's own entries are in its chapter"
    );
    store.switch_branch(&story, None).expect("main");
    assert_eq!(
        history(&store),
        ["m0", "m1"],
        "main keeps m1, inside A's chapter's positions"
    );
    assert_eq!(
        store.chapter_room(&story, 1).expect("room").after,
        -1,
        "main has no chapter yet: A's does not move where main's next one starts"
    );
    store.switch_branch(&story, Some(&branch.id)).expect("A");
    let a1_position = store.entry(&a1).expect("a1").position;
    assert_eq!(
        store.chapter_room(&story, 1).expect("room").after,
        a1_position
    );
}
