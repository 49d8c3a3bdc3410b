//! Fault trials through the real binary: a database locked by another program mid-stream, a draft
//! left by an earlier run, a read-only database, another program's SQLite file, a full disk,
//! entry ids another story holds, secrets at trace level, a provider answering with a web page.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{fabula_cmd as fabula, run_cmd as run};
use egui_kittest::kittest::Queryable;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::fake_llm::{FakeProvider, Reply, Step, wire};
use fabula::domain::{EntryKind, StoryId};
use fabula::storage::{DataPaths, Store};

fn database(data: &std::path::Path) -> std::path::PathBuf {
    DataPaths { dir: data.into() }.database()
}

fn new_story(data: &std::path::Path, base: Option<&str>) -> String {
    if let Some(base) = base {
        common::add_local_provider(data, base, Some("sk-test-secret-key-1234567890"));
    }
    let (code, out, err) = run(fabula(data).args(["story", "new", "--title", "Harbour"]));
    assert_eq!(code, 0, "{err}");
    out.trim().to_owned()
}

#[test]
fn a_write_lock_held_through_the_stream_neither_hangs_generate_nor_loses_the_narration() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pieces = wire::openai(&["The lock ", "held, ", "and then ", "let go."], 5, 4);
    let mut reply = Reply::stream("text/event-stream", &pieces);
    for at in [2, 4, 6] {
        reply = reply.then_at(at, Step::Sleep(Duration::from_millis(700)));
    }
    let server = FakeProvider::start(vec![reply]);
    let story = new_story(tmp.path(), Some(&server.base));
    let mut child = fabula(tmp.path())
        .args(["generate", &story, "waits"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut buf = [0u8; 64];
    let n = stdout.read(&mut buf).expect("first text");
    assert!(n > 0);
    // Another program takes the write lock for longer than the store's 5 s busy timeout.
    let other = rusqlite::Connection::open(database(tmp.path())).expect("other");
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    std::thread::sleep(Duration::from_secs(7));
    other.execute_batch("COMMIT").expect("unlock");
    let deadline = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "generate hung");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert!(status.success(), "{err}");
    let store = Store::open(&database(tmp.path())).expect("open");
    let id = StoryId::from(story.as_str());
    let rows = store.entry_rows(&id).expect("rows");
    let last = rows.last().expect("rows");
    assert_eq!(last.kind, EntryKind::Narration);
    assert_eq!(
        store.entry(&last.id).expect("entry").content,
        "The lock held, and then let go."
    );
    assert!(store.draft(&id).expect("draft").is_none());
}

