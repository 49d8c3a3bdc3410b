//! Crash trials: the real `fabula` process killed with SIGKILL at random moments during a
//! generation (against a slow stream), an import (keep-both and replace) and a sync push (the
//! server or the client). After each kill the database passes `integrity_check`, every entry
//! committed before is still there, imports are all or nothing, and the draft holds the streamed
//! text up to about a second before the kill. The seed is printed; `FABULA_TRIAL_SEED` replays it.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]
#![cfg(unix)]

mod common;

use common::{fabula_cmd as fabula, run_cmd as run};

use std::collections::HashSet;
use std::io::{BufRead, Read};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fake_llm::{FakeProvider, Reply, Step, wire};
use fabula::domain::StoryId;
use fabula::storage::{DataPaths, Store};

const TRIALS: usize = 10;

/// A small xorshift generator: reproducible from its seed, no dependency.
struct Dice(u64);

impl Dice {
    fn from_env(trial: &str) -> Self {
        let seed = std::env::var("FABULA_TRIAL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("{trial}: FABULA_TRIAL_SEED={seed}");
        Self(seed.max(1))
    }

    /// A duration in `[low, high)`.
    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let span = (high - low).as_micros() as u64;
        low + Duration::from_micros(self.0 % span.max(1))
    }
}

fn database(data: &std::path::Path) -> std::path::PathBuf {
    DataPaths { dir: data.into() }.database()
}

