//! Checks the layering rules from README "Architecture" by reading the source: a rule broken here
//! would otherwise only show up as a slow UI or a tangled module much later.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

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
fn only_the_command_line_turns_errors_into_anyhow() {
    // Below the edge errors keep their kind, so the window can offer the right next step.
    let mut found = Vec::new();
    for dir in [
        "app",
        "domain",
        "formats",
        "jobs",
        "providers",
        "state",
        "storage",
        "sync",
        "ui",
        "update",
        "writing",
    ] {
        found.extend(violations(dir, &["anyhow"]));
    }
    assert!(
        found.is_empty(),
        "anyhow lives in cli/ and main.rs:\n{}",
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

/// Which top-level modules each module may name (`crate::x`): the layering of README
/// "Architecture" as a table. A module not listed here fails the test until it is placed.
const MAY_NAME: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("jobs", &[]),
    ("state", &["domain"]),
    ("ui", &["state", "domain"]),
    ("storage", &["domain"]),
    ("formats", &["domain"]),
    ("keys", &["domain"]),
    ("update", &["domain"]),
    ("diagnostics", &["domain", "storage"]),
    ("providers", &["domain", "jobs", "keys"]),
    ("transfer", &["domain", "formats", "jobs", "storage"]),
    (
        "sync",
        &["domain", "formats", "jobs", "storage", "transfer"],
    ),
    (
        "writing",
        &["domain", "jobs", "keys", "providers", "storage"],
    ),
    (
        "app",
        &[
            "domain",
            "state",
            "ui",
            "storage",
            "formats",
            "jobs",
            "keys",
            "providers",
            "transfer",
            "sync",
            "writing",
            "update",
            "diagnostics",
        ],
    ),
    (
        "cli",
        &[
            "domain",
            "storage",
            "formats",
            "jobs",
            "keys",
            "providers",
            "transfer",
            "sync",
            "writing",
            "update",
            "diagnostics",
        ],
    ),
];

/// The crate paths a piece of code names, by their first segment: `crate::a::b` and each name
/// in `use crate::{a, b::c}`.
fn named_modules(code: &str) -> std::collections::BTreeSet<String> {
    let mut found = std::collections::BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                if !first.is_empty() {
                    found.insert(first.to_owned());
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
        rest = after;
    }
    found
}

/// Each top-level module (a folder or a file under src/) with the modules its code names.
fn module_graph() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut graph = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(src("")).expect("src").flatten() {
        let path = entry.path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        let files = if path.is_dir() {
            rust_files(&path)
        } else {
            vec![path.clone()]
        };
        let mut names = std::collections::BTreeSet::new();
        for file in files {
            names.extend(named_modules(&code_of(&file)));
        }
        names.remove(&name);
        graph.insert(name, names);
    }
    graph
}

#[test]
fn each_module_names_only_the_layers_below_it() {
    let mut bad = Vec::new();
    for (module, names) in module_graph() {
        let Some((_, allowed)) = MAY_NAME.iter().find(|(m, _)| *m == module) else {
            bad.push(format!(
                "{module} is not in MAY_NAME: place it in the layering"
            ));
            continue;
        };
        for name in names {
            if !allowed.contains(&name.as_str()) {
                bad.push(format!("{module} names crate::{name}"));
            }
        }
    }
    assert!(bad.is_empty(), "layering broken:\n{}", bad.join("\n"));
}

/// A cycle in `graph`, as the path that closes it, if there is one.
fn find_cycle(
    graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_modules_import_each_other() {
    let top = module_graph();
    assert_eq!(find_cycle(&top), None, "top-level modules in a cycle");
    // Inside each module folder: no two files name each other (mod.rs, the module's face, aside).
    let mut bad = Vec::new();
    for module in top.keys() {
        let dir = src(module);
        if !dir.is_dir() {
            continue;
        }
        let siblings: Vec<String> = rust_files(&dir)
            .iter()
            .filter(|f| f.parent() == Some(dir.as_path()))
            .filter_map(|f| f.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
            .filter(|s| s != "mod")
            .collect();
        let mut graph = std::collections::BTreeMap::new();
        for file in &siblings {
            let path = dir.join(format!("{file}.rs"));
            // `super::x` and `crate::module::x` alike, and each name in `super::{x, y}`.
            // Only paths into this module count (`crate::writing` from app/ is another module).
            let code = code_of(&path)
                .replace(&format!("crate::{module}::"), "\u{0}sibling::")
                .replace("crate::", "\u{0}top::")
                .replace("super::", "\u{0}sibling::")
                .replace("\u{0}sibling::", "crate::");
            let named = named_modules(&code);
            let names: std::collections::BTreeSet<String> = siblings
                .iter()
                .filter(|other| *other != file && named.contains(*other))
                .cloned()
                .collect();
            graph.insert(file.clone(), names);
        }
        for (a, names) in &graph {
            for b in names {
                if a < b && graph.get(b).is_some_and(|n| n.contains(a)) {
                    bad.push(format!(
                        "{module}/{a}.rs and {module}/{b}.rs name each other"
                    ));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_layering_checks_can_fail() {
    let names = named_modules("use crate::{storage::Store, domain};\nlet x = crate::ui::root_ui;");
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["domain", "storage", "ui"]
    );
    let mut graph = std::collections::BTreeMap::new();
    graph.insert("a".to_owned(), ["b".to_owned()].into());
    graph.insert("b".to_owned(), ["c".to_owned()].into());
    graph.insert("c".to_owned(), ["a".to_owned()].into());
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.insert("c".to_owned(), Default::default());
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn the_window_is_built_with_the_system_clipboard_and_system_fonts() {
    // Without them, paste from another program inserts nothing, Copy leaves the clipboard empty,
    // and any script the bundled font lacks shows as boxes; nothing else in the tree would fail.
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    let eframe = manifest
        .lines()
        .find(|l| l.starts_with("eframe ="))
        .expect("eframe is a dependency");
    for feature in ["\"clipboard\"", "\"system_fonts\""] {
        assert!(eframe.contains(feature), "eframe needs {feature}: {eframe}");
    }
}
