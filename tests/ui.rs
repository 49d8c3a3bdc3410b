//! The real UI driven through egui_kittest on a real database: create, write, edit, delete, undo, reopen.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{TempData, click, harness, has_label, settle, type_into};
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;

#[test]
fn a_story_written_through_the_ui_survives_a_restart() {
    let data = TempData::new();
    let mut h = harness(&data);

    assert!(
        has_label(&h, "Your library is empty"),
        "first launch shows the empty library"
    );
    click(&mut h, "Create your first story");
    type_into(&mut h, "Title", "The Lighthouse");
    click(&mut h, "Create story");
    assert!(has_label(&h, "The Lighthouse"), "the new story opens");

    type_into(&mut h, "Your action", "open the door");
    click(&mut h, "Add");
    assert!(
        has_label(&h, "I open the door."),
        "a Do action gets the first-person prefix"
    );

    click(&mut h, "Say");
    type_into(&mut h, "Your action", "Is anyone here?");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    assert!(
        has_label(&h, "I say, \"Is anyone here?\""),
        "Ctrl+Enter adds a Say action with its prefix"
    );

    type_into(&mut h, "Your action", "The hinges scream in the dark.");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Enter);
    h.run_ok();
    assert!(
        has_label(&h, "The hinges scream in the dark."),
        "Ctrl+Shift+Enter adds narration"
    );

    // Edit the first entry in place.
    h.get_all_by_label("Edit")
        .next()
        .expect("edit button")
        .click();
    h.run_ok();
    h.get_by_label("Editing action").focus();
    h.run_ok();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("Editing action")
        .type_text("I open the cellar door.");
    h.run_ok();
    click(&mut h, "Save");
    assert!(has_label(&h, "I open the cellar door."));
    assert!(
        !has_label(&h, "I open the door."),
        "the old text is replaced"
    );

    // Delete the narration, then undo the delete.
    h.get_all_by_label("Delete")
        .last()
        .expect("delete button")
        .click();
    h.run_ok();
    assert!(
        !has_label(&h, "The hinges scream in the dark."),
        "deleted entry leaves the view"
    );
    h.get_all_by_label("Undo")
        .next()
        .expect("undo button")
        .click();
    h.run_ok();
    assert!(
        has_label(&h, "The hinges scream in the dark."),
        "undo brings it back"
    );
    drop(h);

    // A new window on the same database finds everything as it was left.
    let mut h = harness(&data);
    assert!(has_label(&h, "The Lighthouse"));
    click(&mut h, "Open");
    assert!(has_label(&h, "I open the cellar door."));
    assert!(has_label(&h, "The hinges scream in the dark."));
}

#[test]
fn a_deleted_story_goes_to_the_trash_and_comes_back() {
    let data = TempData::new();
    data.add_story("Moonfall");
    let mut h = harness(&data);
    click(&mut h, "Delete");
    assert!(!has_label(&h, "Moonfall"), "the story leaves the library");
    assert!(has_label(&h, "Moved “Moonfall” to the Trash."));

    click(&mut h, "Trash");
    assert!(has_label(&h, "Moonfall"), "the Trash lists it");
    click(&mut h, "Restore");
    click(&mut h, "Library");
    assert!(has_label(&h, "Moonfall"), "restored into the library");

    // Permanent deletion asks first.
    click(&mut h, "Delete");
    click(&mut h, "Trash");
    click(&mut h, "Delete permanently…");
    assert!(has_label(&h, "Delete “Moonfall” permanently?"));
    click(&mut h, "Keep it");
    assert!(has_label(&h, "Moonfall"), "cancelling keeps it");
    click(&mut h, "Delete permanently…");
    click(&mut h, "Delete permanently");
    settle(&mut h);
    assert!(!has_label(&h, "Moonfall"));
    assert!(data.open().trashed_stories().expect("trash").is_empty());
}

#[test]
fn library_work_that_grows_with_the_data_runs_on_jobs_not_the_window() {
    // Every call below stops a debug build if it runs on the window's thread (the harness's).
    let data = TempData::new();
    let id = {
        let mut store = data.open();
        fabula::cli::seed(&mut store, 2_000, Some("Harbour Lights")).expect("seed")
    };
    let mut h = harness(&data);
    click(&mut h, "Duplicate");
    assert!(
        has_label(&h, "Duplicating “Harbour Lights”…"),
        "shown while it runs"
    );
    settle(&mut h);
    assert!(has_label(&h, "Harbour Lights (copy)"), "the copy is listed");
    assert!(has_label(&h, "Duplicated as “Harbour Lights (copy)”."));
    let copy = data.open().list_stories().expect("library");
    assert_eq!(copy.len(), 2);
    assert!(copy.iter().all(|s| s.entry_count == 2_000));

    data.open()
        .trash_story(&fabula::domain::StoryId(id))
        .expect("trash");
    click(&mut h, "Trash");
    click(&mut h, "Empty Trash…");
    click(&mut h, "Delete permanently");
    settle(&mut h);
    assert!(h.query_all_by_label("The Trash is empty.").next().is_some());
    assert!(data.open().trashed_stories().expect("trash").is_empty());
    assert_eq!(data.open().list_stories().expect("library").len(), 1);
}

