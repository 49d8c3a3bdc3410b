//! The Memory task on a real database against a provider on 127.0.0.1 speaking OpenAI's SSE:
//! a chapter closes only once the entries outside the recent buffer hold the threshold, at the
//! end the model picks, with its title, people, places, threads, tone and story-time span; its
//! entries then leave the narrator's history. A failure closes nothing and the next check tries
//! again; "End chapter here" and "Re-summarize" run the same steps by hand.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::TempData;
use common::fake_llm::{FakeProvider, Reply, wire};
use common::local_profile as profile;
use fabula::domain::chapter::MemorySettings;
use fabula::domain::world_change::Applied;
use fabula::domain::{EntryId, EntryKind, NewStory, StoryId, StoryTime};
use fabula::jobs::CancelToken;
use fabula::keys::MemoryKeyStore;
use fabula::storage::Store;
use fabula::writing;

/// A story of `n` entries of about 100 tokens each ("Part 0 …", "Part 1 …"), actions and
/// narrations taking turns; a chapter is due past 1,000 tokens outside a buffer of 4.
fn long_story(store: &Store, n: usize) -> (StoryId, Vec<EntryId>) {
    let story = store
        .create_story(&NewStory {
            title: "The Long Road".into(),
            ..NewStory::default()
        })
        .expect("story")
        .id;
    let ids = (0..n)
        .map(|i| {
            let kind = if i % 2 == 0 {
                EntryKind::UserAction
            } else {
                EntryKind::Narration
            };
            let text = format!(
                "Part {i}. {}",
                "The road went on through the hills. ".repeat(11)
            );
            store.append_entry(&story, kind, &text).expect("entry").id
        })
        .collect();
    store
        .save_memory_settings(
            &story,
            &MemorySettings {
                token_threshold: 1000,
                recent_buffer: 4,
                ..MemorySettings::default()
            },
        )
        .expect("settings");
    (story, ids)
}

fn sse(text: &str) -> Reply {
    Reply::stream("text/event-stream", &wire::openai(&[text], 300, 40))
}

const BREAK: &str = r#"{"end_index":6,"title":"The Hill Road","keywords":["road"," hills "],"characters":["Ada"],"places":["The Hills"],"plot_threads":["Where does the road end?"],"tone":"weary"}"#;
const SUMMARY: &str = "Ada walked the hill road for six days and found it had no end.";

fn check(
    store: &Store,
    story: &StoryId,
) -> Result<Option<fabula::domain::chapter::Chapter>, writing::WritingError> {
    writing::chapter_check(
        store,
        &MemoryKeyStore::default(),
        story,
        &CancelToken::new(),
    )
}

