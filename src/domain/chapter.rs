//! Chapters, the story's long-term memory: a closed run of entries with its summary (which the
//! narrator reads instead of them), and the story's memory settings. Both in the exchange
//! format's shapes too (the `chapters` section and the story's `memoryConfig`), read leniently
//! and written as the original writes them, unknown keys kept.

use serde_json::{Map, Value, json};

use super::EntryId;
use super::world_wire::{Reading, Writing};

/// One chapter of a story.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chapter {
    pub id: String,
    pub branch_id: Option<String>,
    /// 1 for the first chapter.
    pub number: i64,
    pub title: Option<String>,
    /// The first and last entry it closes.
    pub start_entry: EntryId,
    pub end_entry: EntryId,
    pub entry_count: i64,
    pub summary: String,
    /// The story time at its start and end (the tracker's JSON text, as the original keeps it).
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub keywords: Vec<String>,
    pub characters: Vec<String>,
    pub places: Vec<String>,
    pub plot_threads: Vec<String>,
    pub tone: Option<String>,
    pub created_at: i64,
    pub extra: Option<String>,
    /// Tokens of `prompt_text`, when counted already (the store counts them on saving).
    pub prompt_tokens: Option<usize>,
}

impl Chapter {
    /// The chapter as the narrator's prompt tells it.
    pub fn prompt_text(&self) -> String {
        format!("{}\n{}", self.heading(), self.summary.trim())
    }

    /// "Chapter 3: The Empty Ferry", or "Chapter 3" untitled.
    pub fn heading(&self) -> String {
        match self.title.as_deref().map(str::trim) {
            Some(title) if !title.is_empty() => format!("Chapter {}: {title}", self.number),
            _ => format!("Chapter {}", self.number),
        }
    }
}

/// A story-time value the original writes as a JSON string of the tracker or as the object.
fn time_text(reading: &mut Reading, key: &str) -> Option<String> {
    reading
        .take(key, |v| match v {
            Value::Null => Some(None),
            Value::String(s) => Some(Some(s.clone())),
            Value::Object(_) => Some(Some(v.to_string())),
            _ => None,
        })
        .flatten()
}

pub fn chapter_from_wire(object: Map<String, Value>, index: usize) -> Chapter {
    let mut r = Reading::new(object);
    let id = r
        .take("id", |v| {
            v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
        })
        .unwrap_or_else(|| format!("chapter-{index}"));
    let number = r
        .take("number", Value::as_i64)
        .unwrap_or(i64::try_from(index).unwrap_or(0) + 1);
    let title = r.text("title");
    let start_entry = EntryId::from(r.text("startEntryId").unwrap_or_default().as_str());
    let end_entry = EntryId::from(r.text("endEntryId").unwrap_or_default().as_str());
    let entry_count = r.take("entryCount", Value::as_i64).unwrap_or(0);
    let summary = r.text("summary").unwrap_or_default();
    let start_time = time_text(&mut r, "startTime");
    let end_time = time_text(&mut r, "endTime");
    let keywords = r.strings("keywords");
    let characters = r.strings("characters");
    let places = r.strings("locations");
    let plot_threads = r.strings("plotThreads");
    let tone = r.text("emotionalTone");
    let branch_id = r.text("branchId");
    // Read but left among the kept keys, so it is written back where the file had it.
    let created_at = r.peek("createdAt").and_then(Value::as_i64).unwrap_or(0);
    Chapter {
        id,
        branch_id,
        number,
        title,
        start_entry,
        end_entry,
        entry_count,
        summary,
        start_time,
        end_time,
        keywords,
        characters,
        places,
        plot_threads,
        tone,
        created_at,
        extra: r.extra(),
        prompt_tokens: None,
    }
}

pub fn chapter_to_wire(c: &Chapter, story_id: &str) -> Value {
    let text = |t: &Option<String>| t.clone().map_or(Value::Null, Value::from);
    let Value::Object(mut map) = Writing::new(&c.id, story_id)
        .put("number", c.number)
        .put("title", text(&c.title))
        .put("startEntryId", c.start_entry.as_str())
        .put("endEntryId", c.end_entry.as_str())
        .put("entryCount", c.entry_count)
        .put("summary", c.summary.as_str())
        .put("startTime", text(&c.start_time))
        .put("endTime", text(&c.end_time))
        .put("keywords", c.keywords.clone())
        .put("characters", c.characters.clone())
        .put("locations", c.places.clone())
        .put("plotThreads", c.plot_threads.clone())
        .put("emotionalTone", text(&c.tone))
        .finish(&c.extra, &c.branch_id)
    else {
        return Value::Null;
    };
    map.entry("createdAt").or_insert(json!(c.created_at));
    Value::Object(map)
}

