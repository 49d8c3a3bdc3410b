//! `fabula provider …` through the real binary: profiles in the real database, and `check` against
//! a provider on 127.0.0.1 (streamed reply, metrics, exit codes per error kind, keys never echoed).
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use std::process::Command;

use common::fake_llm::{FakeProvider, Reply, wire};

fn fabula(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fabula"));
    cmd.env("FABULA_DATA_DIR", data).env_remove("RUST_LOG");
    for var in [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run fabula");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn openai_like() -> FakeProvider {
    let stream = wire::openai(&["A lantern ", "flickers."], 9, 4);
    FakeProvider::start_routed(move |req, _| {
        if req.url.ends_with("/models") {
            Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"first-model","object":"model"},{"id":"second-model","object":"model"}]}"#,
            )
        } else {
            Reply::stream("text/event-stream", &stream)
        }
    })
}

#[test]
fn check_streams_the_reply_and_prints_metrics() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = openai_like();
    let (code, out, err) = run(fabula(tmp.path()).args([
        "provider",
        "check",
        "--preset",
        "openai-compatible",
        "--base-url",
        &format!("{}/v1", server.base),
        "--api-key",
        "sk-secret-123456",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("A lantern flickers.\n"), "{out}");
    for line in [
        "prompt_tokens=9",
        "completion_tokens=4",
        "first_token_ms=",
        "total_ms=",
    ] {
        assert!(out.contains(line), "{line} missing from {out}");
    }
    assert!(
        err.contains("model=first-model"),
        "without --model the first listed one: {err}"
    );
    assert!(!out.contains("sk-secret") && !err.contains("sk-secret"));
    let sent = server.recorded();
    assert_eq!(
        sent[1].header("Authorization"),
        Some("Bearer sk-secret-123456")
    );
    // The call is in the usage ledger.
    let store = fabula::storage::Store::open(&tmp.path().join("fabula.sqlite3")).expect("db");
    let usage = store.recent_usage(5).expect("usage");
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].completion_tokens, Some(4));
}

#[test]
fn check_exits_with_a_code_per_error_kind() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = [
        (
            Reply::json(
                401,
                &wire::anthropic_error("authentication_error", "invalid x-api-key"),
            ),
            20,
            "The key was rejected by Anthropic (401): invalid x-api-key",
        ),
        (
            Reply::json(
                404,
                &wire::anthropic_error("not_found_error", "model: claude-9"),
            ),
            21,
            "does not know the model",
        ),
    ];
    for (reply, expected, message) in cases {
        let server = FakeProvider::start(vec![reply]);
        let (code, _, err) = run(fabula(tmp.path()).args([
            "provider",
            "check",
            "--preset",
            "anthropic",
            "--model",
            "claude-9",
            "--base-url",
            &format!("{}/v1", server.base),
            "--api-key",
            "k",
        ]));
        assert_eq!(code, expected, "{err}");
        assert!(err.contains(message), "{err}");
    }
    // Nothing listening: said as a sentence, not as the transport library's error chain.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let (code, _, err) = run(fabula(tmp.path()).args([
        "provider",
        "check",
        "--preset",
        "llamacpp",
        "--base-url",
        &format!("http://127.0.0.1:{port}/v1"),
    ]));
    assert_eq!(code, 27, "a network error: {err}");
    assert!(
        err.contains("nothing is listening at http://127.0.0.1:") && !err.contains("os error"),
        "{err}"
    );
    let (code, _, err) = run(fabula(tmp.path()).args(["provider", "check", "--preset", "openai"]));
    assert_eq!(code, 29, "a missing key is a configuration error: {err}");
    assert!(err.contains("OPENAI_API_KEY"), "{err}");
}

#[test]
fn profiles_are_added_listed_used_and_removed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = openai_like();
    let base = format!("{}/v1", server.base);
    let (code, out, err) = run(fabula(tmp.path()).args([
        "provider",
        "add",
        "Home",
        "--preset",
        "llamacpp",
        "--base-url",
        &base,
        "--model",
        "second-model",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("now the main profile"), "{out}");
    let (code, _, err) = run(fabula(tmp.path()).args([
        "provider",
        "add",
        "Cloud",
        "--preset",
        "openai",
        "--api-key",
        "sk-never-shown-9876",
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) =
        run(fabula(tmp.path()).args(["provider", "use", "Cloud", "--task", "suggestions"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(fabula(tmp.path()).args(["provider", "list"]));
    assert_eq!(code, 0);
    assert!(out.contains("* Home"), "{out}");
    assert!(out.contains("task suggestions\tCloud"), "{out}");
    assert!(!out.contains("never-shown"), "keys are only hinted: {out}");

    // The saved profile is what `check --profile` calls, with its default model.
    let (code, out, err) = run(fabula(tmp.path()).args(["provider", "check", "--profile", "Home"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("A lantern flickers."));
    assert!(err.contains("model=second-model"), "{err}");

    let (code, _, err) =
        run(fabula(tmp.path()).args(["provider", "add", "home", "--preset", "ollama"]));
    assert_eq!(code, 1, "names are unique ignoring case");
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run(fabula(tmp.path()).args(["provider", "add", "X", "--preset", "nope"]));
    assert_eq!(code, 1);
    assert!(err.contains("Unknown preset"), "{err}");

    let (code, _, _) = run(fabula(tmp.path()).args(["provider", "remove", "Cloud"]));
    assert_eq!(code, 0);
    let (_, out, _) = run(fabula(tmp.path()).args(["provider", "list"]));
    assert!(!out.contains("Cloud"), "{out}");
}

#[test]
fn environment_keys_appear_as_ready_profiles() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (code, out, _) = run(fabula(tmp.path())
        .env("ANTHROPIC_API_KEY", "sk-ant-from-env-000111")
        .args(["provider", "list"]));
    assert_eq!(code, 0);
    assert!(out.contains("Anthropic (ANTHROPIC_API_KEY)"), "{out}");
    assert!(out.contains("from ANTHROPIC_API_KEY"), "{out}");
    assert!(!out.contains("from-env"), "{out}");
}