#[test]
fn generate_never_drops_a_draft_from_an_earlier_run_without_being_told() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = FakeProvider::start(vec![
        Reply::stream("text/event-stream", &wire::openai(&["Fresh."], 1, 1)),
        Reply::stream("text/event-stream", &wire::openai(&["Again."], 1, 1)),
    ]);
    let story = new_story(tmp.path(), Some(&server.base));
    let id = StoryId::from(story.as_str());
    {
        let store = Store::open(&database(tmp.path())).expect("open");
        store
            .save_draft(&fabula::domain::Draft {
                story_id: id.clone(),
                target: None,
                content: "Half a sentence from the crash".into(),
                reasoning: String::new(),
                state: fabula::domain::DraftState::Streaming,
                error: None,
                model: None,
                started_at: 1,
                updated_at: 1,
            })
            .expect("draft");
    }
    let (code, _, err) = run(fabula(tmp.path()).args(["generate", &story, "looks"]));
    assert_ne!(code, 0);
    assert!(
        err.contains("--draft keep") && err.contains("--draft discard"),
        "{err}"
    );
    assert!(server.recorded().is_empty(), "nothing was asked");
    let store = Store::open(&database(tmp.path())).expect("open");
    assert!(store.draft(&id).expect("draft").is_some(), "kept");
    drop(store);

    let (code, out, err) =
        run(fabula(tmp.path()).args(["generate", &story, "--draft", "keep", "looks"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Fresh.\n");
    let store = Store::open(&database(tmp.path())).expect("open");
    let texts: Vec<String> = store
        .entry_rows(&id)
        .expect("rows")
        .iter()
        .map(|r| store.entry(&r.id).expect("entry").content)
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[0], "Half a sentence from the crash", "kept first");
    assert_eq!(texts[2], "Fresh.");
}

#[test]
fn another_programs_sqlite_file_is_refused_and_left_unchanged() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = database(tmp.path());
    {
        let conn = rusqlite::Connection::open(&db).expect("foreign");
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine');",
        )
        .expect("write");
    }
    let before = std::fs::read(&db).expect("read");
    let (code, _, err) = run(fabula(tmp.path()).arg("list"));
    assert_ne!(code, 0);
    assert!(
        err.contains("another program's SQLite database") && err.contains("notes"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&db).expect("read"),
        before,
        "not a byte changed"
    );

    // The original app's database is named as such, and pointed at Import.
    let fixture = std::path::Path::new("../shared/fixtures/interop/aventura/aventura.db");
    if fixture.exists() {
        std::fs::copy(fixture, &db).expect("copy");
        let before = std::fs::read(&db).expect("read");
        let err = Store::open(&db).expect_err("refused").to_string();
        assert!(err.contains("Aventura"), "{err}");
        assert_eq!(std::fs::read(&db).expect("read"), before);
    }

    // A new file and one of ours are marked, so the check costs a header read from then on.
    let ours = tempfile::tempdir().expect("tmp");
    drop(Store::open(&database(ours.path())).expect("new"));
    let conn = rusqlite::Connection::open(database(ours.path())).expect("raw");
    let id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .expect("id");
    assert_eq!(id, 0x4661_6275);
}

#[test]
fn a_backup_is_owner_only_and_on_a_read_only_database_ends_without_leftovers() {
    let tmp = tempfile::tempdir().expect("tmp");
    new_story(tmp.path(), None);
    let out = tmp.path().join("copy.sqlite3");
    let (code, _, err) = run(fabula(tmp.path()).args(["backup", "--to"]).arg(&out));
    assert_eq!(code, 0, "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a backup holds every stored key");
    }

    // A read-only database with the -wal and -shm of an earlier open, read by a user who cannot
    // write it (root writes anything, so as root the command runs as nobody).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let shared = tempfile::tempdir_in("/tmp").expect("tmp");
        let data = shared.path().join("data");
        std::fs::create_dir(&data).expect("dir");
        let src = rusqlite::Connection::open(database(tmp.path())).expect("open");
        src.execute_batch(
            "PRAGMA wal_autocheckpoint = 0; UPDATE stories SET title = 'In the WAL';",
        )
        .expect("write");
        for suffix in ["", "-wal", "-shm"] {
            let from = format!("{}{suffix}", database(tmp.path()).display());
            let to = format!("{}{suffix}", database(&data).display());
            std::fs::copy(&from, &to).expect("copy");
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o444)).expect("444");
        }
        drop(src);
        std::fs::create_dir(data.join("backups")).expect("backups");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).expect("555");
        let target = shared.path().join("out");
        std::fs::create_dir(&target).expect("out");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o777)).expect("777");
        std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o755))
            .expect("755");
        let binary = shared.path().join("fabula");
        std::fs::copy(env!("CARGO_BIN_EXE_fabula"), &binary).expect("binary");
        let is_root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let mut cmd = if is_root {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&binary);
            c
        } else {
            std::process::Command::new(&binary)
        };
        cmd.env("FABULA_DATA_DIR", &data)
            .env("HOME", shared.path())
            .env_remove("RUST_LOG")
            .args(["backup", "--to"])
            .arg(target.join("backup.sqlite3"));
        let started = Instant::now();
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("backup of a read-only database did not end");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("err")
            .read_to_string(&mut err)
            .expect("err");
        if !status.success() {
            assert!(
                err.contains("read-only") || err.contains("locked"),
                "a clear message: {err}"
            );
        }
        let left: Vec<String> = std::fs::read_dir(&target)
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "backup.sqlite3")
            .collect();
        assert!(left.is_empty(), "no partial files: {left:?}");
        assert!(!data.join(".write-test").exists());
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("755");
    }
}

