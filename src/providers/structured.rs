//! Replies in a shape: a JSON schema made from the Rust type that reads the reply (so the two
//! cannot drift), asked for in each protocol's own way (OpenAI `response_format`, one forced
//! Anthropic tool, Gemini's response schema, Ollama's `format`), with fallbacks for servers that
//! refuse it, and a lenient reading of what comes back.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{ChatRequest, Completion, Endpoint, Failure, Message, ProviderError};
use crate::domain::Protocol;
use crate::jobs::CancelToken;

/// How a shape is asked for, strongest first. A server that refuses one is asked the next way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeAsk {
    /// The protocol's own schema support (OpenAI `json_schema` strict, Anthropic's forced tool,
    /// Gemini's `responseJsonSchema`, Ollama's `format`).
    Schema,
    /// OpenAI-compatible `json_object`: JSON, with the schema described in the prompt.
    JsonObject,
    /// Only the prompt: the schema described, the answer read out of whatever text comes.
    Prompt,
}

impl ShapeAsk {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schema => "schema",
            Self::JsonObject => "json_object",
            Self::Prompt => "prompt",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Schema, Self::JsonObject, Self::Prompt]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    fn weaker(self) -> Option<Self> {
        match self {
            Self::Schema => Some(Self::JsonObject),
            Self::JsonObject => Some(Self::Prompt),
            Self::Prompt => None,
        }
    }
}

/// The shape a reply must have.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplyShape {
    /// A name for the schema (OpenAI's schema name, Anthropic's tool name): letters, digits, `_`.
    pub name: String,
    pub schema: Value,
    pub ask: ShapeAsk,
}

impl ReplyShape {
    /// The shape `T` is read from, asked for the strongest way.
    pub fn of<T: schemars::JsonSchema>(name: &str) -> Self {
        let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
        Self {
            name: name.to_owned(),
            schema: strict(schema),
            ask: ShapeAsk::Schema,
        }
    }

    /// The instruction that describes the schema in the prompt (for the weaker ways).
    pub fn instruction(&self) -> String {
        format!(
            "Answer with one JSON value only, no prose and no code fence, that follows this JSON schema:\n{}",
            self.schema
        )
    }
}

/// The schema as strict modes want it: every object closed (`additionalProperties: false`) with
/// every property required (an optional one already admits `null`), and no `$schema` key.
pub fn strict(mut schema: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("$schema");
                map.remove("format");
                // `type: ["string", "null"]` with limits becomes `anyOf` of the two: grammar
                // makers (llama.cpp's) apply a limit only to a schema of one type.
                let nullable = map.get("type").and_then(Value::as_array).and_then(|types| {
                    let others: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
                    (types.len() == 2 && others.len() == 1).then(|| others[0].clone())
                });
                if let Some(kind) = nullable
                    && map
                        .keys()
                        .any(|k| k.starts_with("max") || k.starts_with("min"))
                {
                    let mut one = serde_json::Map::new();
                    one.insert("type".into(), kind);
                    for key in [
                        "maxLength",
                        "minLength",
                        "maximum",
                        "minimum",
                        "maxItems",
                        "minItems",
                        "items",
                    ] {
                        if let Some(v) = map.remove(key) {
                            one.insert(key.into(), v);
                        }
                    }
                    map.remove("type");
                    map.insert(
                        "anyOf".into(),
                        serde_json::json!([Value::Object(one), {"type": "null"}]),
                    );
                }
                let is_object = map.get("type").is_some_and(|t| {
                    t == "object"
                        || t.as_array()
                            .is_some_and(|a| a.iter().any(|x| x == "object"))
                });
                if is_object && let Some(Value::Object(props)) = map.get("properties") {
                    let keys: Vec<Value> = props.keys().cloned().map(Value::from).collect();
                    map.insert("required".into(), Value::Array(keys));
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                for value in map.values_mut() {
                    walk(value);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut schema);
    schema
}

/// Why a shaped reply could not be had.
#[derive(Debug, thiserror::Error)]
pub enum StructuredError {
    #[error("{0}")]
    Provider(ProviderError),
    /// The reply came, but not in the shape; `raw` is what came (kept for the inspector).
    #[error("The reply was not in the expected form: {detail}")]
    Unreadable { detail: String, raw: String },
    #[error("Stopped.")]
    Cancelled,
}

/// Puts the shape into the request the way `shape.ask` says (the protocol builders read
/// `request.shape`; the weaker ways also describe the schema in the system prompt).
pub fn shaped_request(request: &ChatRequest, shape: &ReplyShape) -> ChatRequest {
    let mut request = request.clone();
    if shape.ask != ShapeAsk::Schema {
        request
            .messages
            .insert(0, Message::system(shape.instruction()));
    }
    request.shape = Some(shape.clone());
    request
}

/// The JSON text in a reply: a code fence or prose around it dropped, and a tail cut off by the
/// token limit closed where that can be done (an open string, a dangling comma or key, open
/// brackets).
pub fn extract_json(text: &str) -> Option<String> {
    let start = text.find(['{', '['])?;
    let body = &text[start..];
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => stack.push('}'),
            '[' => stack.push(']'),
            '}' | ']' => {
                if stack.pop() != Some(c) {
                    return None;
                }
                if stack.is_empty() {
                    return Some(body[..=i].to_owned());
                }
            }
            _ => {}
        }
    }
    // Cut off: close what is open.
    let mut repaired = body.trim_end().to_owned();
    if in_string {
        if escaped {
            repaired.pop();
        }
        repaired.push('"');
    }
    loop {
        let trimmed = repaired.trim_end().to_owned();
        if let Some(rest) = trimmed.strip_suffix(',') {
            repaired = rest.to_owned();
            continue;
        }
        if let Some(rest) = trimmed.strip_suffix(':') {
            // A key with no value left: the key goes too.
            let rest = rest.trim_end();
            repaired = match rest.strip_suffix('"').and_then(|r| r.rfind('"')) {
                Some(quote) => rest[..quote].to_owned(),
                None => rest.to_owned(),
            };
            continue;
        }
        break;
    }
    while let Some(close) = stack.pop() {
        let trimmed = repaired.trim_end().trim_end_matches(',').to_owned();
        repaired = trimmed;
        repaired.push(close);
    }
    Some(repaired)
}

