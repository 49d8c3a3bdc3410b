//! Google Gemini: `streamGenerateContent?alt=sse` and `generateContent` (`x-goog-api-key`, thought
//! parts, usageMetadata, thinkingConfig), function declarations with `functionCall` parts and
//! `functionResponse` parts sent back, and `GET models` filtered to generateContent.

use serde_json::{Value, json};

use super::{
    ChatRequest, Endpoint, HttpCall, ModelInfo, ModelPage, Piece, ProviderError, Role, Usage,
    json_u64,
};
use crate::domain::Reasoning;

fn headers(endpoint: &Endpoint) -> Vec<(String, String)> {
    endpoint
        .key()
        .map(|key| vec![("x-goog-api-key".to_owned(), key.to_owned())])
        .unwrap_or_default()
}

/// Model ids are listed as `models/gemini-…`; requests take the bare id.
fn bare(model: &str) -> &str {
    model.strip_prefix("models/").unwrap_or(model)
}

/// The turns as `contents`: a model turn that called functions as its text and `functionCall`
/// parts (with their thought signatures); the results after it in one user turn of
/// `functionResponse` parts.
fn contents(request: &ChatRequest) -> Vec<Value> {
    let mut turns: Vec<Value> = Vec::new();
    for m in request.messages.iter().filter(|m| m.role != Role::System) {
        if let Some(result) = &m.tool_result {
            let response = if result.is_error {
                json!({"error": result.content})
            } else {
                json!({"result": result.content})
            };
            let part = json!({"functionResponse": {"name": result.name, "response": response}});
            let joins = turns.last().is_some_and(|t| {
                t["role"] == "user"
                    && t["parts"]
                        .as_array()
                        .is_some_and(|p| p.iter().all(|p| p.get("functionResponse").is_some()))
            });
            match turns.last_mut().filter(|_| joins) {
                Some(Value::Object(turn)) => {
                    if let Some(Value::Array(parts)) = turn.get_mut("parts") {
                        parts.push(part);
                    }
                }
                _ => turns.push(json!({"role": "user", "parts": [part]})),
            }
            continue;
        }
        if m.role == Role::Assistant && !m.tool_calls.is_empty() {
            let mut parts = Vec::new();
            if !m.content.trim().is_empty() {
                parts.push(json!({"text": m.content}));
            }
            for c in &m.tool_calls {
                let mut part =
                    json!({"functionCall": {"name": c.name, "args": c.arguments_value()}});
                if let Some(signature) = &c.signature {
                    part["thoughtSignature"] = json!(signature);
                }
                parts.push(part);
            }
            turns.push(json!({"role": "model", "parts": parts}));
            continue;
        }
        let role = if m.role == Role::Assistant {
            "model"
        } else {
            "user"
        };
        turns.push(json!({"role": role, "parts": [{"text": m.content}]}));
    }
    turns
}

pub(super) fn chat_call(endpoint: &Endpoint, request: &ChatRequest) -> HttpCall {
    let contents = contents(request);
    let mut config = serde_json::Map::new();
    if let Some(t) = request.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(n) = request.max_tokens {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    config.insert(
        "thinkingConfig".into(),
        if request.reasoning == Reasoning::Off {
            json!({"thinkingBudget": 0})
        } else {
            json!({"thinkingBudget": request.reasoning.budget_tokens(), "includeThoughts": true})
        },
    );
    if let Some(shape) = request
        .asked_shape()
        .filter(|s| s.ask != super::structured::ShapeAsk::Prompt)
    {
        config.insert("responseMimeType".into(), json!("application/json"));
        config.insert("responseJsonSchema".into(), shape.schema.clone());
    }
    let mut body = json!({"contents": contents, "generationConfig": config});
    if let Some(system) = request.system_text() {
        body["systemInstruction"] = json!({"parts": [{"text": system}]});
    }
    if !request.tools.is_empty() {
        let declarations: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({"name": t.name, "description": t.description,
                       "parametersJsonSchema": t.parameters})
            })
            .collect();
        body["tools"] = json!([{"functionDeclarations": declarations}]);
    }
    let url = if request.stream {
        format!(
            "{}/models/{}:streamGenerateContent?alt=sse",
            endpoint.base_url,
            bare(&request.model)
        )
    } else {
        format!(
            "{}/models/{}:generateContent",
            endpoint.base_url,
            bare(&request.model)
        )
    };
    HttpCall::post_json(url, headers(endpoint), &body)
}