#[test]
fn entry_ids_held_by_another_story_are_renumbered_on_keep_both() {
    let tmp = tempfile::tempdir().expect("tmp");
    let story = new_story(tmp.path(), None);
    let store = Store::open(&database(tmp.path())).expect("open");
    store
        .append_entry(
            &StoryId::from(story.as_str()),
            EntryKind::Narration,
            "Shared ids",
        )
        .expect("append");
    drop(store);
    let file = tmp.path().join("story.avt");
    let (code, _, err) = run(fabula(tmp.path()).args(["export", &story, "-o"]).arg(&file));
    assert_eq!(code, 0, "{err}");
    // The same entries under another story id: a copy made elsewhere from the same file.
    let text = std::fs::read_to_string(&file)
        .expect("read")
        .replace(&story, "0f0f0f0f-1111-4222-8333-444444444444");
    std::fs::write(&file, text).expect("write");
    let (code, _, err) = run(fabula(tmp.path()).arg("import").arg(&file));
    assert_ne!(code, 0);
    assert!(
        !err.contains("UNIQUE"),
        "a sentence, not SQLite's words: {err}"
    );
    assert!(
        err.contains("Harbour"),
        "names the story holding them: {err}"
    );
    let (code, out, err) = run(fabula(tmp.path())
        .arg("import")
        .arg(&file)
        .args(["--on-conflict", "keep-both"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("0f0f0f0f-1111-4222-8333-444444444444"),
        "{out}"
    );
    let store = Store::open(&database(tmp.path())).expect("open");
    assert_eq!(store.list_stories().expect("list").len(), 2);
}

#[test]
fn no_log_level_shows_the_api_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = FakeProvider::start(vec![
        Reply::json(
            200,
            r#"{"object":"list","data":[{"id":"tiny","object":"model"}]}"#,
        ),
        Reply::stream("text/event-stream", &wire::openai(&["Hi."], 1, 1)),
    ]);
    new_story(tmp.path(), Some(&server.base));
    let (code, out, err) = run(fabula(tmp.path()).env("RUST_LOG", "trace").args([
        "provider",
        "check",
        "--profile",
        "Local",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(!server.recorded().is_empty());
    for text in [&out, &err] {
        assert!(!text.contains("sk-test-secret-key-1234567890"), "{text}");
        assert!(!text.contains("1234567890"), "{text}");
    }
}

#[test]
fn a_web_page_from_the_provider_is_an_unreadable_reply_and_not_retried() {
    let tmp = tempfile::tempdir().expect("tmp");
    let page = "<!DOCTYPE html><html><body>Please log in to the hotel Wi-Fi</body></html>";
    let server = FakeProvider::start(vec![
        Reply::json(200, page).header("Content-Type", "text/html"),
        Reply::json(200, page).header("Content-Type", "text/html"),
    ]);
    let story = new_story(tmp.path(), Some(&server.base));
    let (code, _, err) = run(fabula(tmp.path()).args(["generate", &story, "looks"]));
    assert_eq!(code, 28, "{err}");
    assert!(
        err.contains("hotel Wi-Fi") && !err.contains("Could not reach"),
        "{err}"
    );
    assert!(err.contains("No text arrived"), "{err}");
    assert_eq!(server.recorded().len(), 1, "not retried");

    // Garbage in an event stream's clothes is the same.
    let server = FakeProvider::start(vec![Reply::stream(
        "text/event-stream",
        &["\u{1}\u{2}garbage bytes\n\n".to_owned()],
    )]);
    let tmp = tempfile::tempdir().expect("tmp");
    let story = new_story(tmp.path(), Some(&server.base));
    let (code, _, err) = run(fabula(tmp.path()).args(["generate", &story, "looks"]));
    assert_eq!(code, 28, "{err}");
    assert_eq!(server.recorded().len(), 1, "not retried");
}

/// A small tmpfs of its own, unmounted on drop; `None` where mounting is not allowed (not root).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .ok()?
            .success();
        mounted.then_some(Self { dir })
    }

    /// Writes until the disk says it is full.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.dir.path().join("filler")).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn on_a_full_disk_reading_and_copying_out_still_work() {
    let Some(disk) = SmallDisk::mount("8m") else {
        eprintln!("skipped: no tmpfs can be mounted here (needs root)");
        return;
    };
    let data = disk.dir.path().join("data");
    let story = new_story(&data, None);
    {
        let store = Store::open(&database(&data)).expect("open");
        for i in 0..50 {
            store
                .append_entry(
                    &StoryId::from(story.as_str()),
                    EntryKind::Narration,
                    &format!("Entry {i} of a story on a small disk."),
                )
                .expect("append");
        }
    }
    disk.fill();
    let elsewhere = tempfile::tempdir().expect("other disk");

    let (code, out, err) = run(fabula(&data).arg("list"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Harbour"), "{out}");
    let file = elsewhere.path().join("story.avt");
    let (code, _, err) = run(fabula(&data).args(["export", &story, "-o"]).arg(&file));
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(&file)
            .expect("exported")
            .contains("Entry 49")
    );
    let copy = elsewhere.path().join("backup.sqlite3");
    let (code, _, err) = run(fabula(&data).args(["backup", "--to"]).arg(&copy));
    assert_eq!(code, 0, "{err}");
    let restored = Store::open(&copy).expect("the backup opens");
    assert_eq!(restored.list_stories().expect("list").len(), 1);

    let (code, _, err) = run(fabula(&data).args(["story", "new", "--title", "No room"]));
    assert_ne!(code, 0);
    assert!(err.contains("full"), "says the disk is full: {err}");
}

#[test]
fn sync_serve_started_in_the_background_stops_on_sigint() {
    let tmp = tempfile::tempdir().expect("tmp");
    new_story(tmp.path(), None);
    // A shell starts a background job with SIGINT ignored; `sh -c '… &'` reproduces that.
    let script = format!(
        "{} sync serve --bind 127.0.0.1 --port 0 > {out} 2>&1 & echo $!",
        env!("CARGO_BIN_EXE_fabula"),
        out = tmp.path().join("serve.log").display()
    );
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("FABULA_DATA_DIR", tmp.path())
        .output()
        .expect("sh");
    let pid = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let log = tmp.path().join("serve.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("until Ctrl+C")
    {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let alive = || {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive() {
        assert!(Instant::now() < deadline, "still serving after SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        std::fs::read_to_string(&log)
            .expect("log")
            .contains("Stopped"),
        "a clean stop"
    );
}

#[test]
fn on_a_full_disk_the_window_opens_read_only_and_says_so() {
    let Some(disk) = SmallDisk::mount("8m") else {
        eprintln!("skipped: no tmpfs can be mounted here (needs root)");
        return;
    };
    let data = disk.dir.path().join("data");
    new_story(&data, None);
    disk.fill();
    let paths = DataPaths { dir: data.clone() };
    let store = Store::open_for_reading(&paths.database()).expect("opens to read");
    assert!(store.is_read_only());
    let app = fabula::app::FabulaApp::new(paths, Ok(store), fabula::app::Launch::default());
    let harness = common::harness_for(app);
    assert!(
        common::has_label(&harness, "Harbour"),
        "the library is shown"
    );
    assert!(
        harness
            .query_by_label_contains("Your library is open read-only")
            .is_some()
    );
}
