//! OpenAI chat completions over SSE (`stream_options.include_usage`), spoken by every
//! OpenAI-compatible preset with its own base URL and headers, with function tools (`tools`,
//! streamed `tool_calls` argument deltas joined by index, `role: tool` results); also
//! `GET /models`.

use serde_json::{Value, json};

use super::{
    ChatRequest, Endpoint, HttpCall, Message, ModelInfo, ModelPage, Piece, ProviderError, Role,
    Usage, json_u64,
};
use crate::domain::ReasoningStyle;
use crate::domain::{Pricing, Reasoning};

fn headers(endpoint: &Endpoint) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = endpoint
        .preset
        .extra_headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if let Some(key) = endpoint.key() {
        headers.push(("Authorization".into(), format!("Bearer {key}")));
    }
    headers
}

/// One message as the chat body spells it: a call's arguments go back as the text they came
/// in; a tool's error is its content, marked (the protocol has no error flag).
fn message(m: &Message) -> Value {
    if let Some(result) = &m.tool_result {
        return json!({"role": "tool", "tool_call_id": result.call_id,
                      "content": result.marked_text()});
    }
    if m.role == Role::Assistant && !m.tool_calls.is_empty() {
        let calls: Vec<Value> = m
            .tool_calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect();
        let content = if m.content.is_empty() {
            Value::Null
        } else {
            json!(m.content)
        };
        return json!({"role": "assistant", "content": content, "tool_calls": calls});
    }
    json!({"role": m.role.as_str(), "content": m.content})
}

/// The `tools` list: each a function with its JSON schema.
pub(super) fn function_tools(request: &ChatRequest) -> Value {
    request
        .tools
        .iter()
        .map(|t| {
            json!({"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters}})
        })
        .collect()
}

pub(super) fn chat_call(endpoint: &Endpoint, request: &ChatRequest) -> HttpCall {
    let messages: Vec<Value> = request.messages.iter().map(message).collect();
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(n) = request.max_tokens {
        body["max_tokens"] = json!(n);
    }
    let official = endpoint.preset.id == "openai";
    if let Some(format) = request
        .asked_shape()
        .and_then(|shape| super::structured::openai_response_format(shape, official))
    {
        body["response_format"] = format;
    }
    if !request.tools.is_empty() {
        body["tools"] = function_tools(request);
    }
    match (endpoint.preset.reasoning, request.reasoning) {
        (_, Reasoning::Off) | (ReasoningStyle::ModelDecides, _) => {}
        (ReasoningStyle::Native, effort) => body["reasoning_effort"] = json!(effort.as_str()),
        (ReasoningStyle::OpenRouter, effort) => {
            body["reasoning"] = json!({"max_tokens": effort.budget_tokens()});
        }
    }
    HttpCall::post_json(
        format!("{}/chat/completions", endpoint.base_url),
        headers(endpoint),
        &body,
    )
}

/// Parses one SSE `data:` payload of the stream.
pub(super) fn parse_event(
    provider: &str,
    model: &str,
    data: &str,
    out: &mut Vec<Piece>,
) -> Result<(), String> {
    if data.trim() == "[DONE]" {
        out.push(Piece::Done);
        return Ok(());
    }
    let value: Value =
        serde_json::from_str(data).map_err(|e| format!("bad JSON in stream: {e}"))?;
    if let Some(error) = value.get("error") {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| error.as_str())
            .unwrap_or("unknown error")
            .to_owned();
        let code = error
            .get("code")
            .map(|c| {
                c.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| c.to_string())
            })
            .unwrap_or_default();
        let status = code.parse::<u16>().unwrap_or(500);
        out.push(Piece::Error(ProviderError::from_status(
            provider, status, message, &code, model, None,
        )));
        return Ok(());
    }
    if let Some(choice) = value.get("choices").and_then(|c| c.get(0)) {
        let delta = &choice["delta"];
        // DeepSeek says `reasoning_content`, OpenRouter `reasoning`.
        for key in ["reasoning_content", "reasoning"] {
            if let Some(r) = delta.get(key).and_then(Value::as_str)
                && !r.is_empty()
            {
                out.push(Piece::Reasoning(r.to_owned()));
            }
        }
        if let Some(t) = delta.get("content").and_then(Value::as_str)
            && !t.is_empty()
        {
            out.push(Piece::Text(t.to_owned()));
        }
        for call in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
            out.push(Piece::ToolCall {
                index: call.get("index").and_then(Value::as_u64),
                id: text(call.get("id")),
                name: text(call.pointer("/function/name")),
                arguments: text(call.pointer("/function/arguments")).unwrap_or_default(),
                signature: None,
            });
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            out.push(Piece::Finish(reason.to_owned()));
        }
    }
    if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
        out.push(Piece::Usage(Usage {
            prompt_tokens: usage.get("prompt_tokens").and_then(json_u64),
            completion_tokens: usage.get("completion_tokens").and_then(json_u64),
            reasoning_tokens: usage
                .pointer("/completion_tokens_details/reasoning_tokens")
                .and_then(json_u64),
        }));
    }
    Ok(())
}

