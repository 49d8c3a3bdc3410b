//! Branches on a 100,000-entry story, through the real store and the headless app: making a
//! branch, switching to one ten levels deep to its first screen, a scroll frame there, the prompt's
//! reads on that branch, and an append on it.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use egui::{Event, MouseWheelUnit, Pos2, RawInput, Rect, vec2};
use fabula::app::{FabulaApp, Launch};
use fabula::domain::{EntryId, EntryKind, StoryId};
use fabula::state::{Action, BranchAction};
use fabula::storage::{DataPaths, Store};

struct Tree {
    _dir: tempfile::TempDir,
    paths: DataPaths,
    story: StoryId,
    deep: String,
}

/// A 100,000-entry story and a chain of ten branches, each forking from the one before a
/// hundred entries after its fork, each with a hundred entries of its own.
fn tree() -> Tree {
    let dir = tempfile::tempdir().expect("tmp");
    let paths = DataPaths {
        dir: dir.path().join("data"),
    };
    paths.ensure().expect("data dir");
    let mut store = Store::open(&paths.database()).expect("store");
    let story = StoryId(fabula::cli::seed(&mut store, 100_000, Some("Tree")).expect("seed"));
    let rows = store.entry_rows(&story).expect("rows");
    let mut fork: EntryId = rows[50_000].id.clone();
    let mut deep = String::new();
    for level in 0..10 {
        let b = store
            .create_branch(&story, &fork, &format!("Level {level}"))
            .expect("branch");
        let mut last = fork.clone();
        for i in 0..100 {
            last = store
                .append_entry(&story, EntryKind::Narration, &fabula::cli::seed_text(i))
                .expect("entry")
                .id;
        }
        fork = last;
        deep = b.id;
    }
    store.switch_branch(&story, None).expect("main");
    Tree {
        _dir: dir,
        paths,
        story,
        deep,
    }
}

fn input(events: Vec<Event>) -> RawInput {
    RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(1100.0, 760.0))),
        events,
        ..RawInput::default()
    }
}

fn frame(ctx: &egui::Context, app: &mut FabulaApp, events: Vec<Event>) -> usize {
    let output = ctx.run_ui(input(events), |ui| {
        app.logic(ui.ctx());
        app.frame_ui(ui);
    });
    ctx.tessellate(output.shapes, output.pixels_per_point).len()
}

fn branches(c: &mut Criterion) {
    let t = tree();
    let store = Store::open(&t.paths.database()).expect("store");
    let middle = store.entry_rows(&t.story).expect("rows")[70_000].id.clone();
    c.bench_function("create a branch on a 100k-entry story", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                let made = store
                    .create_branch(&t.story, &middle, "Try")
                    .expect("branch");
                spent += started.elapsed();
                // Out again, so every try finds the tree the same.
                store.trash_branch(&t.story, &made.id).expect("trash");
            }
            spent
        })
    });
    store.switch_branch(&t.story, None).expect("main");

    let ctx = egui::Context::default();
    let mut app = FabulaApp::new(
        t.paths.clone(),
        Store::open(&t.paths.database()),
        Launch {
            open_story: Some(t.story.clone()),
            ..Launch::default()
        },
    );
    for _ in 0..3 {
        frame(&ctx, &mut app, vec![]);
    }
    c.bench_function(
        "switch to a branch 10 levels deep on 100k entries + first screen",
        |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    app.apply(Action::Branch(BranchAction::Switch(None)));
                    frame(&ctx, &mut app, vec![]);
                    let started = Instant::now();
                    app.apply(Action::Branch(BranchAction::Switch(Some(t.deep.clone()))));
                    frame(&ctx, &mut app, vec![]);
                    spent += started.elapsed();
                }
                spent
            })
        },
    );

    // Let the rest of the branch's index arrive, then scroll through it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while app
        .state()
        .open
        .as_ref()
        .is_some_and(|o| o.rows_from.is_some())
    {
        assert!(Instant::now() < deadline, "the index never came");
        std::thread::sleep(Duration::from_millis(5));
        frame(&ctx, &mut app, vec![]);
    }
    let over_story = Pos2::new(500.0, 300.0);
    let mut step = 0u32;
    c.bench_function("frame while scrolling a branch 10 levels deep", |b| {
        b.iter(|| {
            step += 1;
            let delta = if (step / 400).is_multiple_of(2) {
                240.0
            } else {
                -240.0
            };
            frame(
                &ctx,
                &mut app,
                vec![
                    Event::PointerMoved(over_story),
                    Event::MouseWheel {
                        unit: MouseWheelUnit::Point,
                        delta: vec2(0.0, delta),
                        phase: egui::TouchPhase::Move,
                        source: egui::MouseWheelSource::Unknown,
                        modifiers: egui::Modifiers::NONE,
                    },
                ],
            )
        })
    });

    store.switch_branch(&t.story, Some(&t.deep)).expect("deep");
    store
        .history_within(&t.story, None, 10_000_000)
        .expect("warm");
    c.bench_function(
        "prompt reads on a branch 10 levels deep: 127k-token history, chapters, lore, world",
        |b| {
            b.iter(|| {
                let history = store.history_within(&t.story, None, 127_000).expect("h");
                let chapters = store.chapters(&t.story).expect("c");
                let lore = store.lore(&t.story).expect("l");
                let world = store.world(&t.story).expect("w");
                history.len() + chapters.len() + lore.len() + world.characters.len()
            })
        },
    );
    c.bench_function("append on a branch 10 levels deep", |b| {
        b.iter(|| {
            store
                .append_entry(&t.story, EntryKind::UserAction, "I look around.")
                .expect("append")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(4));
    targets = branches
}
criterion_main!(benches);
