//! LLM providers: the only module that names ureq for model calls. One file per wire protocol
//! (openai, anthropic, gemini, ollama), the shared stream decoders (sse, ndjson), `<think>`
//! splitting, the preset catalog, and the driver (`client`) that sends, retries, streams and cancels.

pub mod anthropic;
mod client;
pub mod discover;
pub mod error;
pub mod gemini;
pub mod ndjson;
pub mod ollama;
pub mod openai;
mod resolve;
pub mod sse;
pub mod structured;
pub mod think;
pub mod tools;

use std::time::Duration;

/// What a connection check asks the model: short, so the check is quick and cheap.
pub const CHECK_PROMPT: &str = "Reply with one short friendly sentence.";

pub use crate::domain::{PRESETS, Preset, Protocol, ReasoningStyle, preset};
pub use client::{list_models, request_preview, stream_chat};
pub use error::{ErrorKind, ProviderError};
pub use resolve::{
    ResolvedCall, endpoint_for, environment_profiles, fetch_key, resolve, usage_record,
    with_environment_profiles,
};

pub use crate::domain::ModelInfo;
use crate::domain::{Reasoning, Secret};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
    /// A tool's result, sent back for a call the model made.
    Tool,
}

impl Role {
    /// The role's name in OpenAI-style and Ollama message lists.
    fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// The calls an assistant message made (sent back in the next step of a tool run).
    pub tool_calls: Vec<tools::ToolCall>,
    /// A `Role::Tool` message's result.
    pub tool_result: Option<tools::ToolResult>,
}

impl Message {
    fn of(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_result: None,
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self::of(Role::System, content)
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::of(Role::User, content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::of(Role::Assistant, content)
    }
    /// The model's turn that called tools (with whatever text came with the calls).
    pub fn assistant_calls(content: impl Into<String>, calls: Vec<tools::ToolCall>) -> Self {
        Self {
            tool_calls: calls,
            ..Self::of(Role::Assistant, content)
        }
    }
    pub fn tool(result: tools::ToolResult) -> Self {
        Self {
            tool_result: Some(result),
            ..Self::of(Role::Tool, String::new())
        }
    }
}

/// One chat call, the same for every protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub reasoning: Reasoning,
    /// Gemini only: `false` uses `generateContent` (one JSON reply) instead of the SSE stream.
    pub stream: bool,
    /// The reply must follow this shape (see `structured`).
    pub shape: Option<structured::ReplyShape>,
    /// Tools the model may call (see `tools`); with tools, `shape` is not asked for.
    pub tools: Vec<tools::ToolSpec>,
}

impl ChatRequest {
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        Self {
            model: model.into(),
            messages,
            temperature: None,
            max_tokens: None,
            reasoning: Reasoning::Off,
            stream: true,
            shape: None,
            tools: Vec::new(),
        }
    }

    /// The system messages joined, for protocols that take the system prompt apart.
    fn system_text(&self) -> Option<String> {
        let parts: Vec<&str> = self
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        (!parts.is_empty()).then(|| parts.join("\n\n"))
    }

    /// The shape asked for, unless tools are offered (a run with tools answers in prose or
    /// through a tool).
    fn asked_shape(&self) -> Option<&structured::ReplyShape> {
        self.shape.as_ref().filter(|_| self.tools.is_empty())
    }
}

/// Connect and idle limits. There is no total cap: a healthy stream may run as long as it runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeouts {
    pub connect: Duration,
    /// The longest silence between two reads before the call is given up.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            idle: Duration::from_secs(120),
        }
    }
}

/// Retries for connect failures, 429 and 5xx, and only before the first token arrived.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles after each further one.
    pub base_delay: Duration,
    /// A `Retry-After` longer than this is reported instead of waited for.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            base_delay: Duration::from_millis(800),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// Where and how to call: a preset, its address and key, and the limits.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub preset: &'static Preset,
    pub base_url: String,
    pub api_key: Option<Secret>,
    /// The profile whose key is in the OS key store, until `fetch_key` has read it.
    pub keyring_profile: Option<String>,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
}

impl Endpoint {
    /// An endpoint for `preset`; an empty `base_url` means the preset's own address.
    pub fn new(
        preset: &'static Preset,
        base_url: &str,
        api_key: Option<Secret>,
    ) -> Result<Self, ProviderError> {
        Self::build(preset, base_url, api_key, None)
    }

    /// An endpoint whose key is in the OS key store under the profile `profile_id`; a job reads
    /// it with `fetch_key` before the first call.
    pub fn with_keyring_key(
        preset: &'static Preset,
        base_url: &str,
        profile_id: &str,
    ) -> Result<Self, ProviderError> {
        Self::build(preset, base_url, None, Some(profile_id.to_owned()))
    }

