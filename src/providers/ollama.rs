//! Ollama's native `/api/chat` (NDJSON stream, `think`, `message.thinking`, `done: true` with
//! eval counts, `tools` with whole `message.tool_calls` and `role: tool` results) and
//! `GET /api/tags`.

use serde_json::{Value, json};

use super::{
    ChatRequest, Endpoint, HttpCall, Message, ModelInfo, ModelPage, Piece, ProviderError, Role,
    Usage, json_u64,
};
use crate::domain::Reasoning;

/// The server root: the preset's address has no path, but users often paste `…/v1` or `…/api`.
fn root(endpoint: &Endpoint) -> &str {
    let base = endpoint.base_url.as_str();
    base.strip_suffix("/v1")
        .or_else(|| base.strip_suffix("/api"))
        .unwrap_or(base)
}

fn headers(endpoint: &Endpoint) -> Vec<(String, String)> {
    endpoint
        .key()
        .map(|key| vec![("Authorization".to_owned(), format!("Bearer {key}"))])
        .unwrap_or_default()
}

/// One message as `/api/chat` takes it: calls with their arguments as objects, results named by
/// their tool.
fn message(m: &Message) -> Value {
    if let Some(result) = &m.tool_result {
        return json!({"role": "tool", "tool_name": result.name, "content": result.marked_text()});
    }
    if m.role == Role::Assistant && !m.tool_calls.is_empty() {
        let calls: Vec<Value> = m
            .tool_calls
            .iter()
            .map(|c| json!({"function": {"name": c.name, "arguments": c.arguments_value()}}))
            .collect();
        return json!({"role": "assistant", "content": m.content, "tool_calls": calls});
    }
    json!({"role": m.role.as_str(), "content": m.content})
}

pub(super) fn chat_call(endpoint: &Endpoint, request: &ChatRequest) -> HttpCall {
    let messages: Vec<Value> = request.messages.iter().map(message).collect();
    let mut options = serde_json::Map::new();
    if let Some(t) = request.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(n) = request.max_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "stream": true,
        "options": options,
    });
    if !request.tools.is_empty() {
        body["tools"] = super::openai::function_tools(request);
    }
    match request.asked_shape().map(|s| (s.ask, &s.schema)) {
        Some((super::structured::ShapeAsk::Schema, schema)) => body["format"] = schema.clone(),
        Some((super::structured::ShapeAsk::JsonObject, _)) => body["format"] = json!("json"),
        _ => {}
    }
    // Only say it when asked: models without thinking reject `think: true`, and `false` is their default.
    if request.reasoning != Reasoning::Off {
        body["think"] = json!(true);
    }
    HttpCall::post_json(
        format!("{}/api/chat", root(endpoint)),
        headers(endpoint),
        &body,
    )
}

/// Parses one NDJSON line of the stream.
pub(super) fn parse_line(
    provider: &str,
    model: &str,
    line: &str,
    out: &mut Vec<Piece>,
) -> Result<(), String> {
    let value: Value =
        serde_json::from_str(line).map_err(|e| format!("bad JSON in stream: {e}"))?;
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        out.push(Piece::Error(ProviderError::from_status(
            provider,
            500,
            error.to_owned(),
            "",
            model,
            None,
        )));
        return Ok(());
    }
    if let Some(t) = value.pointer("/message/thinking").and_then(Value::as_str)
        && !t.is_empty()
    {
        out.push(Piece::Reasoning(t.to_owned()));
    }
    if let Some(t) = value.pointer("/message/content").and_then(Value::as_str)
        && !t.is_empty()
    {
        out.push(Piece::Text(t.to_owned()));
    }
    for call in value
        .pointer("/message/tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let function = &call["function"];
        // Arguments come as an object; a server that sends them as text is read as it sends.
        let arguments = match function.get("arguments") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        };
        out.push(Piece::ToolCall {
            index: None,
            id: call.get("id").and_then(Value::as_str).map(str::to_owned),
            name: function
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            arguments,
            signature: None,
        });
    }
    if value.get("done").and_then(Value::as_bool) == Some(true) {
        out.push(Piece::Usage(Usage {
            prompt_tokens: value.get("prompt_eval_count").and_then(json_u64),
            completion_tokens: value.get("eval_count").and_then(json_u64),
            reasoning_tokens: None,
        }));
        if let Some(reason) = value.get("done_reason").and_then(Value::as_str) {
            out.push(Piece::Finish(reason.to_owned()));
        }
        out.push(Piece::Done);
    }
    Ok(())
}

pub(super) fn models_call(endpoint: &Endpoint) -> HttpCall {
    HttpCall::get(format!("{}/api/tags", root(endpoint)), headers(endpoint))
}

pub(super) fn parse_models(body: &str) -> Result<ModelPage, String> {
    let (_, items) = super::model_list(body, "models")?;
    let models = items
        .iter()
        .filter_map(|m| {
            let id = m
                .get("model")
                .or_else(|| m.get("name"))?
                .as_str()?
                .to_owned();
            Some(ModelInfo {
                name: id.clone(),
                id,
                ..ModelInfo::default()
            })
        })
        .collect();
    Ok(ModelPage { models, next: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{Message, preset};

    #[test]
    fn chat_goes_to_the_server_root_with_options() {
        let endpoint = Endpoint::new(
            preset("ollama").expect("preset"),
            "http://box:11434/v1/",
            None,
        )
        .expect("endpoint");
        let mut req = ChatRequest::new("llama3.2", vec![Message::user("hi")]);
        req.max_tokens = Some(64);
        req.reasoning = Reasoning::High;
        let call = chat_call(&endpoint, &req);
        assert_eq!(call.url, "http://box:11434/api/chat");
        let body: Value =
            serde_json::from_slice(call.body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(body["options"]["num_predict"], json!(64));
        assert_eq!(body["think"], json!(true));
        assert_eq!(models_call(&endpoint).url, "http://box:11434/api/tags");
    }
}
