//! The driver every protocol shares: sends the call with ureq (connect and idle timeouts, no total
//! cap), retries before the first token, decodes the stream, splits `<think>` text, and stops
//! within milliseconds of a cancel by shutting the connection down.

mod http;
mod models;

pub use models::list_models;

use http::{
    agent_for, chat_call, read_error, send, status_error, transport_error, unreadable_reply,
};

use std::io::Read;
use std::time::{Duration, Instant};

use crate::jobs::CancelToken;
use crate::providers::ndjson::NdjsonDecoder;
use crate::providers::sse::SseDecoder;
use crate::providers::think::ThinkSplitter;
use crate::providers::{
    ChatRequest, Completion, Delta, Endpoint, Failure, Finish, Piece, Protocol, ProviderError,
    Usage, anthropic, gemini, ollama, openai,
};

const READ_BUFFER: usize = 16 * 1024;

/// How one attempt ended when it did not complete.
enum AttemptEnd {
    Cancelled,
    Failed(ProviderError),
}

/// The reply as it accumulates across the attempt that produced tokens.
struct Reply {
    started: Instant,
    text: String,
    reasoning: String,
    usage: Usage,
    finish_reason: Option<String>,
    first_token_ms: Option<u64>,
    attempts: u32,
    skipped: u32,
    /// Tool calls as they arrive, with the index that joins their pieces.
    tool_calls: Vec<(Option<u64>, crate::providers::tools::ToolCall)>,
}

impl Reply {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            text: String::new(),
            reasoning: String::new(),
            usage: Usage::default(),
            finish_reason: None,
            first_token_ms: None,
            attempts: 0,
            skipped: 0,
            tool_calls: Vec::new(),
        }
    }

    fn has_tokens(&self) -> bool {
        self.first_token_ms.is_some()
    }

    fn deliver(&mut self, delta: Delta, on_delta: &mut dyn FnMut(&Delta)) {
        if self.first_token_ms.is_none() {
            self.first_token_ms = Some(elapsed_ms(self.started));
        }
        match &delta {
            Delta::Text(t) => self.text.push_str(t),
            Delta::Reasoning(r) => self.reasoning.push_str(r),
        }
        on_delta(&delta);
    }

    /// A tool call or a piece of one joins the reply.
    fn tool_piece(
        &mut self,
        index: Option<u64>,
        id: Option<String>,
        name: Option<String>,
        arguments: &str,
        signature: Option<String>,
    ) {
        if self.first_token_ms.is_none() {
            self.first_token_ms = Some(elapsed_ms(self.started));
        }
        let at = index.and_then(|i| self.tool_calls.iter().position(|(at, _)| *at == Some(i)));
        let at = match at {
            Some(at) => at,
            None => {
                self.tool_calls.push((index, Default::default()));
                self.tool_calls.len() - 1
            }
        };
        let call = &mut self.tool_calls[at].1;
        if let Some(id) = id.filter(|i| !i.is_empty()) {
            call.id = id;
        }
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            call.name = name;
        }
        if signature.is_some() {
            call.signature = signature;
        }
        call.arguments.push_str(arguments);
    }

    fn into_completion(self, finish: Finish) -> Completion {
        let tool_calls = self
            .tool_calls
            .into_iter()
            .enumerate()
            .map(|(n, (_, mut call))| {
                if call.id.is_empty() {
                    call.id = format!("call_{}", n + 1);
                }
                call
            })
            .collect();
        Completion {
            tool_calls,
            total_ms: elapsed_ms(self.started),
            text: self.text,
            reasoning: self.reasoning,
            usage: self.usage,
            finish,
            finish_reason: self.finish_reason,
            first_token_ms: self.first_token_ms,
            attempts: self.attempts,
            skipped: self.skipped,
        }
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Streams one chat reply, calling `on_delta` for every piece of text or reasoning as it arrives.
///
/// Cancelling `cancel` ends the call at once; the text so far comes back with `Finish::Cancelled`.
/// On failure the text so far is kept in `Failure::partial`.
// A failure carries its partial reply by design; it happens once per call, so its size is moot.
#[allow(clippy::result_large_err)]
pub fn stream_chat(
    endpoint: &Endpoint,
    request: &ChatRequest,
    cancel: &CancelToken,
    on_delta: &mut dyn FnMut(&Delta),
) -> Result<Completion, Failure> {
    let mut reply = Reply::new();
    let policy = endpoint.retry;
    loop {
        if cancel.is_cancelled() {
            return Ok(reply.into_completion(Finish::Cancelled));
        }
        reply.attempts += 1;
        let error = match attempt(endpoint, request, cancel, &mut reply, on_delta) {
            Ok(()) => return Ok(reply.into_completion(Finish::Complete)),
            Err(AttemptEnd::Cancelled) => return Ok(reply.into_completion(Finish::Cancelled)),
            Err(AttemptEnd::Failed(error)) => error,
        };
        let wait = if reply.has_tokens()
            || !error.is_retryable()
            || reply.attempts >= policy.attempts.max(1)
        {
            None
        } else {
            match &error {
                ProviderError::RateLimited {
                    retry_after: Some(after),
                    ..
                } => (*after <= policy.max_wait).then_some(*after),
                _ => Some(policy.base_delay * 2u32.saturating_pow(reply.attempts - 1)),
            }
        };
        let Some(wait) = wait else {
            return Err(Failure {
                error,
                partial: reply.into_completion(Finish::Complete),
            });
        };
        log::info!(
            "{}: attempt {} failed ({error}); retrying in {} ms",
            endpoint.label(),
            reply.attempts,
            wait.as_millis()
        );
        if sleep_unless_cancelled(wait, cancel) {
            return Ok(reply.into_completion(Finish::Cancelled));
        }
    }
}

/// Sleeps in short steps; true when cancelled meanwhile.
fn sleep_unless_cancelled(total: Duration, cancel: &CancelToken) -> bool {
    let until = Instant::now() + total;
    while Instant::now() < until {
        if cancel.is_cancelled() {
            return true;
        }
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(10)));
    }
    cancel.is_cancelled()
}

