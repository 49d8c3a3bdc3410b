//! The world, the lorebook and the chapters per branch on a real database: what a branch sees is
//! what its own lineage implies (updates read from its narrations, hand edits made on it), a
//! sibling and the main line are untouched, and a job bound to one branch reads and writes that
//! branch's world while another is shown.
// The shared test set-up starts its own server threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::TempData;
use fabula::domain::chapter::Chapter;
use fabula::domain::world_change::Applied;
use fabula::domain::{
    Character, EntryId, EntryKind, LoreEntry, LoreId, StoryId, StoryTime, WorldKind, WorldRow,
};
use fabula::storage::Store;

fn add(store: &Store, story: &StoryId, text: &str) -> EntryId {
    store
        .append_entry(story, EntryKind::Narration, text)
        .expect("entry")
        .id
}

fn person(id: &str, name: &str, description: &str) -> WorldRow {
    WorldRow::Character(Box::new(Character {
        id: id.into(),
        name: name.into(),
        description: Some(description.into()),
        ..Character::default()
    }))
}

/// What the narrator's reading of `entry` would add: `row`, new.
fn met(store: &Store, story: &StoryId, entry: &EntryId, row: WorldRow) {
    let applied = Applied {
        rows: vec![(None, row)],
        time: None,
        summary: "met someone".into(),
    };
    store
        .keep_world_changes(story, entry, &applied)
        .expect("kept");
}

fn people(store: &Store, story: &StoryId) -> Vec<String> {
    let mut names: Vec<String> = store
        .world(story)
        .expect("world")
        .characters
        .into_iter()
        .map(|c| format!("{}: {}", c.name, c.description.unwrap_or_default()))
        .collect();
    names.sort();
    names
}

#[test]
fn each_branch_has_the_world_its_own_story_implies() {
    let data = TempData::new();
    let story = data.add_story("Worlds");
    let store = data.open();
    let m: Vec<EntryId> = (0..4)
        .map(|i| add(&store, &story, &format!("m{i}")))
        .collect();
    met(&store, &story, &m[1], person("mira", "Mira", "a smuggler"));
    met(
        &store,
        &story,
        &m[3],
        person("orrin", "Orrin", "met after the fork"),
    );
    assert_eq!(
        people(&store, &story),
        ["Mira: a smuggler", "Orrin: met after the fork"]
    );

    let b = store.create_branch(&story, &m[1], "B").expect("branch");
    assert_eq!(
        people(&store, &story),
        ["Mira: a smuggler"],
        "what the main line met after the fork is not on the branch"
    );
    let b0 = add(&store, &story, "b0");
    met(&store, &story, &b0, person("tobin", "Tobin", "only on B"));
    let mira = store
        .world_row(&story, WorldKind::Character, "mira")
        .expect("row")
        .expect("mira");
    let WorldRow::Character(mut edited) = mira else {
        panic!("a character");
    };
    edited.description = Some("a smuggler, edited on B".into());
    store
        .save_world_row(&story, &WorldRow::Character(edited))
        .expect("hand edit");
    store
        .set_story_time(
            &story,
            StoryTime {
                days: 3,
                ..StoryTime::default()
            },
        )
        .expect("time");
    assert_eq!(
        people(&store, &story),
        ["Mira: a smuggler, edited on B", "Tobin: only on B"]
    );

    store.switch_branch(&story, None).expect("to main");
    assert_eq!(
        people(&store, &story),
        ["Mira: a smuggler", "Orrin: met after the fork"],
        "the main line never met Tobin and keeps Mira as it wrote her"
    );
    assert_eq!(
        store
            .world(&story)
            .expect("world")
            .time
            .unwrap_or_default()
            .days,
        0
    );
    store
        .trash_world_row(&story, WorldKind::Character, "orrin")
        .expect("trash on main");

    store.switch_branch(&story, Some(&b.id)).expect("to B");
    assert_eq!(
        people(&store, &story),
        ["Mira: a smuggler, edited on B", "Tobin: only on B"],
        "the branch's hand edits came back with it"
    );
    assert_eq!(
        store
            .world(&story)
            .expect("world")
            .time
            .unwrap_or_default()
            .days,
        3
    );
    store
        .trash_world_row(&story, WorldKind::Character, "mira")
        .expect("trash on B");
    assert_eq!(people(&store, &story), ["Tobin: only on B"]);

    store.switch_branch(&story, None).expect("to main again");
    assert_eq!(
        people(&store, &story),
        ["Mira: a smuggler"],
        "Mira put away on B is still on the main line; Orrin stays in its Trash"
    );
    store
        .restore_world_row(&story, WorldKind::Character, "orrin")
        .expect("restore");
    assert_eq!(
        people(&store, &story),
        ["Mira: a smuggler", "Orrin: met after the fork"]
    );

    // A sibling forked at the same entry sees neither branch's own world.
    let c = store.create_branch(&story, &m[1], "C").expect("sibling");
    assert_eq!(people(&store, &story), ["Mira: a smuggler"]);
    drop(c);

    // Reopened, the tables still hold the shown branch's world.
    drop(store);
    let store = data.open();
    assert_eq!(people(&store, &story), ["Mira: a smuggler"]);
}