#[test]
#[should_panic(expected = "ran on the window's thread")]
fn whole_library_work_on_the_window_thread_is_caught() {
    let data = TempData::new();
    let store = data.open();
    fabula::storage::mark_ui_thread();
    let _ = store.create_backup(&data.paths, "");
}

#[test]
fn rename_and_filter_in_the_library() {
    let data = TempData::new();
    {
        let store = data.open();
        for title in ["Ashes", "Bright Water"] {
            store
                .create_story(&fabula::domain::NewStory {
                    title: title.into(),
                    genre: "Fantasy".into(),
                    ..Default::default()
                })
                .expect("create");
        }
    }
    let mut h = harness(&data);
    type_into(&mut h, "Filter", "bright");
    // The filter also searches the stories' text on a job: let it land before clicking on.
    common::settle(&mut h);
    assert!(has_label(&h, "Bright Water"));
    assert!(
        !has_label(&h, "Ashes"),
        "the filter hides non-matching stories"
    );

    click(&mut h, "Rename");
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("New title").type_text("Dark Water");
    h.run_ok();
    click(&mut h, "Save title");
    click(&mut h, "Clear");
    assert!(has_label(&h, "Dark Water"));
    assert!(has_label(&h, "Ashes"));

    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert!(has_label(&h, "Bright Water"), "Ctrl+Z undoes the rename");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_ok();
    assert!(has_label(&h, "Dark Water"), "Ctrl+Shift+Z redoes it");
}

#[test]
fn settings_persist_in_the_database() {
    let data = TempData::new();
    let mut h = harness(&data);
    click(&mut h, "Settings");
    click(&mut h, "Light");
    assert!(
        !(h.ctx.theme() == egui::Theme::Dark),
        "the theme switches at once"
    );
    drop(h);
    let h = harness(&data);
    assert!(
        !(h.ctx.theme() == egui::Theme::Dark),
        "and is light again after a restart"
    );
    assert_eq!(
        data.open().setting("ui.theme").expect("read").as_deref(),
        Some("light")
    );
}

#[test]
fn a_damaged_database_offers_the_latest_backup_and_keeps_the_damaged_file() {
    let data = TempData::new();
    {
        let store = data.open();
        store
            .create_story(&fabula::domain::NewStory {
                title: "Saved in time".into(),
                ..Default::default()
            })
            .expect("create");
        store.create_backup(&data.paths, "").expect("backup");
    }
    std::fs::write(data.paths.database(), b"scribbled over by something else").expect("damage");

    let mut h = harness(&data);
    assert!(has_label(&h, "Fabula could not open your stories"));
    click(&mut h, "Restore the latest backup");
    settle(&mut h);
    assert!(has_label(&h, "Saved in time"), "the library is back");
    let damaged: Vec<_> = std::fs::read_dir(&data.paths.dir)
        .expect("dir")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("fabula-damaged-")
        })
        .collect();
    assert_eq!(
        damaged.len(),
        1,
        "the damaged file is set aside, not overwritten"
    );
    assert_eq!(
        std::fs::read(damaged[0].path()).expect("read"),
        b"scribbled over by something else"
    );
}

#[test]
fn a_damaged_page_found_after_start_up_offers_the_latest_backup() {
    let data = TempData::new();
    {
        let store = data.open();
        let id = store
            .create_story(&fabula::domain::NewStory {
                title: "Saved in time".into(),
                ..Default::default()
            })
            .expect("create")
            .id;
        store.create_backup(&data.paths, "").expect("backup");
        let text = "x".repeat(3000);
        for _ in 0..200 {
            store
                .append_entry(&id, fabula::domain::EntryKind::Narration, &text)
                .expect("append");
        }
    }
    // A stretch of pages in the middle, the header intact: opening does not read them.
    let mut bytes = std::fs::read(data.paths.database()).expect("read");
    for b in &mut bytes[40 * 1024..56 * 1024] {
        *b = 0xA5;
    }
    std::fs::write(data.paths.database(), &bytes).expect("write");

    let mut h = launch_with_daily_backup(&data);
    h.run_ok();
    assert!(has_label(&h, "Fabula could not open your stories"));
    click(&mut h, "Restore the latest backup");
    settle(&mut h);
    assert!(has_label(&h, "Saved in time"), "the library is back");
}

/// What the last frame put on the clipboard.
fn copied(h: &egui_kittest::Harness<'static, fabula::app::FabulaApp>) -> Option<String> {
    h.output()
        .platform_output
        .commands
        .iter()
        .find_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
}

#[test]
fn settings_show_the_error_log_and_copy_redacted_diagnostics() {
    let data = TempData::new();
    std::fs::write(
        data.paths.dir.join("fabula.log"),
        "2026-12-01T09:00:00Z WARN fabula: the provider refused key sk-live-abcdefghijklmnop123\n",
    )
    .expect("log");
    let mut h = harness(&data);
    click(&mut h, "Settings");
    assert!(has_label(
        &h,
        &format!("Error log: {}", data.paths.dir.join("fabula.log").display())
    ));
    h.get_by_label("Copy diagnostics").click();
    h.step();
    let report = copied(&h).expect("the report is on the clipboard");
    assert!(report.contains(env!("CARGO_PKG_VERSION")), "{report}");
    assert!(report.contains("the provider refused key"), "{report}");
    assert!(!report.contains("sk-live-abcdefghijklmnop123"), "{report}");
    h.run_ok();
    assert!(h.query_by_label_contains("Copied").is_some());
}