/// What `stream_chat` would send, for the prompt inspector: the URL and the JSON body exactly as
/// written on the wire. Every protocol sends its key in a header, so neither holds a secret.
pub fn request_preview(endpoint: &Endpoint, request: &ChatRequest) -> (String, String) {
    let call = chat_call(endpoint, request);
    let body = call
        .body
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    (call.url, body)
}

/// Frames the body into protocol messages (SSE events, NDJSON lines, or one JSON document).
enum Framing {
    Sse(SseDecoder),
    Ndjson(NdjsonDecoder),
    Whole(Vec<u8>),
}

impl Framing {
    fn for_call(endpoint: &Endpoint, request: &ChatRequest) -> Self {
        match endpoint.preset.protocol {
            Protocol::Ollama => Framing::Ndjson(NdjsonDecoder::new()),
            Protocol::Gemini if !request.stream => Framing::Whole(Vec::new()),
            _ => Framing::Sse(SseDecoder::new()),
        }
    }

    /// (event name, payload) pairs completed by `bytes`.
    fn push(&mut self, bytes: &[u8]) -> Vec<(String, String)> {
        match self {
            Framing::Sse(d) => d
                .push(bytes)
                .into_iter()
                .map(|e| (e.event, e.data))
                .collect(),
            Framing::Ndjson(d) => d
                .push(bytes)
                .into_iter()
                .map(|l| (String::new(), l))
                .collect(),
            Framing::Whole(all) => {
                all.extend_from_slice(bytes);
                Vec::new()
            }
        }
    }

    fn finish(&mut self) -> Vec<(String, String)> {
        match self {
            Framing::Sse(_) => Vec::new(),
            Framing::Ndjson(d) => d.finish().map(|l| (String::new(), l)).into_iter().collect(),
            Framing::Whole(all) => {
                let text = String::from_utf8_lossy(&std::mem::take(all)).into_owned();
                if text.trim().is_empty() {
                    Vec::new()
                } else {
                    vec![(String::new(), text)]
                }
            }
        }
    }
}

fn parse_message(
    endpoint: &Endpoint,
    model: &str,
    event: &str,
    data: &str,
    out: &mut Vec<Piece>,
) -> Result<(), String> {
    let provider = endpoint.label();
    match endpoint.preset.protocol {
        Protocol::OpenAi => openai::parse_event(provider, model, data, out),
        Protocol::Anthropic => anthropic::parse_event(provider, model, event, data, out),
        Protocol::Gemini => gemini::parse_event(provider, model, data, out),
        Protocol::Ollama => ollama::parse_line(provider, model, data, out),
    }
}

/// What the stream has said about its end so far.
#[derive(Default)]
struct StreamEnd {
    done: bool,
    finished: bool,
}