#[test]
fn a_job_bound_to_a_branch_reads_and_writes_that_branch_while_another_is_shown() {
    let data = TempData::new();
    let story = data.add_story("Bound");
    let store = data.open();
    let m0 = add(&store, &story, "m0");
    let m1 = add(&store, &story, "m1");
    met(&store, &story, &m1, person("orrin", "Orrin", "main only"));
    store.create_branch(&story, &m0, "B").expect("branch");
    assert!(people(&store, &story).is_empty());

    let job = data.open();
    job.pin_branch(None);
    assert_eq!(
        people(&job, &story),
        ["Orrin: main only"],
        "the job reads the main line's world"
    );
    assert!(
        people(&store, &story).is_empty(),
        "and the branch shown is untouched by that reading"
    );
    met(
        &job,
        &story,
        &m1,
        person("ada", "Ada", "read on main by the job"),
    );
    assert!(
        people(&store, &story).is_empty(),
        "an update read on the main line waits while B is shown"
    );
    store.switch_branch(&story, None).expect("to main");
    assert_eq!(
        people(&store, &story),
        ["Ada: read on main by the job", "Orrin: main only"]
    );
}

fn lore_names(store: &Store, story: &StoryId) -> Vec<String> {
    let mut names: Vec<String> = store
        .lore(story)
        .expect("lore")
        .into_iter()
        .map(|l| format!("{}: {}", l.name, l.description))
        .collect();
    names.sort();
    names
}

