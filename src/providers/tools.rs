//! Tool calls, the same for every protocol: what a tool is (a name, what it does, and a JSON
//! schema made from the Rust type its arguments are read into), a call the model made, the
//! result sent back, and the loop that runs a model with tools until it answers, a tool ends
//! the run, or the steps or time allowed are spent. A tool that fails, an unknown tool name and
//! arguments that cannot be read all go back to the model as a tool error, so it can correct
//! itself; they never end the run.

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{ChatRequest, Completion, Endpoint, Failure, Finish, Message};
use crate::jobs::CancelToken;

/// A tool the model may call.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSpec {
    /// Letters, digits and `_` (every protocol accepts those).
    pub name: String,
    pub description: String,
    /// The JSON schema of the arguments.
    pub parameters: Value,
}

impl ToolSpec {
    /// A tool whose arguments are read as `T` (its schema generated from `T`).
    pub fn of<T: schemars::JsonSchema>(name: &str, description: &str) -> Self {
        let mut schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut schema {
            // The type's name is no help to the model, and some servers refuse a schema title.
            map.remove("title");
        }
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            parameters: super::structured::strict(schema),
        }
    }
}

/// A call the model made.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolCall {
    /// The protocol's call id (made up where the protocol has none, as Gemini's and Ollama's).
    pub id: String,
    pub name: String,
    /// The arguments as the model wrote them (JSON text; streamed in pieces by some protocols).
    pub arguments: String,
    /// Gemini's thought signature on the call, sent back with it.
    pub signature: Option<String>,
}

impl ToolCall {
    /// The arguments as a JSON value (an empty object when there are none or they are broken),
    /// for protocols that send a call back as an object.
    pub fn arguments_value(&self) -> Value {
        match serde_json::from_str::<Value>(&self.arguments) {
            Ok(v @ Value::Object(_)) => v,
            _ => Value::Object(serde_json::Map::new()),
        }
    }

    /// The arguments read as `T`; the error is worded for the model, which reads it.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, String> {
        let text = if self.arguments.trim().is_empty() {
            "{}"
        } else {
            self.arguments.as_str()
        };
        serde_json::from_str(text).map_err(|e| {
            format!(
                "The arguments of {} could not be read ({e}). Call it again with a JSON object \
                 that follows its schema.",
                self.name
            )
        })
    }
}

/// What a tool sent back for a call.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolResult {
    pub call_id: String,
    pub name: String,
    pub content: String,
    pub is_error: bool,
}

impl ToolResult {
    /// The result as protocols without an error flag (OpenAI, Ollama) send it: an error marked
    /// in its text.
    pub fn marked_text(&self) -> String {
        if self.is_error {
            format!("Error: {}", self.content)
        } else {
            self.content.clone()
        }
    }
}

/// What running a tool came to.
#[derive(Clone, Debug, PartialEq)]
pub enum ToolReply {
    Ok(String),
    /// Goes back to the model as a tool error.
    Error(String),
    /// The run is over; this is its outcome (a "finish" tool).
    Finish(String),
}

/// The tools of one run.
pub trait Toolbox {
    fn specs(&self) -> Vec<ToolSpec>;
    /// Runs one call whose name is among `specs`.
    fn run(&mut self, call: &ToolCall) -> ToolReply;
}

/// How far a run may go.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Model calls at most.
    pub steps: u32,
    /// Wall time at most; the step under way finishes, no other starts.
    pub time: Duration,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunEnd {
    /// The model answered without calling a tool.
    Answered,
    /// A tool finished the run.
    Finished,
    /// The steps or the time ran out.
    OutOfSteps,
    OutOfTime,
    Stopped,
}

/// A run's outcome: its text (the answer, or what the finishing tool gave), how it ended, and
/// every call made with what came back.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub text: String,
    pub end: RunEnd,
    pub steps: u32,
    pub calls: Vec<(ToolCall, ToolReply)>,
}

/// One model call of a run, as it is reported (for the usage ledger, the inspector, progress).
pub struct Step<'a> {
    pub number: u32,
    pub limit: u32,
    pub sent: &'a ChatRequest,
    pub result: &'a Result<Completion, Failure>,
}

/// Runs `request` with the toolbox's tools until the model answers, a tool finishes, or the
/// limits are reached. A failed model call ends the run with its failure.
#[allow(clippy::result_large_err)]
pub fn run_tools(
    endpoint: &Endpoint,
    request: &ChatRequest,
    toolbox: &mut dyn Toolbox,
    limits: Limits,
    cancel: &CancelToken,
    on_step: &mut dyn FnMut(Step<'_>),
) -> Result<Run, Failure> {
    let started = Instant::now();
    let specs = toolbox.specs();
    let mut request = request.clone();
    request.tools = specs.clone();
    let mut run = Run {
        text: String::new(),
        end: RunEnd::OutOfSteps,
        steps: 0,
        calls: Vec::new(),
    };
    while run.steps < limits.steps.max(1) {
        if cancel.is_cancelled() {
            run.end = RunEnd::Stopped;
            return Ok(run);
        }
        if started.elapsed() >= limits.time {
            run.end = RunEnd::OutOfTime;
            return Ok(run);
        }
        run.steps += 1;
        let result = super::stream_chat(endpoint, &request, cancel, &mut |_| {});
        on_step(Step {
            number: run.steps,
            limit: limits.steps,
            sent: &request,
            result: &result,
        });
        let completion = result?;
        if completion.finish == Finish::Cancelled {
            run.end = RunEnd::Stopped;
            return Ok(run);
        }
        run.text = completion.text.clone();
        if completion.tool_calls.is_empty() {
            run.end = RunEnd::Answered;
            return Ok(run);
        }
        request.messages.push(Message::assistant_calls(
            completion.text.clone(),
            completion.tool_calls.clone(),
        ));
        for call in completion.tool_calls {
            let reply = if specs.iter().any(|s| s.name == call.name) {
                toolbox.run(&call)
            } else {
                ToolReply::Error(format!(
                    "There is no tool named “{}”. The tools are: {}.",
                    call.name,
                    specs
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            };
            let (content, is_error) = match &reply {
                ToolReply::Ok(t) | ToolReply::Finish(t) => (t.clone(), false),
                ToolReply::Error(t) => (t.clone(), true),
            };
            request.messages.push(Message::tool(ToolResult {
                call_id: call.id.clone(),
                name: call.name.clone(),
                content,
                is_error,
            }));
            let finished = matches!(reply, ToolReply::Finish(_));
            if let ToolReply::Finish(text) = &reply {
                run.text = text.clone();
            }
            run.calls.push((call, reply));
            if finished {
                run.end = RunEnd::Finished;
                return Ok(run);
            }
        }
    }
    Ok(run)
}
