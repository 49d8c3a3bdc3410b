//! Every wire protocol against a provider on 127.0.0.1 that replays its documented streams and error
//! bodies: the happy path, then the fault matrix (401, 404 model, 429 with Retry-After, 500 then
//! success, idle stall, dropped connection, garbage lines) and cancel.
// Test servers, clients and fault injectors start their own threads.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::result_large_err)]

mod common;

use std::time::{Duration, Instant};

use common::fake_llm::{FakeProvider, Reply, Step, wire};
use fabula::domain::{Reasoning, Secret};
use fabula::jobs::CancelToken;
use fabula::providers::{
    self, ChatRequest, Completion, Delta, Endpoint, ErrorKind, Failure, Finish, Message,
};

#[derive(Clone, Copy, Debug)]
enum P {
    OpenAi,
    Anthropic,
    Gemini,
    Ollama,
}

const ALL: [P; 4] = [P::OpenAi, P::Anthropic, P::Gemini, P::Ollama];
const PIECES: [&str; 4] = ["The door ", "creaks ", "open, ", "slowly."];

impl P {
    fn preset(self) -> &'static str {
        match self {
            P::OpenAi => "openai",
            P::Anthropic => "anthropic",
            P::Gemini => "google",
            P::Ollama => "ollama",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            P::Ollama => "application/x-ndjson",
            _ => "text/event-stream",
        }
    }

    /// The documented stream of PIECES, with usage 11 prompt / 22 completion tokens.
    fn stream(self) -> Vec<String> {
        match self {
            P::OpenAi => wire::openai(&PIECES, 11, 22),
            P::Anthropic => wire::anthropic(&[], &PIECES, 11, 22),
            P::Gemini => wire::gemini(&[], &PIECES, 11, 22),
            P::Ollama => wire::ollama(&[], &PIECES, 11, 22),
        }
    }

    fn ok(self) -> Reply {
        Reply::stream(self.content_type(), &self.stream())
    }

    /// The provider's own error reply for a status, worded as it words it.
    fn error(self, status: u16) -> Reply {
        let body = match (self, status) {
            (P::OpenAi, 401) => {
                wire::openai_error("invalid_api_key", "Incorrect API key provided: sk-bad.")
            }
            (P::OpenAi, 404) => wire::openai_error(
                "model_not_found",
                "The model `gpt-9` does not exist or you do not have access to it.",
            ),
            (P::OpenAi, 429) => {
                wire::openai_error("rate_limit_exceeded", "Rate limit reached for requests")
            }
            (P::OpenAi, _) => wire::openai_error(
                "server_error",
                "The server had an error while processing your request.",
            ),
            (P::Anthropic, 401) => {
                wire::anthropic_error("authentication_error", "invalid x-api-key")
            }
            (P::Anthropic, 404) => wire::anthropic_error("not_found_error", "model: claude-9"),
            (P::Anthropic, 429) => wire::anthropic_error(
                "rate_limit_error",
                "Number of requests has exceeded your rate limit",
            ),
            (P::Anthropic, _) => wire::anthropic_error("api_error", "Internal server error"),
            (P::Gemini, 401) => wire::gemini_error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
            ),
            (P::Gemini, 404) => wire::gemini_error(
                404,
                "NOT_FOUND",
                "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.",
            ),
            (P::Gemini, 429) => wire::gemini_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
            ),
            (P::Gemini, _) => {
                wire::gemini_error(500, "INTERNAL", "An internal error has occurred.")
            }
            (P::Ollama, 401) => wire::ollama_error("unauthorized"),
            (P::Ollama, 404) => {
                wire::ollama_error("model \"llama9\" not found, try pulling it first")
            }
            (P::Ollama, 429) => wire::ollama_error("too many requests"),
            (P::Ollama, _) => wire::ollama_error("llama runner process has terminated"),
        };
        // Gemini reports a bad key as 400.
        let status = if matches!(self, P::Gemini) && status == 401 {
            400
        } else {
            status
        };
        Reply::json(status, &body)
    }

    fn endpoint(self, server: &FakeProvider) -> Endpoint {
        let base = match self {
            P::Ollama => server.base.clone(),
            _ => format!("{}/v1", server.base),
        };
        let mut e = Endpoint::new(
            providers::preset(self.preset()).expect("preset"),
            &base,
            Some(Secret::new("test-key")),
        )
        .expect("endpoint");
        e.retry.base_delay = Duration::from_millis(20);
        e.timeouts.idle = Duration::from_millis(400);
        e
    }
}

