//! The lore agent on a real database, against a provider on 127.0.0.1 speaking OpenAI's tool
//! calls: it proposes (never writes), is refused entries kept as written, and its proposals are
//! accepted, rejected and undone one by one — in the store and in the window's lorebook panel.
// Test servers start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::TempData;
use common::fake_llm::{FakeProvider, Reply, wire};
use common::local_profile as profile;
use fabula::domain::lore_proposal::ProposalAction;
use fabula::domain::{EntryKind, LoreEntry, LoreId, LoreKind, NewStory, StoryId};
use fabula::jobs::CancelToken;
use fabula::keys::MemoryKeyStore;
use fabula::storage::Store;

fn lore(story: &StoryId, id: &str, name: &str, description: &str) -> LoreEntry {
    LoreEntry {
        id: LoreId::from(id),
        story_id: story.clone(),
        name: name.into(),
        kind: LoreKind::Character,
        description: description.into(),
        keywords: vec![name.to_lowercase()],
        ..LoreEntry::default()
    }
}

/// A story with Mira, "Mira Vale" (the same person), the Old Pier (kept as written) and a
/// wrong entry, and a narration that meets Tobin.
fn story(store: &Store) -> StoryId {
    let story = store
        .create_story(&NewStory {
            title: "Harbour Lights".into(),
            ..NewStory::default()
        })
        .expect("story")
        .id;
    for entry in [
        lore(&story, "mira", "Mira", "A lamplighter."),
        lore(&story, "mira-vale", "Mira Vale", "Keeps the harbour lamps."),
        lore(&story, "pier", "Old Pier", "Rotten planks."),
        lore(&story, "ghost", "The Ghost", "A ghost haunts the pier."),
    ] {
        store.save_lore(&entry).expect("lore");
    }
    store
        .set_lore_kept(&LoreId::from("pier"), true)
        .expect("kept");
    store
        .append_entry(
            &story,
            EntryKind::Narration,
            "Tobin the ferryman tied up at the Old Pier. Mira, now harbour master, waved.",
        )
        .expect("entry");
    story
}

fn calls(calls: &[(&str, &str, &[&str])]) -> Reply {
    Reply::stream("text/event-stream", &wire::openai_tool_calls(calls))
}

