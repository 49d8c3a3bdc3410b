//! The story's side panels through the real UI: lorebook entries and which fired, story settings,
//! the prompt inspector, the template editor's placeholder check, and edit-and-regenerate.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use common::fake_llm::{FakeProvider, Reply, wire};
use common::{TempData, click, harness, type_into};
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use fabula::app::FabulaApp;
use fabula::state::WritingAction;

fn wait_until_idle(h: &mut Harness<'static, FabulaApp>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.step();
        if !h.state().is_generating() {
            break;
        }
        assert!(Instant::now() < deadline, "still generating");
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_ok();
}

fn setup(data: &TempData, base: &str) {
    common::local_profile(&data.open(), base);
}

fn generate(h: &mut Harness<'static, FabulaApp>, action: &str) {
    type_into(h, "Your action", action);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    wait_until_idle(h);
}

#[test]
fn lore_settings_inspector_and_edit_and_regenerate() {
    let data = TempData::new();
    let server = FakeProvider::start(vec![Reply::stream(
        "text/event-stream",
        &wire::openai(&["The giant nods."], 20, 4),
    )]);
    setup(&data, &server.base);
    let story = data.add_story("Green Giants");
    let mut h = harness(&data);
    click(&mut h, "Green Giants");

    // Settings first: no suggestion or world calls, and a tone the prompt must carry.
    click(&mut h, "Story settings");
    type_into(&mut h, "Tone", "Gentle");
    h.get_by_label("Offer action choices after each narration")
        .click();
    h.get_by_label("Keep the world up to date after each narration")
        .click();
    h.run_ok();
    click(&mut h, "Save settings");
    let settings = data.open().story_settings(&story).expect("settings");
    assert_eq!(settings.tone, "Gentle");
    assert!(!settings.suggestions);
    assert!(!settings.track_world);

    click(&mut h, "Lorebook");
    click(&mut h, "New entry");
    type_into(&mut h, "Name", "Hulk");
    type_into(&mut h, "Description", "A green giant of the marsh.");
    click(&mut h, "Save entry");
    assert!(h.query_by_label("Hulk").is_some());
    assert_eq!(data.open().lore(&story).expect("lore").len(), 1);

    generate(&mut h, "greet the madhulkman");
    assert!(
        h.query_by_label_contains("In: Hulk").is_none(),
        "no whole word, no lore"
    );
    generate(&mut h, "greet the Hulk");
    assert!(
        h.query_by_label_contains("In: Hulk, “Hulk” in your input")
            .is_some(),
        "the panel says what fired and why"
    );
    let bodies: Vec<String> = server.recorded().into_iter().map(|r| r.body).collect();
    assert_eq!(
        bodies.len(),
        2,
        "suggestions and the world update are off: only narrator calls"
    );
    assert!(!bodies[0].contains("green giant") && bodies[1].contains("green giant"));
    assert!(bodies[1].contains("Tone: Gentle"));

    // Edit the last action and regenerate its narration in one step.
    click(&mut h, "Lorebook");
    h.get_all_by_label("Edit")
        .nth(2)
        .expect("the last action's Edit")
        .click();
    h.run_ok();
    h.get_by_label("Editing action").type_text(" Loudly.");
    h.run_ok();
    click(&mut h, "Save and regenerate");
    wait_until_idle(&mut h);
    assert!(
        h.query_by_label_contains("I greet the Hulk. Loudly.")
            .is_some()
    );
    assert!(
        h.query_by_label("2/2").is_some(),
        "a new alternative of the narration"
    );

    click(&mut h, "Prompt inspector");
    let first = h
        .get_all_by_label_contains("· tiny · narrator · ok")
        .next()
        .expect("a generation listed");
    first.click();
    h.run_ok();
    assert!(h.query_by_label("Request body").is_some());

    // A template with an unknown placeholder is refused in the editor.
    click(&mut h, "Settings");
    click(&mut h, "Prompts");
    type_into(&mut h, "Adventure narrator template", "{{mood}}");
    assert!(
        h.query_by_label_contains("{{mood}} is not a placeholder this template knows")
            .is_some()
    );
    assert!(
        h.get_by_label("Save templates")
            .accesskit_node()
            .is_disabled(),
        "cannot save a broken template"
    );
}

#[test]
fn prompt_packs_export_and_import_and_a_bad_pack_changes_nothing() {
    use fabula::app::Launch;
    use fabula::domain::PromptPack;
    use fabula::state::{Action, StatusKind};
    use fabula::storage::Store;

    let data = TempData::new();
    let mut app = FabulaApp::new(
        data.paths.clone(),
        Store::open(&data.paths.database()),
        Launch::default(),
    );
    let file = data.dir.path().join("pack.json");
    app.apply(Action::Writing(WritingAction::ExportPromptPack(
        file.clone(),
    )));
    let exported: PromptPack =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("json");
    assert_eq!(exported, PromptPack::default());

    let mut broken = exported.clone();
    broken.creative.push_str("\n{{weather}}");
    std::fs::write(&file, serde_json::to_string(&broken).expect("json")).expect("write");
    app.apply(Action::Writing(WritingAction::ImportPromptPack(
        file.clone(),
    )));
    let status = app.state().status.clone().expect("a message");
    assert_eq!(status.kind, StatusKind::Error);
    assert!(status.text.contains("{{weather}}"), "{}", status.text);
    assert_eq!(
        data.open().prompt_pack().expect("pack"),
        PromptPack::default()
    );

    std::fs::write(&file, "not json at all").expect("write");
    app.apply(Action::Writing(WritingAction::ImportPromptPack(
        file.clone(),
    )));
    assert!(
        app.state()
            .status
            .as_ref()
            .expect("msg")
            .text
            .contains("is not a prompt pack")
    );

    let mut good = exported;
    good.adventure = "Narrate {{title}} tersely.".into();
    std::fs::write(&file, serde_json::to_string(&good).expect("json")).expect("write");
    app.apply(Action::Writing(WritingAction::ImportPromptPack(file)));
    assert_eq!(
        data.open().prompt_pack().expect("pack").adventure,
        "Narrate {{title}} tersely."
    );
}

/// Lore added from the command line while the window is open is on screen once the window has
/// the focus again, without opening the story anew.
#[test]
fn lore_added_from_outside_appears_when_the_window_comes_back() {
    let data = TempData::new();
    let story = data.add_story("Harbour lights");
    let mut h = harness(&data);
    click(&mut h, "Harbour lights");
    click(&mut h, "Lorebook");
    h.input_mut().focused = false;
    h.run_ok();
    // What `fabula lore add` does: its own connection, its own commit.
    data.open()
        .save_lore(&fabula::domain::LoreEntry {
            id: fabula::domain::LoreId::new(),
            story_id: story,
            name: "Old Pier".into(),
            description: "Rotten planks over black water.".into(),
            ..fabula::domain::LoreEntry::default()
        })
        .expect("lore");
    h.input_mut().focused = true;
    h.run_ok();
    assert!(
        h.query_all_by_label_contains("Old Pier").next().is_some(),
        "the new entry is listed"
    );
}
