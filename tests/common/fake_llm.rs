//! A provider on 127.0.0.1 for tests: tiny_http accepts, then each reply is written by hand through
//! `into_writer()` (status line, headers, chunked body flushed per piece) so streams really stream,
//! stalls really stall, and a dropped connection is a real socket hang-up.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Step {
    /// One chunk of the body, flushed at once.
    Chunk(Vec<u8>),
    Sleep(Duration),
    /// Close the socket without finishing the chunked body.
    Drop,
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub steps: Vec<Step>,
    /// A whole body sent with Content-Length (error replies, model lists).
    pub body: Option<Vec<u8>>,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            steps: Vec::new(),
            body: Some(body.as_bytes().to_vec()),
        }
    }

    pub fn stream(content_type: &str, pieces: &[String]) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            steps: pieces
                .iter()
                .map(|p| Step::Chunk(p.as_bytes().to_vec()))
                .collect(),
            body: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Inserts `step` after the first `after` chunks.
    pub fn then_at(mut self, after: usize, step: Step) -> Self {
        let at = after.min(self.steps.len());
        self.steps.insert(at, step);
        self
    }

    /// Keeps only the first `n` chunks and then hangs up.
    pub fn drop_after(mut self, n: usize) -> Self {
        self.steps.truncate(n);
        self.steps.push(Step::Drop);
        self
    }
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Serves `replies` in order, one per request; the last one answers every further request.
pub struct FakeProvider {
    pub base: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    server: Arc<tiny_http::Server>,
}

impl FakeProvider {
    pub fn start(replies: Vec<Reply>) -> Self {
        Self::start_routed(move |_, n| replies[n.min(replies.len() - 1)].clone())
    }

    /// Answers with `route(request, how many requests came before it)`.
    pub fn start_routed(route: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (srv, log) = (server.clone(), requests.clone());
        let route = Arc::new(route);
        std::thread::spawn(move || {
            for mut request in srv.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let recorded = Recorded {
                    method: request.method().to_string(),
                    url: request.url().to_owned(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect(),
                    body,
                };
                let n = {
                    let mut log = log.lock().expect("log");
                    log.push(recorded.clone());
                    log.len() - 1
                };
                let reply = route(&recorded, n);
                std::thread::spawn(move || write_reply(request.into_writer(), &reply));
            }
        });
        Self {
            base: format!("http://127.0.0.1:{port}"),
            requests,
            server,
        }
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().expect("log").clone()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}

fn write_reply(mut w: Box<dyn Write + Send>, reply: &Reply) {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n");
    if let Some(body) = &reply.body {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let _ = w.write_all(head.as_bytes());
        let _ = w.write_all(body);
        let _ = w.flush();
        return;
    }
    head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    if w.write_all(head.as_bytes())
        .and_then(|()| w.flush())
        .is_err()
    {
        return;
    }
    for step in &reply.steps {
        let ok = match step {
            Step::Chunk(bytes) => w
                .write_all(format!("{:x}\r\n", bytes.len()).as_bytes())
                .and_then(|()| w.write_all(bytes))
                .and_then(|()| w.write_all(b"\r\n"))
                .and_then(|()| w.flush()),
            Step::Sleep(d) => {
                std::thread::sleep(*d);
                Ok(())
            }
            Step::Drop => return,
        };
        if ok.is_err() {
            return;
        }
    }
    let _ = w.write_all(b"0\r\n\r\n").and_then(|()| w.flush());
}

/// Streams in each protocol's documented wire format.
pub mod wire {
    pub fn sse(data: &str) -> String {
        format!("data: {data}\n\n")
    }

    pub fn openai(pieces: &[&str], prompt: u64, completion: u64) -> Vec<String> {
        openai_ending(pieces, prompt, completion, "stop")
    }

