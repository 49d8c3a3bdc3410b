//! `fabula sync serve | list | pull | push` between two data folders through the real binary.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{fabula_cmd as fabula, run_cmd as run};

use std::io::{BufRead, BufReader};
use std::process::Stdio;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/original-1.7.avt"
);
const STORY: &str = "6f1c2a9e-2b7d-4c1e-9a3f-0d5e8b7c6a41";

struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn two_libraries_sync_over_loopback() {
    let tmp = tempfile::tempdir().expect("tmp");
    let desk = tmp.path().join("desk");
    let laptop = tmp.path().join("laptop");
    let (code, _, err) = run(fabula(&desk).args(["import", FIXTURE]));
    assert_eq!(code, 0, "{err}");

    let mut child = fabula(&desk)
        .args(["sync", "serve", "--bind", "127.0.0.1", "--token", "pair-me"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("pairing line");
    let _serving = Serving(child);
    let pairing: serde_json::Value = serde_json::from_str(&line).expect("pairing JSON");
    assert_eq!(pairing["ip"], "127.0.0.1");
    assert_eq!(pairing["token"], "pair-me");
    assert_eq!(pairing["version"], env!("CARGO_PKG_VERSION"));
    let address = format!("127.0.0.1:{}", pairing["port"]);

    let (code, out, err) =
        run(fabula(&laptop).args(["sync", "list", "--from", &address, "--token", "pair-me"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("{STORY}\tThe Lantern Keeper\tMystery\t3 entries")),
        "{out}"
    );

    let (code, out, err) = run(fabula(&laptop).args([
        "sync", "pull", "--from", &address, "--token", "pair-me", STORY,
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), STORY);
    // Pulling again is a conflict: asked, never overwritten.
    let (code, _, err) = run(fabula(&laptop).args([
        "sync", "pull", "--from", &address, "--token", "pair-me", STORY,
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("--on-conflict"), "{err}");

    let (code, out, err) =
        run(fabula(&laptop).args(["story", "new", "--title", "Written on the train"]));
    assert_eq!(code, 0, "{err}");
    let new_story = out.trim().to_owned();
    let (code, _, err) = run(fabula(&laptop).args([
        "sync", "push", "--to", &address, "--token", "pair-me", &new_story,
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("Story “Written on the train” received."),
        "{err}"
    );
    let (_, list, _) = run(fabula(&desk).args(["list"]));
    assert!(list.contains("Written on the train"), "{list}");

    let (code, _, err) =
        run(fabula(&laptop).args(["sync", "list", "--from", &address, "--token", "wrong"]));
    assert_eq!(code, 1);
    assert!(err.contains("Invalid authentication token"), "{err}");
}
