//! Settings → Providers and Usage through the real UI (egui_kittest) on a real database, against a
//! provider served on 127.0.0.1 in the test.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fake_llm::{FakeProvider, Reply, wire};
use common::{TempData, click, harness, has_label, type_into};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use fabula::app::FabulaApp;
use fabula::domain::Task;
use fabula::keys::{KeyStore, MemoryKeyStore};

fn wait_for_text(h: &mut Harness<'static, FabulaApp>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.query_by_label_contains(text).is_none() {
        assert!(Instant::now() < deadline, "“{text}” never appeared");
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
}

fn local_server(reply_pieces: &[&str]) -> FakeProvider {
    let stream = wire::openai(reply_pieces, 5, 7);
    FakeProvider::start_routed(move |req, _| {
        if req.url.ends_with("/models") {
            Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"smol-135m","object":"model","created":1,"owned_by":"me"}]}"#,
            )
        } else {
            Reply::stream("text/event-stream", &stream)
        }
    })
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
fn add_a_profile_test_it_and_see_the_call_in_usage() {
    let data = TempData::new();
    let server = local_server(&["Hello ", "from the ", "hearth."]);
    let mut h = harness(&data);
    add_local_profile(&mut h, &server.base);
    assert!(
        has_label(&h, "(main)"),
        "the first profile becomes the main one: {:?}",
        h.state().state().status
    );

    click(&mut h, "Test connection");
    wait_for_text(&mut h, "Hello from the hearth.");
    assert!(h.query_by_label_contains("1 model listed").is_some());
    assert!(
        h.query_by_label_contains("1 models").is_none(),
        "one model is singular"
    );
    assert!(h.query_by_label_contains("smol-135m replied").is_some());

    // The profile, main choice and cached models are in the database, not only on screen.
    let store = data.open();
    let profiles = store.list_profiles().expect("profiles");
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].preset, "llamacpp");
    assert_eq!(
        store.main_profile_id().expect("main"),
        Some(profiles[0].id.clone())
    );
    assert_eq!(
        store
            .cached_models(&profiles[0].id)
            .expect("cache")
            .map(|(_, m)| m.len()),
        Some(1)
    );

    click(&mut h, "Usage");
    assert!(has_label(&h, "(no story)"), "a check belongs to no story");
    click(&mut h, "By provider");
    assert!(has_label(&h, "llamacpp"));
    assert!(
        has_label(&h, "5"),
        "prompt tokens from the provider's usage"
    );
    assert!(has_label(&h, "7"));
    assert!(
        h.query_all_by_label_contains("$0.0000").next().is_none(),
        "a local call shows no cost, not a zero price"
    );
    let recent = store.recent_usage(10).expect("usage");
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].task, Task::Check);
    assert_eq!(recent[0].model, "smol-135m");
}

#[test]
fn a_rejected_key_shows_the_providers_message() {
    let data = TempData::new();
    let server = FakeProvider::start(vec![Reply::json(
        401,
        &wire::openai_error("invalid_api_key", "Incorrect API key provided: sk-bad."),
    )]);
    let mut h = harness(&data);
    click(&mut h, "Settings");
    click(&mut h, "Providers");
    click(&mut h, "Add profile");
    type_into(&mut h, "Profile name", " work");
    type_into(&mut h, "Base URL", &format!("{}/v1", server.base));
    type_into(&mut h, "API key", "sk-bad");
    click(&mut h, "Save profile");
    assert!(
        h.query_by_label_contains("sk-bad").is_none(),
        "the key is never shown in full"
    );
    click(&mut h, "Test connection");
    wait_for_text(
        &mut h,
        "The key was rejected by OpenAI (401): Incorrect API key provided",
    );
    // The way on from a rejected key is the key, not another test.
    assert!(h.query_by_label("Check the key").is_some());
    assert!(h.query_by_label("Retry").is_none());
}

/// A test that met a rate limit counts down, then tests again and passes.
#[test]
fn a_rate_limited_test_counts_down_and_tests_again() {
    let data = TempData::new();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stream = wire::openai(&["Back."], 5, 1);
    let server = FakeProvider::start_routed(move |req, _| {
        if req.url.ends_with("/models") {
            return Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"smol-135m","object":"model","created":1,"owned_by":"me"}]}"#,
            );
        }
        match calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            // Every attempt of the first test is limited (the client tries three times).
            0..=2 => Reply::json(
                429,
                &wire::openai_error("rate_limit_exceeded", "Rate limit reached for requests."),
            )
            .header("Retry-After", "1"),
            _ => Reply::stream("text/event-stream", &stream),
        }
    });
    let mut h = harness(&data);
    click(&mut h, "Settings");
    click(&mut h, "Providers");
    click(&mut h, "Add profile");
    type_into(&mut h, "Profile name", " limited");
    type_into(&mut h, "Base URL", &format!("{}/v1", server.base));
    type_into(&mut h, "API key", "sk-fine");
    click(&mut h, "Save profile");
    click(&mut h, "Test connection");
    wait_for_text(&mut h, "Rate limit reached");
    assert!(h.query_all_by_label_contains("Retry in ").next().is_some());
    assert!(h.query_by_label("Check the key").is_none());
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.query_by_label("Retry").is_none() {
        assert!(Instant::now() < deadline, "the wait never ended");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    click(&mut h, "Retry");
    wait_for_text(&mut h, "Back.");
}

