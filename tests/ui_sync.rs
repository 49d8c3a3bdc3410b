//! The Sync screen and file import through the real UI: a QR code for this device, another
//! device's stories (a server in the test), pulling with the conflict question, importing a file.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{TempData, click, harness, type_into};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use fabula::app::FabulaApp;
use fabula::domain::OnConflict;
use fabula::formats::avt;
use fabula::jobs::NoWaker;
use fabula::sync::{ServerOptions, SyncServer};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/original-1.7.avt"
);

fn wait_for_text(h: &mut Harness<'static, FabulaApp>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.query_all_by_label_contains(text).next().is_none() {
        assert!(
            Instant::now() < deadline,
            "“{text}” never appeared; status: {:?}",
            h.state().state().status
        );
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    h.run_ok();
}

fn wait_idle(h: &mut Harness<'static, FabulaApp>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.state().is_transferring() {
        assert!(Instant::now() < deadline, "the transfer never ended");
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    h.run_ok();
}

#[test]
fn share_with_a_qr_code_and_pull_from_a_peer() {
    let data = TempData::new();
    data.add_story("Mine");
    let peer_data = TempData::new();
    let bundle = avt::read(std::fs::File::open(FIXTURE).expect("fixture")).expect("read");
    peer_data
        .open()
        .import_bundle(&bundle, OnConflict::Refuse)
        .expect("peer library");
    let mut options =
        ServerOptions::new(IpAddr::V4(Ipv4Addr::LOCALHOST), peer_data.paths.database());
    options.token = Some("peer-token".into());
    let peer = SyncServer::start(options, Arc::new(NoWaker)).expect("peer server");

    let mut h = harness(&data);
    click(&mut h, "Sync");
    click(&mut h, "Start sharing");
    assert!(
        h.query_by_label("QR code with this device's address and token")
            .is_some(),
        "the QR code is on screen"
    );
    let serving = h.state().state().sync.serving.clone().expect("serving");
    let pairing: serde_json::Value =
        serde_json::from_str(serving.pairing.expose()).expect("pairing JSON");
    for key in ["ip", "port", "token", "version"] {
        assert!(pairing.get(key).is_some(), "{key} in the QR payload");
    }
    assert!(
        h.query_by_label_contains(&format!("Token: {}", serving.token.expose()))
            .is_some()
    );
    // The token is on screen for typing in, and nowhere in what a log line could show.
    let token = serving.token.expose().to_owned();
    assert!(token.len() >= 16, "{}", token.len());
    assert!(!format!("{serving:?}").contains(&token));

    type_into(
        &mut h,
        "Address",
        &format!("127.0.0.1:{}", peer.addr.port()),
    );
    type_into(&mut h, "Token", "peer-token");
    click(&mut h, "Connect");
    wait_idle(&mut h);
    wait_for_text(&mut h, "The Lantern Keeper · 3 entries");

    click(&mut h, "The Lantern Keeper · 3 entries");
    click(&mut h, "Pull 1 here");
    wait_idle(&mut h);
    wait_for_text(&mut h, "Added “The Lantern Keeper” (3 entries).");
    assert_eq!(data.open().list_stories().expect("library").len(), 2);

    // Again: the story is here now, so the app asks instead of overwriting.
    click(&mut h, "The Lantern Keeper · 3 entries");
    click(&mut h, "Pull 1 here");
    wait_idle(&mut h);
    wait_for_text(&mut h, "Already in your library");
    click(&mut h, "Keep both");
    wait_idle(&mut h);
    let titles: Vec<String> = data
        .open()
        .list_stories()
        .expect("library")
        .into_iter()
        .map(|s| s.story.title)
        .collect();
    assert!(
        titles.contains(&"The Lantern Keeper (imported)".to_owned()),
        "{titles:?}"
    );

    click(&mut h, "Stop sharing");
    assert!(h.query_by_label("Start sharing").is_some());

    // The other device goes away: the pull fails, saying so, and can be asked for again once
    // it is back.
    let port = peer.addr.port();
    drop(peer);
    click(&mut h, "The Lantern Keeper · 3 entries");
    click(&mut h, "Pull 1 here");
    wait_idle(&mut h);
    assert!(matches!(
        h.state()
            .state()
            .status
            .as_ref()
            .and_then(|s| s.next.clone()),
        Some(fabula::state::NextStep::TryAgain(_))
    ));
    let mut options =
        ServerOptions::new(IpAddr::V4(Ipv4Addr::LOCALHOST), peer_data.paths.database());
    options.token = Some("peer-token".into());
    options.port = port;
    let _back = SyncServer::start(options, Arc::new(NoWaker)).expect("peer server again");
    click(&mut h, "Try again");
    wait_idle(&mut h);
    wait_for_text(&mut h, "Already in your library");
}

