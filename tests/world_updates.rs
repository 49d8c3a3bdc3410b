//! World updates kept beside their narrations, on a real database: taking an older update back
//! while a newer one stands keeps what the newer one changed (rows, scene and time); an update
//! the writer undid stays undone when its text comes back; a waiting update survives reopening;
//! and the Trash lists what the writer deleted, not what left with its text.

// The shared test set-up starts its own server threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::TempData;
use fabula::domain::world_change::Applied;
use fabula::domain::{
    Character, EntryId, EntryKind, PieceKind, Place, StoryId, StoryTime, WorldKind, WorldRow,
};
use fabula::storage::Store;

fn mira(description: &str, relationship: &str) -> WorldRow {
    WorldRow::Character(Box::new(Character {
        id: "mira".into(),
        name: "Mira".into(),
        description: Some(description.into()),
        relationship: Some(relationship.into()),
        ..Character::default()
    }))
}

fn place(id: &str, name: &str, current: bool) -> WorldRow {
    WorldRow::Place(Place {
        id: id.into(),
        name: name.into(),
        current,
        visited: true,
        ..Place::default()
    })
}

fn update(
    rows: Vec<(Option<WorldRow>, WorldRow)>,
    time: Option<(i64, i64)>,
    summary: &str,
) -> Applied {
    Applied {
        rows,
        time: time.map(|(b, a)| (StoryTime::from_minutes(b), StoryTime::from_minutes(a))),
        summary: summary.into(),
    }
}

/// An update as a narration brings one: Mira changed, a move from one place (known) to another
/// (new), and time passing.
fn narration_update(
    (mira_before, mira_after): (WorldRow, WorldRow),
    ((left, left_name), (reached, reached_name)): ((&str, &str), (&str, &str)),
    time: (i64, i64),
) -> Applied {
    update(
        vec![
            (Some(mira_before), mira_after),
            (
                Some(place(left, left_name, true)),
                place(left, left_name, false),
            ),
            (None, place(reached, reached_name, true)),
        ],
        Some(time),
        &format!("Mira changed · {reached_name} is now the current place"),
    )
}

fn current_places(store: &Store, story: &StoryId) -> Vec<String> {
    store
        .world(story)
        .expect("world")
        .places
        .into_iter()
        .filter(|p| p.current)
        .map(|p| p.name)
        .collect()
}

/// Makes the update and keeps it beside `entry`, as the classifier does.
fn made(store: &Store, story: &StoryId, entry: &EntryId, applied: &Applied) -> i64 {
    store
        .apply_world_changes(story, applied, false)
        .expect("apply");
    store
        .record_world_changes(story, entry, applied)
        .expect("record")
}

fn two_narrations(data: &TempData) -> (Store, StoryId, EntryId, EntryId) {
    let story = data.add_story("The Bar");
    let store = data.open();
    let first = store
        .append_entry(
            &story,
            EntryKind::Narration,
            "Mira is marked by an old scar.",
        )
        .expect("first")
        .id;
    let second = store
        .append_entry(
            &story,
            EntryKind::Narration,
            "Mira calls you friend; you walk to the forest.",
        )
        .expect("second")
        .id;
    (store, story, first, second)
}

fn character(store: &Store, story: &StoryId) -> Option<Character> {
    store
        .world(story)
        .expect("world")
        .characters
        .into_iter()
        .next()
}

