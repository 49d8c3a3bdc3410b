//! `fabula story new`, `fabula lore add|list` and `fabula generate` through the real binary against a
//! provider on 127.0.0.1, including Ctrl+C in the middle of a stream.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{fabula_cmd as fabula, run_cmd as run};

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fake_llm::{FakeProvider, Reply, Step, wire};
use fabula::domain::{DraftState, EntryKind, StoryId};
use fabula::storage::{DataPaths, Store};

fn setup(data: &std::path::Path, base: &str) -> String {
    common::add_local_provider(data, base, None);
    let (code, out, err) = run(fabula(data).args([
        "story",
        "new",
        "--title",
        "Harbour",
        "--mode",
        "adventure",
        "--pov",
        "third",
        "--tense",
        "past",
        "--protagonist",
        "Mara",
    ]));
    assert_eq!(code, 0, "{err}");
    let id = out.trim().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {out}");
    id
}

fn store(data: &std::path::Path) -> Store {
    Store::open(&DataPaths { dir: data.into() }.database()).expect("open")
}

#[test]
fn generate_streams_and_stores_the_turn_with_lore() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = FakeProvider::start(vec![
        Reply::stream(
            "text/event-stream",
            &wire::openai(&["The tide ", "turned."], 30, 3),
        ),
        // The world update that follows, waited for.
        Reply::stream(
            "text/event-stream",
            &wire::openai(
                &[
                    r#"{"characters":[],"places":[{"name":"Old Pier","description":null}],"items":[],"beats":[],"scene":{"current_place":"Old Pier","present":[],"time_passed":"15 minutes"}}"#,
                ],
                40,
                20,
            ),
        ),
    ]);
    let story = setup(tmp.path(), &server.base);
    let (code, out, err) = run(fabula(tmp.path()).args([
        "lore",
        "add",
        &story,
        "Old Pier",
        "--kind",
        "location",
        "--description",
        "Rotten planks over black water.",
        "--aliases",
        "the pier,jetty",
        "--priority",
        "3",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim().len(), 36);
    let (_, out, _) = run(fabula(tmp.path()).args(["lore", "list", &story]));
    assert!(
        out.contains("Old Pier\tlocation\tkeyword\tpriority 3\tthe pier, jetty"),
        "{out}"
    );

    // The token counter's tables are built once and kept in the cache for the next run.
    let cache = tmp.path().join("cache");
    let (code, out, err) = run(fabula(tmp.path()).env("FABULA_CACHE_DIR", &cache).args([
        "generate", &story, "--action", "do", "walks", "to", "the", "jetty",
    ]));
    assert_eq!(code, 0, "{err}");
    let cached = std::fs::metadata(cache.join("o200k_base.tables")).expect("tables cached");
    assert!(cached.len() > 1_000_000, "{} bytes", cached.len());
    assert_eq!(out, "The tide turned.\n");
    assert!(
        err.contains("prompt_tokens=30") && err.contains("completion_tokens=3"),
        "{err}"
    );
    let body = &server.recorded()[0].body;
    // The story is told in the past: the action typed in the present is put in it.
    assert!(body.contains("Mara walked to the jetty."), "{body}");
    assert!(body.contains("Rotten planks over black water."), "{body}");
    assert!(body.contains("third person and the past tense"), "{body}");

    let store = store(tmp.path());
    let id = StoryId::from(story.as_str());
    let rows = store.entry_rows(&id).expect("rows");
    assert_eq!(
        rows.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [EntryKind::UserAction, EntryKind::Narration]
    );
    // The same world update as the window's, waited for and said on stderr.
    assert!(
        err.contains("world: Old Pier is now the current place · 15 minutes pass"),
        "{err}"
    );
    let world = store.world(&id).expect("world");
    assert_eq!(
        world.current_place().map(|p| p.name.as_str()),
        Some("Old Pier")
    );
    assert!(
        server.recorded()[1]
            .body
            .contains(r"NEWEST NARRATION:\nThe tide turned.")
    );
}

#[test]
fn a_rejected_key_exits_with_the_auth_code_and_keeps_the_action() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = FakeProvider::start(vec![Reply::json(
        401,
        &wire::openai_error("invalid_api_key", "Incorrect API key provided: sk-bad."),
    )]);
    let story = setup(tmp.path(), &server.base);
    let (code, out, err) = run(fabula(tmp.path()).args(["generate", &story, "look around"]));
    assert_eq!(code, 20, "{out}{err}");
    assert!(err.contains("Incorrect API key provided"), "{err}");
    let store = store(tmp.path());
    let id = StoryId::from(story.as_str());
    assert_eq!(
        store.entry_rows(&id).expect("rows").len(),
        1,
        "the action stays"
    );
    let draft = store.draft(&id).expect("draft").expect("failed draft");
    assert_eq!(draft.state, DraftState::Failed);
}