/// How many chunks of the stream come before the first text piece.
fn first_piece(p: P) -> usize {
    p.stream()
        .iter()
        .position(|c| c.contains("The door "))
        .expect("the stream carries the text")
}

fn request() -> ChatRequest {
    ChatRequest::new(
        "test-model",
        vec![
            Message::system("You narrate."),
            Message::user("I open the door"),
        ],
    )
}

struct Run {
    outcome: Result<Completion, Failure>,
    deltas: Vec<Delta>,
    elapsed: Duration,
}

fn run(p: P, server: &FakeProvider, req: &ChatRequest, cancel: &CancelToken) -> Run {
    let endpoint = p.endpoint(server);
    let mut deltas = Vec::new();
    let started = Instant::now();
    let outcome = providers::stream_chat(&endpoint, req, cancel, &mut |d| deltas.push(d.clone()));
    Run {
        outcome,
        deltas,
        elapsed: started.elapsed(),
    }
}

fn text_of(deltas: &[Delta]) -> String {
    deltas
        .iter()
        .filter_map(|d| match d {
            Delta::Text(t) => Some(t.as_str()),
            Delta::Reasoning(_) => None,
        })
        .collect()
}

fn failure(p: P, run: Run) -> Failure {
    match run.outcome {
        Err(f) => f,
        Ok(c) => panic!("{p:?}: expected a failure, got {c:?}"),
    }
}