#[test]
fn taking_an_older_update_back_keeps_what_a_newer_one_changed() {
    let data = TempData::new();
    let (store, story, first, second) = two_narrations(&data);
    store
        .save_world_row(&story, &mira("an innkeeper", "stranger"))
        .expect("by hand");
    store
        .save_world_row(&story, &place("cave", "Cave", true))
        .expect("by hand");
    store
        .set_story_time(&story, StoryTime::from_minutes(60))
        .expect("time");
    // The first narration: the scar, the tavern, two hours.
    let first_update = narration_update(
        (
            mira("an innkeeper", "stranger"),
            mira("an innkeeper with a scar", "stranger"),
        ),
        (("cave", "Cave"), ("tavern", "Tavern")),
        (60, 180),
    );
    made(&store, &story, &first, &first_update);
    // The second: a friend now, the forest, fifteen minutes.
    let second_update = narration_update(
        (
            mira("an innkeeper with a scar", "stranger"),
            mira("an innkeeper with a scar", "friend"),
        ),
        (("tavern", "Tavern"), ("forest", "Forest")),
        (180, 195),
    );
    made(&store, &story, &second, &second_update);

    // The first narration is deleted: its update goes, the second's stays.
    store.trash_entry(&first).expect("trash");
    let said = store.follow_text(&story, &first).expect("follow");
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(!said[0].0, "taken back");
    let mira_now = character(&store, &story).expect("Mira");
    assert_eq!(
        mira_now.description.as_deref(),
        Some("an innkeeper"),
        "the scar went with its text"
    );
    assert_eq!(
        mira_now.relationship.as_deref(),
        Some("friend"),
        "the newer change stays"
    );
    let world = store.world(&story).expect("world");
    assert_eq!(
        current_places(&store, &story),
        ["Forest"],
        "the story has moved on to the forest: one current place"
    );
    assert!(
        world.places.iter().all(|p| p.name != "Tavern"),
        "the tavern was found only in the text that went"
    );
    assert_eq!(
        world.time,
        Some(StoryTime::from_minutes(75)),
        "the two hours went, the quarter stays"
    );
    assert!(
        store.trashed_pieces().expect("trash").is_empty(),
        "what left with its text is not the writer's deletion"
    );

    // Restored: the scar, the tavern and the hours come back, and the newer changes are kept.
    store.restore_entry(&first).expect("restore");
    store.follow_text(&story, &first).expect("follow");
    let mira_now = character(&store, &story).expect("Mira");
    assert_eq!(
        mira_now.description.as_deref(),
        Some("an innkeeper with a scar")
    );
    assert_eq!(mira_now.relationship.as_deref(), Some("friend"));
    let world = store.world(&story).expect("world");
    assert_eq!(current_places(&store, &story), ["Forest"]);
    assert!(world.places.iter().any(|p| p.name == "Tavern"));
    assert_eq!(world.time, Some(StoryTime::from_minutes(195)));
}

#[test]
fn a_row_made_by_older_text_and_changed_by_newer_text_comes_back_with_both() {
    let data = TempData::new();
    let (store, story, first, second) = two_narrations(&data);
    made(
        &store,
        &story,
        &first,
        &update(
            vec![(None, mira("an innkeeper", "stranger"))],
            None,
            "+ Mira (character)",
        ),
    );
    made(
        &store,
        &story,
        &second,
        &update(
            vec![(
                Some(mira("an innkeeper", "stranger")),
                mira("an innkeeper", "friend"),
            )],
            None,
            "Mira changed",
        ),
    );
    store.trash_entry(&first).expect("trash");
    store.follow_text(&story, &first).expect("follow");
    assert!(
        character(&store, &story).is_none(),
        "Mira was met in the text that went"
    );
    store.restore_entry(&first).expect("restore");
    store.follow_text(&story, &first).expect("follow");
    let back = character(&store, &story).expect("Mira is back");
    assert_eq!(
        back.relationship.as_deref(),
        Some("friend"),
        "with the newer text's change"
    );
}

#[test]
fn an_update_the_writer_undid_stays_undone_when_its_text_is_shown_again() {
    let data = TempData::new();
    let story = data.add_story("Swipes");
    let mut store = data.open();
    let entry = store
        .append_entry(&story, EntryKind::Narration, "Mira waves.")
        .expect("entry")
        .id;
    store
        .add_alternative(&entry, "Tomas waves.", "", false)
        .expect("alternative");
    store.select_alternative(&entry, 1).expect("first");
    let kept = made(
        &store,
        &story,
        &entry,
        &update(
            vec![(None, mira("an innkeeper", "stranger"))],
            None,
            "+ Mira (character)",
        ),
    );
    store
        .set_world_changes_in_effect(&story, kept, false)
        .expect("undo");
    assert!(character(&store, &story).is_none(), "undone");
    store.select_alternative(&entry, 2).expect("other");
    store.follow_text(&story, &entry).expect("follow");
    store.select_alternative(&entry, 1).expect("back");
    let said = store.follow_text(&story, &entry).expect("follow");
    assert!(said.is_empty(), "nothing made again: {said:?}");
    assert!(
        character(&store, &story).is_none(),
        "the writer's Undo holds"
    );

    // Redo makes it again, and it follows the text from then on.
    store
        .set_world_changes_in_effect(&story, kept, true)
        .expect("redo");
    assert!(character(&store, &story).is_some());
    store.select_alternative(&entry, 2).expect("other");
    store.follow_text(&story, &entry).expect("follow");
    assert!(character(&store, &story).is_none(), "not the text shown");
    // Redo while the other text is shown does not make it.
    store
        .set_world_changes_in_effect(&story, kept, false)
        .expect("undo");
    store
        .set_world_changes_in_effect(&story, kept, true)
        .expect("redo");
    assert!(character(&store, &story).is_none(), "its text is not shown");
}

