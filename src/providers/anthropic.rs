//! Anthropic Messages over SSE (`x-api-key`, `anthropic-version`; message_start, content_block_*
//! with text_delta and thinking_delta, message_delta usage, message_stop, ping, error), tools
//! (`tool_use` blocks with streamed `input_json_delta`, `tool_result` blocks sent back in one user
//! turn) and `GET /v1/models`.

use serde_json::{Value, json};

use super::{
    ChatRequest, Endpoint, HttpCall, ModelInfo, ModelPage, Piece, ProviderError, Role, Usage,
    json_u64,
};
use crate::domain::Reasoning;

pub const API_VERSION: &str = "2023-06-01";

/// Anthropic requires max_tokens; this is what a narration needs when the task sets none.
const DEFAULT_MAX_TOKENS: u32 = 2048;

fn headers(endpoint: &Endpoint) -> Vec<(String, String)> {
    let mut headers = vec![("anthropic-version".to_owned(), API_VERSION.to_owned())];
    if let Some(key) = endpoint.key() {
        headers.push(("x-api-key".into(), key.to_owned()));
    }
    headers
}

/// The turns as the Messages API takes them: a turn that called tools as text and `tool_use`
/// blocks; the results that follow it together in one user turn of `tool_result` blocks.
fn turns(request: &ChatRequest) -> Vec<Value> {
    let mut turns: Vec<Value> = Vec::new();
    for m in request.messages.iter().filter(|m| m.role != Role::System) {
        if let Some(result) = &m.tool_result {
            let mut block = json!({"type": "tool_result", "tool_use_id": result.call_id,
                                   "content": result.content});
            if result.is_error {
                block["is_error"] = json!(true);
            }
            let joins = turns.last().is_some_and(|t| {
                t["role"] == "user"
                    && t["content"]
                        .as_array()
                        .is_some_and(|c| c.iter().all(|b| b["type"] == "tool_result"))
            });
            match turns.last_mut().filter(|_| joins) {
                Some(Value::Object(turn)) => {
                    if let Some(Value::Array(blocks)) = turn.get_mut("content") {
                        blocks.push(block);
                    }
                }
                _ => turns.push(json!({"role": "user", "content": [block]})),
            }
            continue;
        }
        if m.role == Role::Assistant && !m.tool_calls.is_empty() {
            let mut blocks = Vec::new();
            if !m.content.trim().is_empty() {
                blocks.push(json!({"type": "text", "text": m.content}));
            }
            for c in &m.tool_calls {
                blocks.push(json!({"type": "tool_use", "id": c.id, "name": c.name,
                                   "input": c.arguments_value()}));
            }
            turns.push(json!({"role": "assistant", "content": blocks}));
            continue;
        }
        let role = if m.role == Role::Assistant {
            "assistant"
        } else {
            "user"
        };
        turns.push(json!({"role": role, "content": m.content}));
    }
    turns
}

pub(super) fn chat_call(endpoint: &Endpoint, request: &ChatRequest) -> HttpCall {
    let messages = turns(request);
    let output = request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "max_tokens": output,
        "stream": true,
    });
    if let Some(system) = request.system_text() {
        body["system"] = json!(system);
    }
    let tool = request
        .asked_shape()
        .and_then(super::structured::anthropic_tool);
    if let Some((tools, choice)) = tool.clone() {
        body["tools"] = tools;
        body["tool_choice"] = choice;
    }
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
    }
    // A forced tool may not be combined with thinking; with tools offered, thinking would have to
    // be sent back signed with every call, so a tool run goes without it.
    if request.reasoning == Reasoning::Off || tool.is_some() || !request.tools.is_empty() {
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
    } else {
        // The thinking budget counts inside max_tokens, which must stay above it; with thinking
        // on, Anthropic accepts no temperature but the default.
        let budget = request.reasoning.budget_tokens();
        body["thinking"] = json!({"type": "enabled", "budget_tokens": budget});
        body["max_tokens"] = json!(budget + output);
    }
    HttpCall::post_json(
        format!("{}/messages", endpoint.base_url),
        headers(endpoint),
        &body,
    )
}

fn usage_of(v: &Value) -> Usage {
    Usage {
        prompt_tokens: v.get("input_tokens").and_then(json_u64),
        completion_tokens: v.get("output_tokens").and_then(json_u64),
        reasoning_tokens: None,
    }
}