#[test]
fn backups_screen_backs_up_and_restores_after_confirming() {
    let data = TempData::new();
    data.add_story("Alpha");
    let mut h = harness(&data);
    click(&mut h, "Backups");
    assert!(has_label(&h, "No backups yet."));
    click(&mut h, "Back up now");
    settle(&mut h);
    assert!(
        !has_label(&h, "No backups yet."),
        "the new backup is listed"
    );

    click(&mut h, "Library");
    click(&mut h, "Delete");
    assert!(!has_label(&h, "Alpha"));

    click(&mut h, "Backups");
    click(&mut h, "Restore…");
    assert!(
        has_label(&h, "Restore this backup?"),
        "restoring asks first"
    );
    click(&mut h, "Restore");
    settle(&mut h);
    assert!(has_label(&h, "Alpha"), "the backed-up library is back");
    let names: Vec<String> = fabula::storage::list_backups(&data.paths.backups())
        .expect("list")
        .iter()
        .map(|b| b.file_name())
        .collect();
    assert!(
        names.iter().any(|n| n.contains("pre-restore")),
        "the replaced database was backed up first: {names:?}"
    );
}

#[test]
fn deleting_restoring_and_undoing_an_entry_never_rereads_the_story() {
    let data = TempData::new();
    let mut h = long_story_open(&data, 3_000);
    let opened = h.state().row_index_reads();
    assert_eq!(opened, 1, "opening reads the index once");
    let last_but_one = "I look around (2999).";
    assert!(has_label(&h, last_but_one));
    let rows = |h: &egui_kittest::Harness<'static, fabula::app::FabulaApp>| {
        h.state().state().open.as_ref().map_or(0, |o| o.rows.len())
    };

    // The Delete of the second-to-last row (rows are laid out top to bottom).
    let deletes: Vec<_> = h.get_all_by_label("Delete").collect();
    let n = deletes.len();
    deletes[n - 2].click();
    h.run_ok();
    assert!(!has_label(&h, last_but_one), "the entry left the story");
    assert_eq!(rows(&h), 2_999);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert!(
        has_label(&h, last_but_one),
        "undo puts it back in its place"
    );
    assert_eq!(rows(&h), 3_000);
    h.key_press_modifiers(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
    h.run_ok();
    assert!(!has_label(&h, last_but_one), "redo takes it out again");

    click(&mut h, "Trash");
    click(&mut h, "Restore");
    assert_eq!(
        rows(&h),
        3_000,
        "restored from the Trash into the open story"
    );
    let open = h.state().state().open.clone().expect("open");
    assert!(
        open.rows.positions().windows(2).all(|w| w[0] <= w[1]),
        "every row in story order"
    );
    assert_eq!(
        h.state().row_index_reads(),
        opened,
        "the index was never re-read"
    );
}

#[test]
fn a_long_story_lays_out_only_the_rows_on_screen_and_scrolls() {
    let data = TempData::new();
    let mut h = long_story_open(&data, 5_000);
    // Seeded actions read "I look around (N)." with N counting entries from 1.
    assert!(
        has_label(&h, "I look around (4999)."),
        "opens at the end of the story"
    );
    assert!(
        !has_label(&h, "I look around (1)."),
        "rows far off screen are not laid out"
    );
    let laid_out = h.get_all_by_label("Edit").count();
    assert!(
        (3..60).contains(&laid_out),
        "only a screenful of rows is built, not 5,000: {laid_out}"
    );

    // Scroll up a long way with the mouse wheel over the story.
    for _ in 0..40 {
        h.event(egui::Event::PointerMoved(egui::pos2(500.0, 300.0)));
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Page,
            delta: egui::vec2(0.0, 5.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: Modifiers::NONE,
        });
        h.step();
    }
    h.run_ok();
    assert!(
        !has_label(&h, "I look around (4999)."),
        "the last entry scrolled out of view"
    );
    assert!(
        h.query_all_by_label_contains("I look around (")
            .next()
            .is_some(),
        "other entries came into view"
    );
}

#[test]
fn keyboard_ctrl_n_enter_creates_and_esc_leaves_edit_mode_keeping_the_text() {
    let data = TempData::new();
    let mut h = harness(&data);
    h.key_press_modifiers(Modifiers::COMMAND, Key::N);
    h.run_ok();
    h.get_by_label("Title").type_text("Keys Only");
    h.run_ok();
    h.key_press(Key::Enter);
    h.run_ok();
    assert!(
        has_label(&h, "Keys Only"),
        "Enter in the title creates the story"
    );

    type_into(&mut h, "Your action", "wait");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.run_ok();
    assert!(has_label(&h, "I wait."));
    // Ctrl+Enter also asked the narrator; with no provider set up that ends with a message.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while h.state().is_generating() {
        assert!(
            std::time::Instant::now() < deadline,
            "the generation never ended"
        );
        h.step();
    }
    h.run_ok();
    assert!(
        h.query_all_by_label_contains("No provider is set up yet")
            .next()
            .is_some()
    );

    click(&mut h, "Edit");
    h.get_by_label("Editing action")
        .type_text(" Then I wait some more.");
    h.run_ok();
    h.key_press(Key::Escape);
    h.run_ok();
    assert!(
        h.query_by_label("Editing action").is_none(),
        "Esc leaves edit mode"
    );
    assert!(
        has_label(&h, "I wait. Then I wait some more."),
        "and keeps what was typed"
    );
}