/// When chapters close and what the narrator recalls from them.
#[derive(Clone, Debug, PartialEq)]
pub struct MemorySettings {
    /// A chapter closes when the entries outside the recent buffer and in no chapter hold this
    /// many tokens.
    pub token_threshold: u32,
    /// The newest entries, never put in a chapter.
    pub recent_buffer: u32,
    pub auto_summarize: bool,
    pub recall: bool,
    pub recall_mode: RecallMode,
    pub chapters_per_recall: u32,
}

impl Default for MemorySettings {
    fn default() -> Self {
        Self {
            token_threshold: 24_000,
            recent_buffer: 10,
            auto_summarize: true,
            recall: true,
            recall_mode: RecallMode::Questions,
            chapters_per_recall: 3,
        }
    }
}

/// How past chapters are recalled before a narration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecallMode {
    /// Questions about past chapters, each answered from that chapter's text.
    #[default]
    Questions,
    /// An agent that looks things up with tools.
    Agent,
}

impl RecallMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Questions => "questions",
            Self::Agent => "agent",
        }
    }
}

impl MemorySettings {
    /// From the story's `memoryConfig` (JSON text), the defaults where a key is missing or odd.
    pub fn from_wire(text: Option<&str>) -> Self {
        let d = Self::default();
        let Some(Value::Object(map)) = text.and_then(|t| serde_json::from_str(t).ok()) else {
            return d;
        };
        let number = |key: &str, or: u32| {
            map.get(key)
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(or)
        };
        let flag = |key: &str, or: bool| map.get(key).and_then(Value::as_bool).unwrap_or(or);
        Self {
            token_threshold: number("tokenThreshold", d.token_threshold),
            recent_buffer: number("chapterBuffer", d.recent_buffer),
            auto_summarize: flag("autoSummarize", d.auto_summarize),
            recall: flag("enableRetrieval", d.recall),
            recall_mode: match map.get("fabulaRecallMode").and_then(Value::as_str) {
                Some("agent") => RecallMode::Agent,
                _ => RecallMode::Questions,
            },
            chapters_per_recall: number("maxChaptersPerRetrieval", d.chapters_per_recall),
        }
    }

    /// Written into the story's `memoryConfig` (`previous`), its other keys kept.
    pub fn to_wire(&self, previous: Option<&str>) -> String {
        let mut map = match previous.and_then(|t| serde_json::from_str(t).ok()) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        map.insert("tokenThreshold".into(), json!(self.token_threshold));
        map.insert("chapterBuffer".into(), json!(self.recent_buffer));
        map.insert("autoSummarize".into(), json!(self.auto_summarize));
        map.insert("enableRetrieval".into(), json!(self.recall));
        map.insert(
            "maxChaptersPerRetrieval".into(),
            json!(self.chapters_per_recall),
        );
        match self.recall_mode {
            RecallMode::Questions => {
                map.remove("fabulaRecallMode");
            }
            RecallMode::Agent => {
                map.insert("fabulaRecallMode".into(), json!("agent"));
            }
        }
        Value::Object(map).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = r#"{"id":"c1","storyId":"s1","number":1,"title":"The Empty Ferry","startEntryId":"e1","endEntryId":"e6","entryCount":6,"summary":"Maren learns the ferryman vanished.","startTime":"{\"years\":0,\"days\":0,\"hours\":20,\"minutes\":0}","endTime":null,"keywords":["ferryman"],"characters":["Maren Vale"],"locations":["Saltmarsh Inn"],"plotThreads":["Where is Tobin?"],"emotionalTone":"uneasy","branchId":null,"createdAt":1786000390000,"arcId":"a1"}"#;

    #[test]
    fn a_chapter_from_the_original_is_written_back_as_it_came() {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(ORIGINAL) else {
            panic!("fixture");
        };
        let chapter = chapter_from_wire(object, 0);
        assert_eq!(chapter.heading(), "Chapter 1: The Empty Ferry");
        assert_eq!(chapter.places, ["Saltmarsh Inn"]);
        assert_eq!(chapter.end_entry.as_str(), "e6");
        assert_eq!(chapter_to_wire(&chapter, "s1").to_string(), ORIGINAL);
    }

    #[test]
    fn memory_settings_read_the_original_keys_and_keep_the_others() {
        let text = r#"{"tokenThreshold":12000,"chapterBuffer":4,"autoSummarize":false,"enableRetrieval":true,"maxChaptersPerRetrieval":2,"future":1}"#;
        let mut settings = MemorySettings::from_wire(Some(text));
        assert_eq!(settings.token_threshold, 12_000);
        assert_eq!(settings.recent_buffer, 4);
        assert!(!settings.auto_summarize);
        assert_eq!(
            settings.to_wire(Some(text)),
            text,
            "unchanged, written back the same"
        );
        settings.recall_mode = RecallMode::Agent;
        assert!(settings.to_wire(Some(text)).contains(r#""future":1"#));
        assert_eq!(
            MemorySettings::from_wire(Some("[]")),
            MemorySettings::default()
        );
        assert_eq!(MemorySettings::from_wire(None).token_threshold, 24_000);
    }
}
