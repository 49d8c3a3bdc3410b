//! The writing loop through the real UI (egui_kittest) on a real database, against a provider on
//! 127.0.0.1: generate with streaming, stop mid-stream into a draft, regenerate into ‹ 2/2 ›,
//! switch back and find the choice after a restart, suggestions, and a provider error.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::fake_llm::{FakeProvider, Reply, Step, wire};
use common::{TempData, click, harness, type_into};
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use fabula::app::FabulaApp;
use fabula::domain::{DraftState, EntryKind};

fn wait_for(
    h: &mut Harness<'static, FabulaApp>,
    what: &str,
    done: impl Fn(&Harness<'static, FabulaApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(h) {
        assert!(
            Instant::now() < deadline,
            "{what} never happened; status: {:?}",
            h.state().state().status
        );
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    h.run_ok();
}

fn wait_for_text(h: &mut Harness<'static, FabulaApp>, text: &str) {
    wait_for(h, &format!("“{text}” on screen"), |h| {
        h.query_all_by_label_contains(text).next().is_some()
    });
}

fn wait_until_idle(h: &mut Harness<'static, FabulaApp>) {
    wait_for(h, "the end of generation", |h| !h.state().is_generating());
}

/// The classifier's answer when a narration changed nothing in the world.
const NOTHING_CHANGED: &str = r#"{"characters":[],"places":[],"items":[],"beats":[],"scene":{"current_place":null,"present":[],"time_passed":"none"}}"#;

/// Narrator replies in order: a full one, one that stalls (to be stopped), a regeneration, then a
/// rejected key. Suggestion calls get action choices.
fn server() -> FakeProvider {
    let narrations = Arc::new(AtomicUsize::new(0));
    FakeProvider::start_routed(move |req, _| {
        if req.url.ends_with("/models") {
            return Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"smol-135m","object":"model","created":1,"owned_by":"me"}]}"#,
            );
        }
        if req.body.contains("Answer with JSON only") {
            return Reply::stream(
                "text/event-stream",
                &wire::openai(
                    &[
                        "```json\n{\"choices\": [\"Light a torch\", ",
                        "\"Call out\"]}\n```",
                    ],
                    40,
                    12,
                ),
            );
        }
        if req.body.contains("NEWEST NARRATION") {
            return Reply::stream(
                "text/event-stream",
                &wire::openai(&[NOTHING_CHANGED], 30, 10),
            );
        }
        match narrations.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::stream(
                "text/event-stream",
                &wire::openai(&["The door ", "groans ", "open."], 50, 3),
            ),
            1 => Reply::stream(
                "text/event-stream",
                &wire::openai(&["The corridor ", "smells of ", "salt."], 60, 5),
            )
            .then_at(3, Step::Sleep(Duration::from_secs(30))),
            2 => Reply::stream(
                "text/event-stream",
                &wire::openai(&["A second ", "telling."], 50, 2),
            ),
            _ => Reply::json(
                401,
                &wire::openai_error("invalid_api_key", "Incorrect API key provided: sk-old."),
            ),
        }
    })
}

/// Ctrl+N, a title, Enter: the new story opens.
fn new_story(h: &mut Harness<'static, FabulaApp>, title: &str) {
    h.key_press_modifiers(Modifiers::COMMAND, Key::N);
    h.run_ok();
    h.get_by_label("Title").type_text(title);
    h.run_ok();
    h.key_press(Key::Enter);
    h.run_ok();
}

fn add_local_profile(h: &mut Harness<'static, FabulaApp>, base: &str) {
    click(h, "Settings");
    click(h, "Providers");
    click(h, "Add profile");
    h.get_by_label("Choose provider").click();
    h.run_ok();
    click(h, "llama.cpp");
    type_into(h, "Base URL", &format!("{base}/v1"));
    click(h, "Save profile");
}