    /// As `openai`, ended by `finish` ("length" when the reply ran into `max_tokens`).
    pub fn openai_ending(
        pieces: &[&str],
        prompt: u64,
        completion: u64,
        finish: &str,
    ) -> Vec<String> {
        let chunk = |delta: &str, finish: &str| {
            sse(&format!(
                r#"{{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}]}}"#
            ))
        };
        let mut out = vec![chunk(r#"{"role":"assistant","content":""}"#, "null")];
        for p in pieces {
            out.push(chunk(
                &format!(r#"{{"content":{}}}"#, serde_json::json!(p)),
                "null",
            ));
        }
        out.push(chunk("{}", &serde_json::json!(finish).to_string()));
        out.push(sse(&format!(
            r#"{{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-mini","choices":[],"usage":{{"prompt_tokens":{prompt},"completion_tokens":{completion},"total_tokens":{},"completion_tokens_details":{{"reasoning_tokens":0}}}}}}"#,
            prompt + completion
        )));
        out.push(sse("[DONE]"));
        out
    }

    pub fn openai_error(code: &str, message: &str) -> String {
        format!(
            r#"{{"error":{{"message":{},"type":"invalid_request_error","param":null,"code":"{code}"}}}}"#,
            serde_json::json!(message)
        )
    }

    fn event(name: &str, data: &str) -> String {
        format!("event: {name}\ndata: {data}\n\n")
    }

    pub fn anthropic(thinking: &[&str], pieces: &[&str], input: u64, output: u64) -> Vec<String> {
        let mut out = vec![event(
            "message_start",
            &format!(
                r#"{{"type":"message_start","message":{{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":{input},"output_tokens":1}}}}}}"#
            ),
        )];
        let mut index = 0;
        if !thinking.is_empty() {
            out.push(event(
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
            ));
            for t in thinking {
                out.push(event(
                    "content_block_delta",
                    &format!(
                        r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"thinking_delta","thinking":{}}}}}"#,
                        serde_json::json!(t)
                    ),
                ));
            }
            out.push(event(
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}"#,
            ));
            out.push(event(
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ));
            index = 1;
        }
        out.push(event(
            "content_block_start",
            &format!(
                r#"{{"type":"content_block_start","index":{index},"content_block":{{"type":"text","text":""}}}}"#
            ),
        ));
        out.push(event("ping", r#"{"type": "ping"}"#));
        for p in pieces {
            out.push(event(
                "content_block_delta",
                &format!(
                    r#"{{"type":"content_block_delta","index":{index},"delta":{{"type":"text_delta","text":{}}}}}"#,
                    serde_json::json!(p)
                ),
            ));
        }
        out.push(event(
            "content_block_stop",
            &format!(r#"{{"type":"content_block_stop","index":{index}}}"#),
        ));
        out.push(event(
            "message_delta",
            &format!(
                r#"{{"type":"message_delta","delta":{{"stop_reason":"end_turn","stop_sequence":null}},"usage":{{"output_tokens":{output}}}}}"#
            ),
        ));
        out.push(event("message_stop", r#"{"type":"message_stop"}"#));
        out
    }

    /// A forced tool's reply as Anthropic streams it: a `tool_use` block whose input arrives as
    /// `input_json_delta` pieces, ended by `stop_reason: "tool_use"`.
    pub fn anthropic_tool(
        name: &str,
        json_pieces: &[&str],
        input: u64,
        output: u64,
    ) -> Vec<String> {
        let mut out = vec![event(
            "message_start",
            &format!(
                r#"{{"type":"message_start","message":{{"id":"msg_02","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":{input},"output_tokens":1}}}}}}"#
            ),
        )];
        out.push(event(
            "content_block_start",
            &format!(
                r#"{{"type":"content_block_start","index":0,"content_block":{{"type":"tool_use","id":"toolu_01","name":"{name}","input":{{}}}}}}"#
            ),
        ));
        for p in json_pieces {
            out.push(event(
                "content_block_delta",
                &format!(
                    r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"input_json_delta","partial_json":{}}}}}"#,
                    serde_json::json!(p)
                ),
            ));
        }
        out.push(event(
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ));
        out.push(event(
            "message_delta",
            &format!(
                r#"{{"type":"message_delta","delta":{{"stop_reason":"tool_use","stop_sequence":null}},"usage":{{"output_tokens":{output}}}}}"#
            ),
        ));
        out.push(event("message_stop", r#"{"type":"message_stop"}"#));
        out
    }

    pub fn anthropic_error(kind: &str, message: &str) -> String {
        format!(
            r#"{{"type":"error","error":{{"type":"{kind}","message":{}}},"request_id":"req_011"}}"#,
            serde_json::json!(message)
        )
    }

    /// Gemini's SSE uses CRLF line ends.
    pub fn gemini(thoughts: &[&str], pieces: &[&str], prompt: u64, output: u64) -> Vec<String> {
        let mut out = Vec::new();
        let chunk = |parts: String, extra: &str| {
            format!(
                "data: {{\"candidates\": [{{\"content\": {{\"parts\": [{parts}],\"role\": \"model\"}}{extra},\"index\": 0}}],\"usageMetadata\": {{\"promptTokenCount\": {prompt},\"totalTokenCount\": {prompt}}},\"modelVersion\": \"gemini-2.5-flash\"}}\r\n\r\n"
            )
        };
        for t in thoughts {
            out.push(chunk(
                format!(r#"{{"text": {}, "thought": true}}"#, serde_json::json!(t)),
                "",
            ));
        }
        for p in pieces {
            out.push(chunk(
                format!(r#"{{"text": {}}}"#, serde_json::json!(p)),
                "",
            ));
        }
        out.push(format!(
            "data: {{\"candidates\": [{{\"content\": {{\"parts\": [{{\"text\": \"\"}}],\"role\": \"model\"}},\"finishReason\": \"STOP\",\"index\": 0}}],\"usageMetadata\": {{\"promptTokenCount\": {prompt},\"candidatesTokenCount\": {output},\"totalTokenCount\": {},\"thoughtsTokenCount\": 7}},\"modelVersion\": \"gemini-2.5-flash\"}}\r\n\r\n",
            prompt + output + 7
        ));
        out
    }

    pub fn gemini_error(code: u16, status: &str, message: &str) -> String {
        format!(
            r#"{{"error":{{"code":{code},"message":{},"status":"{status}"}}}}"#,
            serde_json::json!(message)
        )
    }

    pub fn ollama(thinking: &[&str], pieces: &[&str], prompt: u64, eval: u64) -> Vec<String> {
        let mut out = Vec::new();
        for t in thinking {
            out.push(format!(
                "{{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.0Z\",\"message\":{{\"role\":\"assistant\",\"content\":\"\",\"thinking\":{}}},\"done\":false}}\n",
                serde_json::json!(t)
            ));
        }
        for p in pieces {
            out.push(format!(
                "{{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.0Z\",\"message\":{{\"role\":\"assistant\",\"content\":{}}},\"done\":false}}\n",
                serde_json::json!(p)
            ));
        }
        out.push(format!(
            "{{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:01.0Z\",\"message\":{{\"role\":\"assistant\",\"content\":\"\"}},\"done_reason\":\"stop\",\"done\":true,\"total_duration\":4883583458,\"load_duration\":1334875,\"prompt_eval_count\":{prompt},\"prompt_eval_duration\":342546000,\"eval_count\":{eval},\"eval_duration\":4535599000}}\n"
        ));
        out
    }

    /// OpenAI's stream of tool calls: each call opens with its id, name and empty arguments, the
    /// arguments follow in pieces under the call's index, and `finish_reason: "tool_calls"`.
    pub fn openai_tool_calls(calls: &[(&str, &str, &[&str])]) -> Vec<String> {
        let chunk = |delta: String, finish: &str| {
            sse(&format!(
                r#"{{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}]}}"#
            ))
        };
        let mut out = vec![chunk(
            r#"{"role":"assistant","content":null}"#.into(),
            "null",
        )];
        for (index, (id, name, pieces)) in calls.iter().enumerate() {
            out.push(chunk(
                format!(
                    r#"{{"tool_calls":[{{"index":{index},"id":"{id}","type":"function","function":{{"name":"{name}","arguments":""}}}}]}}"#
                ),
                "null",
            ));
            for piece in *pieces {
                out.push(chunk(
                    format!(
                        r#"{{"tool_calls":[{{"index":{index},"function":{{"arguments":{}}}}}]}}"#,
                        serde_json::json!(piece)
                    ),
                    "null",
                ));
            }
        }
        out.push(chunk("{}".into(), r#""tool_calls""#));
        out.push(sse(
            r#"{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":80,"completion_tokens":20,"total_tokens":100}}"#,
        ));
        out.push(sse("[DONE]"));
        out
    }

    /// Anthropic's stream of a turn that says `text` and calls tools: a text block, then one
    /// `tool_use` block per call whose input arrives in `input_json_delta` pieces, ended by
    /// `stop_reason: "tool_use"`.
    pub fn anthropic_tool_calls(text: &str, calls: &[(&str, &str, &[&str])]) -> Vec<String> {
        let mut out = vec![event(
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_03","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2}}}"#,
        )];
        out.push(event(
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ));
        out.push(event(
            "content_block_delta",
            &format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":{}}}}}"#,
                serde_json::json!(text)
            ),
        ));
        out.push(event(
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ));
        for (n, (id, name, pieces)) in calls.iter().enumerate() {
            let index = n + 1;
            out.push(event(
                "content_block_start",
                &format!(
                    r#"{{"type":"content_block_start","index":{index},"content_block":{{"type":"tool_use","id":"{id}","name":"{name}","input":{{}}}}}}"#
                ),
            ));
            for piece in *pieces {
                out.push(event(
                    "content_block_delta",
                    &format!(
                        r#"{{"type":"content_block_delta","index":{index},"delta":{{"type":"input_json_delta","partial_json":{}}}}}"#,
                        serde_json::json!(piece)
                    ),
                ));
            }
            out.push(event(
                "content_block_stop",
                &format!(r#"{{"type":"content_block_stop","index":{index}}}"#),
            ));
        }
        out.push(event(
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#,
        ));
        out.push(event("message_stop", r#"{"type":"message_stop"}"#));
        out
    }

    /// Gemini's chunk of `functionCall` parts (each whole: a name and its `args` object).
    pub fn gemini_tool_calls(calls: &[(&str, &str)]) -> Vec<String> {
        let parts: Vec<String> = calls
            .iter()
            .map(|(name, args)| {
                format!(r#"{{"functionCall": {{"name": "{name}","args": {args}}}}}"#)
            })
            .collect();
        vec![format!(
            "data: {{\"candidates\": [{{\"content\": {{\"parts\": [{}],\"role\": \"model\"}},\"finishReason\": \"STOP\",\"index\": 0}}],\"usageMetadata\": {{\"promptTokenCount\": 90,\"candidatesTokenCount\": 12,\"totalTokenCount\": 102}},\"modelVersion\": \"gemini-2.5-flash\"}}\r\n\r\n",
            parts.join(",")
        )]
    }

    /// Ollama's lines of a turn with `message.tool_calls` (whole calls, arguments as objects).
    pub fn ollama_tool_calls(calls: &[(&str, &str)]) -> Vec<String> {
        let calls: Vec<String> = calls
            .iter()
            .map(|(name, args)| format!(r#"{{"function":{{"name":"{name}","arguments":{args}}}}}"#))
            .collect();
        vec![
            format!(
                "{{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.0Z\",\"message\":{{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{}]}},\"done\":false}}\n",
                calls.join(",")
            ),
            "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:01.0Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\"total_duration\":4883583458,\"prompt_eval_count\":90,\"eval_count\":12}\n".to_owned(),
        ]
    }

    pub fn ollama_error(message: &str) -> String {
        format!(r#"{{"error":{}}}"#, serde_json::json!(message))
    }
}
