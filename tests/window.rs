//! The real window under Xvfb: it opens on a fresh data folder and on a seeded story, paints a
//! first frame, reports its time and exits cleanly.

use std::process::Command;

fn fabula_in_xvfb(data: &std::path::Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_fabula"))
        .arg("--quit-after-first-frame")
        .args(extra)
        .env("FABULA_DATA_DIR", data)
        .output()
        .expect("xvfb-run must be installed: run scripts/setup.sh");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn first_frame_ms(stdout: &str) -> Option<u64> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("first_frame_ms="))
        .and_then(|n| n.trim().parse().ok())
}

#[test]
fn the_window_opens_paints_and_reports_its_first_frame() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (code, out, err) = fabula_in_xvfb(tmp.path(), &[]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(
        first_frame_ms(&out).is_some(),
        "stdout: {out}\nstderr: {err}"
    );
    assert!(
        tmp.path().join("fabula.sqlite3").exists(),
        "first launch creates the database"
    );

    let seeded = Command::new(env!("CARGO_BIN_EXE_fabula"))
        .args(["dev", "seed", "--entries", "500"])
        .env("FABULA_DATA_DIR", tmp.path())
        .output()
        .expect("seed");
    let id = String::from_utf8_lossy(&seeded.stdout).trim().to_owned();
    let (code, out, err) = fabula_in_xvfb(tmp.path(), &["--open", &id]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(
        first_frame_ms(&out).is_some(),
        "stdout: {out}\nstderr: {err}"
    );
}

#[test]
fn a_damaged_database_fails_the_run_without_touching_the_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("fabula.sqlite3"), b"garbage, not sqlite").expect("write");
    let (code, out, err) = fabula_in_xvfb(tmp.path(), &[]);
    assert_ne!(code, 0, "stdout: {out}");
    assert!(err.contains("not a Fabula database"), "{err}");
    assert_eq!(
        std::fs::read(tmp.path().join("fabula.sqlite3")).expect("read"),
        b"garbage, not sqlite"
    );
}
