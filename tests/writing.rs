//! The writing pipeline end to end without a window: a real database, a provider on 127.0.0.1
//! speaking OpenAI's SSE, and the same `writing::prepare` + `run` the Generate button uses.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::TempData;
use common::fake_llm::{FakeProvider, Reply, Step, wire};
use fabula::domain::{
    DraftState, EntryKind, InjectionMode, LoreEntry, LoreId, NewStory, StoryId, StoryMode, Target,
};
use fabula::jobs::CancelToken;
use fabula::storage::Store;
use fabula::writing::{self, Ending, Lorebook};

use common::local_profile as profile;

fn story(store: &Store) -> StoryId {
    store
        .create_story(&NewStory {
            title: "The Lighthouse".into(),
            mode: StoryMode::Adventure,
            ..NewStory::default()
        })
        .expect("story")
        .id
}

fn stream(pieces: &[&str]) -> Reply {
    Reply::stream("text/event-stream", &wire::openai(pieces, 11, 5))
}

fn generate(store: &mut Store, story: &StoryId, target: Target) -> writing::Outcome {
    let lorebook = Lorebook::load(store, story).expect("lore");
    let cancel = CancelToken::new();
    let prepared = writing::prepare(
        store,
        &fabula::keys::MemoryKeyStore::default(),
        story,
        target,
        &lorebook,
        &cancel,
    )
    .expect("prepare");
    writing::run(store, &prepared, &cancel, &mut |_| {}).expect("run")
}

fn texts(store: &Store, story: &StoryId) -> Vec<(EntryKind, String)> {
    let rows = store.entry_rows(story).expect("rows");
    let ids: Vec<_> = rows.iter().map(|r| &r.id).collect();
    let mut entries = store.entries_by_ids(&ids).expect("entries");
    entries.sort_by_key(|e| e.position);
    entries.into_iter().map(|e| (e.kind, e.content)).collect()
}

#[test]
fn a_turn_stores_the_narration_usage_and_the_inspector_record() {
    let data = TempData::new();
    let server = FakeProvider::start(vec![stream(&["\n\nThe lamp ", "gutters ", "out."])]);
    let mut store = data.open();
    profile(&store, &server.base);
    let story = story(&store);
    store
        .append_entry(&story, EntryKind::UserAction, "I climb the stairs.")
        .expect("action");

    let outcome = generate(&mut store, &story, Target::Next);
    let Ending::Written(id) = &outcome.ending else {
        panic!("not written: {:?}", outcome.ending);
    };
    assert_eq!(
        texts(&store, &story),
        [
            (EntryKind::UserAction, "I climb the stairs.".to_owned()),
            (EntryKind::Narration, "The lamp gutters out.".to_owned())
        ]
    );
    assert_eq!(
        store.entry(id).expect("entry").content,
        "The lamp gutters out."
    );
    assert_eq!(store.draft(&story).expect("draft"), None);

    let sent = &server.recorded()[0];
    let body: serde_json::Value = serde_json::from_str(&sent.body).expect("json body");
    assert_eq!(body["model"], "tiny");
    assert_eq!(body["messages"][0]["role"], "system");
    assert!(
        body["messages"][1]["content"]
            .as_str()
            .expect("user text")
            .ends_with("[ACTION] I climb the stairs.\n\nContinue the narrative:"),
        "{body}"
    );

    let log = store.recent_generations(Some(&story), 50).expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].request, sent.body,
        "the inspector shows the exact body"
    );
    assert_eq!(log[0].response, "\n\nThe lamp gutters out.");
    assert_eq!(log[0].outcome, "ok");
    assert!(
        log[0]
            .usage
            .as_deref()
            .unwrap_or("")
            .contains("\"promptTokens\":11")
    );
    let budget = log[0].budget.expect("budget");
    assert_eq!(budget.window, 8192);
    assert!(budget.system > 0 && budget.input > 0);

    let usage = store.recent_usage(10).expect("usage");
    assert_eq!(usage[0].story_id.as_deref(), Some(story.as_str()));
    assert_eq!(usage[0].completion_tokens, Some(5));
}

#[test]
fn regenerating_an_earlier_narration_sees_only_what_came_before_and_keeps_every_version() {
    let data = TempData::new();
    let server = FakeProvider::start(vec![stream(&["A second telling."])]);
    let mut store = data.open();
    profile(&store, &server.base);
    let story = story(&store);
    store
        .append_entry(&story, EntryKind::UserAction, "I knock.")
        .expect("action");
    let first = store
        .append_entry(&story, EntryKind::Narration, "Nobody answers.")
        .expect("narration");
    store
        .append_entry(&story, EntryKind::UserAction, "I kick the door.")
        .expect("later action");

    let outcome = generate(&mut store, &story, Target::Regenerate(first.id.clone()));
    assert_eq!(outcome.ending, Ending::Written(first.id.clone()));
    let user = &serde_json::from_str::<serde_json::Value>(&server.recorded()[0].body)
        .expect("json")["messages"][1]["content"];
    let user = user.as_str().expect("user text");
    assert!(user.contains("I knock."), "{user}");
    assert!(
        !user.contains("Nobody answers") && !user.contains("kick"),
        "{user}"
    );

    let entry = store.entry(&first.id).expect("entry");
    assert_eq!(entry.content, "A second telling.");
    let pos = entry.alternative.expect("two alternatives");
    assert_eq!((pos.index, pos.count), (2, 2));

    store.select_alternative(&first.id, 1).expect("select");
    drop(store);
    let store = data.open();
    let entry = store.entry(&first.id).expect("entry");
    assert_eq!(entry.content, "Nobody answers.");
    let pos = entry.alternative.expect("still two");
    assert_eq!((pos.index, pos.count), (1, 2));
    assert_eq!(texts(&store, &story).len(), 3, "nothing added or lost");
}