/// Reads a reply as `T`.
pub fn read_reply<T: DeserializeOwned>(text: &str) -> Result<T, StructuredError> {
    let unreadable = |detail: String| StructuredError::Unreadable {
        detail,
        raw: text.to_owned(),
    };
    let json = extract_json(text).ok_or_else(|| unreadable("it holds no JSON".into()))?;
    serde_json::from_str(&json).map_err(|e| unreadable(e.to_string()))
}

/// Whether a refusal is about the shape asked for (so a weaker way may work), not the request.
fn refuses_the_shape(endpoint: &Endpoint, error: &ProviderError) -> bool {
    let ProviderError::BadRequest { message, .. } = error else {
        return false;
    };
    let message = message.to_lowercase();
    endpoint.preset.protocol == Protocol::OpenAi
        && [
            "response_format",
            "json_schema",
            "json_object",
            "schema",
            "structured",
            "grammar",
        ]
        .iter()
        .any(|w| message.contains(w))
}

/// A reply in the shape of `T`, asked for from `start` (what worked last time with this model, or
/// `ShapeAsk::Schema`) and on down while the server refuses the shape. Returns the value, the
/// completion it came in (for the usage ledger and the inspector) and the way that worked.
#[allow(clippy::result_large_err)]
pub fn structured_chat<T: DeserializeOwned>(
    endpoint: &Endpoint,
    request: &ChatRequest,
    mut shape: ReplyShape,
    cancel: &CancelToken,
    on_attempt: &mut dyn FnMut(&ChatRequest, &Result<Completion, Failure>),
) -> Result<(T, Completion, ShapeAsk), StructuredError> {
    loop {
        let shaped = shaped_request(request, &shape);
        let outcome = super::stream_chat(endpoint, &shaped, cancel, &mut |_| {});
        on_attempt(&shaped, &outcome);
        match outcome {
            Ok(c) if c.finish == super::Finish::Cancelled => {
                return Err(StructuredError::Cancelled);
            }
            Ok(c) => {
                let value = read_reply(&c.text)?;
                return Ok((value, c, shape.ask));
            }
            Err(f) => match shape.ask.weaker() {
                Some(next) if refuses_the_shape(endpoint, &f.error) => {
                    log::info!(
                        "{} refused a {} reply shape; asking with {}",
                        endpoint.label(),
                        shape.ask.as_str(),
                        next.as_str()
                    );
                    shape.ask = next;
                }
                _ => return Err(StructuredError::Provider(f.error)),
            },
        }
    }
}