#[test]
fn ctrl_f_focuses_the_library_filter() {
    let data = TempData::new();
    data.add_story("Findable");
    let mut h = harness(&data);
    assert!(!h.get_by_label("Filter").is_focused());
    h.key_press_modifiers(Modifiers::COMMAND, Key::F);
    h.run_ok();
    assert!(h.get_by_label("Filter").is_focused());
}

fn launch_with_daily_backup(
    data: &TempData,
) -> egui_kittest::Harness<'static, fabula::app::FabulaApp> {
    let app = fabula::app::FabulaApp::new(
        data.paths.clone(),
        fabula::storage::Store::open(&data.paths.database()),
        fabula::app::Launch {
            auto_backup: true,
            ..Default::default()
        },
    );
    let mut h = common::harness_for(app);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h.state().is_backing_up() {
        assert!(
            std::time::Instant::now() < deadline,
            "the backup job never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
        h.step();
    }
    h
}

#[test]
fn the_daily_backup_runs_on_a_job_after_the_first_frame_once_a_day() {
    let data = TempData::new();
    data.add_story("Backed up daily");
    let h = launch_with_daily_backup(&data);
    assert!(
        h.state().state().status.is_none(),
        "{:?}",
        h.state().state().status
    );
    let backups = fabula::storage::list_backups(&data.paths.backups()).expect("list");
    assert_eq!(backups.len(), 1);
    drop(h);

    // The backup is a complete database with the story in it.
    let copy = TempData::new();
    std::fs::copy(&backups[0].path, copy.paths.database()).expect("copy");
    assert_eq!(
        copy.open().list_stories().expect("list")[0].story.title,
        "Backed up daily"
    );

    let _h = launch_with_daily_backup(&data);
    assert_eq!(
        fabula::storage::list_backups(&data.paths.backups())
            .expect("list")
            .len(),
        1,
        "a second start on the same day makes no second backup"
    );
}

mod updates {
    use super::common::github::{
        AssetReply, FakeGithub, NEW_BINARY, OLD_BINARY, fake_github, release_key, signed_archive,
    };
    use super::common::{TempData, click, harness_for, has_label};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use fabula::app::{FabulaApp, Launch};
    use fabula::update::UpdateConfig;

    fn config(fake: &FakeGithub, install_path: std::path::PathBuf, with_key: bool) -> UpdateConfig {
        UpdateConfig {
            repo_owner: "o".into(),
            repo_name: "n".into(),
            api_base: fake.base.clone(),
            current_version: semver::Version::new(0, 1, 0),
            target: super::common::github::TARGET.into(),
            allow_prerelease: false,
            keys: if with_key {
                vec![release_key().verifying_key().to_bytes()]
            } else {
                vec![]
            },
            install_path,
        }
    }

    fn app(data: &TempData, launch: Launch, config: UpdateConfig) -> Harness<'static, FabulaApp> {
        let app = FabulaApp::new(
            data.paths.clone(),
            fabula::storage::Store::open(&data.paths.database()),
            launch,
        )
        .with_update_config(config);
        harness_for(app)
    }

    fn wait_for(h: &mut Harness<'static, FabulaApp>, label: &str) {
        // A liveness bound, not a speed budget: a debug build verifying and unpacking the
        // release on two busy cores has taken over 20 s in CI.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !has_label(h, label) {
            assert!(
                std::time::Instant::now() < deadline,
                "“{label}” never appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
            h.step();
        }
    }

    fn old_binary(data: &TempData) -> std::path::PathBuf {
        let path = data.dir.path().join("fabula-installed");
        std::fs::write(&path, OLD_BINARY).expect("write");
        path
    }

    /// A window whose Settings screen has just found release 0.2.0 on a fake GitHub.
    fn checked_in_settings(
        with_key: bool,
    ) -> (
        TempData,
        FakeGithub,
        std::path::PathBuf,
        Harness<'static, FabulaApp>,
    ) {
        let data = TempData::new();
        let fake = fake_github(AssetReply::Bytes(signed_archive(&release_key())));
        let installed = old_binary(&data);
        let mut h = app(
            &data,
            Launch::default(),
            config(&fake, installed.clone(), with_key),
        );
        click(&mut h, "Settings");
        click(&mut h, "Check for updates");
        wait_for(&mut h, "Fabula 0.2.0 is available.");
        (data, fake, installed, h)
    }

    #[test]
    fn settings_checks_shows_notes_installs_with_progress_and_offers_restart() {
        let (_data, _fake, installed, mut h) = checked_in_settings(true);
        assert!(has_label(&h, "This is Fabula 0.1.0."));
        assert!(
            has_label(&h, "Faster scrolling and a new theme."),
            "release notes are shown"
        );
        click(&mut h, "Download and install");
        wait_for(&mut h, "Restart now");
        assert_eq!(std::fs::read(&installed).expect("read"), NEW_BINARY);
    }

    #[test]
    fn a_build_without_a_key_shows_why_it_cannot_install() {
        let (_data, _fake, installed, h) = checked_in_settings(false);
        assert!(
            h.query_by_label_contains("This build cannot install updates")
                .is_some()
        );
        assert!(!has_label(&h, "Download and install"));
        assert_eq!(std::fs::read(&installed).expect("read"), OLD_BINARY);
    }

    #[test]
    fn the_start_up_check_runs_once_a_day_and_can_be_switched_off() {
        let data = TempData::new();
        let launch = Launch {
            update_check: true,
            ..Launch::default()
        };
        let fake = fake_github(AssetReply::NotFound);
        let mut h = app(
            &data,
            launch.clone(),
            config(&fake, old_binary(&data), true),
        );
        wait_for(&mut h, "Fabula 0.2.0 is available");
        drop(h);

        // Same day: no second request, so nothing is announced.
        let fake = fake_github(AssetReply::NotFound);
        let h = app(
            &data,
            launch.clone(),
            config(&fake, old_binary(&data), true),
        );
        assert!(!has_label(&h, "Fabula 0.2.0 is available"));
        drop(h);

        // Switched off, even a day later it stays quiet.
        let store = data.open();
        store
            .set_setting("update.last_check_ms", "0")
            .expect("age the last check");
        drop(store);
        let fake = fake_github(AssetReply::NotFound);
        let mut h = app(
            &data,
            launch.clone(),
            config(&fake, old_binary(&data), true),
        );
        click(&mut h, "Settings");
        click(
            &mut h,
            "Check for updates when Fabula starts (at most once a day)",
        );
        drop(h);
        data.open()
            .set_setting("update.last_check_ms", "0")
            .expect("age the last check");
        let fake = fake_github(AssetReply::NotFound);
        let mut h = app(&data, launch, config(&fake, old_binary(&data), true));
        for _ in 0..20 {
            std::thread::sleep(std::time::Duration::from_millis(5));
            h.step();
        }
        click(&mut h, "Settings");
        assert!(
            !has_label(&h, "Fabula 0.2.0 is available."),
            "no check was made"
        );
        assert!(!has_label(&h, "Checking…"));
    }
}

