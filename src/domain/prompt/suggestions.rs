//! The suggestions prompt (what the protagonist might do next) and a tolerant reading of the reply:\nJSON in or out of a code fence, or a plain list.

use super::super::story::{Story, StoryMode};
use super::{HistoryItem, PromptPack, TemplateError, TemplateKind, history_line, render_template};

/// The suggestions prompt: the last few entries and how many ideas to ask for.
pub fn suggestions_prompt(
    story: &Story,
    pack: &PromptPack,
    recent_oldest_first: &[HistoryItem],
) -> Result<String, TemplateError> {
    let (template, kind, count) = match story.mode {
        StoryMode::Adventure => (
            &pack.suggestions_adventure,
            TemplateKind::SuggestionsAdventure,
            "4",
        ),
        StoryMode::CreativeWriting => (
            &pack.suggestions_creative,
            TemplateKind::SuggestionsCreative,
            "3",
        ),
    };
    let recent: Vec<String> = recent_oldest_first
        .iter()
        .map(|h| history_line(h, story.mode))
        .collect();
    let recent = recent.join("\n\n");
    render_template(template, kind.placeholders(), &|name| match name {
        "title" => story.title.clone(),
        "genre" => story.genre.clone().unwrap_or_default(),
        "protagonist" => story.protagonist.clone().unwrap_or_default(),
        "recent" => recent.clone(),
        "count" => count.to_owned(),
        _ => String::new(),
    })
}

/// Reads the suggestions reply: JSON possibly inside a code fence or prose, with the list under
/// "choices", "suggestions" or as a bare array. At most `max` non-blank, distinct items.
pub fn parse_suggestions(reply: &str, max: usize) -> Vec<String> {
    let candidates = [('{', '}'), ('[', ']')];
    for (open, close) in candidates {
        let (Some(start), Some(end)) = (reply.find(open), reply.rfind(close)) else {
            continue;
        };
        if end <= start {
            continue;
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&reply[start..=end]) else {
            continue;
        };
        let list = match &value {
            serde_json::Value::Array(items) => Some(items),
            serde_json::Value::Object(map) => ["choices", "suggestions", "actions", "options"]
                .iter()
                .find_map(|k| map.get(*k).and_then(|v| v.as_array())),
            _ => None,
        };
        if let Some(items) = list {
            let mut out: Vec<String> = Vec::new();
            for item in items {
                let text = match item {
                    serde_json::Value::String(s) => s.trim().to_owned(),
                    serde_json::Value::Object(o) => ["text", "action", "suggestion", "title"]
                        .iter()
                        .find_map(|k| o.get(*k).and_then(|v| v.as_str()))
                        .unwrap_or("")
                        .trim()
                        .to_owned(),
                    _ => String::new(),
                };
                // "...", "-" and the like are not choices; nor is one said twice.
                let says_something = text.chars().any(char::is_alphanumeric);
                let repeated = out.iter().any(|o| o.eq_ignore_ascii_case(&text));
                if says_something && !repeated && out.len() < max {
                    out.push(text);
                }
            }
            return out;
        }
    }
    Vec::new()
}