#[test]
fn ctrl_c_mid_stream_leaves_the_text_so_far_as_a_draft() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reply = Reply::stream(
        "text/event-stream",
        &wire::openai(&["Fog rolls ", "in from ", "the sea."], 5, 5),
    )
    .then_at(3, Step::Sleep(Duration::from_secs(20)));
    let server = FakeProvider::start(vec![reply]);
    let story = setup(tmp.path(), &server.base);
    // Started the way a shell starts a program in the background: with SIGINT ignored, which
    // Fabula must undo to be stopped by Ctrl+C at all.
    let mut child = Command::new("sh")
        .args(["-c", "trap '' INT; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_fabula"))
        .args(["generate", &story, "waits"])
        .env("FABULA_DATA_DIR", tmp.path())
        .env_remove("OPENAI_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 64];
    while !String::from_utf8_lossy(&seen).contains("in from") {
        assert!(Instant::now() < deadline, "no text streamed");
        let n = stdout.read(&mut buf).expect("read");
        seen.extend_from_slice(&buf[..n]);
    }
    // Past one draft tick (waited for: on a loaded machine the tick comes late), then Ctrl+C.
    let id = StoryId::from(story.as_str());
    let deadline = Instant::now() + Duration::from_secs(20);
    while store(tmp.path())
        .draft(&id)
        .ok()
        .flatten()
        .is_none_or(|d| d.content != "Fog rolls in from ")
    {
        assert!(Instant::now() < deadline, "no draft while streaming");
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    child.wait().expect("wait");

    let store = store(tmp.path());
    let draft = store
        .draft(&StoryId::from(story.as_str()))
        .expect("read")
        .expect("the partial narration is a draft");
    assert_eq!(draft.content, "Fog rolls in from ");
}

/// `fabula regenerate` writes the last narration again as a new alternative, from what came
/// before it (the same pipeline as the Regenerate button).
#[test]
fn regenerate_writes_another_alternative_of_the_last_narration() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = FakeProvider::start(vec![
        Reply::stream(
            "text/event-stream",
            &wire::openai(&["The tide turned."], 30, 3),
        ),
        Reply::stream(
            "text/event-stream",
            &wire::openai(&["The moon rose."], 30, 3),
        ),
    ]);
    let story = setup(tmp.path(), &server.base);
    let (code, _, err) =
        run(fabula(tmp.path()).args(["generate", &story, "--no-classify", "waits"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("world:"),
        "no world update was asked for: {err}"
    );
    let (code, out, err) = run(fabula(tmp.path()).args(["regenerate", &story]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "The moon rose.\n");
    let sent = &server.recorded()[1].body;
    assert!(
        sent.contains("Mara waited."),
        "the action before it is in the prompt: {sent}"
    );
    assert!(
        !sent.contains("The tide turned."),
        "not the narration it replaces: {sent}"
    );
    let store = store(tmp.path());
    let id = StoryId::from(story.as_str());
    let rows = store.entry_rows(&id).expect("rows");
    assert_eq!(rows.len(), 2, "no entry added");
    let entry = store.entry(&rows[1].id).expect("narration");
    assert_eq!(entry.content, "The moon rose.");
    let pos = entry.alternative.expect("alternatives");
    assert_eq!((pos.index, pos.count), (2, 2));

    let (code, _, err) = run(fabula(tmp.path()).args(["regenerate", &story, rows[0].id.as_str()]));
    assert_ne!(code, 0);
    assert!(
        err.contains("narration"),
        "an action cannot be regenerated: {err}"
    );
}

#[test]
fn chapter_end_and_the_check_after_generate_close_chapters() {
    use fabula::domain::chapter::MemorySettings;
    let tmp = tempfile::tempdir().expect("tmp");
    let brk = |n: u32, title: &str| {
        Reply::stream(
            "text/event-stream",
            &wire::openai(
                &[&format!(
                    r#"{{"end_index":{n},"title":"{title}","keywords":[],"characters":["Mara"],"places":[],"plot_threads":[],"tone":"calm"}}"#
                )],
                50,
                20,
            ),
        )
    };
    let text = |t: &str| Reply::stream("text/event-stream", &wire::openai(&[t], 50, 20));
    let server = FakeProvider::start(vec![
        brk(3, "Low Tide"),
        text("Mara waited for the tide."),
        // `generate`: the narration, then (no world tracking) the chapter check.
        text("The boats came home."),
        brk(2, "Boats"),
        text("The boats were counted."),
    ]);
    let story = setup(tmp.path(), &server.base);
    let id = StoryId::from(story.as_str());
    let ids: Vec<_> = {
        let store = store(tmp.path());
        let mut settings = store.story_settings(&id).expect("settings");
        settings.track_world = false;
        store.save_story_settings(&id, &settings).expect("save");
        (0..8)
            .map(|i| {
                store
                    .append_entry(
                        &id,
                        EntryKind::Narration,
                        &format!("Wave {i}. {}", "Salt and wind. ".repeat(30)),
                    )
                    .expect("entry")
                    .id
            })
            .collect()
    };
    let (code, out, err) =
        run(fabula(tmp.path()).args(["chapter", "end", &story, ids[2].as_str()]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Chapter 1: Low Tide\t3 entries"), "{out}");
    let (code, _, err) = run(fabula(tmp.path()).args(["chapter", "end", &story, ids[1].as_str()]));
    assert_ne!(code, 0);
    assert!(err.contains("already in Chapter 1: Low Tide"), "{err}");

    store(tmp.path())
        .save_memory_settings(
            &id,
            &MemorySettings {
                token_threshold: 200,
                recent_buffer: 2,
                recall: false,
                ..MemorySettings::default()
            },
        )
        .expect("memory settings");
    let (code, out, err) =
        run(fabula(tmp.path()).args(["generate", &story, "--action", "do", "waits"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "The boats came home.\n");
    assert!(
        err.contains("memory: Chapter 2: Boats closed (2 entries)"),
        "{err}"
    );
    let (code, out, _) = run(fabula(tmp.path()).args(["chapters", &story]));
    assert_eq!(code, 0);
    assert!(
        out.contains("Chapter 2: Boats") && out.contains("The boats were counted."),
        "{out}"
    );
}

#[test]
fn a_failing_recall_is_a_warning_and_the_narration_goes_on_with_what_it_has() {
    use fabula::domain::chapter::Chapter;
    let tmp = tempfile::tempdir().expect("tmp");
    // The recall questions are refused; the narration is answered.
    let server = FakeProvider::start_routed(|r, _| {
        if r.body.contains("recall_questions") {
            Reply::json(
                400,
                &wire::openai_error(
                    "context_length_exceeded",
                    "This model's maximum context length is 8192 tokens.",
                ),
            )
        } else {
            Reply::stream(
                "text/event-stream",
                &wire::openai(&["The lamp was lit."], 40, 5),
            )
        }
    });
    let story = setup(tmp.path(), &server.base);
    let id = StoryId::from(story.as_str());
    {
        let store = store(tmp.path());
        let mut settings = store.story_settings(&id).expect("settings");
        settings.track_world = false;
        store.save_story_settings(&id, &settings).expect("save");
        let first = store
            .append_entry(&id, EntryKind::Narration, "Mara borrowed a lamp.")
            .expect("entry")
            .id;
        store
            .save_chapter(
                &id,
                &Chapter {
                    id: "c1".into(),
                    number: 1,
                    start_entry: first.clone(),
                    end_entry: first,
                    entry_count: 1,
                    summary: "Mara borrows a lamp.".into(),
                    ..Chapter::default()
                },
            )
            .expect("chapter");
    }
    let (code, out, err) =
        run(fabula(tmp.path()).args(["generate", &story, "--action", "do", "lights", "it"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "The lamp was lit.\n");
    assert!(
        err.contains("warning: Nothing was recalled from past chapters")
            && err.contains("maximum context length"),
        "{err}"
    );
    let sent = server.recorded();
    assert!(
        sent[0].body.contains("recall_questions"),
        "recall came first"
    );
    assert!(
        sent.last()
            .expect("narration")
            .body
            .contains("Mara borrows a lamp."),
        "the summary is still told"
    );
}

#[test]
fn branches_and_checkpoints_from_the_shell_and_generate_writes_on_the_branch_shown() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = FakeProvider::start(vec![Reply::stream(
        "text/event-stream",
        &wire::openai(&["The other road was dry."], 40, 5),
    )]);
    let story = setup(tmp.path(), &server.base);
    let id = StoryId::from(story.as_str());
    let first = {
        let store = store(tmp.path());
        let mut settings = store.story_settings(&id).expect("settings");
        settings.track_world = false;
        store.save_story_settings(&id, &settings).expect("save");
        let first = store
            .append_entry(&id, EntryKind::Narration, "The road forked.")
            .expect("e")
            .id;
        store
            .append_entry(&id, EntryKind::Narration, "Mara went left.")
            .expect("e");
        first
    };
    let (code, out, err) = run(fabula(tmp.path()).args([
        "branch",
        "new",
        &story,
        "--from",
        first.as_str(),
        "--name",
        "Right",
    ]));
    assert_eq!(code, 0, "{err}");
    let branch = out.trim().to_owned();
    let (code, out, _) = run(fabula(tmp.path()).args(["branch", "list", &story]));
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("*\t{branch}\tRight\tfrom {first}")),
        "{out}"
    );
    let (code, _, err) =
        run(fabula(tmp.path()).args(["generate", &story, "--action", "do", "goes", "right"]));
    assert_eq!(code, 0, "{err}");
    let texts = |tmp: &std::path::Path| -> Vec<String> {
        let store = store(tmp);
        store
            .entry_rows(&id)
            .expect("rows")
            .iter()
            .map(|r| store.entry(&r.id).expect("entry").content)
            .collect()
    };
    assert_eq!(
        texts(tmp.path()),
        [
            "The road forked.",
            "Mara goes right.",
            "The other road was dry."
        ]
    );
    let (code, _, err) = run(fabula(tmp.path()).args(["branch", "switch", &story, "main"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        texts(tmp.path()),
        ["The road forked.", "Mara went left."],
        "main is as it was"
    );
    let (code, _, err) = run(fabula(tmp.path()).args(["branch", "delete", &story, "main"]));
    assert_ne!(code, 0);
    assert!(err.contains("The main line cannot be deleted."), "{err}");

    let (code, out, err) = run(fabula(tmp.path()).args([
        "checkpoint",
        "new",
        &story,
        first.as_str(),
        "--name",
        "At the fork",
    ]));
    assert_eq!(code, 0, "{err}");
    let checkpoint = out.trim().to_owned();
    let (_, out, _) = run(fabula(tmp.path()).args(["checkpoint", "list", &story]));
    assert!(
        out.starts_with(&format!(
            "{checkpoint}\tAt the fork\tat {first}\tThe road forked."
        )),
        "{out}"
    );
    let (code, _, _) = run(fabula(tmp.path()).args(["checkpoint", "delete", &story, &checkpoint]));
    assert_eq!(code, 0);
    let (_, out, _) = run(fabula(tmp.path()).args(["checkpoint", "list", &story]));
    assert!(out.trim().is_empty(), "{out}");
}

#[test]
fn generate_branch_writes_on_the_branch_named_and_leaves_the_one_shown() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = FakeProvider::start(vec![Reply::stream(
        "text/event-stream",
        &wire::openai(&["The ford was cold."], 40, 5),
    )]);
    let story = setup(tmp.path(), &server.base);
    let id = StoryId::from(story.as_str());
    let store_now = store(tmp.path());
    let mut settings = store_now.story_settings(&id).expect("settings");
    settings.track_world = false;
    store_now.save_story_settings(&id, &settings).expect("save");
    let first = store_now
        .append_entry(&id, EntryKind::Narration, "The road forked.")
        .expect("e")
        .id;
    let ford = store_now
        .create_branch(&id, &first, "Ford")
        .expect("branch");
    store_now.switch_branch(&id, None).expect("main");
    store_now
        .append_entry(&id, EntryKind::Narration, "Mara took the bridge.")
        .expect("e");
    drop(store_now);
    let (code, _, err) = run(fabula(tmp.path()).args([
        "generate", &story, "--branch", "Ford", "--action", "do", "wades", "in",
    ]));
    assert_eq!(code, 0, "{err}");
    let store = store(tmp.path());
    assert_eq!(
        store.current_branch(&id).expect("current"),
        None,
        "the story still shows main"
    );
    let texts = |store: &Store| -> Vec<String> {
        store
            .entry_rows(&id)
            .expect("rows")
            .iter()
            .map(|r| store.entry(&r.id).expect("entry").content)
            .collect()
    };
    assert_eq!(texts(&store), ["The road forked.", "Mara took the bridge."]);
    let body = &server.recorded()[0].body;
    assert!(
        !body.contains("bridge"),
        "the narrator read the ford's lineage: {body}"
    );
    store.switch_branch(&id, Some(&ford.id)).expect("ford");
    let on_ford = texts(&store);
    assert_eq!(on_ford.len(), 3, "{on_ford:?}");
    assert_eq!(on_ford[2], "The ford was cold.");
    let (code, _, err) = run(fabula(tmp.path()).args(["generate", &story, "--branch", "nowhere"]));
    assert_ne!(code, 0);
    assert!(err.contains("The story has no branch “nowhere”."), "{err}");
}