#[test]
fn a_hang_up_mid_stream_keeps_the_partial_text_as_a_failed_draft() {
    let data = TempData::new();
    let server = FakeProvider::start(vec![
        stream(&["The stairs ", "creak ", "and "]).drop_after(3),
    ]);
    let mut store = data.open();
    profile(&store, &server.base);
    let story = story(&store);
    store
        .append_entry(&story, EntryKind::UserAction, "I wait.")
        .expect("action");

    let outcome = generate(&mut store, &story, Target::Next);
    let Ending::Failed(error) = &outcome.ending else {
        panic!("expected a failure, got {:?}", outcome.ending);
    };
    assert!(error.to_string().contains("OpenAI-compatible"), "{error}");
    let draft = store.draft(&story).expect("read").expect("a draft");
    assert_eq!(draft.state, DraftState::Failed);
    assert_eq!(draft.content, "The stairs creak ");
    assert!(draft.error.is_some());
    assert_eq!(
        texts(&store, &story).len(),
        1,
        "only the action; no half narration"
    );
    assert_eq!(
        store.recent_generations(None, 50).expect("log")[0].outcome,
        "failed"
    );
}

#[test]
fn cancelling_keeps_the_text_so_far_and_the_draft_is_on_disk_while_streaming() {
    let data = TempData::new();
    let reply =
        stream(&["Wind ", "howls ", "outside."]).then_at(3, Step::Sleep(Duration::from_secs(4)));
    let server = FakeProvider::start(vec![reply]);
    let mut store = data.open();
    profile(&store, &server.base);
    let story = story(&store);
    store
        .append_entry(&story, EntryKind::UserAction, "I listen.")
        .expect("action");
    let lorebook = Lorebook::load(&store, &story).expect("lore");
    let cancel = CancelToken::new();
    let prepared = writing::prepare(
        &store,
        &fabula::keys::MemoryKeyStore::default(),
        &story,
        Target::Next,
        &lorebook,
        &cancel,
    )
    .expect("prepare");

    // Another connection watches the draft while this one streams, as a crash would leave it.
    let watcher_path = data.paths.database();
    let watched_story = story.clone();
    let stopper = cancel.clone();
    let watcher = std::thread::spawn(move || {
        let other = Store::open_worker(&watcher_path).expect("second connection");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(d) = other.draft(&watched_story).expect("read draft")
                && d.content.contains("howls")
            {
                stopper.cancel();
                return d;
            }
            assert!(std::time::Instant::now() < deadline, "draft never written");
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let outcome = writing::run(&mut store, &prepared, &cancel, &mut |_| {}).expect("run");
    let seen = watcher.join().expect("watcher");
    assert_eq!(seen.state, DraftState::Streaming);
    assert_eq!(outcome.ending, Ending::Cancelled);
    let draft = store.draft(&story).expect("read").expect("draft");
    assert_eq!(draft.state, DraftState::Cancelled);
    assert_eq!(draft.content, "Wind howls ");
}

#[test]
fn empty_replies_are_asked_again() {
    let data = TempData::new();
    let server = FakeProvider::start(vec![
        stream(&[]),
        stream(&["  "]),
        stream(&["At last, light."]),
    ]);
    let mut store = data.open();
    profile(&store, &server.base);
    let story = story(&store);
    store
        .append_entry(&story, EntryKind::UserAction, "I wait.")
        .expect("action");
    let outcome = generate(&mut store, &story, Target::Next);
    assert!(matches!(outcome.ending, Ending::Written(_)));
    assert_eq!(server.recorded().len(), 3);
    assert_eq!(texts(&store, &story)[1].1, "At last, light.");
}

#[test]
fn lore_goes_in_when_mentioned_as_a_whole_word_only() {
    let data = TempData::new();
    let server = FakeProvider::start(vec![stream(&["Ok."])]);
    let mut store = data.open();
    profile(&store, &server.base);
    let story = story(&store);
    store
        .save_lore(&LoreEntry {
            id: LoreId::new(),
            story_id: story.clone(),
            name: "Hulk".into(),
            description: "A green giant who guards the lighthouse.".into(),
            mode: InjectionMode::Keyword,
            ..LoreEntry::default()
        })
        .expect("lore");
    store
        .append_entry(&story, EntryKind::UserAction, "I greet the madhulkman.")
        .expect("action");
    generate(&mut store, &story, Target::Next);
    store
        .append_entry(&story, EntryKind::UserAction, "I greet the Hulk.")
        .expect("action");
    generate(&mut store, &story, Target::Next);
    let bodies: Vec<String> = server.recorded().into_iter().map(|r| r.body).collect();
    assert!(!bodies[0].contains("green giant"), "{}", bodies[0]);
    assert!(bodies[1].contains("green giant"), "{}", bodies[1]);
    let log = store.recent_generations(Some(&story), 50).expect("log");
    assert_eq!(log[0].lore.as_deref(), Some("Hulk: “Hulk” in your input"));
}

#[test]
fn no_provider_is_a_clear_error_before_anything_is_sent() {
    let data = TempData::new();
    let store = data.open();
    let story = story(&store);
    let lorebook = Lorebook::load(&store, &story).expect("lore");
    let err = writing::prepare(
        &store,
        &fabula::keys::MemoryKeyStore::default(),
        &story,
        Target::Next,
        &lorebook,
        &CancelToken::new(),
    )
    .expect_err("no profile");
    assert!(
        err.to_string().contains("No provider is set up yet"),
        "{err}"
    );
}

/// The count of entries a request carried is the request's own: what the inspector's body holds,
/// and everything before the written point that is not in it was left out (the budget bar says the
/// same). A regeneration in the middle counts only what came before it.
#[test]
fn the_left_out_count_matches_what_the_request_carried() {
    let data = TempData::new();
    let server = FakeProvider::start(vec![stream(&["The tide turns."]), stream(&["Again."])]);
    let mut store = data.open();
    profile(&store, &server.base);
    let story = story(&store);
    let mut settings = store.story_settings(&story).expect("settings");
    // Room for the prompt's frame and a handful of the 60 entries, not all of them.
    settings.context_window = Some(1800);
    store.save_story_settings(&story, &settings).expect("save");
    let mut middle = None;
    for i in 0..60 {
        let (kind, text) = if i % 2 == 0 {
            (
                EntryKind::UserAction,
                format!("I walk to the cairn number {i}, slowly, counting stones."),
            )
        } else {
            (
                EntryKind::Narration,
                format!("Cairn {i} stands grey against the evening sea, and gulls wheel above it."),
            )
        };
        let entry = store.append_entry(&story, kind, &text).expect("entry");
        if i == 41 {
            middle = Some(entry.id);
        }
    }
    let sent_entries = |body: &str| {
        let value: serde_json::Value = serde_json::from_str(body).expect("json");
        let user = value["messages"][1]["content"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        user.matches("[ACTION]").count() + user.matches("[NARRATIVE]").count()
    };

    generate(&mut store, &story, Target::Next);
    let log = store.recent_generations(Some(&story), 1).expect("log");
    let budget = log[0].budget.expect("budget");
    let carried = sent_entries(&log[0].request);
    assert!(
        carried > 1 && carried < 60,
        "the window cut the story: {carried} sent"
    );
    assert_eq!(budget.entries_sent, carried);
    assert_eq!(budget.entries_left_out, 60 - carried);

    generate(
        &mut store,
        &story,
        Target::Regenerate(middle.expect("entry 41")),
    );
    let log = store.recent_generations(Some(&story), 1).expect("log");
    let budget = log[0].budget.expect("budget");
    let carried = sent_entries(&log[0].request);
    assert_eq!(budget.entries_sent, carried);
    assert_eq!(
        budget.entries_left_out,
        41 - carried,
        "only the 41 entries before the regenerated one could have gone"
    );
}

/// The story's world, as stored, is in the narrator's request: where the protagonist is now.
#[test]
fn the_stored_world_is_told_to_the_narrator() {
    let data = TempData::new();
    let server = FakeProvider::start(vec![stream(&["Waves."])]);
    let mut store = data.open();
    profile(&store, &server.base);
    let story = story(&store);
    store
        .save_world_row(
            &story,
            &fabula::domain::WorldRow::Place(fabula::domain::Place {
                id: "p-gallery".into(),
                name: "The gallery".into(),
                current: true,
                ..Default::default()
            }),
        )
        .expect("place");
    store
        .append_entry(&story, EntryKind::UserAction, "I look out.")
        .expect("action");
    generate(&mut store, &story, Target::Next);
    let body: serde_json::Value = serde_json::from_str(&server.recorded()[0].body).expect("json");
    let system = body["messages"][0]["content"].as_str().expect("system");
    assert!(
        system.contains("Where things stand:\n- Current place: The gallery"),
        "{system}"
    );
    let log = store.recent_generations(Some(&story), 1).expect("log");
    assert!(
        log[0].budget.expect("budget").world > 0,
        "its part of the budget"
    );
}