/// Each protocol's own words for "the reply ran into max tokens" are read as a cut; its ordinary
/// end is not.
#[test]
fn every_protocol_says_when_a_reply_hit_the_length_limit() {
    for p in ALL {
        let cut: Vec<String> = p
            .stream()
            .iter()
            .map(|chunk| match p {
                P::OpenAi => {
                    chunk.replace(r#""finish_reason":"stop""#, r#""finish_reason":"length""#)
                }
                P::Anthropic => chunk.replace(
                    r#""stop_reason":"end_turn""#,
                    r#""stop_reason":"max_tokens""#,
                ),
                P::Gemini => chunk.replace(
                    r#""finishReason": "STOP""#,
                    r#""finishReason": "MAX_TOKENS""#,
                ),
                P::Ollama => chunk.replace(r#""done_reason":"stop""#, r#""done_reason":"length""#),
            })
            .collect();
        assert_ne!(cut, p.stream(), "{p:?}: the stream names its stop reason");
        let server = FakeProvider::start(vec![p.ok(), Reply::stream(p.content_type(), &cut)]);
        let whole = run(p, &server, &request(), &CancelToken::new()).outcome;
        let whole = whole.unwrap_or_else(|f| panic!("{p:?}: {}", f.error));
        assert!(
            !providers::stopped_at_limit(whole.finish_reason.as_deref()),
            "{p:?}: {:?}",
            whole.finish_reason
        );
        let cut = run(p, &server, &request(), &CancelToken::new()).outcome;
        let cut = cut.unwrap_or_else(|f| panic!("{p:?}: {}", f.error));
        assert!(
            providers::stopped_at_limit(cut.finish_reason.as_deref()),
            "{p:?}: {:?}",
            cut.finish_reason
        );
        assert_eq!(
            cut.text,
            PIECES.concat(),
            "{p:?}: the text so far is all there"
        );
    }
}

#[test]
fn every_protocol_streams_text_and_usage() {
    for p in ALL {
        let server = FakeProvider::start(vec![p.ok()]);
        let r = run(p, &server, &request(), &CancelToken::new());
        let done = r.outcome.unwrap_or_else(|f| panic!("{p:?}: {}", f.error));
        assert_eq!(done.text, PIECES.concat(), "{p:?}");
        assert_eq!(
            text_of(&r.deltas),
            done.text,
            "{p:?}: deltas add up to the text"
        );
        assert!(r.deltas.len() >= PIECES.len(), "{p:?}: streamed in pieces");
        assert_eq!(done.finish, Finish::Complete);
        assert_eq!(done.usage.prompt_tokens, Some(11), "{p:?}");
        assert_eq!(done.usage.completion_tokens, Some(22), "{p:?}");
        assert!(done.first_token_ms.is_some());
        let sent = &server.recorded()[0];
        assert_eq!(sent.method, "POST");
        let body: serde_json::Value = serde_json::from_str(&sent.body).expect("json body");
        match p {
            P::OpenAi => {
                assert_eq!(sent.url, "/v1/chat/completions");
                assert_eq!(sent.header("Authorization"), Some("Bearer test-key"));
                assert_eq!(body["stream_options"]["include_usage"], true);
            }
            P::Anthropic => {
                assert_eq!(sent.url, "/v1/messages");
                assert_eq!(sent.header("x-api-key"), Some("test-key"));
                assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
                assert_eq!(body["system"], "You narrate.");
            }
            P::Gemini => {
                assert_eq!(
                    sent.url,
                    "/v1/models/test-model:streamGenerateContent?alt=sse"
                );
                assert_eq!(sent.header("x-goog-api-key"), Some("test-key"));
            }
            P::Ollama => {
                assert_eq!(sent.url, "/api/chat");
                assert_eq!(body["stream"], true);
            }
        }
    }
}

#[test]
fn reasoning_arrives_apart_from_text() {
    let cases = [
        (P::Anthropic, wire::anthropic(&["Think ", "first."], &PIECES, 1, 2)),
        (P::Gemini, wire::gemini(&["Think ", "first."], &PIECES, 1, 2)),
        (P::Ollama, wire::ollama(&["Think ", "first."], &PIECES, 1, 2)),
        (
            P::OpenAi,
            // DeepSeek's reasoner streams `reasoning_content` before the text.
            std::iter::once(wire::sse(
                r#"{"choices":[{"index":0,"delta":{"reasoning_content":"Think first."},"finish_reason":null}]}"#,
            ))
            .chain(wire::openai(&PIECES, 1, 2))
            .collect(),
        ),
        (
            // A local model that thinks inline, the tags cut across deltas.
            P::OpenAi,
            wire::openai(&["<thi", "nk>Think ", "first.</th", "ink>The door ", "creaks ", "open, ", "slowly."], 1, 2),
        ),
    ];
    for (p, stream) in cases {
        let server = FakeProvider::start(vec![Reply::stream(p.content_type(), &stream)]);
        let mut req = request();
        req.reasoning = Reasoning::Medium;
        let r = run(p, &server, &req, &CancelToken::new());
        let done = r.outcome.unwrap_or_else(|f| panic!("{p:?}: {}", f.error));
        assert_eq!(done.reasoning, "Think first.", "{p:?}");
        assert_eq!(done.text, PIECES.concat(), "{p:?}");
        assert!(
            r.deltas.iter().any(|d| matches!(d, Delta::Reasoning(_))),
            "{p:?}: reasoning came as its own events"
        );
    }
}

#[test]
fn a_rejected_key_is_an_auth_error_with_the_providers_words() {
    for p in ALL {
        let server = FakeProvider::start(vec![p.error(401)]);
        let f = failure(p, run(p, &server, &request(), &CancelToken::new()));
        assert_eq!(f.error.kind(), ErrorKind::Auth, "{p:?}: {}", f.error);
        assert_eq!(
            server.recorded().len(),
            1,
            "{p:?}: auth errors are not retried"
        );
    }
    let server = FakeProvider::start(vec![P::Anthropic.error(401)]);
    let f = failure(
        P::Anthropic,
        run(P::Anthropic, &server, &request(), &CancelToken::new()),
    );
    assert_eq!(
        f.error.to_string(),
        "The key was rejected by Anthropic (401): invalid x-api-key"
    );
}

#[test]
fn an_unknown_model_is_reported_as_such() {
    for p in ALL {
        let server = FakeProvider::start(vec![p.error(404)]);
        let f = failure(p, run(p, &server, &request(), &CancelToken::new()));
        assert_eq!(
            f.error.kind(),
            ErrorKind::ModelNotFound,
            "{p:?}: {}",
            f.error
        );
        assert!(f.error.to_string().contains("test-model"), "{}", f.error);
    }
}

#[test]
fn rate_limits_are_waited_out_when_short_and_reported_when_long() {
    for p in ALL {
        let server = FakeProvider::start(vec![p.error(429).header("Retry-After", "1"), p.ok()]);
        let r = run(p, &server, &request(), &CancelToken::new());
        let elapsed = r.elapsed;
        let done = r.outcome.unwrap_or_else(|f| panic!("{p:?}: {}", f.error));
        assert_eq!(done.text, PIECES.concat());
        assert_eq!(done.attempts, 2);
        assert!(
            elapsed >= Duration::from_secs(1),
            "{p:?}: Retry-After honoured ({elapsed:?})"
        );

        let server = FakeProvider::start(vec![p.error(429).header("Retry-After", "3600")]);
        let f = failure(p, run(p, &server, &request(), &CancelToken::new()));
        match &f.error {
            providers::ProviderError::RateLimited { retry_after, .. } => {
                assert_eq!(*retry_after, Some(Duration::from_secs(3600)), "{p:?}");
            }
            other => panic!("{p:?}: {other:?}"),
        }
        assert_eq!(server.recorded().len(), 1, "an hour is not waited for");
    }
}

#[test]
fn a_server_error_is_retried_then_succeeds_or_is_reported() {
    for p in ALL {
        let server = FakeProvider::start(vec![p.error(500), p.ok()]);
        let done = run(p, &server, &request(), &CancelToken::new())
            .outcome
            .unwrap_or_else(|f| panic!("{p:?}: {}", f.error));
        assert_eq!(done.text, PIECES.concat());
        assert_eq!(done.attempts, 2);

        let server = FakeProvider::start(vec![p.error(500)]);
        let f = failure(p, run(p, &server, &request(), &CancelToken::new()));
        assert_eq!(f.error.kind(), ErrorKind::Server, "{p:?}");
        assert_eq!(server.recorded().len(), 3, "three attempts in all");
    }
}

#[test]
fn a_stalled_stream_times_out_and_keeps_its_text() {
    for p in ALL {
        // The first two text pieces arrive, then silence far longer than the idle limit.
        let head = first_piece(p);
        let stall = p
            .ok()
            .then_at(head + 2, Step::Sleep(Duration::from_secs(10)));
        let server = FakeProvider::start(vec![stall]);
        let r = run(p, &server, &request(), &CancelToken::new());
        assert!(
            r.elapsed < Duration::from_secs(5),
            "{p:?}: gave up early ({:?})",
            r.elapsed
        );
        let f = failure(p, r);
        assert_eq!(f.error.kind(), ErrorKind::IdleTimeout, "{p:?}: {}", f.error);
        assert_eq!(f.partial.text, "The door creaks ", "{p:?}");
        assert_eq!(
            server.recorded().len(),
            1,
            "{p:?}: never retried after text arrived"
        );
    }
}

#[test]
fn a_dropped_connection_keeps_the_partial_text() {
    for p in ALL {
        let head = first_piece(p);
        let server = FakeProvider::start(vec![p.ok().drop_after(head + 2)]);
        let f = failure(p, run(p, &server, &request(), &CancelToken::new()));
        assert_eq!(f.error.kind(), ErrorKind::Network, "{p:?}: {}", f.error);
        assert_eq!(f.partial.text, "The door creaks ", "{p:?}");
    }
}

#[test]
fn a_connection_dropped_before_any_text_is_retried() {
    for p in ALL {
        let server = FakeProvider::start(vec![p.ok().drop_after(0), p.ok()]);
        let done = run(p, &server, &request(), &CancelToken::new())
            .outcome
            .unwrap_or_else(|f| panic!("{p:?}: {}", f.error));
        assert_eq!(done.text, PIECES.concat());
        assert_eq!(done.attempts, 2);
    }
}

#[test]
fn garbage_lines_are_skipped_and_the_reply_survives() {
    for p in ALL {
        let mut stream = p.stream();
        let junk = match p {
            P::Ollama => "this is not json\n{\"half\": \n".to_owned(),
            _ => "data: {not json\n\n: a comment\n\nretry: x\nnonsense line\n\n".to_owned(),
        };
        stream.insert(2, junk.clone());
        stream.insert(4, junk);
        let server = FakeProvider::start(vec![Reply::stream(p.content_type(), &stream)]);
        let done = run(p, &server, &request(), &CancelToken::new())
            .outcome
            .unwrap_or_else(|f| panic!("{p:?}: {}", f.error));
        assert_eq!(done.text, PIECES.concat(), "{p:?}");
    }
    // A body that is garbage from start to end never completes: that is an error, not a reply.
    for p in ALL {
        let html = Reply::stream("text/html", &["<html>gateway says hi</html>\n".to_owned()]);
        let server = FakeProvider::start(vec![html]);
        let f = failure(p, run(p, &server, &request(), &CancelToken::new()));
        assert!(f.partial.text.is_empty());
    }
}

#[test]
fn an_error_event_mid_stream_keeps_the_text_so_far() {
    let mut stream = P::Anthropic.stream();
    let at = stream.len() - 3;
    stream.truncate(at);
    stream.push(
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
            .to_owned(),
    );
    let server = FakeProvider::start(vec![Reply::stream("text/event-stream", &stream)]);
    let f = failure(
        P::Anthropic,
        run(P::Anthropic, &server, &request(), &CancelToken::new()),
    );
    assert_eq!(f.error.kind(), ErrorKind::Server);
    assert!(f.error.to_string().contains("Overloaded"));
    assert_eq!(f.partial.text, PIECES.concat());
}

#[test]
fn cancel_stops_a_stream_at_once_and_returns_the_text_so_far() {
    for p in ALL {
        let head = first_piece(p);
        let server = FakeProvider::start(vec![
            p.ok()
                .then_at(head + 1, Step::Sleep(Duration::from_secs(20))),
        ]);
        let mut endpoint = p.endpoint(&server);
        endpoint.timeouts.idle = Duration::from_secs(60);
        let cancel = CancelToken::new();
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = {
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                providers::stream_chat(&endpoint, &request(), &cancel, &mut |d| {
                    let _ = tx.send(d.clone());
                })
            })
        };
        let first = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("first delta");
        assert_eq!(first, Delta::Text("The door ".into()));
        let asked = Instant::now();
        cancel.cancel();
        let outcome = worker.join().expect("no panic");
        let took = asked.elapsed();
        assert!(took < Duration::from_secs(2), "{p:?}: stopped in {took:?}");
        eprintln!("{p:?}: cancel took {took:?}");
        let done = outcome.unwrap_or_else(|f| panic!("{p:?}: {}", f.error));
        assert_eq!(done.finish, Finish::Cancelled);
        assert_eq!(done.text, "The door ");
    }
}