#[test]
fn the_lorebook_of_a_branch_is_its_own_and_its_ancestors_as_they_stood() {
    let data = TempData::new();
    let story = data.add_story("Lore");
    let store = data.open();
    let m0 = add(&store, &story, "m0");
    let harbour = store
        .save_lore(&LoreEntry {
            id: LoreId::new(),
            story_id: story.clone(),
            name: "Harbour".into(),
            description: "Grey water.".into(),
            ..LoreEntry::default()
        })
        .expect("lore");
    let b = store.create_branch(&story, &m0, "B").expect("branch");
    let mut on_b = harbour.clone();
    on_b.description = "Burnt down on B.".into();
    let copy = store.save_lore(&on_b).expect("edit on B");
    assert_ne!(copy.id, harbour.id, "the branch edits its own copy");
    store
        .save_lore(&LoreEntry {
            id: LoreId::new(),
            story_id: story.clone(),
            name: "Lamplighter".into(),
            description: "Only on B.".into(),
            ..LoreEntry::default()
        })
        .expect("new on B");
    assert_eq!(
        lore_names(&store, &story),
        ["Harbour: Burnt down on B.", "Lamplighter: Only on B."]
    );
    // Edited again on B: the same copy, not a second one.
    let mut again = copy.clone();
    again.description = "Rebuilt on B.".into();
    assert_eq!(store.save_lore(&again).expect("again").id, copy.id);

    store.switch_branch(&story, None).expect("main");
    assert_eq!(lore_names(&store, &story), ["Harbour: Grey water."]);

    store.switch_branch(&story, Some(&b.id)).expect("B");
    store.trash_lore(&copy.id).expect("trash on B");
    assert_eq!(lore_names(&store, &story), ["Lamplighter: Only on B."]);
    store.switch_branch(&story, None).expect("main");
    assert_eq!(
        lore_names(&store, &story),
        ["Harbour: Grey water."],
        "put away on B, still on the main line"
    );
    // Putting away the inherited entry itself on a branch leaves the ancestor's too.
    let c = store.create_branch(&story, &m0, "C").expect("C");
    store.trash_lore(&harbour.id).expect("trash inherited on C");
    assert!(lore_names(&store, &story).is_empty());
    store.restore_lore(&harbour.id).expect("undo on C");
    assert_eq!(lore_names(&store, &story), ["Harbour: Grey water."]);
    store.switch_branch(&story, None).expect("main");
    assert_eq!(lore_names(&store, &story), ["Harbour: Grey water."]);
    drop(c);
}