/// A window opened on a seeded story of `entries` entries titled "Long".
fn long_story_open(
    data: &TempData,
    entries: usize,
) -> egui_kittest::Harness<'static, fabula::app::FabulaApp> {
    let id = {
        let mut store = data.open();
        fabula::cli::seed(&mut store, entries, Some("Long")).expect("seed")
    };
    let app = fabula::app::FabulaApp::new(
        data.paths.clone(),
        fabula::storage::Store::open(&data.paths.database()),
        fabula::app::Launch {
            open_story: Some(fabula::domain::StoryId(id)),
            ..Default::default()
        },
    );
    let mut h = common::harness_for(app);
    // The rest of the index is read on a job once the newest rows are on screen.
    settle(&mut h);
    h
}

#[test]
fn an_entrys_copy_button_puts_its_text_on_the_clipboard_and_says_copied() {
    let data = TempData::new();
    let mut h = harness(&data);
    click(&mut h, "Create your first story");
    type_into(&mut h, "Title", "Clipboard");
    click(&mut h, "Create story");
    type_into(&mut h, "Your action", "The hinges scream 你好 🐉.");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Enter);
    h.run_ok();
    h.get_all_by_label("Copy")
        .last()
        .expect("a Copy button")
        .click();
    h.step();
    assert_eq!(copied(&h).as_deref(), Some("The hinges scream 你好 🐉."));
    h.run_ok();
    assert!(has_label(&h, "Copied"), "the button says it worked");
    // It goes back to "Copy" after a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while has_label(&h, "Copied") {
        assert!(std::time::Instant::now() < deadline, "“Copied” stayed");
        std::thread::sleep(std::time::Duration::from_millis(100));
        h.step();
    }
}

/// Every script a writer may use is drawn from the system's fonts (the harness, like the window,
/// panics on a character no font has, so finding the text means it was drawn).
#[test]
fn every_script_and_emoji_is_on_screen_in_titles_the_story_and_inputs() {
    let data = TempData::new();
    let mut h = harness(&data);
    click(&mut h, "Create your first story");
    type_into(&mut h, "Title", "你好，世界 ★");
    click(&mut h, "Create story");
    assert!(has_label(&h, "你好，世界 ★"), "the title");
    let lines = [
        "こんにちは、カタカナ",
        "안녕하세요",
        "שלום עולם",
        "مرحبا بالعالم",
        "नमस्ते दुनिया",
        "🐉 ✨ 😀",
        "→ ← ⇒ ★ ♥ ✓",
    ];
    for line in lines {
        type_into(&mut h, "Your action", line);
        h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Enter);
        h.run_ok();
        assert!(has_label(&h, line), "{line} in the story");
    }
    // Half typed in the composer as well.
    type_into(&mut h, "Your action", "你好 🐉 →");
    assert!(
        h.query_all_by_value("你好 🐉 →").next().is_some(),
        "in the input"
    );
}

