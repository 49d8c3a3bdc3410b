//! Search budgets: the library search over 1,000,000 entries to the first page of hits (a common
//! word, a rare one, one found nowhere, a phrase, and a word too short for the index), and Find
//! in a 100,000-entry story. The library is built once and kept in the temp folder for later runs.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fabula::domain::search::SearchQuery;
use fabula::domain::{EntryKind, StoryId};
use fabula::storage::{DataPaths, Store};

const STORIES: usize = 10;
const PER_STORY: usize = 100_000;
const PAGE: usize = 50;

/// The million-entry library: ten stories of 100,000 entries, every 10,000th narration naming a
/// rare word.
fn library() -> (Store, StoryId) {
    let paths = DataPaths {
        dir: std::env::temp_dir().join("fabula-bench-search-1m"),
    };
    let ready = paths.dir.join("ready");
    if !ready.exists() {
        let _ = std::fs::remove_dir_all(&paths.dir);
        paths.ensure().expect("data dir");
        let mut store = Store::open(&paths.database()).expect("store");
        let started = std::time::Instant::now();
        for s in 0..STORIES {
            let id = StoryId(
                fabula::cli::seed(&mut store, PER_STORY, Some(&format!("Story {s}")))
                    .expect("seed"),
            );
            for i in (0..PER_STORY).step_by(10_000) {
                store
                    .append_entry(
                        &id,
                        EntryKind::Narration,
                        &format!("The quicksilver compass {i} spins and points at the old mill."),
                    )
                    .expect("rare");
            }
        }
        store.checkpoint();
        println!("built the 1M-entry library in {:.1?}", started.elapsed());
        std::fs::write(&ready, b"").expect("mark");
    }
    let store = Store::open(&paths.database()).expect("store");
    let first = store.list_stories().expect("stories")[0].story.id.clone();
    (store, first)
}

fn search(c: &mut Criterion) {
    let (store, story) = library();
    let mut group = c.benchmark_group("search");
    for (label, typed) in [
        ("a common word", "lantern"),
        ("a rare word", "quicksilver"),
        ("a word found nowhere", "zanzibar"),
        ("a phrase", "\"points at the old mill\""),
        ("two words", "compass mill"),
        ("a two-letter word (scanned)", "ox"),
    ] {
        let query = SearchQuery::parse(typed);
        let found = store
            .search_entries(&query, None, PAGE)
            .expect("search")
            .len();
        group.bench_function(
            format!("library of 1M entries, first page: {label} ({found} hits)"),
            |b| b.iter(|| store.search_entries(&query, None, PAGE).map(|h| h.len())),
        );
    }
    let query = SearchQuery::parse("lantern");
    group.bench_function(
        "find in a 100k-entry story: every match of a common word",
        |b| b.iter(|| store.find_in_story(&story, &query).map(|f| f.len())),
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = search
}
criterion_main!(benches);