pub(super) fn models_call(endpoint: &Endpoint) -> HttpCall {
    HttpCall::get(format!("{}/models", endpoint.base_url), headers(endpoint))
}

/// OpenRouter quotes dollars per token as strings; the ledger wants dollars per million.
fn per_mtok(v: Option<&Value>) -> Option<f64> {
    let v = v?;
    let per_token = v
        .as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .or_else(|| v.as_f64())?;
    Some(per_token * 1e6)
}

pub(super) fn parse_models(body: &str) -> Result<ModelPage, String> {
    let (_, items) = super::model_list(body, "data")?;
    let models = items
        .iter()
        .filter_map(|m| {
            let id = m.get("id")?.as_str()?.to_owned();
            let pricing = m.get("pricing").and_then(|p| {
                Some(Pricing {
                    prompt_per_mtok: per_mtok(p.get("prompt"))?,
                    completion_per_mtok: per_mtok(p.get("completion"))?,
                })
            });
            Some(ModelInfo {
                name: m
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(&id)
                    .to_owned(),
                context_length: m.get("context_length").and_then(json_u64),
                pricing,
                id,
            })
        })
        .collect();
    Ok(ModelPage { models, next: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Secret;
    use crate::providers::{Message, preset};

    fn endpoint(id: &str) -> Endpoint {
        Endpoint::new(
            preset(id).expect("preset"),
            "",
            Some(Secret::new("sk-test")),
        )
        .expect("ok")
    }

    #[test]
    fn request_body_follows_the_documented_shape() {
        let mut req = ChatRequest::new(
            "gpt-4o",
            vec![Message::system("Be brief."), Message::user("Hi")],
        );
        req.temperature = Some(0.5);
        req.max_tokens = Some(100);
        req.reasoning = Reasoning::High;
        let call = chat_call(&endpoint("openai"), &req);
        assert_eq!(call.url, "https://api.openai.com/v1/chat/completions");
        let body: Value =
            serde_json::from_slice(call.body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(body["stream_options"]["include_usage"], json!(true));
        assert_eq!(body["reasoning_effort"], json!("high"));
        assert_eq!(body["messages"][0]["role"], json!("system"));
        assert!(
            call.headers
                .contains(&("Authorization".into(), "Bearer sk-test".into()))
        );

        let call = chat_call(&endpoint("openrouter"), &req);
        let body: Value =
            serde_json::from_slice(call.body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(body["reasoning"], json!({"max_tokens": 16000}));
        assert!(body.get("reasoning_effort").is_none());
        assert!(call.headers.iter().any(|(k, _)| k == "HTTP-Referer"));
        assert!(
            call.headers
                .iter()
                .any(|(k, v)| k == "X-Title" && v == "Fabula")
        );
    }

    #[test]
    fn openrouter_prices_become_dollars_per_million() {
        let page = parse_models(
            r#"{"data":[{"id":"a/b","name":"B","context_length":128000,
               "pricing":{"prompt":"0.000003","completion":"0.000015"}}]}"#,
        )
        .expect("parse");
        let m = &page.models[0];
        assert_eq!(m.context_length, Some(128_000));
        let p = m.pricing.expect("pricing");
        assert!((p.prompt_per_mtok - 3.0).abs() < 1e-9);
        assert!((p.completion_per_mtok - 15.0).abs() < 1e-9);
    }
}