fn agent_replies() -> Vec<Reply> {
    vec![
        calls(&[("c1", "list_entries", &["{}"])]),
        calls(&[
            (
                "c2",
                "create_entry",
                &[
                    r#"{"name":"Tobin","kind":"character","description":"The ferryman.","keywords":["tobin"],"aliases":[],"reason":"He appears."}"#,
                ],
            ),
            (
                "c3",
                "update_entry",
                &[
                    r#"{"id":"mira","name":null,"description":"The harbour master.","keywords":null,"aliases":null,"reason":"She was promoted."}"#,
                ],
            ),
            (
                "c4",
                "update_entry",
                &[
                    r#"{"id":"pier","name":null,"description":"New planks.","keywords":null,"aliases":null,"reason":"Repaired."}"#,
                ],
            ),
            (
                "c5",
                "merge_entries",
                &[
                    r#"{"keep_id":"mira","merge_ids":["mira-vale"],"description":"Mira Vale, the harbour master.","reason":"The same person."}"#,
                ],
            ),
            (
                "c6",
                "delete_entry",
                &[r#"{"id":"ghost","reason":"There is no ghost."}"#],
            ),
            (
                "c7",
                "create_entry",
                &[
                    r#"{"name":"Sea","kind":"ocean","description":"","keywords":[],"aliases":[],"reason":""}"#,
                ],
            ),
        ]),
        calls(&[("c8", "finish", &[r#"{"summary":"Four changes proposed."}"#])]),
    ]
}

fn descriptions(store: &Store, story: &StoryId) -> Vec<(String, String)> {
    store
        .lore(story)
        .expect("lore")
        .into_iter()
        .map(|l| (l.name, l.description))
        .collect()
}

#[test]
fn the_agent_proposes_without_writing_and_kept_entries_are_refused_to_it() {
    let data = TempData::new();
    let store = data.open();
    let server = FakeProvider::start(agent_replies());
    profile(&store, &server.base);
    let story = story(&store);
    let before = descriptions(&store, &story);
    let mut progress = Vec::new();
    let run = fabula::writing::review_lore(
        &store,
        &MemoryKeyStore::default(),
        &story,
        None,
        &CancelToken::new(),
        &mut |d, of| progress.push((d, of)),
    )
    .expect("review");
    assert_eq!(run.proposed, 4);
    assert_eq!(run.summary, "Four changes proposed.");
    assert_eq!(progress.last(), Some(&(3, 10)));
    assert_eq!(
        descriptions(&store, &story),
        before,
        "nothing in the lorebook changed"
    );

    let proposals = store.pending_lore_proposals(&story).expect("proposals");
    let actions: Vec<ProposalAction> = proposals.iter().map(|p| p.action).collect();
    assert_eq!(
        actions,
        [
            ProposalAction::Create,
            ProposalAction::Update,
            ProposalAction::Merge,
            ProposalAction::Delete
        ]
    );
    let lore = store.lore(&story).expect("lore");
    assert_eq!(proposals[1].title(&lore), "Update: Mira");
    let diff = proposals[1].diff(&lore);
    assert_eq!(diff.len(), 1);
    assert_eq!(
        (
            diff[0].field,
            diff[0].before.as_str(),
            diff[0].after.as_str()
        ),
        ("Description", "A lamplighter.", "The harbour master.")
    );
    assert_eq!(proposals[2].title(&lore), "Merge: Mira, Mira Vale");

    // The model was told why its changes to the kept entry and its odd kind were refused.
    let third: serde_json::Value = serde_json::from_str(&server.recorded()[2].body).expect("json");
    let results: Vec<String> = third["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        results[0].contains("Mira Vale (character)"),
        "the list: {}",
        results[0]
    );
    assert!(
        results[0].contains("Old Pier (character) [keep as written]"),
        "{}",
        results[0]
    );
    assert_eq!(
        results[3],
        "Error: “Old Pier” is kept as written by the writer; leave it as it is."
    );
    assert!(
        results[6].starts_with("Error: “ocean” is not a kind"),
        "{}",
        results[6]
    );
}

#[test]
fn proposals_are_accepted_rejected_and_undone_in_the_store() {
    let data = TempData::new();
    let store = data.open();
    let server = FakeProvider::start(agent_replies());
    profile(&store, &server.base);
    let story = story(&store);
    fabula::writing::review_lore(
        &store,
        &MemoryKeyStore::default(),
        &story,
        None,
        &CancelToken::new(),
        &mut |_, _| {},
    )
    .expect("review");
    let p = store.pending_lore_proposals(&story).expect("proposals");
    let names = |store: &Store| -> Vec<String> {
        let mut n: Vec<String> = store
            .lore(&story)
            .expect("lore")
            .into_iter()
            .map(|l| l.name)
            .collect();
        n.sort();
        n
    };

    let created = store
        .accept_lore_proposal(p[0].id)
        .expect("accept")
        .expect("entry");
    assert_eq!(created.name, "Tobin");
    assert!(names(&store).contains(&"Tobin".to_owned()));
    store.undecide_lore_proposal(p[0].id).expect("undo");
    assert!(
        !names(&store).contains(&"Tobin".to_owned()),
        "Undo takes the new entry back"
    );
    assert_eq!(
        store.pending_lore_proposals(&story).expect("p").len(),
        4,
        "and it waits again"
    );

    store.accept_lore_proposal(p[2].id).expect("merge");
    assert_eq!(names(&store), ["Mira", "Old Pier", "The Ghost"]);
    let mira = store
        .lore(&story)
        .expect("lore")
        .into_iter()
        .find(|l| l.name == "Mira")
        .expect("mira");
    assert_eq!(mira.description, "Mira Vale, the harbour master.");
    assert!(
        mira.aliases.contains(&"Mira Vale".to_owned()),
        "{:?}",
        mira.aliases
    );
    store.undecide_lore_proposal(p[2].id).expect("undo merge");
    assert_eq!(
        names(&store),
        ["Mira", "Mira Vale", "Old Pier", "The Ghost"]
    );
    assert_eq!(
        descriptions(&store, &story)
            .iter()
            .find(|(n, _)| n == "Mira")
            .map(|(_, d)| d.as_str()),
        Some("A lamplighter.")
    );

    store.reject_lore_proposal(p[3].id).expect("reject");
    assert!(names(&store).contains(&"The Ghost".to_owned()));
    assert_eq!(store.pending_lore_proposals(&story).expect("p").len(), 3);

    // Marked "keep as written" after the proposal was made: accepting it is refused.
    store
        .set_lore_kept(&LoreId::from("mira"), true)
        .expect("keep");
    let err = store.accept_lore_proposal(p[1].id).expect_err("kept");
    assert_eq!(
        err.to_string(),
        "“Mira” is kept as written; the change was not made."
    );
    assert_eq!(
        descriptions(&store, &story)
            .iter()
            .find(|(n, _)| n == "Mira")
            .map(|(_, d)| d.as_str()),
        Some("A lamplighter.")
    );
}

#[test]
fn the_lorebook_panel_shows_the_diff_and_accepts_rejects_and_undoes() {
    use common::{click, harness};
    use egui::{Key, Modifiers};
    use egui_kittest::kittest::Queryable;
    let data = TempData::new();
    let server = FakeProvider::start(agent_replies());
    let story = {
        let store = data.open();
        profile(&store, &server.base);
        story(&store)
    };
    let mut h = harness(&data);
    click(&mut h, "Harbour Lights");
    click(&mut h, "Lorebook");
    click(&mut h, "Review with the lore agent");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h.state().is_reviewing_lore() {
        assert!(
            std::time::Instant::now() < deadline,
            "the lore agent never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
        h.step();
    }
    h.run_ok();
    assert!(
        h.query_by_label_contains("The lore agent proposes 4 changes")
            .is_some()
    );
    assert!(h.query_by_label("Proposed changes (4)").is_some());
    assert!(h.query_by_label("Update: Mira").is_some());
    assert!(
        h.query_by_label("The harbour master.").is_some(),
        "the new text of the diff"
    );
    assert!(
        h.query_all_by_label("A lamplighter.").count() >= 2,
        "the entry's text, and the old side of the diffs"
    );
    let description = |data: &TempData| {
        data.open()
            .lore(&story)
            .expect("lore")
            .into_iter()
            .find(|l| l.name == "Mira")
            .map(|l| l.description)
    };
    // The second proposal's Accept (they are listed in order).
    let mut accepts: Vec<_> = h.get_all_by_label("Accept").collect();
    accepts.sort_by(|a, b| a.rect().min.y.total_cmp(&b.rect().min.y));
    accepts[1].click();
    h.run_ok();
    assert_eq!(description(&data).as_deref(), Some("The harbour master."));
    assert!(h.query_by_label("Proposed changes (3)").is_some());
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert_eq!(
        description(&data).as_deref(),
        Some("A lamplighter."),
        "Undo puts it back"
    );
    assert!(h.query_by_label("Proposed changes (4)").is_some());

    click(&mut h, "Accept all");
    h.run_ok();
    assert!(h.query_by_label_contains("Proposed changes").is_none());
    let names: Vec<String> = data
        .open()
        .lore(&story)
        .expect("lore")
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert!(
        names.contains(&"Tobin".to_owned()) && !names.contains(&"The Ghost".to_owned()),
        "{names:?}"
    );
}