/// A 100,000-entry story travelled by keyboard: End, Home, PageDown, "go to entry", and the
/// "Jump to latest" button that shows while the end is out of sight.
#[test]
fn a_long_story_is_travelled_by_keyboard_and_by_entry_number() {
    let data = TempData::new();
    {
        let mut store = data.open();
        fabula::cli::seed(&mut store, 100_000, Some("Long road")).expect("seed");
    }
    let mut h = harness(&data);
    click(&mut h, "Long road");
    settle(&mut h);
    let first = "I look around (1).";
    let last = "I look around (99999).";
    assert!(has_label(&h, last), "a story opens at its end");
    assert!(!has_label(&h, "Jump to latest"));

    // While typing, PageUp still moves the story; Home is the text field's.
    type_into(&mut h, "Your action", "half typed");
    h.key_press(Key::PageUp);
    settle(&mut h);
    assert!(!has_label(&h, last), "PageUp moves up from the composer");
    h.key_press(Key::Home);
    settle(&mut h);
    assert!(
        !has_label(&h, first),
        "Home stays in the field being typed in"
    );
    h.key_press(Key::Escape);
    h.run_ok();

    h.key_press(Key::Home);
    settle(&mut h);
    assert!(has_label(&h, first), "Home goes to the beginning");
    assert!(!has_label(&h, last));
    assert!(has_label(&h, "Jump to latest"), "the end is out of sight");

    h.key_press(Key::PageDown);
    settle(&mut h);
    h.key_press(Key::PageDown);
    settle(&mut h);
    assert!(!has_label(&h, first), "PageDown moves on");

    h.key_press_modifiers(Modifiers::COMMAND, Key::End);
    settle(&mut h);
    assert!(has_label(&h, last), "Ctrl+End goes to the end");

    type_into(&mut h, "Go to entry", "50,001");
    h.key_press(Key::Enter);
    settle(&mut h);
    assert!(
        has_label(&h, "I look around (50001)."),
        "entry 50,001 is on screen"
    );
    assert!(!has_label(&h, last));

    click(&mut h, "Jump to latest");
    settle(&mut h);
    assert!(has_label(&h, last));
    assert!(!has_label(&h, "Jump to latest"));

    type_into(&mut h, "Go to entry", "200000");
    h.key_press(Key::Enter);
    h.run_ok();
    assert!(
        h.query_by_label_contains("is not an entry: there are entries 1 to 100,000")
            .is_some()
    );
}

/// At 640 × 480 every control of the top bar and the story's header is on screen and none covers
/// another (they wrap onto a second row).
#[test]
fn a_narrow_window_keeps_every_control_reachable() {
    let data = TempData::new();
    {
        let mut store = data.open();
        fabula::cli::seed(&mut store, 40, Some("A title long enough to crowd the bar"))
            .expect("seed");
    }
    let mut h = harness(&data);
    click(&mut h, "A title long enough to crowd the bar");
    h.set_size(egui::vec2(640.0, 480.0));
    settle(&mut h);
    let labels = [
        "Library",
        "Sync",
        "Trash",
        "Backups",
        "Settings",
        "Undo",
        "Redo",
        "Export…",
        "Lorebook",
        "Story settings",
        "Prompt inspector",
        "Go to entry",
    ];
    let rects: Vec<(&str, egui::Rect)> = labels
        .iter()
        .map(|l| (*l, h.get_by_label(l).rect()))
        .collect();
    for (label, rect) in &rects {
        assert!(
            rect.min.x >= 0.0 && rect.max.x <= 640.0 && rect.max.y <= 480.0,
            "{label} is off screen at {rect:?}"
        );
    }
    for (i, (a, ra)) in rects.iter().enumerate() {
        for (b, rb) in &rects[i + 1..] {
            assert!(!ra.shrink(1.0).intersects(rb.shrink(1.0)), "{a} covers {b}");
        }
    }
}

/// Relative times say the whole date, in the user's zone, on hover.
#[test]
fn a_relative_time_shows_the_full_local_date_on_hover() {
    let data = TempData::new();
    let mut h = harness(&data);
    click(&mut h, "Create your first story");
    type_into(&mut h, "Title", "Dated");
    click(&mut h, "Create story");
    click(&mut h, "Library");
    h.get_by_label_contains("edited just now").hover();
    h.run_ok();
    let zone = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    let today = jiff::Timestamp::now()
        .to_zoned(zone)
        .strftime("%A %-d %B %Y")
        .to_string();
    assert!(
        h.query_by_label_contains(&format!("Last edited {today}, "))
            .is_some(),
        "the hover names {today}"
    );
}

/// In the third person and the past tense the Do action conjugates its verb and Think uses the
/// protagonist's pronouns; "exactly as typed" sends the words alone.
#[test]
fn actions_read_as_prose_in_the_storys_person_tense_and_pronouns() {
    let data = TempData::new();
    let mut h = harness(&data);
    click(&mut h, "Create your first story");
    type_into(&mut h, "Title", "The Belfry");
    h.get_by_label("Point of view").click();
    h.run_ok();
    click(&mut h, "Third person");
    click(&mut h, "Past tense");
    type_into(&mut h, "Protagonist", "Mara");
    click(&mut h, "Create story");

    type_into(&mut h, "Your action", "dive toward the door");
    click(&mut h, "Add");
    assert!(has_label(&h, "Mara dove toward the door."));

    click(&mut h, "Story settings");
    h.get_by_label("Pronouns").click();
    h.run_ok();
    click(&mut h, "she / her");
    click(&mut h, "Save settings");
    click(&mut h, "Think");
    type_into(&mut h, "Your action", "this bell is cracked");
    click(&mut h, "Add");
    assert!(has_label(
        &h,
        "Mara thought to herself, \"this bell is cracked.\""
    ));

    click(&mut h, "Send actions exactly as typed");
    click(&mut h, "Save settings");
    click(&mut h, "Do");
    type_into(&mut h, "Your action", "ring it anyway");
    click(&mut h, "Add");
    assert!(has_label(&h, "ring it anyway"));

    // The choices are the story's: they are there after a relaunch.
    drop(h);
    let settings = data
        .open()
        .story_settings(&data.open().list_stories().expect("list")[0].story.id)
        .expect("settings");
    assert_eq!(settings.pronouns, fabula::domain::Pronouns::She);
    assert!(settings.actions_as_typed);
}

