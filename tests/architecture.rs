//! Checks the layering rules from README "Architecture" by reading the source: a rule broken here
//! would otherwise only show up as a slow UI or a tangled module much later.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Code lines only: comments would otherwise trip the check by explaining the rule.
fn code_of(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("read source")
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with("//") || t.starts_with("///") || t.starts_with("//!"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn src(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub)
}

fn violations(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(&src(dir)) {
        let code = code_of(&file);
        for word in forbidden {
            if code.contains(word) {
                found.push(format!("{} names `{word}`", file.display()));
            }
        }
    }
    found
}

#[test]
fn ui_reads_state_and_pushes_actions_only() {
    let bad = violations(
        "ui",
        &[
            "rusqlite",
            "ureq",
            "tiny_http",
            "std::fs",
            "std::thread",
            "crate::storage::Store",
            "storage::Store",
            "refinery",
            "crate::jobs",
        ],
    );
    assert!(
        bad.is_empty(),
        "ui/ must not do I/O or start threads:\n{}",
        bad.join("\n")
    );
}

#[test]
fn domain_is_pure() {
    let bad = violations(
        "domain",
        &[
            "egui",
            "eframe",
            "rusqlite",
            "ureq",
            "tiny_http",
            "std::fs",
            "std::thread",
            "crate::storage",
        ],
    );
    assert!(
        bad.is_empty(),
        "domain/ must stay pure:\n{}",
        bad.join("\n")
    );
}

#[test]
fn only_storage_names_sqlite() {
    let mut bad = Vec::new();
    for file in rust_files(&src("")) {
        if file.starts_with(src("storage")) {
            continue;
        }
        let code = code_of(&file);
        for word in ["rusqlite", "refinery"] {
            if code.contains(word) {
                bad.push(format!("{} names `{word}`", file.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "only storage/ may name SQLite:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_thread_is_started_outside_jobs() {
    let mut bad = Vec::new();
    for file in rust_files(&src("")) {
        if file.starts_with(src("jobs")) {
            continue;
        }
        if code_of(&file).contains("thread::spawn") || code_of(&file).contains("thread::Builder") {
            bad.push(file.display().to_string());
        }
    }
    assert!(
        bad.is_empty(),
        "threads start only in jobs/:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_source_file_says_what_it_is_for() {
    let missing: Vec<String> = rust_files(&src(""))
        .into_iter()
        .filter(|f| !std::fs::read_to_string(f).expect("read").starts_with("//!"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! line:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_checks_can_fail() {
    // Guards the guard: a forbidden name in a scanned folder must be seen.
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("x.rs"),
        "//! x\nuse rusqlite::Connection;\n",
    )
    .expect("write");
    let files = rust_files(dir.path());
    assert!(code_of(&files[0]).contains("rusqlite"));
    std::fs::write(
        dir.path().join("x.rs"),
        "//! x\n// rusqlite is mentioned in a comment only\n",
    )
    .expect("write");
    assert!(!code_of(&files[0]).contains("rusqlite"));
}

#[test]
fn only_providers_and_update_name_ureq() {
    let mut found = Vec::new();
    for dir in ["app", "cli", "domain", "jobs", "storage", "ui"] {
        found.extend(violations(dir, &["ureq"]));
    }
    assert!(
        found.is_empty(),
        "HTTP for model calls lives in providers/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_writing_pipeline_knows_no_window() {
    // The CLI runs the very same pipeline as the Generate button, so it must not need egui.
    let bad = violations(
        "writing",
        &["egui", "eframe", "crate::app", "crate::ui", "ureq"],
    );
    assert!(
        bad.is_empty(),
        "writing/ is shared by window and CLI:\n{}",
        bad.join("\n")
    );
}

#[test]
fn only_sync_names_tiny_http_and_sync_http_stays_in_sync() {
    let mut found = Vec::new();
    for dir in [
        "app",
        "cli",
        "domain",
        "formats",
        "jobs",
        "providers",
        "storage",
        "ui",
        "update",
        "writing",
    ] {
        found.extend(violations(dir, &["tiny_http"]));
    }
    for dir in ["formats", "writing"] {
        found.extend(violations(dir, &["ureq"]));
    }
    assert!(
        found.is_empty(),
        "the sync server's HTTP lives in sync/:\n{}",
        found.join("\n")
    );
}
