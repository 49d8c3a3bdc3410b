//! Headless benchmarks of the real app (store + controller + egui UI, no window): opening a
//! 10,000-entry story (also with 300 chapters), a frame while scrolling 100,000 entries, a frame
//! while scrolling the World panel's 1,000 characters, appending to 100,000 entries.

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use egui::{Event, MouseWheelUnit, Pos2, RawInput, Rect, vec2};
use fabula::app::{FabulaApp, Launch};
use fabula::domain::{EntryKind, StoryId};
use fabula::state::{Action, EntryAction, LibraryAction};
use fabula::storage::{DataPaths, Store};

struct Fixture {
    _dir: tempfile::TempDir,
    paths: DataPaths,
    story: StoryId,
}

fn fixture(entries: usize) -> Fixture {
    let dir = tempfile::tempdir().expect("tmp");
    let paths = DataPaths {
        dir: dir.path().join("data"),
    };
    paths.ensure().expect("data dir");
    let mut store = Store::open(&paths.database()).expect("store");
    let id = fabula::cli::seed(&mut store, entries, Some("Bench")).expect("seed");
    Fixture {
        _dir: dir,
        paths,
        story: StoryId(id),
    }
}

fn app(f: &Fixture, open: bool) -> FabulaApp {
    FabulaApp::new(
        f.paths.clone(),
        Store::open(&f.paths.database()),
        Launch {
            open_story: open.then(|| f.story.clone()),
            ..Launch::default()
        },
    )
}

fn input(events: Vec<Event>) -> RawInput {
    RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(1100.0, 760.0))),
        events,
        ..RawInput::default()
    }
}

/// One full frame as the window does it: logic, ui, and tessellation of what was drawn.
fn frame(ctx: &egui::Context, app: &mut FabulaApp, events: Vec<Event>) -> usize {
    let output = ctx.run_ui(input(events), |ui| {
        app.logic(ui.ctx());
        app.frame_ui(ui);
    });
    ctx.tessellate(output.shapes, output.pixels_per_point).len()
}

/// Opening `f`'s story in a warm window (fonts and the library drawn once) and its first screen.
fn bench_open(c: &mut Criterion, name: &str, f: &Fixture) {
    c.bench_function(name, |b| {
        b.iter_batched(
            || {
                let ctx = egui::Context::default();
                let mut app = app(f, false);
                frame(&ctx, &mut app, vec![]);
                (ctx, app)
            },
            |(ctx, mut app)| {
                app.apply(Action::Library(LibraryAction::OpenStory(f.story.clone())));
                frame(&ctx, &mut app, vec![])
            },
            BatchSize::PerIteration,
        )
    });
}

fn open_story(c: &mut Criterion) {
    bench_open(c, "open 10k-entry story + first screen", &fixture(10_000));
}

/// 10,000 entries of which the first 9,000 are 300 chapters of 30, each with a summary of about
/// 120 words: what a story written for months looks like.
fn with_chapters(f: &Fixture) {
    let store = Store::open(&f.paths.database()).expect("store");
    let rows = store.entry_rows(&f.story).expect("rows");
    let summary = "Ada crossed the marsh at dusk and found the ferry gone; ".repeat(12);
    for n in 0..300 {
        store
            .save_chapter(
                &f.story,
                &fabula::domain::chapter::Chapter {
                    id: format!("chapter-{n}"),
                    number: n + 1,
                    title: Some(format!("Chapter title {n}")),
                    start_entry: rows[(n * 30) as usize].id.clone(),
                    end_entry: rows[(n * 30 + 29) as usize].id.clone(),
                    entry_count: 30,
                    summary: summary.clone(),
                    keywords: vec!["ferry".into(), "marsh".into()],
                    ..Default::default()
                },
            )
            .expect("chapter");
    }
}

fn open_story_with_chapters(c: &mut Criterion) {
    let f = fixture(10_000);
    with_chapters(&f);
    bench_open(
        c,
        "open 10k-entry story with 300 chapters + first screen",
        &f,
    );
}

fn scroll_frame(c: &mut Criterion) {
    let f = fixture(100_000);
    let ctx = egui::Context::default();
    let mut app = app(&f, true);
    for _ in 0..3 {
        frame(&ctx, &mut app, vec![]);
    }
    let over_story = Pos2::new(500.0, 300.0);
    let mut step = 0u32;
    c.bench_function("frame while scrolling 100k-entry story", |b| {
        b.iter(|| {
            step += 1;
            // Long runs up then back down, so new rows keep coming into view.
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
}

/// The World panel of a story with 1,000 characters, scrolled: its list lays out only the rows
/// on screen, as the story view does.
fn world_panel_frame(c: &mut Criterion) {
    use fabula::domain::{Character, WorldRow};
    let f = fixture(200);
    {
        let store = Store::open(&f.paths.database()).expect("store");
        for i in 0..1000 {
            store
                .save_world_row(
                    &f.story,
                    &WorldRow::Character(Box::new(Character {
                        id: format!("c{i}"),
                        name: format!("Keeper {i}"),
                        description: Some(format!(
                            "Keeper {i} tends a lamp on the northern coast."
                        )),
                        traits: vec!["watchful".into(), "stubborn".into()],
                        ..Character::default()
                    })),
                )
                .expect("character");
        }
    }
    let ctx = egui::Context::default();
    let mut app = app(&f, true);
    for _ in 0..3 {
        frame(&ctx, &mut app, vec![]);
    }
    // The World button of the story's title row, clicked as a pointer would.
    let world_button = Pos2::new(117.0, 72.0);
    let press = |pressed| Event::PointerButton {
        pos: world_button,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    frame(
        &ctx,
        &mut app,
        vec![Event::PointerMoved(world_button), press(true)],
    );
    frame(&ctx, &mut app, vec![press(false)]);
    for _ in 0..3 {
        frame(&ctx, &mut app, vec![]);
    }
    let over_panel = Pos2::new(950.0, 400.0);
    let mut step = 0u32;
    c.bench_function(
        "frame while scrolling the World panel's 1,000 characters",
        |b| {
            b.iter(|| {
                step += 1;
                let delta = if (step / 200).is_multiple_of(2) {
                    -240.0
                } else {
                    240.0
                };
                frame(
                    &ctx,
                    &mut app,
                    vec![
                        Event::PointerMoved(over_panel),
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
        },
    );
}

fn append(c: &mut Criterion) {
    let f = fixture(100_000);
    let ctx = egui::Context::default();
    let mut app = app(&f, true);
    frame(&ctx, &mut app, vec![]);
    c.bench_function(
        "append one entry to 100k-entry story (store + controller)",
        |b| {
            b.iter(|| {
                app.apply(Action::Entry(EntryAction::AddEntry {
                    kind: EntryKind::UserAction,
                    text: "I light the lamp and wait for the ship.".into(),
                }));
            })
        },
    );
    c.bench_function("append one entry to 100k-entry story + next frame", |b| {
        b.iter(|| {
            app.apply(Action::Entry(EntryAction::AddEntry {
                kind: EntryKind::Narration,
                text: "The beam sweeps the water; far out, a light answers.".into(),
            }));
            frame(&ctx, &mut app, vec![])
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = open_story, open_story_with_chapters, scroll_frame, world_panel_frame, append
}
criterion_main!(benches);