/// Keywords OpenAI's own strict mode refuses; local servers (llama.cpp's grammar) honour them,
/// and they keep a small model from writing one field forever.
const NOT_IN_OPENAI_STRICT: [&str; 2] = ["maxLength", "minLength"];

fn without_keywords(mut schema: Value, keywords: &[&str]) -> Value {
    fn walk(v: &mut Value, keywords: &[&str]) {
        match v {
            Value::Object(map) => {
                for k in keywords {
                    map.remove(*k);
                }
                map.values_mut().for_each(|v| walk(v, keywords));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, keywords)),
            _ => {}
        }
    }
    walk(&mut schema, keywords);
    schema
}

/// For protocol builders: OpenAI's `response_format` for the shape's way (`official`: OpenAI's
/// own API, whose strict mode takes fewer keywords than compatible servers).
pub(super) fn openai_response_format(shape: &ReplyShape, official: bool) -> Option<Value> {
    match shape.ask {
        ShapeAsk::Schema => Some(serde_json::json!({
            "type": "json_schema",
            "json_schema": {
                "name": shape.name,
                "strict": true,
                "schema": if official {
                    without_keywords(shape.schema.clone(), &NOT_IN_OPENAI_STRICT)
                } else {
                    shape.schema.clone()
                },
            },
        })),
        ShapeAsk::JsonObject => Some(serde_json::json!({"type": "json_object"})),
        ShapeAsk::Prompt => None,
    }
}

/// For the Anthropic builder: the one tool whose input is the reply, and the choice that forces it.
pub(super) fn anthropic_tool(shape: &ReplyShape) -> Option<(Value, Value)> {
    (shape.ask != ShapeAsk::Prompt).then(|| {
        (
            serde_json::json!([{
                "name": shape.name,
                "description": "Give the answer as this tool's input.",
                "input_schema": shape.schema,
            }]),
            serde_json::json!({"type": "tool", "name": shape.name}),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, schemars::JsonSchema, Debug, PartialEq)]
    struct Scene {
        place: Option<String>,
        present: Vec<String>,
        minutes: u32,
    }

    #[test]
    fn the_schema_is_made_strict_from_the_reading_type() {
        let shape = ReplyShape::of::<Scene>("scene");
        let s = &shape.schema;
        assert_eq!(s["additionalProperties"], false);
        let required: Vec<&str> = s["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            required,
            ["place", "present", "minutes"],
            "in the order the type declares"
        );
        assert!(s.get("$schema").is_none());
        assert!(shape.instruction().contains("\"present\""));
    }

    #[test]
    fn replies_are_read_through_fences_prose_and_cut_off_tails() {
        let want = Scene {
            place: Some("Tavern".into()),
            present: vec!["Mira".into()],
            minutes: 15,
        };
        for text in [
            r#"{"place":"Tavern","present":["Mira"],"minutes":15}"#,
            "```json\n{\"place\": \"Tavern\", \"present\": [\"Mira\"], \"minutes\": 15}\n```",
            "Here you go: {\"place\": \"Tavern\", \"present\": [\"Mira\"], \"minutes\": 15} Hope it helps!",
        ] {
            assert_eq!(read_reply::<Scene>(text).expect(text), want);
        }
        assert_eq!(
            extract_json(r#"{"place": "Tav"#).as_deref(),
            Some(r#"{"place": "Tav"}"#)
        );
        assert_eq!(
            extract_json(r#"{"minutes": 15, "present": ["Mira", "#).as_deref(),
            Some(r#"{"minutes": 15, "present": ["Mira"]}"#)
        );
        assert_eq!(
            extract_json(r#"{"minutes": 15, "place":"#).as_deref(),
            Some(r#"{"minutes": 15}"#)
        );
        let err = read_reply::<Scene>("I cannot do that.").expect_err("no JSON");
        assert!(
            matches!(err, StructuredError::Unreadable { ref raw, .. } if raw == "I cannot do that.")
        );
        assert!(read_reply::<Scene>(r#"{"place": 3, "present": [], "minutes": 1}"#).is_err());
    }
}
