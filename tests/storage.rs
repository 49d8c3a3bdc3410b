//! Storage on real SQLite files: migrate, reopen, transactions, trash, damaged and newer databases, backups.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::TempData;
use fabula::domain::{EntryKind, NewStory};
use fabula::storage::{Store, StoreError, list_backups, restore_database};

fn story(store: &Store, title: &str) -> fabula::domain::StoryId {
    store
        .create_story(&NewStory {
            title: title.into(),
            ..Default::default()
        })
        .expect("create story")
        .id
}

#[test]
fn a_fresh_database_is_migrated_private_and_in_wal_mode() {
    let data = TempData::new();
    let store = data.open();
    assert!(store.list_stories().expect("list").is_empty());
    let conn = rusqlite::Connection::open(data.paths.database()).expect("raw open");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row(
            "SELECT MAX(version) FROM refinery_schema_history",
            [],
            |r| r.get(0),
        )
        .expect("migrated");
    assert_eq!(version, fabula::storage::latest_schema_version());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.paths.database())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner may read the stories");
    }
}

#[test]
fn reopening_keeps_stories_entries_and_counts() {
    let data = TempData::new();
    let id = {
        let store = data.open();
        let id = story(&store, "Keeper");
        store
            .append_entry(&id, EntryKind::UserAction, "I climb the stairs.")
            .expect("append");
        store
            .append_entry(
                &id,
                EntryKind::Narration,
                "The lamp room is cold and bright.",
            )
            .expect("append");
        id
    };
    let store = data.open();
    let summary = store.story_summary(&id).expect("summary");
    assert_eq!(summary.story.title, "Keeper");
    assert_eq!(summary.entry_count, 2);
    assert_eq!(summary.word_count, 4 + 7);
    let rows = store.entry_rows(&id).expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].kind, EntryKind::Narration);
    let texts: Vec<String> = store
        .entries_by_ids(&[&rows[0].id, &rows[1].id])
        .expect("entries")
        .into_iter()
        .map(|e| e.content)
        .collect();
    assert!(texts.contains(&"I climb the stairs.".to_owned()));
    let second = store.entry(&rows[1].id).expect("entry");
    assert_eq!(second.position, 1, "appends go to the end");
}

#[test]
fn a_failed_transaction_leaves_nothing_behind() {
    let data = TempData::new();
    let mut store = data.open();
    let id = story(&store, "Half written");
    // A trigger of the test's own makes SQLite itself reject the third row.
    let conn = rusqlite::Connection::open(data.paths.database()).expect("raw");
    conn.execute_batch(
        "CREATE TRIGGER poison BEFORE INSERT ON entries WHEN NEW.content = 'poison'
         BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;",
    )
    .expect("trigger");
    drop(conn);
    let batch = [
        (EntryKind::Narration, "one"),
        (EntryKind::Narration, "two"),
        (EntryKind::Narration, "poison"),
        (EntryKind::Narration, "four"),
    ];
    let err = store
        .append_entries(&id, batch)
        .expect_err("the batch must fail");
    assert!(err.to_string().contains("poisoned"), "{err}");
    assert!(
        store.entry_rows(&id).expect("rows").is_empty(),
        "no row of the batch stays"
    );
    assert_eq!(store.story_summary(&id).expect("summary").entry_count, 0);
}

