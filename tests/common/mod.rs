//! Shared test set-up: a temporary data folder with a real database, and the real app in a kittest harness.
#![allow(dead_code)]

pub mod fake_llm;
pub mod github;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use fabula::app::{FabulaApp, Launch};
use fabula::storage::{DataPaths, Store};

/// Saves the profile "Local" (an OpenAI-compatible server at `base`, model "tiny") straight to
/// the store and makes it the main one.
pub fn local_profile(store: &Store, base: &str) {
    store
        .save_profile(&fabula::domain::ApiProfile {
            id: "local".into(),
            name: "Local".into(),
            preset: "openai-compatible".into(),
            base_url: format!("{base}/v1"),
            api_key: None,
            default_model: "tiny".into(),
            custom_models: Vec::new(),
            favourite_models: Vec::new(),
            key_in_keyring: false,
            source: fabula::domain::ProfileSource::Stored,
        })
        .expect("save profile");
    store.set_main_profile_id("local").expect("main profile");
}

/// A fresh data folder that disappears with the value.
pub struct TempData {
    pub dir: tempfile::TempDir,
    pub paths: DataPaths,
}

impl TempData {
    pub fn new() -> Self {
        // As the binary does at start-up: token counts read their tables from the user's cache.
        fabula::storage::use_tokenizer_cache();
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = DataPaths {
            dir: dir.path().join("data"),
        };
        paths.ensure().expect("data folder");
        Self { dir, paths }
    }

    pub fn open(&self) -> Store {
        Store::open(&self.paths.database()).expect("open store")
    }

    /// A story with just a title, written straight to the database.
    pub fn add_story(&self, title: &str) -> fabula::domain::StoryId {
        self.open()
            .create_story(&fabula::domain::NewStory {
                title: title.into(),
                ..Default::default()
            })
            .expect("create story")
            .id
    }
}

/// The whole app as the window runs it, on the database in `data`.
pub fn harness(data: &TempData) -> Harness<'static, FabulaApp> {
    let app = FabulaApp::new(
        data.paths.clone(),
        Store::open(&data.paths.database()),
        Launch::default(),
    )
    // Tests never touch the machine's keyring.
    .with_key_store(std::sync::Arc::new(fabula::keys::MemoryKeyStore::default()));
    harness_for(app)
}

pub fn harness_for(app: FabulaApp) -> Harness<'static, FabulaApp> {
    let mut harness = Harness::builder()
        .with_size([1000.0, 760.0])
        .with_max_steps(12)
        // As eframe does for the window, before the first frame: a character no bundled font has
        // is looked up among the system's fonts when it is first drawn (scripts/setup.sh installs
        // CJK, Devanagari and emoji ones).
        .with_context_setup(|ctx| {
            ctx.add_font_provider(std::sync::Arc::new(
                egui_system_font_provider::SystemFontProvider::new(),
            ));
        })
        .build_ui_state(
            |ui, app: &mut FabulaApp| {
                app.logic(ui.ctx());
                app.frame_ui(ui);
            },
            app,
        );
    harness.run_ok();
    harness
}

/// Focuses the field named `label` and types `text` into it.
pub fn type_into(harness: &mut Harness<'static, FabulaApp>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.run_ok();
    harness.get_by_label(label).type_text(text);
    harness.run_ok();
}

pub fn click(harness: &mut Harness<'static, FabulaApp>, label: &str) {
    harness.get_by_label(label).click();
    harness.run_ok();
}

pub fn has_label(harness: &Harness<'static, FabulaApp>, label: &str) -> bool {
    harness.query_by_label(label).is_some()
}

/// The real binary on a data folder, with no provider keys from the environment.
pub fn fabula_cmd(data: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fabula"));
    cmd.env("FABULA_DATA_DIR", data).env_remove("RUST_LOG");
    for var in [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Adds the profile "Local": an OpenAI-compatible server at `base` with the model "tiny", and a key
/// when one is given; the first profile is the main one.
pub fn add_local_provider(data: &std::path::Path, base: &str, key: Option<&str>) {
    let base_url = format!("{base}/v1");
    let mut args = vec![
        "provider",
        "add",
        "Local",
        "--preset",
        "openai-compatible",
        "--base-url",
        &base_url,
        "--model",
        "tiny",
    ];
    if let Some(key) = key {
        args.extend(["--api-key", key]);
    }
    let (code, _, err) = run_cmd(fabula_cmd(data).args(args));
    assert_eq!(code, 0, "{err}");
}

/// Exit code, stdout and stderr of a finished command.
pub fn run_cmd(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd.output().expect("run fabula");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Steps the window until library work (a backup, a restore, emptying the Trash …), which runs on
/// jobs, has finished and its result is on screen.
pub fn settle(harness: &mut Harness<'static, FabulaApp>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while harness.state().library_busy() {
        assert!(
            std::time::Instant::now() < deadline,
            "library work never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
        harness.step();
    }
    harness.run_ok();
}