#[test]
fn a_task_can_use_its_own_model() {
    let data = TempData::new();
    let server = local_server(&["ok"]);
    let mut h = harness(&data);
    add_local_profile(&mut h, &server.base);
    click(&mut h, "Narrator reasoning");
    click(&mut h, "High");
    let store = data.open();
    assert_eq!(
        store
            .task_assignment(Task::Narrator)
            .expect("read")
            .reasoning,
        Some(fabula::domain::Reasoning::High)
    );
    assert_eq!(
        store.task_assignment(Task::Memory).expect("read").reasoning,
        None
    );
}

#[test]
fn a_number_that_does_not_read_is_refused_with_a_reason_not_dropped() {
    let data = TempData::new();
    let server = local_server(&["ok"]);
    let mut h = harness(&data);
    add_local_profile(&mut h, &server.base);
    type_into(&mut h, "Narrator max tokens", "lots");
    // Leaving a field commits the row: here, to a field that then takes a good number.
    type_into(&mut h, "Narrator temperature", "0.7");
    h.get_by_label("Narrator max tokens").focus();
    h.run_ok();
    assert!(
        h.query_by_label_contains(
            "Max tokens must be a whole number above 0; “lots” was not saved."
        )
        .is_some()
    );
    let saved = data.open().task_assignment(Task::Narrator).expect("read");
    assert_eq!(
        (saved.temperature, saved.max_tokens),
        (None, None),
        "nothing half-saved"
    );
    // Corrected (emptied: the default), the row is saved and the reason goes.
    h.get_by_label("Narrator max tokens").focus();
    h.run_ok();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    h.run_ok();
    h.get_by_label("Narrator temperature").focus();
    h.run_ok();
    let saved = data.open().task_assignment(Task::Narrator).expect("read");
    assert_eq!((saved.temperature, saved.max_tokens), (Some(0.7), None));
    assert!(h.query_by_label_contains("was not saved").is_none());
}

/// The profile's key as the database holds it, and whether it is marked as in the keyring.
fn stored_key(data: &TempData) -> (Option<String>, bool) {
    let conn = rusqlite::Connection::open(data.paths.database()).expect("db");
    conn.query_row(
        "SELECT api_key, key_in_keyring FROM api_profiles",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .expect("one profile")
}

fn keyed_app(data: &TempData, keys: &Arc<MemoryKeyStore>) -> Harness<'static, FabulaApp> {
    let app = FabulaApp::new(
        data.paths.clone(),
        fabula::storage::Store::open(&data.paths.database()),
        fabula::app::Launch::default(),
    )
    .with_key_store(keys.clone());
    common::harness_for(app)
}

fn wait_until(h: &mut Harness<'static, FabulaApp>, what: &str, done: impl Fn(&FabulaApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(h.state()) {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    h.run_ok();
}

const KEY: &str = "sk-local-secret-4242";

/// A local profile saved with `KEY` (in the database, as every key is first).
fn add_keyed_profile(h: &mut Harness<'static, FabulaApp>, base: &str) {
    add_local_profile(h, base);
    h.get_by_label("Edit").click();
    h.run_ok();
    type_into(h, "API key", KEY);
    click(h, "Save profile");
}

/// Flips "Keep API keys in the test keyring", waits for the keys job and checks what it said.
fn toggle_keyring(h: &mut Harness<'static, FabulaApp>, said: &str) {
    click(h, "Keep API keys in the test keyring");
    wait_until(h, said, |app| !app.state().providers.moving_keys);
    assert!(
        h.query_by_label_contains(said).is_some(),
        "{said}: {:?}",
        h.state().state().status
    );
}

#[test]
fn keys_move_to_the_os_keyring_and_back_and_calls_still_send_them() {
    let data = TempData::new();
    let server = local_server(&["Keyed ", "reply."]);
    let keys = Arc::new(MemoryKeyStore::default());
    let mut h = keyed_app(&data, &keys);
    add_keyed_profile(&mut h, &server.base);
    assert_eq!(stored_key(&data), (Some(KEY.to_owned()), false));

    toggle_keyring(&mut h, "1 key is now in the test keyring");
    let id = data.open().list_profiles().expect("profiles")[0].id.clone();
    assert_eq!(
        stored_key(&data),
        (None, true),
        "the database keeps no copy"
    );
    assert_eq!(
        keys.read(&id)
            .expect("keyring")
            .map(|k| k.expose().to_owned()),
        Some(KEY.to_owned())
    );
    assert!(
        h.query_by_label_contains("Key: in the test keyring")
            .is_some()
    );

    // A call reads the key from the keyring on its job and sends it.
    click(&mut h, "Test connection");
    wait_for_text(&mut h, "Keyed reply.");
    let sent = server.recorded();
    assert!(!sent.is_empty());
    for request in &sent {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
    }

    // A locked or missing keyring at call time: a message that says where the key is, no call.
    keys.set_unavailable(true);
    click(&mut h, "Test connection");
    wait_for_text(&mut h, "could not be read from the test keyring");
    assert_eq!(server.recorded().len(), sent.len());
    keys.set_unavailable(false);

    // And back: the key is in the database again and gone from the keyring.
    toggle_keyring(&mut h, "1 key is now in Fabula's database");
    assert_eq!(stored_key(&data), (Some(KEY.to_owned()), false));
    assert_eq!(keys.read(&id).expect("keyring"), None);
}