#[test]
fn trash_and_restore_stories_and_entries() {
    let data = TempData::new();
    let mut store = data.open();
    let id = story(&store, "Tides");
    let kept = store
        .append_entry(&id, EntryKind::Narration, "kept")
        .expect("append");
    let gone = store
        .append_entry(&id, EntryKind::Narration, "gone for a while")
        .expect("append");

    store.trash_entry(&gone.id).expect("trash entry");
    assert_eq!(store.entry_rows(&id).expect("rows").len(), 1);
    assert_eq!(store.story_summary(&id).expect("s").entry_count, 1);
    assert_eq!(
        store.trashed_entries().expect("trash")[0].entry.content,
        "gone for a while"
    );
    store.restore_entry(&gone.id).expect("restore entry");
    let rows = store.entry_rows(&id).expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[1].id, gone.id,
        "a restored entry returns to its old place"
    );
    assert_eq!(rows[0].id, kept.id);

    store.trash_story(&id).expect("trash story");
    assert!(store.list_stories().expect("list").is_empty());
    assert_eq!(store.trashed_stories().expect("trash").len(), 1);
    assert!(
        matches!(store.trash_story(&id), Err(StoreError::NotFound(_))),
        "trashing twice is reported, not silently accepted"
    );
    store.restore_story(&id).expect("restore story");
    assert_eq!(store.list_stories().expect("list").len(), 1);

    assert!(
        store.delete_story_forever(&id).is_err(),
        "a story outside the Trash cannot be deleted for good"
    );
    store.trash_story(&id).expect("trash");
    store.empty_trash().expect("empty");
    assert!(store.trashed_stories().expect("trash").is_empty());
    assert!(
        store.entry_rows(&id).expect("rows").is_empty(),
        "entries went with the story"
    );
}

#[test]
fn duplicate_copies_every_live_entry_under_new_ids() {
    let data = TempData::new();
    let mut store = data.open();
    let id = story(&store, "Original");
    store
        .append_entry(&id, EntryKind::UserAction, "a")
        .expect("append");
    store
        .append_entry(&id, EntryKind::Narration, "b c")
        .expect("append");
    let copy = store.duplicate_story(&id).expect("duplicate");
    assert_eq!(copy.title, "Original (copy)");
    let original_rows = store.entry_rows(&id).expect("rows");
    let copy_rows = store.entry_rows(&copy.id).expect("rows");
    assert_eq!(copy_rows.len(), 2);
    assert_ne!(copy_rows[0].id, original_rows[0].id);
    assert_eq!(store.story_summary(&copy.id).expect("s").word_count, 3);
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let data = TempData::new();
    let garbage = b"these are my notes, not a database\n".repeat(100);
    std::fs::write(data.paths.database(), &garbage).expect("write");
    let err = Store::open(&data.paths.database()).expect_err("must refuse");
    assert!(err.is_damaged_database(), "{err}");
    assert!(err.to_string().contains("not a Fabula database"), "{err}");
    assert_eq!(std::fs::read(data.paths.database()).expect("read"), garbage);
}

#[test]
fn a_corrupted_database_is_refused_and_left_untouched() {
    let data = TempData::new();
    {
        let store = data.open();
        let id = story(&store, "Soon damaged");
        let text = "x".repeat(3000);
        for _ in 0..200 {
            store
                .append_entry(&id, EntryKind::Narration, &text)
                .expect("append");
        }
    }
    // Overwrite a stretch of pages in the middle of the file, keeping the header valid.
    let mut bytes = std::fs::read(data.paths.database()).expect("read");
    assert!(bytes.len() > 64 * 1024);
    for b in &mut bytes[40 * 1024..56 * 1024] {
        *b = 0xA5;
    }
    std::fs::write(data.paths.database(), &bytes).expect("write");
    // Opening reads only the header and the schema, so it costs the same for any size; the whole-file
    // check (run on a job after the window is up, and before every daily backup) finds the damage.
    let store = Store::open(&data.paths.database()).expect("opening checks only the header");
    let err = store.integrity_check().expect_err("must find the damage");
    assert!(err.is_damaged_database(), "{err}");
    let err = store
        .auto_backup_if_due(&data.paths)
        .expect_err("no backup of a damaged file");
    assert!(err.is_damaged_database(), "{err}");
    drop(store);
    assert!(
        list_backups(&data.paths.backups())
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        std::fs::read(data.paths.database()).expect("read"),
        bytes,
        "never overwritten"
    );
}