#[test]
fn a_branch_sees_the_chapters_closing_its_own_lineage() {
    let data = TempData::new();
    let story = data.add_story("Chapters");
    let store = data.open();
    let m: Vec<EntryId> = (0..6)
        .map(|i| add(&store, &story, &format!("m{i}")))
        .collect();
    let chapter = |id: &str, number: i64, start: &EntryId, end: &EntryId| Chapter {
        id: id.into(),
        number,
        start_entry: start.clone(),
        end_entry: end.clone(),
        entry_count: 2,
        summary: format!("summary {id}"),
        ..Chapter::default()
    };
    store
        .save_chapter(&story, &chapter("shared", 1, &m[0], &m[1]))
        .expect("chapter 1");
    store
        .save_chapter(&story, &chapter("main-only", 2, &m[2], &m[4]))
        .expect("chapter 2");
    let ids = |store: &Store| -> Vec<String> {
        store
            .chapters(&story)
            .expect("chapters")
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(ids(&store), ["shared", "main-only"]);

    store
        .create_branch(&story, &m[3], "B")
        .expect("branch at m3");
    assert_eq!(
        ids(&store),
        ["shared"],
        "a chapter closing an entry after the fork is the main line's"
    );
    let history: Vec<String> = store
        .history_within(&story, None, 100_000)
        .expect("history")
        .into_iter()
        .map(|h| h.text)
        .collect();
    assert_eq!(
        history,
        ["m2", "m3"],
        "the shared chapter's entries leave the history; m2..m3 stay, the main line's chapter does not reach the branch"
    );
}

#[test]
fn a_branch_from_another_alternative_starts_with_it_and_round_trips() {
    let data = TempData::new();
    let story = data.add_story("Versions");
    let mut store = data.open();
    let m0 = add(&store, &story, "m0");
    let n = add(&store, &story, "first version");
    store
        .add_alternative(&n, "second version", "", false)
        .expect("alternative");
    store.select_alternative(&n, 1).expect("show the first");
    met(
        &store,
        &story,
        &n,
        person("mira", "Mira", "met in the first version"),
    );
    add(&store, &story, "after, on main");
    let shown = |store: &Store| -> Vec<String> {
        store
            .entry_rows(&story)
            .expect("rows")
            .iter()
            .map(|r| store.entry(&r.id).expect("entry").content)
            .collect()
    };

    let err = store
        .create_branch_with(&story, &n, Some(5), "Nowhere")
        .expect_err("no fifth version");
    assert!(err.to_string().contains("no alternative 5"), "{err}");

    let b = store
        .create_branch_with(&story, &n, Some(2), "Second")
        .expect("branch from version 2");
    assert_eq!(shown(&store), ["m0", "second version"]);
    let rows = store.entry_rows(&story).expect("rows");
    let copy = store.entry(&rows[1].id).expect("copy");
    assert_ne!(copy.id, n, "the branch shows its own copy");
    assert_eq!(
        copy.alternative.map(|p| (p.index, p.count)),
        Some((2, 2)),
        "with both versions, the second shown"
    );
    assert!(
        people(&store, &story).is_empty(),
        "what the first version made is not in the second's world"
    );
    store.select_alternative(&copy.id, 1).expect("swipe on B");
    store.follow_text(&story, &copy.id).expect("world follows");
    assert_eq!(
        people(&store, &story),
        ["Mira: met in the first version"],
        "the copy carries each version's world updates"
    );
    store.select_alternative(&copy.id, 2).expect("back to 2");
    store.follow_text(&story, &copy.id).expect("world follows");

    store.switch_branch(&story, None).expect("main");
    assert_eq!(
        shown(&store),
        ["m0", "first version", "after, on main"],
        "the main line keeps the version it showed"
    );
    assert_eq!(people(&store, &story), ["Mira: met in the first version"]);

    // Out and back in: the branch still starts with its own copy.
    let bundle = store.export_bundle(&story).expect("export");
    let other = TempData::new();
    let mut back = other.open();
    back.import_bundle(&bundle, fabula::domain::OnConflict::Refuse)
        .expect("import");
    struct Imported {
        story: StoryId,
    }
    let imported = Imported {
        story: story.clone(),
    };
    back.switch_branch(&imported.story, Some(&b.id)).expect("B");
    let texts: Vec<String> = back
        .entry_rows(&imported.story)
        .expect("rows")
        .iter()
        .map(|r| back.entry(&r.id).expect("entry").content)
        .collect();
    assert_eq!(texts, ["m0", "second version"]);
    let _ = m0;
}

#[test]
fn a_checkpoint_shows_the_world_and_lore_of_its_moment_from_the_lineage() {
    let data = TempData::new();
    let story = data.add_story("Moments");
    let store = data.open();
    let m0 = add(&store, &story, "m0");
    met(
        &store,
        &story,
        &m0,
        person("mira", "Mira", "before the duel"),
    );
    store
        .save_lore(&LoreEntry {
            id: LoreId::new(),
            story_id: story.clone(),
            name: "Duel".into(),
            description: "At dawn.".into(),
            ..LoreEntry::default()
        })
        .expect("lore");
    let checkpoint = store
        .create_checkpoint(&story, &m0, "Before the duel")
        .expect("checkpoint");
    let m1 = add(&store, &story, "m1");
    met(
        &store,
        &story,
        &m1,
        person("orrin", "Orrin", "after the duel"),
    );
    store
        .save_lore(&LoreEntry {
            id: LoreId::new(),
            story_id: story.clone(),
            name: "Scar".into(),
            description: "From the duel.".into(),
            ..LoreEntry::default()
        })
        .expect("lore later");

    let moment = store
        .checkpoint_moment(&story, &checkpoint.id)
        .expect("moment");
    let names: Vec<&str> = moment
        .world
        .characters
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["Mira"], "the world up to the checkpoint's entry");
    assert!(moment.lore_kept);
    assert_eq!(moment.lore, [("Duel".to_owned(), "At dawn.".to_owned())]);
    assert_eq!(
        people(&store, &story),
        ["Mira: before the duel", "Orrin: after the duel"],
        "looking changed nothing"
    );

    store
        .rename_checkpoint(&story, &checkpoint.id, "  Dawn  ")
        .expect("rename");
    assert_eq!(store.checkpoints(&story).expect("list")[0].name, "Dawn");
    assert!(
        store
            .rename_checkpoint(&story, &checkpoint.id, " ")
            .is_err()
    );

    // Restoring is a new branch from there: its world is the moment's.
    store
        .create_branch(&story, &checkpoint.entry, "From Dawn")
        .expect("branch");
    assert_eq!(people(&store, &story), ["Mira: before the duel"]);
}