#[test]
fn generate_stop_regenerate_and_switch_alternatives() {
    let data = TempData::new();
    let server = server();
    let mut h = harness(&data);
    add_local_profile(&mut h, &server.base);

    new_story(&mut h, "The Drowned Inn");

    // Generate: the action goes in, the narration streams in and is stored.
    type_into(&mut h, "Your action", "open the door");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    assert!(h.query_by_label("I open the door.").is_some());
    wait_for_text(&mut h, "The door groans open.");
    wait_until_idle(&mut h);
    let story = h
        .state()
        .state()
        .open
        .as_ref()
        .expect("open")
        .summary
        .story
        .id
        .clone();
    let kinds: Vec<EntryKind> = data
        .open()
        .entry_rows(&story)
        .expect("rows")
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(kinds, [EntryKind::UserAction, EntryKind::Narration]);
    assert!(
        h.query_by_label_contains("Context: ").is_some(),
        "the budget bar shows"
    );

    // Action choices arrive after the narration; a click fills the input.
    wait_for_text(&mut h, "Light a torch");
    click(&mut h, "Light a torch");

    // Stop mid-stream: the partial text is a draft, on screen and on disk.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    wait_for_text(&mut h, "The corridor smells of");
    h.key_press(Key::Escape);
    h.run_ok();
    wait_until_idle(&mut h);
    wait_for_text(&mut h, "Draft: stopped before the end");
    let draft = data.open().draft(&story).expect("read").expect("a draft");
    assert_eq!(draft.state, DraftState::Cancelled);
    assert_eq!(draft.content, "The corridor smells of ");
    click(&mut h, "Keep");
    assert!(data.open().draft(&story).expect("read").is_none());

    // Regenerate the first narration: 2/2, then back to 1/2.
    h.get_all_by_label("Regenerate")
        .next()
        .expect("a Regenerate button")
        .click();
    h.run_ok();
    wait_until_idle(&mut h);
    wait_for_text(&mut h, "A second telling.");
    assert!(h.query_by_label("2/2").is_some());
    click(&mut h, "‹");
    assert!(h.query_by_label("1/2").is_some());
    assert!(h.query_by_label_contains("The door groans open.").is_some());
    drop(h);

    // Reopened, the story still shows the first version.
    let store = data.open();
    let rows = store.entry_rows(&story).expect("rows");
    let first = store.entry(&rows[1].id).expect("entry");
    assert_eq!(first.content, "The door groans open.");
    let pos = first.alternative.expect("alternatives");
    assert_eq!((pos.index, pos.count), (1, 2));
    drop(store);

    // A provider error shows the provider's words and keeps what the user wrote.
    let mut h = harness(&data);
    click(&mut h, "The Drowned Inn");
    type_into(&mut h, "Your action", "ring the bell");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    wait_until_idle(&mut h);
    wait_for_text(&mut h, "Incorrect API key provided");
    assert!(
        h.query_by_label("I ring the bell.").is_some(),
        "the action stays in the story"
    );
    // A rejected key is a different failure from a dropped line: the way on is the key.
    assert!(matches!(
        h.state()
            .state()
            .status
            .as_ref()
            .and_then(|s| s.next.clone()),
        Some(fabula::state::NextStep::CheckKey { .. })
    ));
    click(&mut h, "Check the key");
    assert_eq!(h.state().state().screen, fabula::state::Screen::Providers);
    assert!(
        h.query_by_label("Save profile").is_some(),
        "the profile's form is open"
    );
    assert!(
        h.query_all_by_label_contains(&server.base).next().is_some(),
        "it is the profile the narration used"
    );
}

/// A rate limit says how long to wait; a dropped connection says try again; the same narration
/// then goes through.
#[test]
fn a_rate_limit_counts_down_to_retry_and_a_dropped_line_offers_retry() {
    let data = TempData::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let server = FakeProvider::start_routed(move |req, _| {
        if req.url.ends_with("/models") {
            return Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"smol-135m","object":"model","created":1,"owned_by":"me"}]}"#,
            );
        }
        if req.body.contains("Answer with JSON only") {
            return Reply::json(500, "{}");
        }
        if req.body.contains("NEWEST NARRATION") {
            return Reply::stream(
                "text/event-stream",
                &wire::openai(&[NOTHING_CHANGED], 30, 10),
            );
        }
        match calls.fetch_add(1, Ordering::SeqCst) {
            // Every attempt of the first narration is limited (the client tries three times).
            0..=2 => Reply::json(
                429,
                &wire::openai_error("rate_limit_exceeded", "Rate limit reached for requests."),
            )
            .header("Retry-After", "1"),
            3 => Reply::stream(
                "text/event-stream",
                &wire::openai(&["The bell ", "rings."], 40, 2),
            )
            // After the first words, so it is not retried on its own.
            .drop_after(2),
            _ => Reply::stream(
                "text/event-stream",
                &wire::openai(&["The bell ", "rings at last."], 40, 3),
            ),
        }
    });
    let mut h = harness(&data);
    add_local_profile(&mut h, &server.base);
    new_story(&mut h, "Belfry");
    type_into(&mut h, "Your action", "ring the bell");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    wait_until_idle(&mut h);
    wait_for_text(&mut h, "Rate limit reached");
    assert!(
        h.query_all_by_label_contains("Retry in ").next().is_some(),
        "the wait is shown, not a button that fails again"
    );
    wait_for(&mut h, "the wait to end", |h| {
        h.query_all_by_label_contains("Retry in ").next().is_none()
    });
    h.get_all_by_label("Retry")
        .last()
        .expect("a Retry button")
        .click();
    h.run_ok();
    wait_until_idle(&mut h);
    // The line drops mid-stream: what came is a draft, and trying again is offered.
    wait_for(&mut h, "the drop reported", |h| {
        h.state()
            .state()
            .status
            .as_ref()
            .is_some_and(|s| matches!(s.next, Some(fabula::state::NextStep::Retry(_))))
    });
    h.get_all_by_label("Retry")
        .last()
        .expect("a Retry button")
        .click();
    h.run_ok();
    wait_until_idle(&mut h);
    wait_for_text(&mut h, "The bell rings at last.");
}