/// Parses one response chunk (an SSE `data:` payload, or the whole `generateContent` body).
pub(super) fn parse_event(
    provider: &str,
    model: &str,
    data: &str,
    out: &mut Vec<Piece>,
) -> Result<(), String> {
    let value: Value =
        serde_json::from_str(data).map_err(|e| format!("bad JSON in stream: {e}"))?;
    if value.get("error").is_some() {
        let (message, code) =
            super::common_error_details(data).unwrap_or_else(|| (data.to_owned(), String::new()));
        let status = value
            .pointer("/error/code")
            .and_then(json_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(500);
        out.push(Piece::Error(ProviderError::from_status(
            provider, status, message, &code, model, None,
        )));
        return Ok(());
    }
    let candidate = value.pointer("/candidates/0");
    if let Some(parts) = candidate
        .and_then(|c| c.pointer("/content/parts"))
        .and_then(Value::as_array)
    {
        for part in parts {
            if let Some(call) = part.get("functionCall") {
                out.push(Piece::ToolCall {
                    index: None,
                    id: call.get("id").and_then(Value::as_str).map(str::to_owned),
                    name: call.get("name").and_then(Value::as_str).map(str::to_owned),
                    arguments: call.get("args").map(Value::to_string).unwrap_or_default(),
                    signature: part
                        .get("thoughtSignature")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                });
                continue;
            }
            let Some(text) = part.get("text").and_then(Value::as_str) else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                out.push(Piece::Reasoning(text.to_owned()));
            } else {
                out.push(Piece::Text(text.to_owned()));
            }
        }
    }
    if let Some(usage) = value.get("usageMetadata") {
        out.push(Piece::Usage(Usage {
            prompt_tokens: usage.get("promptTokenCount").and_then(json_u64),
            completion_tokens: usage.get("candidatesTokenCount").and_then(json_u64),
            reasoning_tokens: usage.get("thoughtsTokenCount").and_then(json_u64),
        }));
    }
    if let Some(reason) = candidate
        .and_then(|c| c.get("finishReason"))
        .and_then(Value::as_str)
    {
        out.push(Piece::Finish(reason.to_owned()));
    }
    if let Some(reason) = value
        .pointer("/promptFeedback/blockReason")
        .and_then(Value::as_str)
    {
        out.push(Piece::Error(ProviderError::BadRequest {
            provider: provider.to_owned(),
            status: 200,
            message: format!("the prompt was blocked ({reason})"),
        }));
    }
    Ok(())
}

pub(super) fn models_call(endpoint: &Endpoint, page: Option<&str>) -> HttpCall {
    let mut url = format!("{}/models?pageSize=1000", endpoint.base_url);
    if let Some(token) = page {
        url.push_str("&pageToken=");
        url.push_str(token);
    }
    HttpCall::get(url, headers(endpoint))
}

pub(super) fn parse_models(body: &str) -> Result<ModelPage, String> {
    let (value, items) = super::model_list(body, "models")?;
    let models = items
        .iter()
        .filter(|m| {
            m.get("supportedGenerationMethods")
                .and_then(Value::as_array)
                .is_some_and(|methods| methods.iter().any(|x| x == "generateContent"))
        })
        .filter_map(|m| {
            let id = bare(m.get("name")?.as_str()?).to_owned();
            Some(ModelInfo {
                name: m
                    .get("displayName")
                    .and_then(Value::as_str)
                    .unwrap_or(&id)
                    .to_owned(),
                context_length: m.get("inputTokenLimit").and_then(json_u64),
                id,
                pricing: None,
            })
        })
        .collect();
    let next = value
        .get("nextPageToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    Ok(ModelPage { models, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Secret;
    use crate::providers::{Message, preset};

    #[test]
    fn urls_roles_and_thinking_config() {
        let endpoint = Endpoint::new(
            preset("google").expect("preset"),
            "",
            Some(Secret::new("g")),
        )
        .expect("endpoint");
        let mut req = ChatRequest::new(
            "models/gemini-2.5-flash",
            vec![
                Message::system("Narrate."),
                Message::user("a"),
                Message::assistant("b"),
            ],
        );
        req.reasoning = Reasoning::Low;
        let call = chat_call(&endpoint, &req);
        assert_eq!(
            call.url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        let body: Value =
            serde_json::from_slice(call.body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(body["contents"][1]["role"], json!("model"));
        assert_eq!(
            body["generationConfig"]["thinkingConfig"],
            json!({"thinkingBudget": 4000, "includeThoughts": true})
        );
        assert_eq!(
            body["systemInstruction"]["parts"][0]["text"],
            json!("Narrate.")
        );
        req.stream = false;
        assert!(chat_call(&endpoint, &req).url.ends_with(":generateContent"));
    }

    #[test]
    fn only_generate_content_models_are_listed() {
        let page = parse_models(
            r#"{"models":[
              {"name":"models/gemini-2.5-flash","displayName":"Gemini 2.5 Flash","inputTokenLimit":1048576,
               "supportedGenerationMethods":["generateContent","countTokens"]},
              {"name":"models/text-embedding-004","supportedGenerationMethods":["embedContent"]}],
              "nextPageToken":"abc"}"#,
        )
        .expect("parse");
        assert_eq!(page.models.len(), 1);
        assert_eq!(page.models[0].id, "gemini-2.5-flash");
        assert_eq!(page.models[0].context_length, Some(1_048_576));
        assert_eq!(page.next.as_deref(), Some("abc"));
    }
}