#[test]
fn a_waiting_update_survives_reopening_and_waits_only_while_its_text_is_shown() {
    let data = TempData::new();
    let story = data.add_story("Asked");
    let entry = {
        let mut store = data.open();
        let entry = store
            .append_entry(&story, EntryKind::Narration, "Mira slides a key across.")
            .expect("entry")
            .id;
        store
            .add_alternative(&entry, "Nobody is here.", "", false)
            .expect("alternative");
        store.select_alternative(&entry, 1).expect("first");
        let key = WorldRow::Item(fabula::domain::Item {
            id: "key".into(),
            name: "Rusty key".into(),
            ..fabula::domain::Item::default()
        });
        store
            .record_pending_world_changes(
                &story,
                &entry,
                &update(
                    vec![(None, mira("an innkeeper", "stranger")), (None, key)],
                    Some((0, 60)),
                    "+ Mira (character) · +1 Rusty key",
                ),
            )
            .expect("pending");
        assert!(
            store.world(&story).expect("world").is_empty(),
            "nothing made yet"
        );
        entry
    };
    let mut store = data.open();
    let waiting = store
        .waiting_world_update(&story)
        .expect("read")
        .expect("still waiting after reopening");
    assert_eq!(waiting.entry, entry);
    assert_eq!(waiting.changes.rows.len(), 2);

    store.select_alternative(&entry, 2).expect("other");
    assert!(
        store.waiting_world_update(&story).expect("read").is_none(),
        "not for the text shown now"
    );
    store.select_alternative(&entry, 1).expect("back");
    let waiting = store
        .waiting_world_update(&story)
        .expect("read")
        .expect("waits again");

    // Mira accepted, the rest waits; then the rest rejected.
    let mira_only = waiting.changes.part(0).expect("part");
    let rest = waiting.changes.without(0);
    let kept = store
        .decide_waiting_world_update(&story, waiting.kept, &mira_only, true, &rest)
        .expect("accept")
        .expect("kept");
    assert_eq!(store.world(&story).expect("world").characters.len(), 1);
    let waiting = store
        .waiting_world_update(&story)
        .expect("read")
        .expect("the rest");
    assert_eq!(waiting.changes.rows.len(), 1);
    store
        .decide_waiting_world_update(
            &story,
            waiting.kept,
            &waiting.changes,
            false,
            &Applied::default(),
        )
        .expect("reject");
    assert!(store.waiting_world_update(&story).expect("read").is_none());
    let world = store.world(&story).expect("world");
    assert!(
        world.items.is_empty() && world.time.is_none(),
        "rejected: {world:?}"
    );
    // The accepted part follows its text like any update.
    store.select_alternative(&entry, 2).expect("other");
    store.follow_text(&story, &entry).expect("follow");
    assert!(store.world(&story).expect("world").characters.is_empty());
    store
        .set_world_changes_in_effect(&story, kept, false)
        .expect("undo");
}

#[test]
fn the_trash_lists_deleted_lore_and_world_rows_and_brings_them_back() {
    let data = TempData::new();
    let story = data.add_story("Keeper");
    let mut store = data.open();
    store
        .save_world_row(&story, &mira("an innkeeper", "stranger"))
        .expect("row");
    store
        .trash_world_row(&story, WorldKind::Character, "mira")
        .expect("trash");
    let pieces = store.trashed_pieces().expect("trash");
    assert_eq!(pieces.len(), 1);
    assert_eq!(pieces[0].name, "Mira");
    assert_eq!(pieces[0].kind, PieceKind::World(WorldKind::Character));
    assert_eq!(pieces[0].story_title, "Keeper");
    store
        .restore_piece(&story, pieces[0].kind, &pieces[0].id)
        .expect("restore");
    assert!(character(&store, &story).is_some());
    assert!(store.trashed_pieces().expect("trash").is_empty());

    // Deleted again and the Trash emptied: gone for good.
    store
        .trash_world_row(&story, WorldKind::Character, "mira")
        .expect("trash");
    store.empty_trash().expect("empty");
    assert!(store.trashed_pieces().expect("trash").is_empty());
    assert!(
        store
            .restore_world_row(&story, WorldKind::Character, "mira")
            .is_err(),
        "nothing left to restore"
    );
}