    fn build(
        preset: &'static Preset,
        base_url: &str,
        api_key: Option<Secret>,
        keyring_profile: Option<String>,
    ) -> Result<Self, ProviderError> {
        let base_url = if base_url.trim().is_empty() {
            preset.base_url
        } else {
            base_url.trim()
        };
        if base_url.is_empty() {
            return Err(ProviderError::Config(format!(
                "{} needs a base URL (for example http://localhost:8000/v1).",
                preset.label
            )));
        }
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ProviderError::Config(format!(
                "The base URL “{base_url}” must start with http:// or https://."
            )));
        }
        let api_key = api_key.filter(|k| !k.is_empty());
        if preset.needs_key && api_key.is_none() && keyring_profile.is_none() {
            let hint = match preset.key_env.first() {
                Some(var) => format!(" (or set {var})"),
                None => String::new(),
            };
            return Err(ProviderError::Config(format!(
                "{} needs an API key: paste one in the profile{hint}.",
                preset.label
            )));
        }
        Ok(Self {
            preset,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            keyring_profile,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
        })
    }

    pub fn label(&self) -> &'static str {
        self.preset.label
    }

    fn key(&self) -> Option<&str> {
        self.api_key.as_ref().map(Secret::expose)
    }
}

/// A piece of the reply as it streams in; text and reasoning never mix.
#[derive(Clone, Debug, PartialEq)]
pub enum Delta {
    Text(String),
    Reasoning(String),
}

/// Token counts from the provider's own usage fields (absent when it reports none).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Usage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
}

impl Usage {
    fn merge(&mut self, newer: Usage) {
        self.prompt_tokens = newer.prompt_tokens.or(self.prompt_tokens);
        self.completion_tokens = newer.completion_tokens.or(self.completion_tokens);
        self.reasoning_tokens = newer.reasoning_tokens.or(self.reasoning_tokens);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// The protocol's end marker arrived.
    Complete,
    /// The user stopped it; the text is what had arrived.
    Cancelled,
}

/// Whether a stop reason says the reply ran into its token limit rather than ending where the
/// model chose: OpenAI-style and Ollama "length", Anthropic "max_tokens", Gemini "MAX_TOKENS".
pub fn stopped_at_limit(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| r.eq_ignore_ascii_case("length") || r.eq_ignore_ascii_case("max_tokens"))
}

/// The result of a chat call (also the partial result inside a `Failure`).
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub text: String,
    pub reasoning: String,
    pub usage: Usage,
    pub finish: Finish,
    /// The provider's stop reason ("stop", "end_turn", "STOP", "length", …) when it gave one.
    pub finish_reason: Option<String>,
    pub first_token_ms: Option<u64>,
    pub total_ms: u64,
    pub attempts: u32,
    /// Stream messages that could not be read and were skipped (the reply may miss text).
    pub skipped: u32,
    /// The tools the model called, in order (only when the request offered tools).
    pub tool_calls: Vec<tools::ToolCall>,
}

/// A call that failed; `partial` keeps whatever text arrived before it did.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub error: ProviderError,
    pub partial: Completion,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

/// An HTTP request a protocol file builds; the client sends it.
#[derive(Clone, Debug)]
struct HttpCall {
    url: String,
    headers: Vec<(String, String)>,
    /// `None` sends a GET.
    body: Option<Vec<u8>>,
}

impl HttpCall {
    fn get(url: String, headers: Vec<(String, String)>) -> Self {
        Self {
            url,
            headers,
            body: None,
        }
    }

    fn post_json(
        url: String,
        mut headers: Vec<(String, String)>,
        body: &serde_json::Value,
    ) -> Self {
        headers.push(("Content-Type".into(), "application/json".into()));
        Self {
            url,
            headers,
            body: Some(body.to_string().into_bytes()),
        }
    }
}

/// What a protocol's stream parser found in one framed message.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    Reasoning(String),
    /// A tool call or a piece of one: `index` joins the pieces of one call (OpenAI's index,
    /// Anthropic's content block); `None` is a whole call (Gemini, Ollama).
    ToolCall {
        index: Option<u64>,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
        signature: Option<String>,
    },
    Usage(Usage),
    /// The provider's stop reason; with no end marker of its own (Gemini) it also ends the stream.
    Finish(String),
    /// The protocol's end marker: `[DONE]`, `message_stop`, `done: true`.
    Done,
    Error(ProviderError),
}

/// A page of a model list and the token for the next page, if any.
struct ModelPage {
    models: Vec<ModelInfo>,
    next: Option<String>,
}

/// A model list reply and its array under `key` (every protocol wraps its list in one object).
fn model_list(
    body: &str,
    key: &str,
) -> Result<(serde_json::Value, Vec<serde_json::Value>), String> {
    let mut value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("bad model list: {e}"))?;
    match value.get_mut(key).map(serde_json::Value::take) {
        Some(serde_json::Value::Array(items)) => Ok((value, items)),
        _ => Err(format!("the model list has no `{key}` array")),
    }
}

/// Reads a JSON number as u64 (providers send integers, sometimes as floats).
fn json_u64(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64))
}

/// The message and code from the common `{"error": {"message", "type"|"code"|"status"}}` shape,
/// also when the error is a plain string or the body is wrapped in an array.
fn common_error_details(body: &str) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let value = match value {
        serde_json::Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
        other => other,
    };
    let error = value.get("error")?;
    if let Some(text) = error.as_str() {
        return Some((text.to_owned(), String::new()));
    }
    let message = error.get("message")?.as_str()?.to_owned();
    let code = ["code", "type", "status"]
        .iter()
        .find_map(|k| error.get(*k).and_then(|c| c.as_str()))
        .unwrap_or_default()
        .to_owned();
    Some((message, code))
}