#[test]
fn without_a_keyring_keys_stay_in_the_database_and_the_choice_says_so() {
    let data = TempData::new();
    let server = local_server(&["Still ", "here."]);
    let keys = Arc::new(MemoryKeyStore::default());
    keys.set_unavailable(true);
    let mut h = keyed_app(&data, &keys);
    add_keyed_profile(&mut h, &server.base);

    toggle_keyring(&mut h, "could not be put in the test keyring");
    assert!(
        !h.state().state().providers.keys_in_keyring,
        "the choice went back"
    );
    assert!(!data.open().keys_in_keyring().expect("setting"));
    assert_eq!(
        stored_key(&data),
        (Some(KEY.to_owned()), false),
        "nothing lost"
    );
    // Calls go on with the key from the database.
    click(&mut h, "Test connection");
    wait_for_text(&mut h, "Still here.");
}

#[test]
fn keys_left_in_the_database_move_to_the_keyring_after_start_up() {
    let data = TempData::new();
    {
        // As the command line leaves it when the keyring was locked: the choice is on, the key
        // is still in the database.
        let store = data.open();
        store
            .save_profile(&fabula::domain::ApiProfile {
                id: "cli-profile".into(),
                name: "From the shell".into(),
                preset: "openai".into(),
                base_url: String::new(),
                api_key: Some(fabula::domain::Secret::new(KEY)),
                default_model: String::new(),
                custom_models: Vec::new(),
                favourite_models: Vec::new(),
                key_in_keyring: false,
                source: fabula::domain::ProfileSource::Stored,
            })
            .expect("profile");
        store.set_keys_in_keyring(true).expect("choice");
    }
    let keys = Arc::new(MemoryKeyStore::default());
    let mut h = keyed_app(&data, &keys);
    h.run_ok();
    wait_until(&mut h, "the move after start-up", |app| {
        !app.state().providers.moving_keys
            && app
                .state()
                .providers
                .profiles
                .iter()
                .all(|p| p.api_key.is_none())
    });
    assert_eq!(stored_key(&data), (None, true));
    assert_eq!(
        keys.read("cli-profile")
            .expect("keyring")
            .map(|k| k.expose().to_owned()),
        Some(KEY.to_owned())
    );
}

/// First launch with no provider: the library says one is needed; a local server answering on
/// its port is offered as a ready profile; a narration asked for without one offers the way to
/// set one up, and that note goes once there is one.
#[test]
fn a_first_launch_finds_a_local_server_and_sets_it_up_in_one_click() {
    let data = TempData::new();
    let server = local_server(&["Ready."]);
    let app = FabulaApp::new(
        data.paths.clone(),
        fabula::storage::Store::open(&data.paths.database()),
        fabula::app::Launch::default(),
    )
    .with_key_store(Arc::new(MemoryKeyStore::default()))
    .with_local_servers(Some(vec![
        // Nothing listens on this one: it is passed over.
        ("ollama".into(), "http://127.0.0.1:9".into()),
        ("llamacpp".into(), format!("{}/v1", server.base)),
    ]));
    let mut h = common::harness_for(app);
    assert!(has_label(&h, "AI writing needs a provider"));

    // Asked to write before anything is set up: the note offers the way.
    click(&mut h, "Create your first story");
    type_into(&mut h, "Title", "First light");
    click(&mut h, "Create story");
    type_into(&mut h, "Your action", "look around");
    click(&mut h, "Generate");
    let deadline = Instant::now() + Duration::from_secs(20);
    while h
        .query_all_by_label_contains("No provider is set up yet")
        .next()
        .is_none()
    {
        assert!(Instant::now() < deadline, "the failure was never said");
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    assert!(has_label(&h, "Set up a provider"));
    click(&mut h, "Library");

    let address = server.base.trim_start_matches("http://").to_owned();
    let offer = format!("Use llama.cpp at {address} (1 model)");
    wait_for_text(&mut h, &offer);
    assert!(h.query_by_label_contains("Use Ollama").is_none());
    click(&mut h, &offer);
    assert!(
        h.query_by_label_contains("llama.cpp is set up with smol-135m")
            .is_some()
    );
    assert!(!has_label(&h, "AI writing needs a provider"));
    assert!(
        h.query_all_by_label_contains("Set up a provider")
            .next()
            .is_none(),
        "the way to set one up goes once there is one"
    );
    let store = data.open();
    let profiles = store.list_profiles().expect("profiles");
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].preset, "llamacpp");
    assert_eq!(profiles[0].default_model, "smol-135m");
    assert_eq!(
        store.main_profile_id().expect("main"),
        Some(profiles[0].id.clone())
    );
}
