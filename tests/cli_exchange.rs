//! `fabula import` and `fabula export` through the real binary.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{fabula_cmd as fabula, run_cmd as run};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/original-1.7.avt"
);

#[test]
fn import_export_and_conflicts_from_the_command_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let (code, out, err) = run(fabula(&data).args(["import", FIXTURE]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41");
    assert!(
        err.contains("Imported “The Lantern Keeper” (3 entries)."),
        "{err}"
    );

    let (code, _, err) = run(fabula(&data).args(["import", FIXTURE]));
    assert_eq!(code, 1);
    assert!(
        err.contains("already in Fabula") && err.contains("--on-conflict"),
        "{err}"
    );
    let (code, out, err) =
        run(fabula(&data).args(["import", FIXTURE, "--on-conflict", "keep-both"]));
    assert_eq!(code, 0, "{err}");
    assert_ne!(out.trim(), "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41");

    let avt = tmp.path().join("out.avt");
    let (code, out, err) = run(fabula(&data).args([
        "export",
        "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41",
        "-o",
        avt.to_str().expect("utf-8"),
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), avt.display().to_string());
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&avt).expect("written")).expect("json");
    assert_eq!(written["version"], "1.8.0");
    assert_eq!(written["entries"].as_array().map(Vec::len), Some(3));

    // An existing file is left alone unless --force says to replace it.
    std::fs::write(&avt, "keep me").expect("write");
    let again = |force: bool| {
        let mut args = vec![
            "export",
            "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41",
            "-o",
            avt.to_str().expect("utf-8"),
        ];
        if force {
            args.push("--force");
        }
        run(fabula(&data).args(args))
    };
    let (code, _, err) = again(false);
    assert_eq!(code, 1);
    assert!(err.contains("exists already; pass --force"), "{err}");
    assert_eq!(std::fs::read_to_string(&avt).expect("read"), "keep me");
    let (code, _, err) = again(true);
    assert_eq!(code, 0, "{err}");
    assert_ne!(std::fs::read_to_string(&avt).expect("read"), "keep me");

    let md = tmp.path().join("out.md");
    let (code, _, err) = run(fabula(&data).args([
        "export",
        "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41",
        "--format",
        "md",
        "--lore",
        "-o",
        md.to_str().expect("utf-8"),
    ]));
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&md).expect("md");
    assert!(text.starts_with("# The Lantern Keeper"));
    assert!(text.contains("## Lorebook"));

    // A cut-off file: a clear message, nothing added, no half story.
    let cut = tmp.path().join("cut.avt");
    let full = std::fs::read(FIXTURE).expect("fixture");
    std::fs::write(&cut, &full[..full.len() / 3]).expect("write");
    let (code, _, err) = run(fabula(&data).args(["import", cut.to_str().expect("utf-8")]));
    assert_eq!(code, 1);
    assert!(err.contains("ends too early"), "{err}");
    let (_, list, _) = run(fabula(&data).args(["list"]));
    assert_eq!(list.lines().count(), 2, "{list}");

    let (code, _, err) = run(fabula(&data).args(["export", "no-such-story"]));
    assert_eq!(code, 1);
    assert!(err.contains("Story no-such-story was not found"), "{err}");

    // A folder that is not there: what was being done, which file, then why, on one line.
    let nowhere = tmp.path().join("no-such-folder").join("out.avt");
    let (code, _, err) = run(fabula(&data).args([
        "export",
        "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41",
        "-o",
        nowhere.to_str().expect("utf-8"),
    ]));
    assert_eq!(code, 1);
    let line = err.trim();
    assert!(
        line.starts_with(&format!(
            "fabula: {} could not be written: ",
            nowhere.display()
        )) && line.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn an_import_killed_half_way_leaves_all_or_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let source = tmp.path().join("source");
    let (code, out, err) = run(fabula(&source).args(["dev", "seed", "--entries", "20000"]));
    assert_eq!(code, 0, "{err}");
    let file = tmp.path().join("big.avt");
    let (code, _, err) =
        run(fabula(&source).args(["export", out.trim(), "-o", file.to_str().expect("utf-8")]));
    assert_eq!(code, 0, "{err}");
    for (i, delay_ms) in [50u64, 200, 400, 800, 1500].into_iter().enumerate() {
        let target = tmp.path().join(format!("target-{i}"));
        let mut child = fabula(&target)
            .args(["import", file.to_str().expect("utf-8")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("import");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let (code, list, err) = run(fabula(&target).args(["list"]));
        assert_eq!(code, 0, "{err}");
        let stories: Vec<&str> = list.lines().filter(|l| l.contains('\t')).collect();
        assert!(
            stories.is_empty() || (stories.len() == 1 && stories[0].contains("\t20000 entries\t")),
            "killed after {delay_ms} ms: {list}"
        );
    }
}

/// A narration's alternatives (‹ 2/3 ›), reasoning and the story's unfinished draft travel in an
/// `.avt` file between two Fabula libraries, in keys the original app ignores; the file still
/// reads as a story file.
#[test]
fn alternatives_reasoning_and_drafts_survive_export_and_import() {
    let tmp = tempfile::tempdir().expect("tmp");
    let source = tmp.path().join("source");
    let (code, out, err) = run(fabula(&source).args(["dev", "seed", "--entries", "4"]));
    assert_eq!(code, 0, "{err}");
    let story = fabula::domain::StoryId::from(out.trim());
    let narration = {
        let paths = fabula::storage::DataPaths {
            dir: source.clone(),
        };
        let mut store = fabula::storage::Store::open(&paths.database()).expect("store");
        let rows = store.entry_rows(&story).expect("rows");
        let narration = rows[1].id.clone();
        store
            .add_alternative(&narration, "The second telling.", "thought about it", false)
            .expect("alternative");
        store
            .add_alternative(&narration, "The third telling.", "", false)
            .expect("alternative");
        store.select_alternative(&narration, 2).expect("select");
        store
            .save_draft(&fabula::domain::Draft {
                story_id: story.clone(),
                target: Some(narration.clone()),
                content: "A fourth telling, stopped half".into(),
                reasoning: "maybe darker".into(),
                state: fabula::domain::DraftState::Cancelled,
                error: None,
                model: Some("smol-135m".into()),
                started_at: 1_700_000_000_000,
                updated_at: 1_700_000_001_000,
            })
            .expect("draft");
        narration
    };
    let file = tmp.path().join("travels.avt");
    let (code, _, err) = run(fabula(&source).args([
        "export",
        story.as_str(),
        "-o",
        file.to_str().expect("utf-8"),
    ]));
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&file).expect("file");
    assert!(
        text.contains("\"fabulaAlternatives\""),
        "carried in the file"
    );
    // Still a story file as the original reads it: the extra keys are unknown keys of an entry.
    let read = fabula::formats::avt::read(text.as_bytes()).expect("reads");
    assert_eq!(read.entries[1].content, "The second telling.");

    let target = tmp.path().join("target");
    let (code, _, err) = run(fabula(&target).args(["import", file.to_str().expect("utf-8")]));
    assert_eq!(code, 0, "{err}");
    let paths = fabula::storage::DataPaths { dir: target };
    let store = fabula::storage::Store::open(&paths.database()).expect("store");
    let entry = store
        .entry(&narration)
        .expect("the narration, under its own id");
    assert_eq!(entry.content, "The second telling.");
    let pos = entry.alternative.expect("alternatives came along");
    assert_eq!((pos.index, pos.count), (2, 3));
    assert_eq!(entry.reasoning, "thought about it");
    let draft = store
        .draft(&story)
        .expect("draft")
        .expect("the draft came along");
    assert_eq!(draft.content, "A fourth telling, stopped half");
    assert_eq!(draft.reasoning, "maybe darker");
    assert_eq!(
        draft.target.as_ref(),
        Some(&narration),
        "still for the same narration"
    );
    assert_eq!(draft.state, fabula::domain::DraftState::Cancelled);
    assert_eq!(draft.updated_at, 1_700_000_001_000);
    // Exported again, the same alternatives go out: the keys did not pile up in the entry.
    let again = tmp.path().join("again.avt");
    let (code, _, err) = run(fabula(&paths.dir).args([
        "export",
        story.as_str(),
        "-o",
        again.to_str().expect("utf-8"),
    ]));
    assert_eq!(code, 0, "{err}");
    let again = std::fs::read_to_string(&again).expect("file");
    assert_eq!(again.matches("\"fabulaAlternatives\"").count(), 1);
    assert_eq!(again.matches("The third telling.").count(), 1);
    assert_eq!(
        again.matches("\"fabulaDraft\"").count(),
        1,
        "the draft went out once and did not stay in the story's unknown keys"
    );
}