/// Quit and relaunch: the same story opens where it was read, with its half-typed action and its
/// action mode, the side panel open, and the library's sort and filter as they were; each story
/// keeps its own half-typed action meanwhile.
#[test]
fn a_relaunch_comes_back_as_the_window_was_left() {
    let data = TempData::new();
    {
        let mut store = data.open();
        fabula::cli::seed(&mut store, 300, Some("Harbour")).expect("seed");
        fabula::cli::seed(&mut store, 4, Some("Belfry")).expect("seed");
    }
    let mut h = harness(&data);
    type_into(&mut h, "Filter", "r");
    h.get_by_label("Sort by").click();
    h.run_ok();
    click(&mut h, "Title");
    click(&mut h, "Harbour");
    settle(&mut h);
    click(&mut h, "Lorebook");
    click(&mut h, "Say");
    type_into(&mut h, "Your action", "Is anyone here? 你好");
    type_into(&mut h, "Go to entry", "101");
    h.key_press(Key::Enter);
    settle(&mut h);
    assert!(has_label(&h, "I look around (101)."));

    // Another story has its own composer; coming back brings this one's text back.
    click(&mut h, "Library");
    click(&mut h, "Belfry");
    settle(&mut h);
    assert!(
        h.query_all_by_value("Is anyone here? 你好")
            .next()
            .is_none()
    );
    type_into(&mut h, "Your action", "ring");
    click(&mut h, "Library");
    click(&mut h, "Harbour");
    settle(&mut h);
    assert!(
        h.query_all_by_value("Is anyone here? 你好")
            .next()
            .is_some()
    );
    type_into(&mut h, "Go to entry", "101");
    h.key_press(Key::Enter);
    settle(&mut h);

    // What eframe does as the window closes.
    h.state_mut().remember_window();
    drop(h);

    let mut h = harness(&data);
    settle(&mut h);
    assert!(has_label(&h, "Harbour"), "the story is open again");
    assert!(has_label(&h, "I look around (101)."), "where it was read");
    assert!(!has_label(&h, "I look around (299)."), "not at its end");
    assert!(
        h.query_all_by_value("Is anyone here? 你好")
            .next()
            .is_some()
    );
    assert!(
        h.query_by_label_contains("I say, \"Is anyone here? 你好")
            .is_some(),
        "the action mode is Say again"
    );
    assert!(has_label(&h, "New entry"), "the lorebook panel is open");
    click(&mut h, "Library");
    assert!(h.query_all_by_value("r").next().is_some(), "the filter");
    click(&mut h, "Belfry");
    settle(&mut h);
    assert!(
        h.query_all_by_value("ring").next().is_some(),
        "Belfry's own text"
    );
}

/// Enter on a focused "Delete permanently…" opens the question a click would; the same Enter
/// does not also answer it.
#[test]
fn enter_on_a_focused_permanent_delete_still_asks() {
    let data = TempData::new();
    let id = data.add_story("Doomed");
    data.open().trash_story(&id).expect("trash");
    let mut h = harness(&data);
    click(&mut h, "Trash");
    h.get_by_label("Delete permanently…").focus();
    h.run_ok();
    h.key_press(Key::Enter);
    h.run_ok();
    assert!(has_label(&h, "Delete “Doomed” permanently?"), "asked");
    h.key_press(Key::Enter);
    h.run_ok();
    assert_eq!(
        data.open().trashed_stories().expect("trash").len(),
        1,
        "nothing is deleted by Enter presses alone"
    );
    click(&mut h, "Keep it");
    assert!(!has_label(&h, "Delete “Doomed” permanently?"));
}

/// Genre, description and protagonist can be changed after the story was made.
#[test]
fn story_details_are_editable_after_creation() {
    let data = TempData::new();
    let id = data.add_story("Later");
    let mut h = harness(&data);
    click(&mut h, "Later");
    click(&mut h, "Story settings");
    h.get_by_label("Point of view").click();
    h.run_ok();
    click(&mut h, "Third person");
    type_into(&mut h, "Protagonist", "Mara");
    type_into(&mut h, "Genre", "Gothic");
    type_into(&mut h, "Description", "A house by the sea.");
    click(&mut h, "Save details");
    let story = data.open().story_summary(&id).expect("story").story;
    assert_eq!(story.protagonist.as_deref(), Some("Mara"));
    assert_eq!(story.genre.as_deref(), Some("Gothic"));
    assert_eq!(story.description.as_deref(), Some("A house by the sea."));
    type_into(&mut h, "Your action", "open the door");
    click(&mut h, "Add");
    assert!(has_label(&h, "Mara opens the door."));
}

