//! Headless harness for the writing loop's UI budgets: a local provider streams a narration at
//! 100 tokens/s into a 100,000-entry story while the real app (store, controller, egui UI and
//! tessellation) runs frames exactly when it asks for a repaint, as eframe would. Prints the UI
//! thread's CPU share and the frame times. `FABULA_BENCH_ENTRIES` and `FABULA_BENCH_SECONDS`
//! change the story size and the stream length.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use egui::{Pos2, RawInput, Rect, vec2};
use fabula::app::{FabulaApp, Launch};
use fabula::domain::{ApiProfile, EntryKind, ProfileSource, StoryId, StorySettings};
use fabula::state::{Action, WritingAction};
use fabula::storage::{DataPaths, Store};

const TOKENS_PER_SECOND: u64 = 100;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Nanoseconds this thread has spent on a CPU (Linux schedstat).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// An OpenAI-compatible server on 127.0.0.1 that streams `tokens` deltas, one every 10 ms.
fn serve(tokens: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut length = 0usize;
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
                );
                let chunk = |s: &mut std::net::TcpStream, data: &str| {
                    let _ = write!(s, "{:x}\r\n{data}\r\n", data.len());
                    let _ = s.flush();
                };
                let interval = Duration::from_millis(1000 / TOKENS_PER_SECOND);
                let start = Instant::now();
                for i in 0..tokens {
                    let due = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let word = if i % 12 == 11 {
                        " waves.\n\n"
                    } else {
                        " waves"
                    };
                    chunk(
                        &mut stream,
                        &format!(
                            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{}\"}},\"finish_reason\":null}}]}}\n\n",
                            word.replace('\n', "\\n")
                        ),
                    );
                }
                chunk(
                    &mut stream,
                    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
                );
                chunk(&mut stream, "data: [DONE]\n\n");
                let _ = stream.write_all(b"0\r\n\r\n");
            });
        }
    });
    format!("http://{addr}")
}

fn input() -> RawInput {
    RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(1100.0, 760.0))),
        ..RawInput::default()
    }
}

fn frame(ctx: &egui::Context, app: &mut FabulaApp) {
    let mut output = ctx.run_ui(input(), |ui| {
        app.logic(ui.ctx());
        app.frame_ui(ui);
    });
    // No GPU here: font atlas uploads are what a painter would take; drop them knowingly.
    output.textures_delta.clear();
    let _ = ctx.tessellate(output.shapes, output.pixels_per_point);
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let entries = env_or("FABULA_BENCH_ENTRIES", 100_000) as usize;
    let seconds = env_or("FABULA_BENCH_SECONDS", 10);
    let tokens = seconds * TOKENS_PER_SECOND;

    let dir = tempfile::tempdir().expect("tmp");
    let paths = DataPaths {
        dir: dir.path().join("data"),
    };
    paths.ensure().expect("data dir");
    let mut store = Store::open(&paths.database()).expect("store");
    let story = StoryId(fabula::cli::seed(&mut store, entries, Some("Bench")).expect("seed"));
    let base = serve(tokens);
    store
        .save_profile(&ApiProfile {
            id: "bench".into(),
            name: "Bench".into(),
            preset: "openai-compatible".into(),
            base_url: format!("{base}/v1"),
            api_key: None,
            default_model: "bench".into(),
            custom_models: Vec::new(),
            favourite_models: Vec::new(),
            key_in_keyring: false,
            source: ProfileSource::Stored,
        })
        .expect("profile");
    store.set_main_profile_id("bench").expect("main");
    store
        .save_story_settings(
            &story,
            &StorySettings {
                suggestions: false,
                ..StorySettings::new()
            },
        )
        .expect("settings");
    drop(store);

    let mut app = FabulaApp::new(
        paths.clone(),
        Store::open(&paths.database()),
        Launch {
            open_story: Some(story),
            ..Launch::default()
        },
    );
    let ctx = egui::Context::default();
    let (repaint_tx, repaint_rx) = mpsc::channel::<Duration>();
    ctx.set_request_repaint_callback(move |info| {
        let _ = repaint_tx.send(info.delay);
    });
    for _ in 0..3 {
        frame(&ctx, &mut app);
    }
    while repaint_rx.try_recv().is_ok() {}

    app.apply(Action::Writing(WritingAction::Generate(Some((
        EntryKind::UserAction,
        "I wait for the ship.".into(),
    )))));
    let started = Instant::now();
    let cpu_start = thread_cpu_ns();
    let mut frame_ms = Vec::new();
    let mut due: Option<Instant> = Some(Instant::now());
    loop {
        // Sleep like an event loop: until the earliest repaint anyone asked for.
        let timeout = due.map_or(Duration::from_millis(500), |d| {
            d.saturating_duration_since(Instant::now())
        });
        match repaint_rx.recv_timeout(timeout) {
            Ok(delay) => {
                let at = Instant::now() + delay;
                due = Some(due.map_or(at, |d| d.min(at)));
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if due.is_none() {
            if !app.is_generating() {
                break;
            }
            continue;
        }
        due = None;
        let t = Instant::now();
        frame(&ctx, &mut app);
        frame_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if !app.is_generating() && started.elapsed() > Duration::from_millis(200) {
            // One more frame shows the stored narration; then the stream is over.
            frame(&ctx, &mut app);
            break;
        }
    }
    let wall = started.elapsed();
    let cpu = Duration::from_nanos(thread_cpu_ns().saturating_sub(cpu_start));
    let written = app
        .state()
        .open
        .as_ref()
        .map_or(0, |o| o.summary.entry_count);
    let mut sorted = frame_ms.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "streaming {tokens} tokens at {TOKENS_PER_SECOND}/s into a {entries}-entry story ({written} entries after)"
    );
    println!(
        "frames={} wall_s={:.2} ui_thread_cpu_ms={} ui_cpu_percent_of_core={:.2}",
        frame_ms.len(),
        wall.as_secs_f64(),
        cpu.as_millis(),
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0
    );
    println!(
        "frame_ms p50={:.2} p99={:.2} max={:.2} over_16ms={}",
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0.0),
        sorted.iter().filter(|&&ms| ms > 16.0).count()
    );
    if let Some(status) = &app.state().status {
        println!("status: {}", status.text);
    }
}