#[test]
fn cancel_during_a_retry_wait_ends_the_call() {
    let p = P::OpenAi;
    let server = FakeProvider::start(vec![p.error(429).header("Retry-After", "20"), p.ok()]);
    let cancel = CancelToken::new();
    let c = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        c.cancel();
    });
    let r = run(p, &server, &request(), &cancel);
    assert!(r.elapsed < Duration::from_secs(5));
    assert_eq!(r.outcome.map(|c| c.finish).ok(), Some(Finish::Cancelled));
}

#[test]
fn unreachable_servers_are_network_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let mut endpoint = Endpoint::new(
        providers::preset("llamacpp").expect("preset"),
        &format!("http://127.0.0.1:{port}/v1"),
        None,
    )
    .expect("endpoint");
    endpoint.retry.base_delay = Duration::from_millis(10);
    let f = providers::stream_chat(&endpoint, &request(), &CancelToken::new(), &mut |_| {})
        .expect_err("nobody listens");
    assert_eq!(f.error.kind(), ErrorKind::Network);
    assert_eq!(f.partial.attempts, 3, "connect failures are retried");
}

#[test]
fn gemini_generate_content_returns_one_reply() {
    let body = r#"{"candidates":[{"content":{"parts":[{"text":"Plan.","thought":true},{"text":"Hello there."}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3,"thoughtsTokenCount":2,"totalTokenCount":9},"modelVersion":"gemini-2.5-flash"}"#;
    let server = FakeProvider::start(vec![Reply::json(200, body)]);
    let mut req = request();
    req.stream = false;
    let done = run(P::Gemini, &server, &req, &CancelToken::new())
        .outcome
        .unwrap_or_else(|f| panic!("{}", f.error));
    assert_eq!(done.text, "Hello there.");
    assert_eq!(done.reasoning, "Plan.");
    assert_eq!(done.usage.reasoning_tokens, Some(2));
    assert_eq!(
        server.recorded()[0].url,
        "/v1/models/test-model:generateContent"
    );
}