/// A note (not an error) goes away by itself after a while.
#[test]
fn a_note_clears_itself_after_a_while() {
    let data = TempData::new();
    data.add_story("Noted");
    let mut h = harness(&data);
    click(&mut h, "Noted");
    click(&mut h, "Story settings");
    type_into(&mut h, "Genre", "Gothic");
    click(&mut h, "Save details");
    assert!(has_label(&h, "Saved the story's details."));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while has_label(&h, "Saved the story's details.") {
        assert!(std::time::Instant::now() < deadline, "the note stayed");
        std::thread::sleep(std::time::Duration::from_millis(200));
        h.step();
    }
}

/// The story's prose keeps a readable width: centred in a wide window, as wide as the window when
/// the setting says so. A narrow window opens the side panel over the story (its text does not
/// reflow into a sliver); a wide one beside it.
#[test]
fn prose_keeps_a_readable_width_and_a_narrow_window_overlays_the_side_panel() {
    let data = TempData::new();
    {
        let mut store = data.open();
        fabula::cli::seed(&mut store, 40, Some("Widths")).expect("seed");
    }
    let mut h = harness(&data);
    click(&mut h, "Widths");
    settle(&mut h);
    let line = "I look around (39).";
    let centred = h.get_by_label(line).rect();
    assert!(
        centred.min.x > 120.0,
        "a 1000-point window centres the lines: {centred:?}"
    );

    click(&mut h, "Lorebook");
    settle(&mut h);
    let beside = h.get_by_label(line).rect();
    let panel = h.get_by_label("Close panel").rect();
    assert!(
        beside.max.x <= panel.min.x,
        "beside the panel: {beside:?} {panel:?}"
    );
    click(&mut h, "Close panel");

    h.set_size(egui::vec2(640.0, 480.0));
    settle(&mut h);
    let narrow = h.get_by_label(line).rect();
    click(&mut h, "Lorebook");
    settle(&mut h);
    let under = h.get_by_label(line).rect();
    assert_eq!(narrow, under, "the story keeps its width under the panel");
    let close = h.get_by_label("Close panel").rect();
    assert!(
        close.max.x <= 640.0 && close.min.x > 640.0 - 400.0 && close.max.y <= 480.0,
        "the panel lies over the story's right side: {close:?}"
    );
    click(&mut h, "Close panel");

    h.set_size(egui::vec2(1000.0, 760.0));
    click(&mut h, "Settings");
    h.get_by_label("Line width").click();
    h.run_ok();
    click(&mut h, "The window's width");
    assert_eq!(
        data.open()
            .setting("ui.line_width")
            .expect("setting")
            .as_deref(),
        Some("full")
    );
    click(&mut h, "Library");
    click(&mut h, "Widths");
    settle(&mut h);
    let full = h.get_by_label(line).rect();
    assert!(full.min.x < 60.0, "the whole width: {full:?}");

    // A short window scrolls the settings down to their last control.
    h.set_size(egui::vec2(640.0, 480.0));
    click(&mut h, "Settings");
    settle(&mut h);
    let below = h.get_by_label("Check for updates").rect();
    assert!(below.min.y > 480.0, "off screen at first: {below:?}");
    for _ in 0..10 {
        h.event(egui::Event::PointerMoved(egui::pos2(300.0, 300.0)));
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Page,
            delta: egui::vec2(0.0, -1.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: Modifiers::NONE,
        });
        h.step();
    }
    h.run_ok();
    let reached = h.get_by_label("Check for updates").rect();
    assert!(reached.max.y <= 480.0, "scrolled into view: {reached:?}");
}

/// A story longer than the rows it opens on: the rest of its index arrives from a job and the
/// view is still at the end, every entry reachable by number.
#[test]
fn a_long_story_opens_at_its_very_end_once_its_whole_index_is_in() {
    let data = TempData::new();
    let mut h = long_story_open(&data, 3_000);
    for _ in 0..10 {
        h.step();
    }
    let open = h.state().state().open.clone().expect("open");
    assert_eq!(open.rows.len(), 3_000, "the whole index is in");
    assert!(open.rows_from.is_none());
    assert!(has_label(&h, "I look around (2999)."));
    assert!(
        !has_label(&h, "Jump to latest"),
        "the view is at the very end"
    );
    type_into(&mut h, "Go to entry", "1,501");
    h.key_press(egui::Key::Enter);
    settle(&mut h);
    assert!(
        has_label(&h, "I look around (1501)."),
        "an entry above the rows it opened on is reachable by number"
    );
}

/// Closed at the end of a story, the window opens at its end again, new entries included.
#[test]
fn a_relaunch_left_at_the_end_opens_at_the_end() {
    let data = TempData::new();
    let story = {
        let mut store = data.open();
        fabula::domain::StoryId(fabula::cli::seed(&mut store, 300, Some("Harbour")).expect("seed"))
    };
    let mut h = harness(&data);
    click(&mut h, "Harbour");
    settle(&mut h);
    assert!(!has_label(&h, "Jump to latest"));
    h.state_mut().remember_window();
    drop(h);
    {
        let store = data.open();
        for text in ["A gull cried.", "The tide turned."] {
            store
                .append_entry(&story, fabula::domain::EntryKind::Narration, text)
                .expect("append");
        }
    }
    let mut h = harness(&data);
    settle(&mut h);
    assert!(
        has_label(&h, "The tide turned."),
        "at the end, with what was added"
    );
    assert!(!has_label(&h, "Jump to latest"));
}