/// Undo after a generation takes back the turn as a whole: the action and its narration; Redo
/// brings both back. A narration is never left without the action it answers.
#[test]
fn undo_after_a_generation_takes_back_the_whole_turn() {
    let data = TempData::new();
    let server = server();
    let mut h = harness(&data);
    add_local_profile(&mut h, &server.base);
    new_story(&mut h, "Cellar");
    type_into(&mut h, "Your action", "push the door");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    wait_until_idle(&mut h);
    wait_for_text(&mut h, "The door groans open.");
    assert!(h.query_by_label("I push the door.").is_some());
    // The composer keeps the keyboard after sending: leave it, as a user would, then undo.
    h.key_press(Key::Escape);
    h.run_ok();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert!(
        h.query_by_label("I push the door.").is_none(),
        "the action is gone"
    );
    assert!(
        h.query_by_label_contains("The door groans open.").is_none(),
        "and its narration with it"
    );
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_ok();
    assert!(h.query_by_label("I push the door.").is_some());
    assert!(h.query_by_label_contains("The door groans open.").is_some());
}

/// A narration the provider ended at its length limit is marked as cut, and Continue writes on
/// ("Write on") from where it stops in the same entry; the cut text stays one alternative back.
#[test]
fn a_narration_cut_at_the_length_limit_is_marked_and_continued_in_place() {
    let data = TempData::new();
    let calls = Arc::new(AtomicUsize::new(0));
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
        if req.body.contains("NEWEST NARRATION") {
            return Reply::stream(
                "text/event-stream",
                &wire::openai(&[NOTHING_CHANGED], 30, 10),
            );
        }
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::stream(
                "text/event-stream",
                &wire::openai_ending(&["The door groans ", "open and the"], 50, 6, "length"),
            ),
            _ => Reply::stream(
                "text/event-stream",
                &wire::openai(&["corridor beyond ", "is dark."], 70, 5),
            ),
        }
    });
    let mut h = harness(&data);
    add_local_profile(&mut h, &server.base);
    new_story(&mut h, "Cellar");
    type_into(&mut h, "Your action", "push the door");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    wait_until_idle(&mut h);
    wait_for_text(&mut h, "The door groans open and the");
    assert!(
        h.query_by_label_contains("Cut off at the length limit")
            .is_some(),
        "the cut is marked"
    );
    click(&mut h, "Write on");
    wait_until_idle(&mut h);
    wait_for_text(
        &mut h,
        "The door groans open and the corridor beyond is dark.",
    );
    assert!(
        h.query_by_label_contains("Cut off at the length limit")
            .is_none(),
        "a continuation that ended on its own is not cut"
    );
    assert!(
        h.query_by_label("2/2").is_some(),
        "the cut text stays an alternative"
    );

    // The world update that follows the continuation is done before the store is touched here.
    wait_for(&mut h, "the world update", |h| {
        !h.state().is_updating_world()
    });
    let sent = server.recorded();
    // The narrator's last request (the world update that follows has its own).
    let body = &sent
        .iter()
        .rev()
        .find(|r| r.body.contains("[NARRATIVE]"))
        .expect("the continuation's request")
        .body;
    let value: serde_json::Value = serde_json::from_str(body).expect("json");
    let user = value["messages"][1]["content"].as_str().expect("user text");
    assert!(
        user.ends_with(
            "[NARRATIVE] The door groans open and the\n\nThe last narration was cut off. Continue it from exactly where it stops, without repeating any of it:"
        ),
        "{user}"
    );
    let store = data.open();
    let story = &store.list_stories().expect("stories")[0].story.id;
    let rows = store.entry_rows(story).expect("rows");
    assert_eq!(rows.len(), 2, "continued in place, no new entry");
    let narration = store.entry(&rows[1].id).expect("narration");
    assert_eq!(
        narration.content,
        "The door groans open and the corridor beyond is dark."
    );
    assert!(!narration.cut_off);
    let mut store = store;
    store
        .select_alternative(&rows[1].id, 1)
        .expect("back to the cut text");
    let cut = store.entry(&rows[1].id).expect("cut");
    assert_eq!(cut.content, "The door groans open and the");
    assert!(cut.cut_off, "the mark belongs to the text that was cut");
}