fn attempt(
    endpoint: &Endpoint,
    request: &ChatRequest,
    cancel: &CancelToken,
    reply: &mut Reply,
    on_delta: &mut dyn FnMut(&Delta),
) -> Result<(), AttemptEnd> {
    let agent = agent_for(endpoint, cancel);
    let call = chat_call(endpoint, request);
    let response = match send(&agent, &call) {
        Ok(r) => r,
        Err(_) if cancel.is_cancelled() => return Err(AttemptEnd::Cancelled),
        Err(e) => return Err(AttemptEnd::Failed(transport_error(endpoint, e))),
    };
    if !response.status().is_success() {
        return Err(AttemptEnd::Failed(status_error(
            endpoint,
            &request.model,
            response,
        )));
    }
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut body = response.into_body().into_reader();
    // A web page (a captive portal, a proxy's login, the wrong address) is not a reply to retry.
    if content_type.starts_with("text/html") {
        let mut start = Vec::new();
        let _ = body.by_ref().take(200).read_to_end(&mut start);
        return Err(AttemptEnd::Failed(unreadable_reply(endpoint, &start)));
    }
    let mut framing = Framing::for_call(endpoint, request);
    // The first bytes, to quote if nothing in the reply turns out to be readable.
    let mut opening = Vec::new();
    let mut understood = false;
    let mut think = ThinkSplitter::new();
    let mut end = StreamEnd::default();
    let mut buf = vec![0u8; READ_BUFFER];
    let mut pieces = Vec::new();
    let mut deltas = Vec::new();
    loop {
        let read = body.read(&mut buf);
        if cancel.is_cancelled() {
            think.finish(&mut deltas);
            for d in deltas.drain(..) {
                reply.deliver(d, on_delta);
            }
            return Err(AttemptEnd::Cancelled);
        }
        let messages = match read {
            Ok(0) => framing.finish(),
            Ok(n) => {
                if opening.len() < 200 {
                    opening.extend_from_slice(&buf[..n.min(200 - opening.len())]);
                }
                framing.push(&buf[..n])
            }
            Err(e) => {
                think.finish(&mut deltas);
                for d in deltas.drain(..) {
                    reply.deliver(d, on_delta);
                }
                return Err(AttemptEnd::Failed(read_error(endpoint, e)));
            }
        };
        for (event, data) in messages {
            match parse_message(endpoint, &request.model, &event, &data, &mut pieces) {
                Ok(()) => understood = true,
                Err(detail) => {
                    reply.skipped += 1;
                    log::warn!(
                        "{}: unreadable stream message skipped: {detail}",
                        endpoint.label()
                    );
                }
            }
            for piece in pieces.drain(..) {
                match piece {
                    Piece::Text(t) => think.push(&t, &mut deltas),
                    Piece::Reasoning(r) => deltas.push(Delta::Reasoning(r)),
                    // A reply shape asked for as a forced tool (Anthropic) is the tool's input.
                    Piece::ToolCall { arguments, .. } if request.tools.is_empty() => {
                        think.push(&arguments, &mut deltas);
                    }
                    Piece::ToolCall {
                        index,
                        id,
                        name,
                        arguments,
                        signature,
                    } => reply.tool_piece(index, id, name, &arguments, signature),
                    Piece::Usage(u) => reply.usage.merge(u),
                    Piece::Finish(reason) => {
                        end.finished = true;
                        reply.finish_reason = Some(reason);
                    }
                    Piece::Done => end.done = true,
                    Piece::Error(e) => {
                        think.finish(&mut deltas);
                        for d in deltas.drain(..) {
                            reply.deliver(d, on_delta);
                        }
                        return Err(AttemptEnd::Failed(e));
                    }
                }
            }
            for d in deltas.drain(..) {
                reply.deliver(d, on_delta);
            }
        }
        if matches!(read, Ok(0)) || end.done {
            break;
        }
    }
    think.finish(&mut deltas);
    for d in deltas.drain(..) {
        reply.deliver(d, on_delta);
    }
    if end.done || end.finished {
        Ok(())
    } else if !understood && !opening.is_empty() {
        // Bytes came, but nothing a stream of this protocol holds: garbage, not a dropped line.
        Err(AttemptEnd::Failed(unreadable_reply(endpoint, &opening)))
    } else {
        Err(AttemptEnd::Failed(ProviderError::Network {
            provider: endpoint.label().to_owned(),
            detail: "the connection closed before the reply was complete".into(),
        }))
    }
}