/// Library > Import… of a story that is here already: the question is asked.
fn import_asked(h: &mut Harness<'static, FabulaApp>, file: &std::path::Path) {
    click(h, "Import…");
    type_into(h, "File", file.to_str().expect("utf-8"));
    click(h, "Import");
    wait_idle(h);
    wait_for_text(h, "Already in your library");
}

#[test]
fn import_a_file_from_the_library() {
    let data = TempData::new();
    let mut h = harness(&data);
    click(&mut h, "Import…");
    type_into(&mut h, "File", FIXTURE);
    click(&mut h, "Import");
    wait_idle(&mut h);
    wait_for_text(&mut h, "The Lantern Keeper");
    assert_eq!(data.open().list_stories().expect("library").len(), 1);

    // The same story changed elsewhere: asked about, then read again from the file with the
    // answer (the story is not held in memory while the question waits).
    let copy = data.dir.path().join("again.avt");
    let text = std::fs::read_to_string(FIXTURE).expect("fixture");
    std::fs::write(&copy, text.replacen("The lamp room", "The lamp tower", 1)).expect("copy");
    import_asked(&mut h, &copy);
    click(&mut h, "Replace mine");
    wait_idle(&mut h);
    wait_for_text(&mut h, "Replaced “The Lantern Keeper”");
    let store = data.open();
    assert_eq!(store.list_stories().expect("library").len(), 1);
    assert_eq!(store.trashed_stories().expect("trash").len(), 1);
    drop(store);
    // The same file once more: nothing would be lost, so nothing more goes to the Trash.
    import_asked(&mut h, &copy);
    click(&mut h, "Replace mine");
    wait_idle(&mut h);
    wait_for_text(&mut h, "Updated “The Lantern Keeper”");
    assert_eq!(data.open().trashed_stories().expect("trash").len(), 1);
    // A file gone while the question waited: said so, nothing changed.
    import_asked(&mut h, &copy);
    std::fs::remove_file(&copy).expect("remove");
    click(&mut h, "Keep both");
    wait_idle(&mut h);
    wait_for_text(&mut h, "could not be opened");
    assert_eq!(data.open().list_stories().expect("library").len(), 1);

    click(&mut h, "Import…");
    type_into(&mut h, "File", "/no/such/file.avt");
    click(&mut h, "Import");
    wait_idle(&mut h);
    wait_for_text(&mut h, "could not be opened");
    // The dialog is open again with the path typed and the reason under it; fixing the path
    // clears the reason, and Import then works.
    assert!(
        h.query_by_label("Import a story file").is_some(),
        "the dialog came back"
    );
    assert_eq!(
        h.get_by_label("File").value().as_deref(),
        Some("/no/such/file.avt")
    );
    assert!(
        h.query_all_by_label_contains("could not be opened").count() >= 2,
        "in the dialog too"
    );
    let garbage = data.dir.path().join("notes.avt");
    std::fs::write(&garbage, "{\"version\": 1, \"story\": [").expect("write");
    h.get_by_label("File").focus();
    h.run_ok();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("File")
        .type_text(garbage.to_str().expect("utf-8"));
    h.run_ok();
    assert_eq!(
        h.query_all_by_label_contains("could not be opened").count(),
        1,
        "an edited path drops the old reason from the dialog"
    );
    click(&mut h, "Import");
    wait_idle(&mut h);
    wait_for_text(&mut h, "notes.avt:");
    assert!(
        h.query_by_label("Import a story file").is_some(),
        "a bad file reopens it too"
    );
    click(&mut h, "Cancel");
    assert!(h.query_by_label("Import a story file").is_none());
    assert_eq!(
        data.open().list_stories().expect("library").len(),
        1,
        "nothing added"
    );
}