fn kill_9(child: &mut Child) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// The whole-file check, and every (story, entry) of the library, for comparing after a kill.
fn check_and_list(data: &std::path::Path) -> HashSet<(String, String)> {
    let conn = rusqlite::Connection::open(database(data)).expect("open");
    let report: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(report, "ok");
    let mut stmt = conn
        .prepare("SELECT story_id, id FROM entries WHERE story_id IN (SELECT id FROM stories WHERE deleted_at IS NULL) ORDER BY rowid")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn seeded(data: &std::path::Path, entries: usize) -> String {
    let (code, out, err) =
        run(fabula(data).args(["dev", "seed", "--entries", &entries.to_string()]));
    assert_eq!(code, 0, "{err}");
    out.trim().to_owned()
}

#[test]
fn killed_during_generate_the_draft_holds_the_text_up_to_a_second_before() {
    let mut dice = Dice::from_env("generate");
    let pieces: Vec<String> = (0..40).map(|i| format!("word{i} ")).collect();
    let tmp = tempfile::tempdir().expect("tmp");
    let server = FakeProvider::start_routed(move |_, _| {
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        let mut reply = Reply::stream("text/event-stream", &wire::openai(&refs, 5, 40));
        // A piece every 100 ms: four seconds of stream.
        for at in (1..=40).rev() {
            reply = reply.then_at(at, Step::Sleep(Duration::from_millis(100)));
        }
        reply
    });
    common::add_local_provider(tmp.path(), &server.base, None);
    let (_, out, _) = run(fabula(tmp.path()).args(["story", "new", "--title", "Trials"]));
    let story = out.trim().to_owned();
    for trial in 0..TRIALS {
        let before = check_and_list(tmp.path());
        let mut child = fabula(tmp.path())
            .args(["generate", &story, "--draft", "discard", "waits"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // What had been printed, and when.
        let seen: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
        let reader = {
            let seen = seen.clone();
            let mut stdout = child.stdout.take().expect("stdout");
            std::thread::spawn(move || {
                let mut text = String::new();
                let mut buf = [0u8; 256];
                while let Ok(n) = stdout.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    text.push_str(&String::from_utf8_lossy(&buf[..n]));
                    seen.lock()
                        .expect("seen")
                        .push((Instant::now(), text.clone()));
                }
            })
        };
        let wait = dice.between(Duration::from_millis(300), Duration::from_millis(3500));
        std::thread::sleep(wait);
        let killed_at = Instant::now();
        kill_9(&mut child);
        reader.join().expect("reader");

        let after = check_and_list(tmp.path());
        assert!(
            before.is_subset(&after),
            "trial {trial}: a committed entry went missing"
        );
        let store = Store::open(&database(tmp.path())).expect("open");
        let draft = store
            .draft(&StoryId::from(story.as_str()))
            .expect("draft")
            .map(|d| d.content)
            .unwrap_or_default();
        let seen = seen.lock().expect("seen");
        let streamed = seen.last().map(|(_, t)| t.as_str()).unwrap_or("");
        assert!(
            streamed.starts_with(draft.trim_end()) || draft.is_empty(),
            "trial {trial}: the draft {draft:?} is not what was streamed {streamed:?}"
        );
        // The text that was on screen 1.5 s before the kill is in the draft (one-second ticks).
        let due = seen
            .iter()
            .rev()
            .find(|(at, _)| killed_at.duration_since(*at) >= Duration::from_millis(1500))
            .map(|(_, t)| t.trim_end().len())
            .unwrap_or(0);
        assert!(
            draft.trim_end().len() >= due,
            "trial {trial} (killed after {wait:?}): the draft has {} bytes, {due} were streamed 1.5 s before",
            draft.trim_end().len()
        );
    }
}

fn import_trials(on_conflict: &str) {
    let mut dice = Dice::from_env(&format!("import {on_conflict}"));
    let tmp = tempfile::tempdir().expect("tmp");
    let story = seeded(tmp.path(), 20_000);
    let file = tmp.path().join("story.avt");
    let (code, _, err) = run(fabula(tmp.path()).args(["export", &story, "-o"]).arg(&file));
    assert_eq!(code, 0, "{err}");
    for trial in 0..TRIALS {
        let before = check_and_list(tmp.path());
        let mut child = fabula(tmp.path())
            .arg("import")
            .arg(&file)
            .args(["--on-conflict", on_conflict])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(dice.between(Duration::from_millis(20), Duration::from_millis(2500)));
        kill_9(&mut child);
        let after = check_and_list(tmp.path());
        let stories = |rows: &HashSet<(String, String)>| {
            rows.iter().map(|(s, _)| s).collect::<HashSet<_>>().len()
        };
        match on_conflict {
            // Nothing of a copy, or all of it.
            "keep-both" => {
                assert!(before.is_subset(&after), "trial {trial}");
                let added = after.len() - before.len();
                assert!(
                    added == 0 || added == 20_000,
                    "trial {trial}: {added} entries of a copy"
                );
                assert!(stories(&after) - stories(&before) <= 1);
            }
            // The story is whole either way: the old one still here, or the new one in its place.
            _ => {
                let of_story = after.iter().filter(|(s, _)| *s == story).count();
                assert_eq!(
                    of_story, 20_000,
                    "trial {trial}: the replaced story is whole"
                );
                assert_eq!(after.len(), before.len(), "trial {trial}");
            }
        }
    }
}

#[test]
fn killed_during_import_keep_both_nothing_or_everything_lands() {
    import_trials("keep-both");
}

#[test]
fn killed_during_import_replace_the_story_is_whole_either_way() {
    import_trials("replace");
}

/// `fabula sync serve` on a data folder; its address and token from the pairing line.
fn serve(data: &std::path::Path) -> (Child, String, String) {
    let mut child = fabula(data)
        .args(["sync", "serve", "--bind", "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("pairing");
    let pairing: serde_json::Value = serde_json::from_str(&line).expect("pairing json");
    let addr = format!("127.0.0.1:{}", pairing["port"]);
    let token = pairing["token"].as_str().expect("token").to_owned();
    (child, addr, token)
}

#[test]
fn killed_during_a_sync_push_either_side_the_library_is_whole() {
    let mut dice = Dice::from_env("sync push");
    let here = tempfile::tempdir().expect("here");
    let story = seeded(here.path(), 20_000);
    let there = tempfile::tempdir().expect("there");
    seeded(there.path(), 10);
    for trial in 0..2 * TRIALS {
        let kill_server = trial % 2 == 0;
        let before = check_and_list(there.path());
        let (mut server, addr, token) = serve(there.path());
        let mut client = fabula(here.path())
            .args(["sync", "push", "--to", &addr, "--token", &token, &story])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("push");
        std::thread::sleep(dice.between(Duration::from_millis(20), Duration::from_millis(2500)));
        if kill_server {
            kill_9(&mut server);
            let _ = client.wait();
        } else {
            kill_9(&mut client);
            std::thread::sleep(Duration::from_millis(300));
            kill_9(&mut server);
        }
        let after = check_and_list(there.path());
        let pushed = after.iter().filter(|(s, _)| *s == story).count();
        assert!(
            pushed == 0 || pushed == 20_000,
            "trial {trial}: {pushed} entries of the pushed story"
        );
        assert!(
            before
                .iter()
                .filter(|(s, _)| *s != story)
                .all(|e| after.contains(e)),
            "trial {trial}: the peer lost an entry of its own"
        );
        // The client's own library is never touched by a push.
        assert_eq!(check_and_list(here.path()).len(), 20_000);
    }
}
