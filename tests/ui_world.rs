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

/// The test server as the main profile (an OpenAI-compatible local one).
fn local_profile(store: &fabula::storage::Store, base: &str) {
    store
        .save_profile(&fabula::domain::ApiProfile {
            id: "local".into(),
            name: "Local".into(),
            preset: "openai-compatible".into(),
            base_url: format!("{base}/v1"),
            api_key: None,
            default_model: "smol-135m".into(),
            custom_models: Vec::new(),
            favourite_models: Vec::new(),
            key_in_keyring: false,
            source: fabula::domain::ProfileSource::Stored,
        })
        .expect("profile");
    store.set_main_profile_id("local").expect("main");
}

/// Clicks the Delete on the World panel's row `name` (the story's entries have theirs too).
fn delete_row(h: &mut egui_kittest::Harness<'static, fabula::app::FabulaApp>, name: &str) {
    let row = h.get_by_label(name).rect();
    h.get_all_by_label("Delete")
        .find(|d| (d.rect().center().y - row.center().y).abs() < 8.0 && d.rect().min.x > row.min.x)
        .expect("the row's Delete")
        .click();
    h.run_ok();
}

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
    delete_row(&mut h, "Coil of rope");
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

    // Deleted again, the row waits in the Trash with its story, and comes back from there.
    click(&mut h, "Inventory");
    delete_row(&mut h, "Coil of rope");
    click(&mut h, "Trash");
    settle(&mut h);
    assert!(
        h.query_by_label("Coil of rope").is_some(),
        "listed in the Trash"
    );
    assert!(
        h.query_by_label_contains("Item · from “The Lantern Keeper”")
            .is_some()
    );
    click(&mut h, "Restore");
    settle(&mut h);
    assert!(h.query_by_label("Coil of rope").is_none(), "left the Trash");
    assert_eq!(data.open().world(&story).expect("world").items.len(), 2);
    click(&mut h, "Story: The Lantern Keeper");
    settle(&mut h);
    assert!(
        h.query_by_label("Coil of rope").is_some(),
        "back in the World panel"
    );
}