#[test]
fn a_database_from_a_newer_version_is_refused_without_changes() {
    let data = TempData::new();
    drop(data.open());
    let conn = rusqlite::Connection::open(data.paths.database()).expect("raw");
    conn.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (999, 'future', '2030-01-01', '0')",
        [],
    )
    .expect("pretend newer");
    drop(conn);
    let before = std::fs::read(data.paths.database()).expect("read");
    let err = Store::open(&data.paths.database()).expect_err("must refuse");
    assert!(
        matches!(err, StoreError::NewerSchema { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer version of Fabula"));
    assert_eq!(std::fs::read(data.paths.database()).expect("read"), before);
}

#[test]
fn backups_are_consistent_copies_and_restore_swaps_them_in() {
    let data = TempData::new();
    let store = data.open();
    let id = story(&store, "Before backup");
    store
        .append_entry(&id, EntryKind::Narration, "safe text")
        .expect("append");
    let backup = store.create_backup(&data.paths, "-manual").expect("backup");
    store.rename_story(&id, "After backup").expect("rename");
    assert_eq!(list_backups(&data.paths.backups()).expect("list").len(), 1);

    // A second start on the same day makes no second automatic backup... after the first.
    assert!(
        store
            .auto_backup_if_due(&data.paths)
            .expect("auto")
            .is_none(),
        "a backup exists from today"
    );
    drop(store);

    restore_database(&data.paths, &backup.path).expect("restore");
    let store = data.open();
    let stories = store.list_stories().expect("list");
    assert_eq!(stories[0].story.title, "Before backup");
    assert_eq!(stories[0].entry_count, 1);
}

#[test]
fn restoring_a_broken_backup_changes_nothing() {
    let data = TempData::new();
    let store = data.open();
    story(&store, "Precious");
    drop(store);
    let bogus = data.dir.path().join("fabula-bogus.sqlite3");
    std::fs::write(&bogus, b"not a database at all, just text padding it out").expect("write");
    assert!(restore_database(&data.paths, &bogus).is_err());
    assert_eq!(
        data.open().list_stories().expect("list")[0].story.title,
        "Precious"
    );
}

#[test]
fn automatic_backups_keep_the_last_ten() {
    let data = TempData::new();
    let store = data.open();
    story(&store, "Counted");
    std::fs::create_dir_all(data.paths.backups()).expect("dir");
    for day in 1..=12 {
        let name = format!("fabula-2026-01-{day:02}T00-00-00.000Z.sqlite3");
        std::fs::write(data.paths.backups().join(name), b"old").expect("write");
        // Old enough that a new automatic backup is due.
        let f = std::fs::File::options()
            .write(true)
            .open(
                data.paths
                    .backups()
                    .join(format!("fabula-2026-01-{day:02}T00-00-00.000Z.sqlite3")),
            )
            .expect("open");
        f.set_modified(
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400 * day),
        )
        .expect("mtime");
    }
    let manual = data
        .paths
        .backups()
        .join("fabula-2025-01-01T00-00-00.000Z-manual.sqlite3");
    std::fs::write(&manual, b"manual").expect("write");
    let made = store
        .auto_backup_if_due(&data.paths)
        .expect("auto")
        .expect("due");
    let names: Vec<String> = list_backups(&data.paths.backups())
        .expect("list")
        .iter()
        .map(|b| b.file_name())
        .collect();
    assert_eq!(
        names.len(),
        11,
        "ten automatic plus the manual one: {names:?}"
    );
    assert!(names.contains(&made.file_name()), "the new one is kept");
    assert!(manual.exists(), "manual backups are never pruned");
    assert!(
        !names.iter().any(|n| n.contains("2026-01-01")
            || n.contains("2026-01-02")
            || n.contains("2026-01-03"))
    );
}

#[test]
fn settings_round_trip() {
    let data = TempData::new();
    let store = data.open();
    assert_eq!(store.setting("ui.theme").expect("read"), None);
    store.set_setting("ui.theme", "light").expect("write");
    store.set_setting("ui.theme", "dark").expect("overwrite");
    drop(store);
    assert_eq!(
        data.open().setting("ui.theme").expect("read").as_deref(),
        Some("dark")
    );
}

#[test]
fn a_key_moved_to_the_keyring_leaves_no_copy_in_the_database_file() {
    use fabula::domain::{ApiProfile, ProfileSource, Secret};
    let data = TempData::new();
    let key = Secret::new("sk-moved-away-90210");
    {
        let store = data.open();
        let profile = ApiProfile {
            id: "p1".into(),
            name: "Cloud".into(),
            preset: "openai".into(),
            base_url: String::new(),
            api_key: Some(key.clone()),
            default_model: String::new(),
            custom_models: Vec::new(),
            favourite_models: Vec::new(),
            key_in_keyring: false,
            source: ProfileSource::Stored,
        };
        store.save_profile(&profile).expect("save");
        // Pushed into the main file first, as a long-used library would have it.
        store.checkpoint();
        // An edit since the key was read wins: nothing is removed then.
        assert!(
            !store
                .key_moved_to_keyring("p1", &Secret::new("another key"))
                .expect("stale move")
        );
        assert!(store.key_moved_to_keyring("p1", &key).expect("move"));
        let listed = store.list_profiles().expect("profiles");
        assert!(listed[0].key_in_keyring && listed[0].api_key.is_none());
    }
    let bytes = std::fs::read(data.paths.database()).expect("database file");
    let needle = key.expose().as_bytes();
    assert!(
        !bytes.windows(needle.len()).any(|w| w == needle),
        "the key's bytes are still in the file"
    );
}

#[test]
fn a_backup_tells_how_far_it_is() {
    let data = TempData::new();
    let mut store = data.open();
    // Over 1,024 pages (what one step copies), so more than one step.
    fabula::cli::seed(&mut store, 15_000, Some("Long")).expect("seed");
    let mut seen = Vec::new();
    let made = store
        .create_backup_showing(&data.paths, "", &mut |done, total| seen.push((done, total)))
        .expect("backup");
    assert!(seen.len() >= 2, "told more than once: {seen:?}");
    let (done, total) = *seen.last().expect("told");
    assert_eq!(done, total, "ends at the whole file");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
    // Pages of 4 KiB: the copy is that size.
    let size = std::fs::metadata(&made.path).expect("backup").len();
    assert_eq!(size, total * 4096);
}

/// A first launch killed after the migration runner made its history table and before the first
/// migration committed leaves that table alone and empty: the next launch carries on.
#[test]
fn a_first_launch_killed_before_its_migrations_committed_opens_next_time() {
    let data = TempData::new();
    let path = data.paths.database();
    {
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        conn.execute_batch(
            "CREATE TABLE refinery_schema_history (version INT4 PRIMARY KEY, name VARCHAR(255),
                 applied_on VARCHAR(255), checksum VARCHAR(255));",
        )
        .expect("history table");
    }
    let store = Store::open(&path).expect("it is Fabula's, still new");
    story(&store, "After the crash");
    assert_eq!(store.list_stories().expect("stories").len(), 1);
    // One with rows in its history and nothing else is not taken for Fabula's.
    let other = data.dir.path().join("other.sqlite3");
    {
        let conn = rusqlite::Connection::open(&other).expect("sqlite");
        conn.execute_batch(
            "CREATE TABLE refinery_schema_history (version INT4 PRIMARY KEY, name VARCHAR(255),
                 applied_on VARCHAR(255), checksum VARCHAR(255));
             INSERT INTO refinery_schema_history VALUES (1, 'theirs', 'now', '1');",
        )
        .expect("their history");
    }
    assert!(matches!(
        Store::open(&other),
        Err(StoreError::Foreign { .. })
    ));
}
