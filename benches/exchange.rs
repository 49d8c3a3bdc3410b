//! Exchange-file budgets: importing a 10,000-entry `.avt` (read, check, one transaction) and
//! exporting it again.

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use fabula::domain::StoryId;
use fabula::formats::avt;
use fabula::storage::{DataPaths, OnConflict, Store};

fn fresh_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tmp");
    let paths = DataPaths {
        dir: dir.path().join("data"),
    };
    paths.ensure().expect("data dir");
    let store = Store::open(&paths.database()).expect("store");
    (dir, store)
}

fn exchange(c: &mut Criterion) {
    let (_dir, mut store) = fresh_store();
    let id = StoryId(fabula::cli::seed(&mut store, 10_000, Some("Bench")).expect("seed"));
    let mut file = Vec::new();
    avt::write(&store.export_bundle(&id).expect("bundle"), &mut file).expect("write");
    println!("10k-entry .avt: {:.1} MB", file.len() as f64 / 1e6);

    c.bench_function("import 10k-entry .avt (read + one transaction)", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, mut store)| {
                let bundle = avt::read(&file[..]).expect("read");
                store
                    .import_bundle(&bundle, OnConflict::Refuse)
                    .expect("import");
                dir
            },
            BatchSize::PerIteration,
        )
    });
    c.bench_function("export 10k-entry story as .avt", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(file.len());
            avt::write(&store.export_bundle(&id).expect("bundle"), &mut out).expect("write");
            out.len()
        })
    });
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