/// After a narration the Classifier task updates the world on its own job: the status bar says
/// what changed in one line, the World panel shows it, and Undo takes the update back as one step.
#[test]
fn the_classifier_updates_the_world_after_a_narration_and_undo_takes_it_back() {
    use common::fake_llm::{FakeProvider, Reply, wire};
    use std::time::{Duration, Instant};
    let server = FakeProvider::start_routed(|req, _| {
        if req.url.ends_with("/models") {
            return Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"smol-135m","object":"model","created":1,"owned_by":"me"}]}"#,
            );
        }
        if req.body.contains("Answer with JSON only") {
            return Reply::json(500, &wire::openai_error("server_error", "no suggestions"));
        }
        if req.body.contains("NEWEST NARRATION") {
            return Reply::stream(
                "text/event-stream",
                &wire::openai(
                    &[
                        r#"{"characters":[{"name":"Mira","description":"Keeps the tavern.","relationship":null,"traits":null,"status":null}],"#,
                        r#""places":[],"items":[{"name":"Rusty key","description":null,"quantity":1,"equipped":null,"location":"inventory"}],"#,
                        r#""beats":[],"scene":{"current_place":"The tavern","present":["Mira"],"time_passed":"2 hours"}}"#,
                    ],
                    120,
                    60,
                ),
            );
        }
        Reply::stream(
            "text/event-stream",
            &wire::openai(&["Mira slides a rusty key across the bar."], 50, 9),
        )
    });
    let data = TempData::new();
    {
        let store = data.open();
        local_profile(&store, &server.base);
    }
    let story = data.add_story("The Tavern");
    let mut h = harness(&data);
    click(&mut h, "The Tavern");
    type_into(&mut h, "Your action", "ask for a room");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.query_by_label_contains("+ Mira (character)").is_none() {
        assert!(
            Instant::now() < deadline,
            "no world update: {:?}",
            h.state().state().status
        );
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    h.run_ok();
    assert!(
        h.query_by_label_contains(
            "+ Mira (character) · The tavern is now the current place · +1 Rusty key · two hours pass"
        )
        .is_some(),
        "one line says what changed"
    );
    let world = data.open().world(&story).expect("world");
    assert_eq!(world.characters[0].name, "Mira");
    assert_eq!(
        world.current_place().map(|p| p.name.as_str()),
        Some("The tavern")
    );
    assert!(world.items[0].is_carried());
    assert_eq!(world.time.map(|t| t.hours), Some(2));
    let sent: Vec<String> = server.recorded().into_iter().map(|r| r.body).collect();
    let classify = sent
        .iter()
        .find(|b| b.contains("NEWEST NARRATION"))
        .expect("the classifier was asked");
    assert!(
        classify.contains(r#""response_format":{"json_schema""#)
            || classify.contains("json_schema")
    );
    assert!(
        classify.contains("Mira slides a rusty key"),
        "it read the new narration"
    );

    click(&mut h, "World");
    assert!(h.query_by_label("Mira").is_some());
    h.key_press(Key::Escape);
    h.run_ok();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    settle(&mut h);
    let world = data.open().world(&story).expect("world");
    assert!(
        world.characters.is_empty(),
        "Undo took the update back: {world:?}"
    );
    assert!(world.places.is_empty() && world.items.is_empty());
    assert!(h.query_by_label("Mira").is_none());

    // The Updates tab lists it as taken back, and makes it again (and takes it back) on a click.
    click(&mut h, "Updates");
    assert!(
        h.query_by_label("+ Rusty key (item)").is_some(),
        "what it did"
    );
    assert!(h.query_by_label_contains("taken back").is_some());
    click(&mut h, "Make again");
    settle(&mut h);
    assert_eq!(
        data.open().world(&story).expect("world").characters.len(),
        1
    );
    assert!(h.query_by_label_contains("in effect").is_some());
    click(&mut h, "Take back");
    settle(&mut h);
    assert!(
        data.open()
            .world(&story)
            .expect("world")
            .characters
            .is_empty()
    );
}

/// World updates follow the text that caused them: a regenerated narration's update replaces the
/// first one's, flipping back to ‹ 1/2 › brings the first back, and deleting the narration takes
/// its update away (restoring it makes it again).
#[test]
fn world_updates_follow_the_narration_text_shown() {
    use common::fake_llm::{FakeProvider, Reply, wire};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};
    let narrations = Arc::new(AtomicUsize::new(0));
    let server = FakeProvider::start_routed(move |req, _| {
        if req.url.ends_with("/models") {
            return Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"smol-135m","object":"model","created":1,"owned_by":"me"}]}"#,
            );
        }
        if req.body.contains("Answer with JSON only") {
            return Reply::json(500, &wire::openai_error("server_error", "no suggestions"));
        }
        let meets = |name: &str| {
            format!(
                r#"{{"characters":[{{"name":"{name}","description":null,"relationship":null,"traits":null,"status":null}}],"places":[],"items":[],"beats":[],"scene":{{"current_place":null,"present":[],"time_passed":"none"}}}}"#
            )
        };
        if req.body.contains("NEWEST NARRATION") {
            let who = if req.body.contains("Tomas") {
                "Tomas"
            } else {
                "Mira"
            };
            return Reply::stream("text/event-stream", &wire::openai(&[&meets(who)], 10, 10));
        }
        let text = match narrations.fetch_add(1, Ordering::SeqCst) {
            0 => "Mira waves from the bar.",
            _ => "Tomas waves from the bar.",
        };
        Reply::stream("text/event-stream", &wire::openai(&[text], 10, 5))
    });
    let data = TempData::new();
    {
        let store = data.open();
        local_profile(&store, &server.base);
    }
    let story = data.add_story("The Bar");
    let names = || -> Vec<String> {
        data.open()
            .world(&story)
            .expect("world")
            .characters
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    let mut h = harness(&data);
    let wait_for = |h: &mut egui_kittest::Harness<'static, fabula::app::FabulaApp>, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while h.query_by_label_contains(what).is_none() {
            assert!(Instant::now() < deadline, "never: {what}");
            std::thread::sleep(Duration::from_millis(5));
            h.step();
        }
        h.run_ok();
    };
    click(&mut h, "The Bar");
    type_into(&mut h, "Your action", "look around");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    wait_for(&mut h, "+ Mira (character)");
    assert_eq!(names(), ["Mira"]);

    click(&mut h, "Regenerate");
    wait_for(&mut h, "+ Tomas (character)");
    assert_eq!(
        names(),
        ["Tomas"],
        "Mira was met only in the text that was replaced"
    );

    click(&mut h, "‹");
    settle(&mut h);
    assert_eq!(names(), ["Mira"], "back to ‹ 1/2 ›, back to Mira");
    assert!(
        h.query_by_label_contains("The world follows the text shown")
            .is_some()
    );

    // The narration deleted: nobody was met; Undo brings the narration and Mira back.
    let narration = h.get_by_label("Mira waves from the bar.").rect();
    h.get_all_by_label("Delete")
        .find(|d| (d.rect().center().y - narration.center().y).abs() < 40.0)
        .expect("the narration's Delete")
        .click();
    h.run_ok();
    settle(&mut h);
    assert!(names().is_empty(), "{:?}", names());
    h.key_press(Key::Escape);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    settle(&mut h);
    assert_eq!(names(), ["Mira"]);
}

