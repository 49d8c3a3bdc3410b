//! Exchange-file budgets: importing a 10,000-entry and a 200,000-entry `.avt` (stored as it is
//! read, in one transaction) and exporting them again, entry by entry from SQLite.

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use fabula::domain::{OnConflict, StoryId};
use fabula::formats::avt;
use fabula::storage::{DataPaths, Store};

fn fresh_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tmp");
    let paths = DataPaths {
        dir: dir.path().join("data"),
    };
    paths.ensure().expect("data dir");
    let store = Store::open(&paths.database()).expect("store");
    (dir, store)
}

/// Import and export of one story shape: the 10k-entry one of the first budgets, and 200k entries
/// of ordinary narration length (about 100 MB as `.avt`), the shape real long stories have.
fn shape(c: &mut Criterion, label: &str, entries: usize) {
    let (_dir, mut store) = fresh_store();
    let id = StoryId(fabula::cli::seed(&mut store, entries, Some("Bench")).expect("seed"));
    let mut file = Vec::new();
    avt::write(&store.export_bundle(&id).expect("bundle"), &mut file).expect("write");
    println!("{label}-entry .avt: {:.1} MB", file.len() as f64 / 1e6);

    c.bench_function(
        &format!("import {label}-entry .avt (stored as it is read, one transaction)"),
        |b| {
            b.iter_batched(
                fresh_store,
                |(dir, mut store)| {
                    fabula::transfer::import_avt(&mut store, &file[..], OnConflict::Refuse)
                        .expect("import");
                    dir
                },
                BatchSize::PerIteration,
            )
        },
    );
    c.bench_function(&format!("export {label}-entry story as .avt"), |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(file.len());
            store
                .stream_story(&id, |head, rows| {
                    avt::write_streamed(
                        head,
                        rows,
                        &mut out,
                        serde_json::ser::PrettyFormatter::new(),
                    )
                })
                .expect("rows")
                .expect("write");
            out.len()
        })
    });
}

fn exchange(c: &mut Criterion) {
    shape(c, "10k", 10_000);
    shape(c, "200k", 200_000);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    targets = exchange
}
criterion_main!(benches);