#[test]
fn model_lists_per_protocol() {
    let cases = [
        (
            P::OpenAi,
            r#"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1,"owned_by":"system"},{"id":"gpt-4o","object":"model","created":1,"owned_by":"system"}]}"#,
            "/v1/models",
            vec!["gpt-4o", "gpt-4o-mini"],
        ),
        (
            P::Anthropic,
            r#"{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"claude-sonnet-4-5"}"#,
            "/v1/models?limit=1000",
            vec!["claude-sonnet-4-5"],
        ),
        (
            P::Gemini,
            r#"{"models":[{"name":"models/gemini-2.5-flash","displayName":"Gemini 2.5 Flash","inputTokenLimit":1048576,"outputTokenLimit":65536,"supportedGenerationMethods":["generateContent","countTokens"]},{"name":"models/embedding-001","supportedGenerationMethods":["embedContent"]}]}"#,
            "/v1/models?pageSize=1000",
            vec!["gemini-2.5-flash"],
        ),
        (
            P::Ollama,
            r#"{"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","modified_at":"2025-01-01T00:00:00Z","size":2019393189,"digest":"a80c","details":{"format":"gguf","family":"llama"}}]}"#,
            "/api/tags",
            vec!["llama3.2:latest"],
        ),
    ];
    for (p, body, path, ids) in cases {
        let server = FakeProvider::start(vec![Reply::json(200, body)]);
        let models = providers::list_models(&p.endpoint(&server), &CancelToken::new())
            .unwrap_or_else(|e| panic!("{p:?}: {e}"));
        let got: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(got, ids, "{p:?}");
        assert_eq!(server.recorded()[0].url, path, "{p:?}");
        assert_eq!(server.recorded()[0].method, "GET");
    }
    // A model list refused for the key says so.
    let server = FakeProvider::start(vec![P::OpenAi.error(401)]);
    let e = providers::list_models(&P::OpenAi.endpoint(&server), &CancelToken::new())
        .expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Auth);
}