fn history(store: &Store, story: &StoryId) -> Vec<String> {
    store
        .history_within(story, None, 1_000_000)
        .expect("history")
        .into_iter()
        .map(|h| h.text.split('.').next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn no_chapter_is_asked_for_below_the_threshold_or_inside_the_buffer() {
    let data = TempData::new();
    let store = data.open();
    let server = FakeProvider::start(vec![sse(BREAK), sse(SUMMARY)]);
    profile(&store, &server.base);
    // 12 entries: 8 outside the buffer hold about 800 tokens, under the threshold.
    let (story, _) = long_story(&store, 12);
    assert!(check(&store, &story).expect("check").is_none());
    assert!(server.recorded().is_empty(), "nothing was asked");
    // Auto-summarize off: no chapter whatever the length.
    for _ in 0..10 {
        store
            .append_entry(&story, EntryKind::Narration, &"More road. ".repeat(40))
            .expect("entry");
    }
    let mut settings = store.memory_settings(&story).expect("settings");
    settings.auto_summarize = false;
    store.save_memory_settings(&story, &settings).expect("save");
    assert!(check(&store, &story).expect("check").is_none());
    assert!(server.recorded().is_empty());
}

#[test]
fn a_chapter_closes_at_the_chosen_end_with_its_summary_and_span() {
    let data = TempData::new();
    let store = data.open();
    let server = FakeProvider::start(vec![sse(BREAK), sse(SUMMARY)]);
    profile(&store, &server.base);
    let (story, ids) = long_story(&store, 20);
    // The clock moved with entry 3 and again with entry 5 (the chapter's last entry).
    let tick = |entry: &EntryId, from: i64, to: i64| {
        store
            .record_world_changes(
                &story,
                entry,
                &Applied {
                    rows: Vec::new(),
                    time: Some((StoryTime::from_minutes(from), StoryTime::from_minutes(to))),
                    summary: "Time passed.".into(),
                },
            )
            .expect("world change");
    };
    tick(&ids[3], 0, 60);
    tick(&ids[5], 60, 24 * 60 + 90);

    let chapter = check(&store, &story)
        .expect("check")
        .expect("a chapter closed");
    assert_eq!(chapter.number, 1);
    assert_eq!(chapter.title.as_deref(), Some("The Hill Road"));
    assert_eq!(chapter.start_entry, ids[0]);
    assert_eq!(chapter.end_entry, ids[5], "end_index 6 is the sixth entry");
    assert_eq!(chapter.entry_count, 6);
    assert_eq!(chapter.summary, SUMMARY);
    assert_eq!(chapter.keywords, ["road", "hills"], "trimmed");
    assert_eq!(chapter.places, ["The Hills"]);
    assert_eq!(chapter.plot_threads, ["Where does the road end?"]);
    assert_eq!(chapter.tone.as_deref(), Some("weary"));
    let end: serde_json::Value =
        serde_json::from_str(chapter.end_time.as_deref().expect("end time")).expect("json");
    assert_eq!(
        (end["days"].as_i64(), end["hours"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        store.chapters(&story).expect("chapters"),
        [chapter.clone()].map(|c| fabula::domain::chapter::Chapter {
            prompt_tokens: store.chapters(&story).expect("again")[0].prompt_tokens,
            ..c
        })
    );

    let sent = server.recorded();
    assert_eq!(sent.len(), 2, "the end, then the summary");
    let ask: serde_json::Value = serde_json::from_str(&sent[0].body).expect("body");
    assert_eq!(ask["response_format"]["type"], "json_schema");
    let entries = ask["messages"][1]["content"]
        .as_str()
        .expect("user message");
    assert!(entries.contains("[1] (action) Part 0."), "{entries}");
    assert!(
        !entries.contains("Part 16."),
        "the recent buffer is never offered"
    );
    let summarised: serde_json::Value = serde_json::from_str(&sent[1].body).expect("body");
    let text = summarised["messages"][1]["content"].as_str().expect("user");
    assert!(
        text.contains("Part 5.") && !text.contains("Part 6."),
        "{text}"
    );

    // The narrator now reads the summary instead of entries 0–5.
    let left = history(&store, &story);
    assert_eq!(left.first().map(String::as_str), Some("Part 6"));
    assert_eq!(left.len(), 14);
    // The usage ledger and the inspector show both calls, as the Memory task's.
    let logged = store
        .recent_generations(Some(&story), 10)
        .expect("inspector");
    assert_eq!(logged.iter().filter(|g| g.task == "memory").count(), 2);
}

#[test]
fn a_failure_closes_nothing_and_the_next_check_tries_again() {
    let data = TempData::new();
    let store = data.open();
    let server = FakeProvider::start(vec![
        Reply::json(
            401,
            &wire::openai_error("invalid_api_key", "Incorrect API key provided: sk-wr***ng."),
        ),
        sse(
            r#"{"end_index":99,"title":"","keywords":[],"characters":[],"places":[],"plot_threads":[],"tone":""}"#,
        ),
        sse(SUMMARY),
    ]);
    profile(&store, &server.base);
    let (story, ids) = long_story(&store, 20);
    let err = check(&store, &story).expect_err("the provider failed");
    assert!(
        err.to_string().contains("Incorrect API key provided"),
        "{err}"
    );
    assert!(store.chapters(&story).expect("chapters").is_empty());
    assert_eq!(
        history(&store, &story).len(),
        20,
        "nothing left the history"
    );

    // An end the model miscounted takes every entry read; an empty title is no title.
    let chapter = check(&store, &story).expect("retry").expect("closed");
    assert_eq!(chapter.start_entry, ids[0]);
    assert!(
        chapter.entry_count > 6 && chapter.entry_count < 16,
        "{}",
        chapter.entry_count
    );
    assert_eq!(chapter.title, None);
    assert_eq!(chapter.heading(), "Chapter 1");
}

#[test]
fn end_chapter_here_and_resummarize_run_by_hand() {
    let data = TempData::new();
    let store = data.open();
    let server = FakeProvider::start(vec![
        sse(BREAK),
        sse(SUMMARY),
        sse(BREAK),
        sse("Second part, summarised."),
        sse("A better summary of the first part."),
    ]);
    profile(&store, &server.base);
    let (story, ids) = long_story(&store, 10);
    let keys = MemoryKeyStore::default();
    let cancel = CancelToken::new();
    // Under the threshold, by hand: up to and including entry 2, whatever end the model names.
    let first = writing::end_chapter_at(&store, &keys, &story, &ids[2], &cancel)
        .expect("end")
        .expect("closed");
    assert_eq!(
        (first.start_entry.clone(), first.end_entry.clone()),
        (ids[0].clone(), ids[2].clone())
    );
    assert_eq!(first.entry_count, 3);
    let asked = &server.recorded()[0].body;
    assert!(asked.contains("give 3 as end_index"), "{asked}");

    // An entry a chapter holds already is refused, naming the chapter; nothing is asked.
    let err = writing::end_chapter_at(&store, &keys, &story, &ids[1], &cancel)
        .expect_err("inside chapter 1");
    assert_eq!(
        err.to_string(),
        "That entry is already in Chapter 1: The Hill Road."
    );
    assert_eq!(server.recorded().len(), 2);

    let second = writing::end_chapter_at(&store, &keys, &story, &ids[7], &cancel)
        .expect("end")
        .expect("closed");
    assert_eq!(second.number, 2);
    assert_eq!(second.start_entry, ids[3]);
    assert_eq!(second.entry_count, 5);
    assert_eq!(history(&store, &story), ["Part 8", "Part 9"]);

    let again = writing::resummarize(&store, &keys, &story, &first.id, &cancel)
        .expect("resummarize")
        .expect("done");
    assert_eq!(again.summary, "A better summary of the first part.");
    assert_eq!(
        again.title.as_deref(),
        Some("The Hill Road"),
        "the title is kept"
    );
    let body = &server.recorded()[4].body;
    assert!(
        body.contains("Part 2.") && !body.contains("Part 3."),
        "its own entries only"
    );
    let stored = store.chapters(&story).expect("chapters");
    assert_eq!(stored[0].summary, "A better summary of the first part.");
    assert_eq!(stored.len(), 2);
}

#[test]
fn end_chapter_here_in_the_window_draws_a_divider_and_fills_the_memory_panel() {
    use common::{click, harness};
    use egui_kittest::kittest::Queryable;
    let data = TempData::new();
    let server = FakeProvider::start(vec![
        sse(BREAK),
        sse(SUMMARY),
        // The lore agent reviews the closed chapter and finds nothing to change.
        Reply::stream(
            "text/event-stream",
            &wire::openai_tool_calls(&[("c1", "finish", &[r#"{"summary":"Nothing to change."}"#])]),
        ),
    ]);
    let ids = {
        let store = data.open();
        profile(&store, &server.base);
        long_story(&store, 6).1
    };
    let mut h = harness(&data);
    click(&mut h, "The Long Road");
    assert!(h.query_by_label("Chapter 1: The Hill Road").is_none());
    // Each entry has its own "More" menu, in its header above its text: entry 2's closes 0–2.
    let text_top = h.get_by_label_contains("Part 2.").rect().min.y;
    h.get_all_by_label("More")
        .filter(|m| m.rect().min.y < text_top)
        .max_by(|a, b| a.rect().min.y.total_cmp(&b.rect().min.y))
        .expect("entry 2's menu")
        .click();
    h.run_ok();
    click(&mut h, "End chapter here");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h.state().is_closing_chapter() || h.state().is_reviewing_lore() {
        assert!(
            std::time::Instant::now() < deadline,
            "the Memory task never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
        h.step();
    }
    h.run_ok();
    // The divider sits above the story's first entry: go to the top.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Home);
    h.run_ok();
    let chapters = data
        .open()
        .chapters(&StoryId::from(ids_story(&data).as_str()))
        .expect("chapters");
    assert_eq!(chapters.len(), 1);
    assert_eq!(chapters[0].end_entry, ids[2]);
    assert!(
        h.query_by_label("Chapter 1: The Hill Road").is_some(),
        "the divider above the chapter's first entry"
    );
    assert!(
        h.query_by_label_contains("Chapter 1: The Hill Road closed")
            .is_some(),
        "the status says what happened"
    );
    click(&mut h, "Memory");
    assert!(h.query_by_label(SUMMARY).is_some());
    let sent = server.recorded();
    assert_eq!(sent.len(), 3, "the end, the summary, then the lore agent");
    assert!(sent[2].body.contains("list_entries") && sent[2].body.contains(SUMMARY));
}

fn ids_story(data: &TempData) -> String {
    data.open().list_stories().expect("stories")[0]
        .story
        .id
        .0
        .clone()
}

/// A story of 12 entries whose first 8 are two chapters (the lamp in the first, the ferry in the
/// second), with recall on in `mode`.
fn remembered_story(store: &Store, mode: fabula::domain::chapter::RecallMode) -> StoryId {
    use fabula::domain::chapter::Chapter;
    let story = store
        .create_story(&NewStory {
            title: "The Keeper".into(),
            ..NewStory::default()
        })
        .expect("story")
        .id;
    let texts = [
        "Ada promised Tobin she would bring the brass lamp back by winter.",
        "Tobin laughed and gave her the lamp.",
        "The lamp lit the cliff path.",
        "Ada slept in the lamp room.",
        "The ferry left without its ferryman.",
        "Ada found the ferryman's coat on the pier.",
        "The coat smelled of tar.",
        "The ferry drifted back at dawn.",
        "Winter came to the island.",
        "Ada stood at Tobin's door.",
        "Tobin asked where his lamp was.",
        "Ada reached into her bag.",
    ];
    let ids: Vec<EntryId> = texts
        .iter()
        .map(|t| {
            store
                .append_entry(&story, EntryKind::Narration, t)
                .expect("entry")
                .id
        })
        .collect();
    for (n, (first, last, title, summary)) in [
        (0, 3, "The Lamp", "Ada borrows a lamp from Tobin."),
        (
            4,
            7,
            "The Ferry",
            "The ferryman vanishes; his coat is found.",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        store
            .save_chapter(
                &story,
                &Chapter {
                    id: format!("c{n}"),
                    number: i64::try_from(n).expect("n") + 1,
                    title: Some(title.into()),
                    start_entry: ids[first].clone(),
                    end_entry: ids[last].clone(),
                    entry_count: 4,
                    summary: summary.into(),
                    keywords: vec!["lamp".into()],
                    ..Chapter::default()
                },
            )
            .expect("chapter");
    }
    store
        .save_memory_settings(
            &story,
            &MemorySettings {
                recall_mode: mode,
                chapters_per_recall: 2,
                ..MemorySettings::default()
            },
        )
        .expect("settings");
    story
}

#[test]
fn recall_by_questions_answers_each_from_its_chapter_and_tells_the_narrator() {
    use fabula::domain::Target;
    use fabula::domain::chapter::RecallMode;
    let data = TempData::new();
    let store = data.open();
    let server = FakeProvider::start(vec![
        sse(
            r#"{"questions":[{"chapter":1,"question":"What did Ada promise Tobin?"},{"chapter":9,"question":"Who is the ninth?"},{"chapter":2,"question":"What colour was the coat?"}]}"#,
        ),
        sse("She promised to bring the brass lamp back by winter."),
        sse("Not told."),
    ]);
    profile(&store, &server.base);
    let story = remembered_story(&store, RecallMode::Questions);
    let mut progress = Vec::new();
    let recalled = writing::recall(
        &store,
        &MemoryKeyStore::default(),
        &story,
        &Target::Next,
        &CancelToken::new(),
        &mut |done, of| progress.push((done, of)),
    )
    .expect("recall")
    .expect("something recalled");
    assert_eq!(
        recalled.text,
        "Q (Chapter 1: The Lamp): What did Ada promise Tobin?\nA: She promised to bring the brass lamp back by winter."
    );
    // The one naming no chapter is dropped; at most two are asked (the chapters per recall).
    assert_eq!(progress, [(0, 3), (1, 3), (2, 3), (3, 3)]);
    let sent = server.recorded();
    assert_eq!(
        sent.len(),
        3,
        "the questions, then one answer per chapter that exists"
    );
    assert!(
        sent[0].body.contains("Ada borrows a lamp from Tobin."),
        "the summaries are shown"
    );
    assert!(
        sent[0].body.contains("Tobin asked where his lamp was."),
        "and the newest text"
    );
    assert!(
        sent[1]
            .body
            .contains("Ada promised Tobin she would bring the brass lamp back")
            && !sent[1].body.contains("ferryman"),
        "the answer is read from its own chapter's text: {}",
        sent[1].body
    );
    assert!(sent[2].body.contains("coat on the pier"));

    // The narrator is told it, inside the memory part of the budget.
    let lorebook = writing::Lorebook::load(&store, &story).expect("lore");
    let plain = writing::prepare(
        &store,
        &MemoryKeyStore::default(),
        &story,
        Target::Next,
        &lorebook,
        &CancelToken::new(),
    )
    .expect("prepare");
    let told = writing::prepare_recalled(
        &store,
        &MemoryKeyStore::default(),
        &story,
        Target::Next,
        &lorebook,
        &CancelToken::new(),
        Some(&recalled.text),
    )
    .expect("prepare");
    assert!(
        told.prompt
            .user
            .contains("[RECALLED FROM EARLIER CHAPTERS]\nQ (Chapter 1: The Lamp)")
    );
    assert!(!plain.prompt.user.contains("[RECALLED"));
    assert!(told.prompt.budget.memory > plain.prompt.budget.memory);
    let logged = store
        .recent_generations(Some(&story), 10)
        .expect("inspector");
    assert_eq!(logged.iter().filter(|g| g.task == "memory").count(), 3);
}

#[test]
fn the_recall_agent_lists_searches_reads_and_finishes_over_tool_calls() {
    use fabula::domain::Target;
    use fabula::domain::chapter::RecallMode;
    let data = TempData::new();
    let store = data.open();
    let calls = |calls: &[(&str, &str, &[&str])]| {
        Reply::stream("text/event-stream", &wire::openai_tool_calls(calls))
    };
    let server = FakeProvider::start(vec![
        calls(&[
            ("call_1", "list_chapters", &["{}"]),
            ("call_2", "search_entries", &["{\"query\":\"brass lamp\"}"]),
        ]),
        calls(&[
            ("call_3", "read_chapter", &["{\"number\":1}"]),
            ("call_4", "read_chapter", &["{\"number\":7}"]),
        ]),
        calls(&[(
            "call_5",
            "finish",
            &["{\"context\":\"Ada promised to return Tobin's brass lamp by winter (Chapter 1).\"}"],
        )]),
    ]);
    profile(&store, &server.base);
    let story = remembered_story(&store, RecallMode::Agent);
    let mut progress = Vec::new();
    let recalled = writing::recall(
        &store,
        &MemoryKeyStore::default(),
        &story,
        &Target::Next,
        &CancelToken::new(),
        &mut |done, of| progress.push((done, of)),
    )
    .expect("recall")
    .expect("found");
    assert_eq!(
        recalled.text,
        "Ada promised to return Tobin's brass lamp by winter (Chapter 1)."
    );
    assert_eq!(recalled.calls, 3);
    assert_eq!(progress, [(0, 8), (1, 8), (2, 8), (3, 8)]);
    let sent = server.recorded();
    let tool_results = |n: usize| -> Vec<String> {
        let body: serde_json::Value = serde_json::from_str(&sent[n].body).expect("json");
        body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter(|m| m["role"] == "tool")
            .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let first: serde_json::Value = serde_json::from_str(&sent[0].body).expect("json");
    let names: Vec<&str> = first["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["list_chapters", "read_chapter", "search_entries", "finish"]
    );
    let after_one = tool_results(1);
    assert!(
        after_one[0].starts_with("Chapter 1: The Lamp — keywords: lamp"),
        "{after_one:?}"
    );
    assert!(after_one[0].contains("Chapter 2: The Ferry"));
    assert!(
        after_one[1].contains("Ada promised Tobin she would bring the brass lamp"),
        "{after_one:?}"
    );
    let after_two = tool_results(2);
    assert!(
        after_two[2].starts_with("Chapter 1: The Lamp (part 1 of 1):\nAda promised"),
        "{after_two:?}"
    );
    assert_eq!(
        after_two[3],
        "Error: There is no chapter 7; they are numbered 1 to 2."
    );
}
