//! Sync budgets, measured against the real `fabula sync serve` process over loopback: pushing a
//! 100 MB story and pulling it back, and the serving process's peak memory (VmHWM), for two
//! shapes: 10 KB entries, and 200,000 ordinary ones. `FABULA_BENCH_MB` changes the story size.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use fabula::domain::{EntryKind, NewStory, OnConflict, Peer};
use fabula::formats::avt;
use fabula::storage::{DataPaths, Store};
use fabula::sync::client;

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let megabytes: usize = std::env::var("FABULA_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    // The first budget's shape: 10 KB entries.
    let paragraph = fabula::cli::seed_text(5);
    let entry: String = std::iter::repeat_n(paragraph.as_str(), 10_000 / paragraph.len() + 1)
        .collect::<Vec<_>>()
        .join(" ");
    let count = megabytes * 1_000_000 / entry.len();
    measure("10 KB entries", (0..count).map(|_| entry.clone()).collect());
    // Real narration: `fabula dev seed`'s texts, 200,000 of them (about 100 MB as .avt).
    let entries = megabytes * 2_000;
    measure(
        "ordinary entries",
        (0..entries)
            .map(|i| {
                if i % 2 == 0 {
                    format!("I look around ({}).", i + 1)
                } else {
                    fabula::cli::seed_text(i)
                }
            })
            .collect(),
    );
}

fn measure(shape: &str, texts: Vec<String>) {
    println!("== {shape}");
    let count = texts.len();
    let dir = tempfile::tempdir().expect("tmp");
    let paths = DataPaths {
        dir: dir.path().join("here"),
    };
    paths.ensure().expect("data dir");
    let mut store = Store::open(&paths.database()).expect("store");
    let story = store
        .create_story(&NewStory {
            title: "A very long story".into(),
            ..NewStory::default()
        })
        .expect("story");
    let texts: Vec<(EntryKind, &str)> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let kind = if i % 2 == 0 {
                EntryKind::UserAction
            } else {
                EntryKind::Narration
            };
            (kind, text.as_str())
        })
        .collect();
    store.append_entries(&story.id, texts).expect("entries");
    let size = {
        let bundle = store.export_bundle(&story.id).expect("bundle");
        avt::to_compact_string(&bundle).expect("json").len()
    };
    let pulled_paths = DataPaths {
        dir: dir.path().join("pulled"),
    };
    pulled_paths.ensure().expect("data dir");
    let mut pulled_store = Store::open(&pulled_paths.database()).expect("store");
    // Making the story above left a few hundred MB for the kernel to write back; flush it now, or
    // the server's fsync at the end of the push pays for it (ext4 commits other files' data too).
    let _ = Command::new("sync").status();

    let served = dir.path().join("there");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fabula"))
        .env("FABULA_DATA_DIR", &served)
        .args(["sync", "serve", "--bind", "127.0.0.1", "--token", "bench"])
        .stdout(Stdio::piped())
        // FABULA_BENCH_VERBOSE=1 shows the server's own timings (with RUST_LOG=fabula=debug).
        .stderr(if std::env::var_os("FABULA_BENCH_VERBOSE").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("pairing");
    let pairing: serde_json::Value = serde_json::from_str(&line).expect("pairing JSON");
    let peer = Peer::parse(&format!("127.0.0.1:{}", pairing["port"]), "bench").expect("peer");
    let idle_rss = peak_rss_kb(child.id());

    // The client's own peak from here on: what the push and the pull cost it, not the seeding.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let client_before = peak_rss_kb(std::process::id());
    let started = Instant::now();
    let message = client::push(&peer, &store, &story.id).expect("push");
    let push = started.elapsed();
    let after_push = peak_rss_kb(child.id());
    let client_push = peak_rss_kb(std::process::id());
    let started = Instant::now();
    let pulled = client::pull_into(&peer, story.id.as_str(), size as u64, &mut |story| {
        fabula::transfer::import_avt(&mut pulled_store, story, OnConflict::Refuse)
    })
    .expect("pull")
    .expect("stored");
    let pull = started.elapsed();
    let client_peak = peak_rss_kb(std::process::id());
    let peak = peak_rss_kb(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(pulled.entries, count);

    println!(
        "story: {} entries, {:.1} MB as compact .avt ({message})",
        count,
        size as f64 / 1e6
    );
    println!(
        "push_s={:.2} pull_s={:.2} push_then_pull_s={:.2}",
        push.as_secs_f64(),
        pull.as_secs_f64(),
        (push + pull).as_secs_f64()
    );
    println!(
        "server_peak_rss_mb={:.1} (idle {:.1}, after the push {:.1}) ratio_to_story={:.2}",
        peak as f64 / 1024.0,
        idle_rss as f64 / 1024.0,
        after_push as f64 / 1024.0,
        peak as f64 * 1024.0 / size as f64
    );
    println!(
        "client_peak_rss_mb={:.1} (before {:.1}, after the push {:.1}) growth_to_story={:.2}",
        client_peak as f64 / 1024.0,
        client_before as f64 / 1024.0,
        client_push as f64 / 1024.0,
        (client_peak.saturating_sub(client_before)) as f64 * 1024.0 / size as f64
    );
}
