//! The real `fabula` binary: subcommands, exit codes and messages on bad input.

use std::process::Command;

fn fabula(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fabula"));
    cmd.env("FABULA_DATA_DIR", data).env_remove("RUST_LOG");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run fabula");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn seed_list_and_backup() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let (code, out, err) = run(fabula(&data).args(["list"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("No stories yet."));

    let (code, id, err) =
        run(fabula(&data).args(["dev", "seed", "--entries", "250", "--title", "Seeded tale"]));
    assert_eq!(code, 0, "{err}");
    let id = id.trim().to_owned();
    assert_eq!(id.len(), 36, "prints the new story's id: {id}");

    let (code, out, _) = run(fabula(&data).args(["list"]));
    assert_eq!(code, 0);
    assert!(
        out.contains(&id) && out.contains("Seeded tale") && out.contains("250 entries"),
        "{out}"
    );

    let (code, out, err) = run(fabula(&data).args(["backup"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Backup written to"), "{out}");
    let backups: Vec<_> = std::fs::read_dir(data.join("backups"))
        .expect("dir")
        .collect();
    assert_eq!(backups.len(), 1);

    let target = tmp.path().join("copy.sqlite3");
    let (code, _, err) = run(fabula(&data).args(["backup", "--to"]).arg(&target));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(Command::new(env!("CARGO_BIN_EXE_fabula"))
        .arg("--data-dir")
        .arg(tmp.path().join("other"))
        .arg("list"));
    assert_eq!(code, 0);
    assert!(
        out.contains("No stories yet."),
        "--data-dir points elsewhere"
    );
    std::fs::create_dir_all(tmp.path().join("restored")).expect("dir");
    std::fs::copy(&target, tmp.path().join("restored/fabula.sqlite3")).expect("copy");
    let (_, out, _) = run(fabula(&tmp.path().join("restored")).args(["list"]));
    assert!(
        out.contains("Seeded tale"),
        "the --to copy is a usable database: {out}"
    );

    let (code, _, err) = run(fabula(&data).args(["backup", "--to"]).arg(&target));
    assert_ne!(code, 0, "an existing file is never overwritten");
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn bad_arguments_are_refused_with_usage() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (code, _, err) = run(fabula(tmp.path()).args(["frobnicate"]));
    assert_eq!(code, 2);
    assert!(err.contains("Usage"), "{err}");
    let (code, _, err) = run(fabula(tmp.path()).args(["dev", "seed", "--entries", "many"]));
    assert_eq!(code, 2);
    assert!(err.contains("invalid value"), "{err}");
}

#[test]
fn a_damaged_database_is_reported_and_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("fabula.sqlite3"), b"definitely not sqlite").expect("write");
    let (code, _, err) = run(fabula(tmp.path()).args(["list"]));
    assert_eq!(code, 1);
    assert!(err.contains("not a Fabula database"), "{err}");
    assert_eq!(
        std::fs::read(tmp.path().join("fabula.sqlite3")).expect("read"),
        b"definitely not sqlite"
    );
}

#[cfg(unix)]
#[test]
fn an_unwritable_data_folder_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tmp");
    let locked = tmp.path().join("locked");
    std::fs::create_dir(&locked).expect("dir");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).expect("chmod");
    // Root ignores permissions; the check only means something for ordinary users.
    if std::fs::write(locked.join("probe"), b"x").is_ok() {
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
        let file_in_place = tmp.path().join("a-file");
        std::fs::write(&file_in_place, b"x").expect("write");
        let (code, _, err) = run(fabula(&file_in_place.join("sub")).args(["list"]));
        assert_eq!(code, 1);
        assert!(err.contains("Cannot use"), "{err}");
        return;
    }
    let (code, _, err) = run(fabula(&locked.join("data")).args(["list"]));
    assert_eq!(code, 1);
    assert!(err.contains("Cannot use"), "{err}");
}

#[test]
fn a_locked_database_is_reported() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (code, _, _) = run(fabula(tmp.path()).args(["list"]));
    assert_eq!(code, 0);
    // Another process holds a write lock for longer than the busy timeout.
    let conn = rusqlite::Connection::open(tmp.path().join("fabula.sqlite3")).expect("open");
    conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
        .expect("lock");
    let (code, _, err) = run(fabula(tmp.path()).args(["dev", "seed", "--entries", "1"]));
    assert_eq!(code, 1);
    assert!(err.contains("locked"), "{err}");
    drop(conn);
}