#[test]
fn anthropic_model_lists_follow_pages() {
    let server = FakeProvider::start_routed(|req, _| {
        if req.url.contains("after_id=m2") {
            Reply::json(
                200,
                r#"{"data":[{"type":"model","id":"m3","display_name":"M3"}],"has_more":false,"last_id":"m3"}"#,
            )
        } else {
            Reply::json(
                200,
                r#"{"data":[{"type":"model","id":"m1","display_name":"M1"},{"type":"model","id":"m2","display_name":"M2"}],"has_more":true,"last_id":"m2"}"#,
            )
        }
    });
    let models =
        providers::list_models(&P::Anthropic.endpoint(&server), &CancelToken::new()).expect("list");
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, vec!["m1", "m2", "m3"]);
}

#[derive(serde::Deserialize, schemars::JsonSchema, Debug, PartialEq)]
struct Scene {
    place: Option<String>,
    present: Vec<String>,
    minutes: u32,
}

const SCENE_PIECES: [&str; 3] = [
    r#"{"place": "The Tavern", "#,
    r#""present": ["Mira"], "#,
    r#""minutes": 15}"#,
];

fn scene() -> Scene {
    Scene {
        place: Some("The Tavern".into()),
        present: vec!["Mira".into()],
        minutes: 15,
    }
}

