//! Tool calls on every wire protocol, against servers on 127.0.0.1 that speak each provider's
//! documented bytes: a run of three steps where the model calls a tool (arguments streamed in
//! pieces where the protocol streams them), names a tool that does not exist, sends arguments
//! of the wrong type, gets a tool's error back, and then answers; each result goes back in the
//! protocol's own shape, and what was declared is the schema of the Rust type read.
// Test servers start their own threads.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::fake_llm::{FakeProvider, Reply, wire};
use fabula::domain::Secret;
use fabula::jobs::CancelToken;
use fabula::providers::tools::{Limits, RunEnd, ToolCall, ToolReply, ToolSpec, Toolbox, run_tools};
use fabula::providers::{self, ChatRequest, Endpoint, Message};
use serde_json::Value;

#[derive(Clone, Copy, Debug)]
enum P {
    OpenAi,
    Anthropic,
    Gemini,
    Ollama,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct LookUp {
    /// Whom to look up.
    name: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Finish {
    context: String,
}

/// People of the story, looked up by name; `finish` ends the run.
struct People;

impl Toolbox for People {
    fn specs(&self) -> Vec<ToolSpec> {
        vec![
            ToolSpec::of::<LookUp>("look_up", "What the story says about someone."),
            ToolSpec::of::<Finish>("finish", "End with what was found."),
        ]
    }

    fn run(&mut self, call: &ToolCall) -> ToolReply {
        match call.name.as_str() {
            "look_up" => match call.read::<LookUp>() {
                Ok(a) if a.name == "Mira" => ToolReply::Ok("Mira keeps the lamp.".into()),
                Ok(a) => ToolReply::Error(format!("No one called {} is known.", a.name)),
                Err(e) => ToolReply::Error(e),
            },
            _ => match call.read::<Finish>() {
                Ok(a) => ToolReply::Finish(a.context),
                Err(e) => ToolReply::Error(e),
            },
        }
    }
}

impl P {
    fn endpoint(self, server: &FakeProvider) -> Endpoint {
        let (preset, base) = match self {
            P::OpenAi => ("openai", format!("{}/v1", server.base)),
            P::Anthropic => ("anthropic", format!("{}/v1", server.base)),
            P::Gemini => ("google", format!("{}/v1", server.base)),
            P::Ollama => ("ollama", server.base.clone()),
        };
        Endpoint::new(
            providers::preset(preset).expect("preset"),
            &base,
            Some(Secret::new("test-key")),
        )
        .expect("endpoint")
    }

    fn reply(self, lines: Vec<String>) -> Reply {
        match self {
            P::Ollama => Reply::stream("application/x-ndjson", &lines),
            _ => Reply::stream("text/event-stream", &lines),
        }
    }

    /// Step 1: Mira looked up (in pieces), an unknown tool, and arguments of the wrong type.
    fn first_calls(self) -> Reply {
        self.reply(match self {
            P::OpenAi => wire::openai_tool_calls(&[
                ("call_a1", "look_up", &["{\"na", "me\": \"Mi", "ra\"}"]),
                ("call_a2", "summon", &["{}"]),
                ("call_a3", "look_up", &["{\"name\": 3}"]),
            ]),
            P::Anthropic => wire::anthropic_tool_calls(
                "Let me look.",
                &[
                    ("toolu_01", "look_up", &["", "{\"name\": \"Mi", "ra\"}"]),
                    ("toolu_02", "summon", &[]),
                    ("toolu_03", "look_up", &["{\"name\": 3}"]),
                ],
            ),
            P::Gemini => wire::gemini_tool_calls(&[
                ("look_up", r#"{"name": "Mira"}"#),
                ("summon", "{}"),
                ("look_up", r#"{"name": 3}"#),
            ]),
            P::Ollama => wire::ollama_tool_calls(&[
                ("look_up", r#"{"name":"Mira"}"#),
                ("summon", "{}"),
                ("look_up", r#"{"name":3}"#),
            ]),
        })
    }

    /// Step 2: someone the tool does not know.
    fn second_call(self) -> Reply {
        self.reply(match self {
            P::OpenAi => {
                wire::openai_tool_calls(&[("call_b1", "look_up", &["{\"name\":\"Nobody\"}"])])
            }
            P::Anthropic => wire::anthropic_tool_calls(
                "Once more.",
                &[("toolu_04", "look_up", &["{\"name\":\"Nobody\"}"])],
            ),
            P::Gemini => wire::gemini_tool_calls(&[("look_up", r#"{"name":"Nobody"}"#)]),
            P::Ollama => wire::ollama_tool_calls(&[("look_up", r#"{"name":"Nobody"}"#)]),
        })
    }

    fn answer(self) -> Reply {
        let pieces = ["Mira keeps ", "the lighthouse."];
        self.reply(match self {
            P::OpenAi => wire::openai(&pieces, 120, 8),
            P::Anthropic => wire::anthropic(&[], &pieces, 120, 8),
            P::Gemini => wire::gemini(&[], &pieces, 120, 8),
            P::Ollama => wire::ollama(&[], &pieces, 120, 8),
        })
    }
}

fn body(server: &FakeProvider, n: usize) -> Value {
    serde_json::from_str(&server.recorded()[n].body).expect("json body")
}

fn request() -> ChatRequest {
    let mut r = ChatRequest::new(
        "model-1",
        vec![
            Message::system("Answer from the story."),
            Message::user("Who keeps the lighthouse?"),
        ],
    );
    r.max_tokens = Some(500);
    r
}

const LIMITS: Limits = Limits {
    steps: 6,
    time: Duration::from_secs(30),
};

/// The declared `look_up` tool's parameters, wherever the protocol puts them.
fn declared(p: P, body: &Value) -> Value {
    match p {
        P::OpenAi | P::Ollama => body["tools"][0]["function"]["parameters"].clone(),
        P::Anthropic => body["tools"][0]["input_schema"].clone(),
        P::Gemini => body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"].clone(),
    }
}

/// The results of step 1 as step 2 sent them: (the call's id or name, content, is it an error).
fn results_sent(p: P, body: &Value) -> Vec<(String, String, bool)> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    match p {
        P::OpenAi | P::Ollama => body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter(|m| m["role"] == "tool")
            .map(|m| {
                let content = s(&m["content"]);
                let key = if matches!(p, P::OpenAi) {
                    s(&m["tool_call_id"])
                } else {
                    s(&m["tool_name"])
                };
                let error = content.starts_with("Error: ");
                (key, content, error)
            })
            .collect(),
        P::Anthropic => {
            let last = body["messages"]
                .as_array()
                .expect("messages")
                .last()
                .expect("turn")
                .clone();
            assert_eq!(last["role"], "user", "the results in one user turn");
            last["content"]
                .as_array()
                .expect("blocks")
                .iter()
                .map(|b| {
                    assert_eq!(b["type"], "tool_result");
                    (
                        s(&b["tool_use_id"]),
                        s(&b["content"]),
                        b["is_error"] == true,
                    )
                })
                .collect()
        }
        P::Gemini => {
            let last = body["contents"]
                .as_array()
                .expect("contents")
                .last()
                .expect("turn")
                .clone();
            assert_eq!(last["role"], "user");
            last["parts"]
                .as_array()
                .expect("parts")
                .iter()
                .map(|part| {
                    let r = &part["functionResponse"];
                    match r["response"].get("error") {
                        Some(e) => (s(&r["name"]), s(e), true),
                        None => (s(&r["name"]), s(&r["response"]["result"]), false),
                    }
                })
                .collect()
        }
    }
}

#[test]
fn a_tool_run_goes_three_steps_with_errors_returned_on_every_protocol() {
    for p in [P::OpenAi, P::Anthropic, P::Gemini, P::Ollama] {
        let server = FakeProvider::start(vec![p.first_calls(), p.second_call(), p.answer()]);
        let endpoint = p.endpoint(&server);
        let mut steps = Vec::new();
        let run = run_tools(
            &endpoint,
            &request(),
            &mut People,
            LIMITS,
            &CancelToken::new(),
            &mut |step| steps.push((step.number, step.result.is_ok())),
        )
        .unwrap_or_else(|f| panic!("{p:?}: {f}"));
        assert_eq!(run.end, RunEnd::Answered, "{p:?}");
        assert_eq!(run.text, "Mira keeps the lighthouse.", "{p:?}");
        assert_eq!(run.steps, 3, "{p:?}");
        assert_eq!(steps, [(1, true), (2, true), (3, true)], "{p:?}");
        let replies: Vec<&ToolReply> = run.calls.iter().map(|(_, r)| r).collect();
        assert_eq!(
            replies[0],
            &ToolReply::Ok("Mira keeps the lamp.".into()),
            "{p:?}"
        );
        assert!(
            matches!(replies[1], ToolReply::Error(e) if e == "There is no tool named “summon”. The tools are: look_up, finish."),
            "{p:?}: {:?}",
            replies[1]
        );
        assert!(
            matches!(replies[2], ToolReply::Error(e) if e.starts_with("The arguments of look_up could not be read (invalid type: integer `3`")),
            "{p:?}: {:?}",
            replies[2]
        );
        assert_eq!(
            replies[3],
            &ToolReply::Error("No one called Nobody is known.".into())
        );
        assert_eq!(
            run.calls[0].0.arguments_value(),
            serde_json::json!({"name": "Mira"}),
            "{p:?}"
        );

        // The tool was declared with the schema of the type its arguments are read into.
        let first = body(&server, 0);
        let schema = declared(p, &first);
        assert_eq!(
            schema["properties"]["name"]["type"], "string",
            "{p:?}: {first}"
        );
        assert_eq!(schema["required"], serde_json::json!(["name"]), "{p:?}");

        // Step 2 carried the calls back and their results in the protocol's own shape.
        let second = body(&server, 1);
        let results = results_sent(p, &second);
        assert_eq!(results.len(), 3, "{p:?}: {second}");
        assert_eq!(
            results.iter().map(|r| r.2).collect::<Vec<_>>(),
            [false, true, true],
            "{p:?}: {results:?}"
        );
        assert!(results[0].1.contains("Mira keeps the lamp."), "{p:?}");
        assert!(
            results[1].1.contains("There is no tool named “summon”"),
            "{p:?}"
        );
        let ids: Vec<&str> = results.iter().map(|r| r.0.as_str()).collect();
        match p {
            P::OpenAi => assert_eq!(ids, ["call_a1", "call_a2", "call_a3"]),
            P::Anthropic => assert_eq!(ids, ["toolu_01", "toolu_02", "toolu_03"]),
            P::Gemini | P::Ollama => assert_eq!(ids, ["look_up", "summon", "look_up"]),
        }
        // The model's own turn went back before the results, calls and text as it sent them.
        match p {
            P::OpenAi => {
                let turn = &second["messages"][2];
                assert_eq!(turn["role"], "assistant");
                assert_eq!(
                    turn["tool_calls"][0]["function"]["arguments"],
                    "{\"name\": \"Mira\"}"
                );
                assert_eq!(turn["tool_calls"][0]["type"], "function");
            }
            P::Anthropic => {
                let turn = &second["messages"][1];
                assert_eq!(
                    turn["content"][0],
                    serde_json::json!({"type": "text", "text": "Let me look."})
                );
                assert_eq!(turn["content"][1]["type"], "tool_use");
                assert_eq!(
                    turn["content"][1]["input"],
                    serde_json::json!({"name": "Mira"})
                );
                assert!(second.get("thinking").is_none());
            }
            P::Gemini => {
                let turn = &second["contents"][1];
                assert_eq!(turn["role"], "model");
                assert_eq!(
                    turn["parts"][0]["functionCall"]["args"],
                    serde_json::json!({"name": "Mira"})
                );
            }
            P::Ollama => {
                let turn = &second["messages"][2];
                assert_eq!(
                    turn["tool_calls"][0]["function"]["arguments"],
                    serde_json::json!({"name": "Mira"})
                );
            }
        }
        // The last step had every result so far.
        let third = body(&server, 2);
        let all = third.to_string();
        assert!(all.contains("No one called Nobody is known."), "{p:?}");
    }
}

#[test]
fn a_finishing_tool_ends_the_run_and_limits_and_stop_are_kept() {
    // `finish` ends the run with its context; nothing more is asked.
    let server = FakeProvider::start(vec![Reply::stream(
        "text/event-stream",
        &wire::openai_tool_calls(&[("call_f", "finish", &["{\"context\":\"Mira, the keeper.\"}"])]),
    )]);
    let endpoint = P::OpenAi.endpoint(&server);
    let run = run_tools(
        &endpoint,
        &request(),
        &mut People,
        LIMITS,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect("run");
    assert_eq!(
        (run.end, run.text.as_str(), run.steps),
        (RunEnd::Finished, "Mira, the keeper.", 1)
    );
    assert_eq!(server.recorded().len(), 1);

    // A model that only ever calls tools is stopped at the step limit.
    let server = FakeProvider::start_routed(|_, _| {
        Reply::stream(
            "text/event-stream",
            &wire::openai_tool_calls(&[("call_x", "look_up", &["{\"name\":\"Mira\"}"])]),
        )
    });
    let endpoint = P::OpenAi.endpoint(&server);
    let limits = Limits {
        steps: 2,
        time: Duration::from_secs(30),
    };
    let run = run_tools(
        &endpoint,
        &request(),
        &mut People,
        limits,
        &CancelToken::new(),
        &mut |_| {},
    )
    .expect("run");
    assert_eq!((run.end, run.steps), (RunEnd::OutOfSteps, 2));
    assert_eq!(server.recorded().len(), 2);

    // Stopped before it starts: nothing is sent.
    let cancel = CancelToken::new();
    cancel.cancel();
    let run = run_tools(
        &endpoint,
        &request(),
        &mut People,
        LIMITS,
        &cancel,
        &mut |_| {},
    )
    .expect("run");
    assert_eq!(run.end, RunEnd::Stopped);
    assert_eq!(server.recorded().len(), 2);
}