/// `fabula world`: a place and an item added from the shell, the place made current, a quest
/// finished, printed as text and as the exchange format's JSON, one removed; a wrong status is a
/// sentence, not a panic.
#[test]
fn the_world_is_printed_and_edited_from_the_shell() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let (_, id, err) = run(fabula(&data).args(["dev", "seed", "--entries", "2"]));
    let id = id.trim().to_owned();
    assert!(!id.is_empty(), "{err}");
    let (code, place, err) = run(fabula(&data).args([
        "world",
        &id,
        "add",
        "place",
        "The gallery",
        "--current",
        "--description",
        "Wind-bitten.",
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) =
        run(fabula(&data).args(["world", &id, "add", "item", "Rope", "--quantity", "3"]));
    assert_eq!(code, 0, "{err}");
    let (code, quest, err) =
        run(fabula(&data).args(["world", &id, "add", "quest", "Relight the lamp"]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(fabula(&data).args([
        "world",
        &id,
        "edit",
        "quest",
        quest.trim(),
        "--status",
        "completed",
    ]));
    assert_eq!(code, 0, "{err}");

    let (code, out, _) = run(fabula(&data).args(["world", &id]));
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("place\t{}\tThe gallery\tcurrent", place.trim())),
        "{out}"
    );
    assert!(out.contains("\tRope\t×3\tinventory"), "{out}");
    assert!(out.contains("\tRelight the lamp\tcompleted"), "{out}");

    let (code, out, _) = run(fabula(&data).args(["world", &id, "--json"]));
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["locations"][0]["current"], true);
    assert_eq!(json["items"][0]["quantity"], 3);
    assert_eq!(json["storyBeats"][0]["status"], "completed");
    assert_eq!(json["locations"][0]["storyId"], id.as_str());

    let (code, _, err) = run(fabula(&data).args(["world", &id, "remove", "place", place.trim()]));
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(fabula(&data).args(["world", &id]));
    assert!(!out.contains("The gallery"), "{out}");

    let (code, _, err) = run(fabula(&data).args([
        "world",
        &id,
        "edit",
        "quest",
        quest.trim(),
        "--status",
        "abandoned",
    ]));
    assert_ne!(code, 0);
    assert!(
        err.contains("pending, active, completed or failed"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn search_prints_what_it_finds_and_exits_1_when_nothing_is() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let (_, id, err) =
        run(fabula(&data).args(["dev", "seed", "--entries", "6", "--title", "Moor"]));
    let id = id.trim().to_owned();
    assert!(!id.is_empty(), "{err}");
    let (code, out, err) = run(fabula(&data).args(["search", "lantern"]));
    assert_eq!(code, 0, "{err}");
    let first = out.lines().next().expect("a hit");
    assert!(first.starts_with("Moor\t"), "{out}");
    assert!(first.contains("[lantern]"), "the match marked: {out}");

    let (code, out, err) = run(fabula(&data).args(["search", "lantern", "--story", &id, "--json"]));
    assert_eq!(code, 0, "{err}");
    let hits: serde_json::Value = serde_json::from_str(&out).expect("json");
    let hits = hits.as_array().expect("array");
    assert!(!hits.is_empty());
    assert_eq!(hits[0]["storyId"], id.as_str());
    assert!(
        hits[0]["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("lantern"))
    );

    let (code, out, err) = run(fabula(&data).args(["search", "zanzibar"]));
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("Nothing found for “zanzibar”"), "{err}");
    let (code, _, err) = run(fabula(&data).args(["search", "lantern", "--story", "nope"]));
    assert_ne!(code, 0);
    assert!(!err.is_empty());
}

#[test]
fn chapters_are_printed_from_the_shell() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let (_, id, err) = run(fabula(&data).args(["dev", "seed", "--entries", "2"]));
    let id = id.trim().to_owned();
    assert!(!id.is_empty(), "{err}");
    let (code, out, err) = run(fabula(&data).args(["chapters", &id]));
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("no chapters yet"), "{err}");
    let (code, out, _) = run(fabula(&data).args(["chapters", &id, "--json"]));
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "[]");
    let (code, _, err) = run(fabula(&data).args(["chapters", "no-such-story"]));
    assert_ne!(code, 0);
    assert!(!err.is_empty());
}