/// With "Ask before applying AI changes" the update waits in the World panel: each change is
/// accepted or rejected on its own, and only what was accepted reaches the world.
#[test]
fn with_ask_before_applying_each_change_waits_for_accept_or_reject() {
    use common::fake_llm::{FakeProvider, Reply, wire};
    use std::time::{Duration, Instant};
    let server = FakeProvider::start_routed(|req, _| {
        if req.url.ends_with("/models") {
            return Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"smol-135m","object":"model","created":1,"owned_by":"me"}]}"#,
            );
        }
        if req.body.contains("Answer with JSON only") {
            return Reply::json(500, &wire::openai_error("server_error", "no suggestions"));
        }
        if req.body.contains("NEWEST NARRATION") {
            return Reply::stream(
                "text/event-stream",
                &wire::openai(
                    &[
                        r#"{"characters":[{"name":"Mira","description":null,"relationship":null,"traits":null,"status":null}],"places":[],"items":[{"name":"Rusty key","description":null,"quantity":1,"equipped":null,"location":"inventory"}],"beats":[],"scene":{"current_place":null,"present":[],"time_passed":"1 day"}}"#,
                    ],
                    10,
                    10,
                ),
            );
        }
        Reply::stream(
            "text/event-stream",
            &wire::openai(&["Mira slides a rusty key across the bar."], 10, 5),
        )
    });
    let data = TempData::new();
    let story = data.add_story("Asked");
    {
        let store = data.open();
        local_profile(&store, &server.base);
        let mut settings = store.story_settings(&story).expect("settings");
        settings.ask_before_world = true;
        store.save_story_settings(&story, &settings).expect("save");
    }
    let mut h = harness(&data);
    click(&mut h, "Asked");
    type_into(&mut h, "Your action", "ask for a room");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.query_by_label_contains("waits for your word").is_none() {
        assert!(
            Instant::now() < deadline,
            "no proposal: {:?}",
            h.state().state().status
        );
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    h.run_ok();
    assert!(
        data.open().world(&story).expect("world").is_empty(),
        "nothing applied without a word"
    );
    click(&mut h, "World");
    assert!(h.query_by_label("Proposed by a narration").is_some());
    assert!(h.query_by_label("+ Mira (character)").is_some());
    assert!(h.query_by_label("+ Rusty key (item)").is_some());
    assert!(h.query_by_label_contains("Time moves on").is_some());
    // Accept Mira (the first change), then reject the rest.
    h.get_all_by_label("Accept").next().expect("accept").click();
    h.run_ok();
    settle(&mut h);
    assert!(h.query_by_label("+ Mira (character)").is_none(), "decided");
    // The rest waits on across quitting and launching again.
    drop(h);
    let mut h = harness(&data);
    click(&mut h, "Asked");
    click(&mut h, "World");
    settle(&mut h);
    assert!(
        h.query_by_label("Proposed by a narration").is_some(),
        "still waiting"
    );
    assert!(h.query_by_label("+ Rusty key (item)").is_some());
    click(&mut h, "Reject all");
    settle(&mut h);
    assert!(h.query_by_label("Proposed by a narration").is_none());
    let world = data.open().world(&story).expect("world");
    assert_eq!(world.characters.len(), 1);
    assert_eq!(world.characters[0].name, "Mira");
    assert!(world.items.is_empty(), "the key was rejected");
    assert_eq!(world.time, None, "and so was the day");
}