/// Parses one SSE event of the stream; `event` is its `event:` name.
pub(super) fn parse_event(
    provider: &str,
    model: &str,
    event: &str,
    data: &str,
    out: &mut Vec<Piece>,
) -> Result<(), String> {
    if event == "ping" {
        return Ok(());
    }
    let value: Value =
        serde_json::from_str(data).map_err(|e| format!("bad JSON in stream: {e}"))?;
    let kind = value.get("type").and_then(Value::as_str).unwrap_or(event);
    match kind {
        "message_start" => {
            if let Some(usage) = value.pointer("/message/usage") {
                out.push(Piece::Usage(usage_of(usage)));
            }
        }
        "content_block_start" => {
            // A block may open with text already in it.
            let block = &value["content_block"];
            if let Some(t) = block.get("text").and_then(Value::as_str)
                && !t.is_empty()
            {
                out.push(Piece::Text(t.to_owned()));
            }
            if let Some(t) = block.get("thinking").and_then(Value::as_str)
                && !t.is_empty()
            {
                out.push(Piece::Reasoning(t.to_owned()));
            }
            // A tool's input arrives as JSON text in `input_json_delta`s; an input given whole
            // at the start (not empty) is the input as it is.
            if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                let input = block
                    .get("input")
                    .filter(|i| i.as_object().is_some_and(|o| !o.is_empty()))
                    .map(Value::to_string)
                    .unwrap_or_default();
                out.push(Piece::ToolCall {
                    index: value.get("index").and_then(Value::as_u64),
                    id: block.get("id").and_then(Value::as_str).map(str::to_owned),
                    name: block.get("name").and_then(Value::as_str).map(str::to_owned),
                    arguments: input,
                    signature: None,
                });
            }
        }
        "content_block_delta" => {
            let delta = &value["delta"];
            match delta.get("type").and_then(Value::as_str) {
                Some("text_delta") => {
                    if let Some(t) = delta.get("text").and_then(Value::as_str) {
                        out.push(Piece::Text(t.to_owned()));
                    }
                }
                Some("thinking_delta") => {
                    if let Some(t) = delta.get("thinking").and_then(Value::as_str) {
                        out.push(Piece::Reasoning(t.to_owned()));
                    }
                }
                Some("input_json_delta") => {
                    if let Some(t) = delta.get("partial_json").and_then(Value::as_str) {
                        out.push(Piece::ToolCall {
                            index: value.get("index").and_then(Value::as_u64),
                            id: None,
                            name: None,
                            arguments: t.to_owned(),
                            signature: None,
                        });
                    }
                }
                _ => {}
            }
        }
        "message_delta" => {
            if let Some(usage) = value.get("usage") {
                out.push(Piece::Usage(usage_of(usage)));
            }
            if let Some(reason) = value.pointer("/delta/stop_reason").and_then(Value::as_str) {
                out.push(Piece::Finish(reason.to_owned()));
            }
        }
        "message_stop" => out.push(Piece::Done),
        "error" => {
            let (message, code) =
                error_details(data).unwrap_or_else(|| (data.to_owned(), String::new()));
            let status = match code.as_str() {
                "overloaded_error" => 529,
                "rate_limit_error" => 429,
                "authentication_error" => 401,
                "not_found_error" => 404,
                "invalid_request_error" => 400,
                _ => 500,
            };
            out.push(Piece::Error(ProviderError::from_status(
                provider, status, message, &code, model, None,
            )));
        }
        _ => {}
    }
    Ok(())
}

/// `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`.
pub(super) fn error_details(body: &str) -> Option<(String, String)> {
    super::common_error_details(body)
}

pub(super) fn models_call(endpoint: &Endpoint, page: Option<&str>) -> HttpCall {
    let mut url = format!("{}/models?limit=1000", endpoint.base_url);
    if let Some(after) = page {
        url.push_str("&after_id=");
        url.push_str(after);
    }
    HttpCall::get(url, headers(endpoint))
}

pub(super) fn parse_models(body: &str) -> Result<ModelPage, String> {
    let (value, items) = super::model_list(body, "data")?;
    let models = items
        .iter()
        .filter_map(|m| {
            let id = m.get("id")?.as_str()?.to_owned();
            Some(ModelInfo {
                name: m
                    .get("display_name")
                    .and_then(Value::as_str)
                    .unwrap_or(&id)
                    .to_owned(),
                id,
                ..ModelInfo::default()
            })
        })
        .collect();
    let next = if value.get("has_more").and_then(Value::as_bool) == Some(true) {
        value
            .get("last_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    } else {
        None
    };
    Ok(ModelPage { models, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Secret;
    use crate::providers::{Message, preset};

    #[test]
    fn thinking_budget_and_system_prompt_are_placed_as_documented() {
        let endpoint = Endpoint::new(
            preset("anthropic").expect("preset"),
            "",
            Some(Secret::new("k")),
        )
        .expect("endpoint");
        let mut req = ChatRequest::new(
            "claude-sonnet-4-5",
            vec![Message::system("You narrate."), Message::user("Go on")],
        );
        req.max_tokens = Some(1000);
        req.temperature = Some(0.7);
        req.reasoning = Reasoning::Medium;
        let call = chat_call(&endpoint, &req);
        assert_eq!(call.url, "https://api.anthropic.com/v1/messages");
        let body: Value =
            serde_json::from_slice(call.body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(
            body["thinking"],
            json!({"type": "enabled", "budget_tokens": 8000})
        );
        assert_eq!(body["max_tokens"], json!(9000));
        assert!(body.get("temperature").is_none());
        assert_eq!(body["system"], json!("You narrate."));
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(1));
        assert!(
            call.headers
                .contains(&("anthropic-version".into(), API_VERSION.into()))
        );
        assert!(call.headers.contains(&("x-api-key".into(), "k".into())));
    }
}