#[test]
fn export_a_story_from_its_screen() {
    let data = TempData::new();
    data.add_story("Sea Glass");
    let out = data.dir.path().join("sea-glass.md");
    let mut h = harness(&data);
    click(&mut h, "Sea Glass");
    click(&mut h, "Export…");
    click(&mut h, "Markdown (.md)");
    h.get_by_label("Save as").focus();
    h.run_ok();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Save as")
        .type_text(out.to_str().expect("utf-8"));
    h.run_ok();
    click(&mut h, "Export");
    wait_idle(&mut h);
    wait_for_text(&mut h, "Exported “Sea Glass”");
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.starts_with("# Sea Glass\n"), "{text}");

    // The same name again: asked first, by a button that says what it does.
    std::fs::write(&out, "my own notes").expect("write");
    click(&mut h, "Export…");
    click(&mut h, "Markdown (.md)");
    h.get_by_label("Save as").focus();
    h.run_ok();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Save as")
        .type_text(out.to_str().expect("utf-8"));
    h.run_ok();
    assert!(
        h.query_by_label("Export").is_none(),
        "no plain Export over a file"
    );
    assert!(
        h.query_by_label_contains("A file with this name exists")
            .is_some()
    );
    click(&mut h, "Cancel");
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "my own notes");

    // A folder that is not there: the dialog opens again with the path and the reason.
    let nowhere = data.dir.path().join("no-such-folder/sea-glass.md");
    click(&mut h, "Export…");
    click(&mut h, "Markdown (.md)");
    h.get_by_label("Save as").focus();
    h.run_ok();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Save as")
        .type_text(nowhere.to_str().expect("utf-8"));
    h.run_ok();
    click(&mut h, "Export");
    wait_idle(&mut h);
    assert!(
        h.query_by_label("Export the story").is_some(),
        "the dialog came back"
    );
    assert_eq!(
        h.get_by_label("Save as").value().as_deref(),
        nowhere.to_str()
    );
    assert!(
        h.query_all_by_label_contains("could not be written")
            .count()
            >= 2,
        "the reason is in the dialog as well as the status bar"
    );
}

/// A file dropped from the desktop is imported.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn a_file_dropped_on_the_window_is_imported() {
    let data = TempData::new();
    let mut h = harness(&data);
    h.input_mut()
        .hovered_files
        .push(egui::HoveredFile::default());
    h.run_ok();
    assert!(h.query_by_label("Drop the file to import it").is_some());
    h.input_mut().hovered_files.clear();
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(FIXTURE.into())));
    h.run_ok();
    wait_idle(&mut h);
    wait_for_text(&mut h, "The Lantern Keeper");
    assert!(h.query_by_label("Drop the file to import it").is_none());
    assert_eq!(data.open().list_stories().expect("library").len(), 1);
}

/// A picker standing in for the desktop's dialog: answers with `answer` and notes the folder it
/// was opened in.
struct TestPicker {
    answer: std::path::PathBuf,
    opened_in: std::sync::Mutex<Vec<std::path::PathBuf>>,
}

impl fabula::app::picker::FilePicker for TestPicker {
    fn open_file(&self, _: &str, folder: &std::path::Path) -> Option<std::path::PathBuf> {
        self.opened_in.lock().expect("lock").push(folder.to_owned());
        Some(self.answer.clone())
    }
    fn save_file(
        &self,
        _: &str,
        folder: &std::path::Path,
        name: &str,
    ) -> Option<std::path::PathBuf> {
        self.opened_in.lock().expect("lock").push(folder.to_owned());
        Some(folder.join(name))
    }
}

#[test]
fn browse_picks_the_file_and_the_next_dialog_opens_where_the_last_one_did() {
    let data = TempData::new();
    let picker = Arc::new(TestPicker {
        answer: FIXTURE.into(),
        opened_in: std::sync::Mutex::new(Vec::new()),
    });
    let app = FabulaApp::new(
        data.paths.clone(),
        fabula::storage::Store::open(&data.paths.database()),
        fabula::app::Launch::default(),
    )
    .with_file_picker(picker.clone());
    let mut h = common::harness_for(app);
    click(&mut h, "Import…");
    click(&mut h, "Browse…");
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.query_all_by_value(FIXTURE).next().is_none() {
        assert!(
            Instant::now() < deadline,
            "the picked file never filled the dialog"
        );
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    click(&mut h, "Import");
    wait_idle(&mut h);
    wait_for_text(&mut h, "The Lantern Keeper");

    // The export dialog's Browse… opens in the folder the import was picked from.
    click(&mut h, "The Lantern Keeper");
    click(&mut h, "Export…");
    click(&mut h, "Browse…");
    let fixtures = std::path::Path::new(FIXTURE)
        .parent()
        .expect("folder")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while picker.opened_in.lock().expect("lock").len() < 2 {
        assert!(Instant::now() < deadline, "the second dialog never opened");
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    assert_eq!(picker.opened_in.lock().expect("lock")[1], fixtures);
}