#[test]
fn the_panel_lists_each_branch_with_its_facts_and_shows_a_checkpoints_moment() {
    use common::{click, harness, type_into};
    use egui_kittest::kittest::Queryable;
    let data = TempData::new();
    let story = data.add_story("Panel");
    {
        let mut store = data.open();
        let mut settings = store.story_settings(&story).expect("settings");
        settings.track_world = false;
        settings.suggestions = false;
        store.save_story_settings(&story, &settings).expect("save");
        let m0 = add(&store, &story, "The gate stood open.");
        met(&store, &story, &m0, person("mira", "Mira", "at the gate"));
        store
            .create_checkpoint(&story, &m0, "At the gate")
            .expect("cp");
        let n = add(&store, &story, "Rain, first version.");
        store
            .add_alternative(&n, "Snow, second version.", "", false)
            .expect("alt");
        store.select_alternative(&n, 1).expect("first");
        let m2 = add(&store, &story, "Orrin came.");
        met(&store, &story, &m2, person("orrin", "Orrin", "later"));
        store.create_branch(&story, &m0, "Side gate").expect("b");
        add(&store, &story, "Through the side gate.");
        add(&store, &story, "Into the garden.");
        store.switch_branch(&story, None).expect("main");
    }
    let mut h = harness(&data);
    click(&mut h, "Panel");
    click(&mut h, "Branches");
    assert!(
        h.query_by_label_contains("2 entries own").is_some(),
        "the branch's own entries are counted"
    );
    click(&mut h, "World then");
    assert!(
        h.query_by_label("Mira").is_some(),
        "the world at the checkpoint, without Orrin who came after it"
    );
    click(&mut h, "Hide world");

    // The first Rename is the branch's; the checkpoint's is the second.
    let renames: Vec<_> = h.query_all_by_label("Rename").collect();
    assert_eq!(renames.len(), 2);
    renames[1].click();
    h.run_ok();
    type_into(&mut h, "Checkpoint name", " (dawn)");
    click(&mut h, "Save");
    assert!(h.query_by_label_contains("(dawn)").is_some());

    // Branch from the other version of the second narration.
    let mores: Vec<_> = h.query_all_by_label("More").collect();
    mores[1].click();
    h.run_ok();
    click(&mut h, "Branch from another version");
    click(&mut h, "Version 2 of 2");
    assert!(h.query_by_label("Snow, second version.").is_some());
    assert!(h.query_by_label("Orrin came.").is_none());
}

#[test]
fn a_kept_draft_is_offered_on_the_branch_it_was_written_on_only() {
    let data = TempData::new();
    let story = data.add_story("Drafts");
    let store = data.open();
    let m0 = add(&store, &story, "m0");
    store
        .save_draft(&fabula::domain::Draft {
            story_id: story.clone(),
            target: None,
            content: "Half a narration on the main line".into(),
            reasoning: String::new(),
            state: fabula::domain::DraftState::Cancelled,
            error: None,
            model: None,
            started_at: 1,
            updated_at: 2,
        })
        .expect("draft");
    let b = store.create_branch(&story, &m0, "B").expect("branch");
    assert!(store.draft(&story).expect("draft").is_none(), "not on B");
    store.switch_branch(&story, None).expect("main");
    assert_eq!(
        store.draft(&story).expect("draft").map(|d| d.content),
        Some("Half a narration on the main line".to_owned())
    );
    // A job bound to B does not see it either.
    let job = data.open();
    job.pin_branch(Some(b.id.clone()));
    assert!(job.draft(&story).expect("draft").is_none());
}