/// Every protocol asks for the shape its own way and the reply reads back as the type the schema
/// was made from: OpenAI `response_format` json_schema (strict), Anthropic one forced tool whose
/// input streams as `input_json_delta`, Gemini `responseJsonSchema`, Ollama `format`.
#[test]
fn every_protocol_asks_for_and_reads_a_shaped_reply() {
    use fabula::providers::structured::{ReplyShape, ShapeAsk, structured_chat};
    for p in ALL {
        let stream = match p {
            P::OpenAi => wire::openai(&SCENE_PIECES, 11, 22),
            P::Anthropic => wire::anthropic_tool("scene", &SCENE_PIECES, 11, 22),
            P::Gemini => wire::gemini(&[], &SCENE_PIECES, 11, 22),
            P::Ollama => wire::ollama(&[], &SCENE_PIECES, 11, 22),
        };
        let server = FakeProvider::start(vec![Reply::stream(p.content_type(), &stream)]);
        let endpoint = p.endpoint(&server);
        let (value, completion, ask) = structured_chat::<Scene>(
            &endpoint,
            &request(),
            ReplyShape::of::<Scene>("scene"),
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .unwrap_or_else(|e| panic!("{p:?}: {e}"));
        assert_eq!(value, scene(), "{p:?}");
        assert_eq!(ask, ShapeAsk::Schema, "{p:?}");
        assert_eq!(completion.usage.prompt_tokens, Some(11), "{p:?}");
        let body: serde_json::Value =
            serde_json::from_str(&server.recorded()[0].body).expect("json body");
        match p {
            P::OpenAi => {
                assert_eq!(body["response_format"]["type"], "json_schema");
                assert_eq!(body["response_format"]["json_schema"]["name"], "scene");
                assert_eq!(body["response_format"]["json_schema"]["strict"], true);
                assert_eq!(
                    body["response_format"]["json_schema"]["schema"]["additionalProperties"],
                    false
                );
            }
            P::Anthropic => {
                assert_eq!(body["tools"][0]["name"], "scene");
                assert!(body["tools"][0]["input_schema"]["properties"]["present"].is_object());
                assert_eq!(
                    body["tool_choice"],
                    serde_json::json!({"type": "tool", "name": "scene"})
                );
            }
            P::Gemini => {
                assert_eq!(
                    body["generationConfig"]["responseMimeType"],
                    "application/json"
                );
                assert!(
                    body["generationConfig"]["responseJsonSchema"]["properties"]["minutes"]
                        .is_object()
                );
            }
            P::Ollama => {
                assert!(body["format"]["properties"]["place"].is_object(), "{body}");
            }
        }
    }
}

/// An OpenAI-compatible server that refuses `json_schema` is asked for `json_object`, and one that
/// refuses that too is asked in the prompt alone; each refusal is its documented 400 body, and
/// the way that worked is returned (to be remembered for the model). A shape the reply does not
/// fit is an error that keeps the text, never a panic.
#[test]
fn a_server_that_refuses_the_schema_is_asked_the_weaker_ways() {
    use fabula::providers::structured::{ReplyShape, ShapeAsk, StructuredError, structured_chat};
    let refusal = |param: &str| {
        Reply::json(
            400,
            &format!(
                r#"{{"error":{{"message":"'{param}' is not supported with this model.","type":"invalid_request_error","param":"response_format","code":null}}}}"#
            ),
        )
    };
    let server = FakeProvider::start(vec![
        refusal("response_format.json_schema"),
        refusal("response_format.json_object"),
        Reply::stream(
            "text/event-stream",
            &wire::openai(
                &["Sure! ```json\n", SCENE_PIECES.concat().as_str(), "\n```"],
                5,
                5,
            ),
        ),
    ]);
    let endpoint = P::OpenAi.endpoint(&server);
    let mut attempts = 0;
    let (value, _, ask) = structured_chat::<Scene>(
        &endpoint,
        &request(),
        ReplyShape::of::<Scene>("scene"),
        &CancelToken::new(),
        &mut |_, _| attempts += 1,
    )
    .expect("the prompt alone worked");
    assert_eq!(value, scene());
    assert_eq!((ask, attempts), (ShapeAsk::Prompt, 3));
    let sent = server.recorded();
    let bodies: Vec<serde_json::Value> = sent
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("json"))
        .collect();
    assert_eq!(bodies[0]["response_format"]["type"], "json_schema");
    assert_eq!(bodies[1]["response_format"]["type"], "json_object");
    assert!(bodies[2].get("response_format").is_none());
    for body in &bodies[1..] {
        let system = body["messages"][0]["content"].as_str().expect("system");
        assert!(system.contains("follows this JSON schema"), "{system}");
    }

    // Another refusal (the key) is not about the shape: no weaker asking.
    let server = FakeProvider::start(vec![P::OpenAi.error(401)]);
    let err = structured_chat::<Scene>(
        &P::OpenAi.endpoint(&server),
        &request(),
        ReplyShape::of::<Scene>("scene"),
        &CancelToken::new(),
        &mut |_, _| {},
    )
    .expect_err("refused");
    assert!(matches!(err, StructuredError::Provider(_)), "{err}");
    assert_eq!(server.recorded().len(), 1);

    // A reply that does not fit: the text is kept for the inspector.
    let server = FakeProvider::start(vec![Reply::stream(
        "text/event-stream",
        &wire::openai(&[r#"{"place": 7}"#], 5, 5),
    )]);
    let err = structured_chat::<Scene>(
        &P::OpenAi.endpoint(&server),
        &request(),
        ReplyShape::of::<Scene>("scene"),
        &CancelToken::new(),
        &mut |_, _| {},
    )
    .expect_err("unreadable");
    match err {
        StructuredError::Unreadable { raw, .. } => assert_eq!(raw, r#"{"place": 7}"#),
        other => panic!("{other}"),
    }
}
