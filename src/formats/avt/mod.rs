//! The original app's story exchange file (`.avt`): wire types, a reader for every 1.x version and
//! a writer of 1.8.0. Sections Fabula does not model are carried through verbatim.

use std::collections::HashSet;
use std::io::{BufRead, Read, Write};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::scan::{ScanError, Scanner};
use super::{FormatError, keyed};
use crate::domain::{
    BundleEntry, BundleLore, BundleStory, EntryId, EntryKind, IMPORT_BATCH, ImportPart,
    InjectionMode, LoreEntry, LoreId, LoreKind, Pov, StoryBundle, StoryId, StoryMode, Tense,
    now_ms,
};

/// The version this build writes.
pub const WRITE_VERSION: &str = "1.8.0";

/// Top-level keys Fabula models; every other key is kept verbatim.
const MODELED: &[&str] = &[
    "version",
    "exportedAt",
    "story",
    "entries",
    "lorebookEntries",
];
/// Sections the reference lists, written even when empty (as the original does).
const LISTED_ARRAYS: &[&str] = &[
    "characters",
    "locations",
    "items",
    "storyBeats",
    "embeddedImages",
    "checkpoints",
    "branches",
    "chapters",
];
const LISTED_NULLABLE: &[&str] = &["styleReviewState", "currentBgImage"];

/// Unix milliseconds written by JavaScript may arrive as floats.
fn de_ms<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let value = Value::deserialize(d)?;
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|f| f as i64))
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "a timestamp must be a number of milliseconds, not {value}"
            ))
        })
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AvtStory {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub genre: Option<String>,
    #[serde(default)]
    pub template_id: Option<String>,
    pub mode: String,
    #[serde(deserialize_with = "de_ms")]
    pub created_at: i64,
    #[serde(deserialize_with = "de_ms")]
    pub updated_at: i64,
    #[serde(default)]
    pub settings: Option<Value>,
    #[serde(default)]
    pub memory_config: Option<Value>,
    #[serde(default)]
    pub retry_state: Option<Value>,
    #[serde(default)]
    pub style_review_state: Option<Value>,
    #[serde(default)]
    pub time_tracker: Option<Value>,
    #[serde(default)]
    pub current_branch_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AvtEntry {
    pub id: String,
    pub story_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub content: String,
    pub parent_id: Option<String>,
    pub position: i64,
    pub created_at: i64,
    pub metadata: Option<Value>,
    pub branch_id: Option<String>,
    /// Absent when there is none, as the original writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    pub translated_content: Option<String>,
    pub translation_language: Option<String>,
    pub original_input: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AvtInjection {
    pub mode: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub priority: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AvtLore {
    pub id: String,
    pub story_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub hidden_info: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub state: Option<Value>,
    #[serde(default)]
    pub adventure_state: Option<Value>,
    #[serde(default)]
    pub creative_state: Option<Value>,
    pub injection: AvtInjection,
    #[serde(default)]
    pub first_mentioned: Option<Value>,
    #[serde(default)]
    pub last_mentioned: Option<Value>,
    #[serde(default)]
    pub mention_count: i64,
    #[serde(default = "by_user")]
    pub created_by: String,
    #[serde(deserialize_with = "de_ms")]
    pub created_at: i64,
    #[serde(deserialize_with = "de_ms")]
    pub updated_at: i64,
    #[serde(default)]
    pub lore_management_blacklisted: bool,
    #[serde(default)]
    pub branch_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn by_user() -> String {
    "user".to_owned()
}

/// The whole file. Unknown and unmodeled top-level keys land in `sections`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AvtFile {
    pub version: String,
    pub exported_at: i64,
    pub story: AvtStory,
    pub entries: Vec<AvtEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lorebook_entries: Option<Vec<AvtLore>>,
    #[serde(flatten)]
    pub sections: Map<String, Value>,
}

/// A timestamp field read with `de_ms`.
struct Millis(i64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_ms(d).map(Millis)
    }
}

fn required<T, E: serde::de::Error>(value: Option<T>, name: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(name))
}

// Entries are read by hand rather than derived (see `keyed` for why); the file itself by `read_file`.
const ENTRY_FIELDS: &[&str] = &[
    "id",
    "storyId",
    "type",
    "content",
    "parentId",
    "position",
    "createdAt",
    "metadata",
    "branchId",
    "reasoning",
    "translatedContent",
    "translationLanguage",
    "originalInput",
];

impl<'de> Deserialize<'de> for AvtEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = AvtEntry;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an entry object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AvtEntry, A::Error> {
                let (mut id, mut story_id, mut kind, mut content) = (None, None, None, None);
                let (mut position, mut created_at) = (None, None);
                let (mut parent_id, mut metadata, mut branch_id, mut reasoning) =
                    (None, None, None, None);
                let (mut translated_content, mut translation_language, mut original_input) =
                    (None, None, None);
                let extra = keyed::read_members(&mut map, ENTRY_FIELDS, |field, map| {
                    match field {
                        0 => id = Some(map.next_value()?),
                        1 => story_id = Some(map.next_value()?),
                        2 => kind = Some(map.next_value()?),
                        3 => content = Some(map.next_value()?),
                        4 => parent_id = map.next_value()?,
                        5 => position = Some(map.next_value()?),
                        6 => created_at = Some(map.next_value::<Millis>()?.0),
                        7 => metadata = map.next_value()?,
                        8 => branch_id = map.next_value()?,
                        9 => reasoning = map.next_value()?,
                        10 => translated_content = map.next_value()?,
                        11 => translation_language = map.next_value()?,
                        _ => original_input = map.next_value()?,
                    }
                    Ok(())
                })?;
                Ok(AvtEntry {
                    id: required(id, "id")?,
                    story_id: required(story_id, "storyId")?,
                    kind: required(kind, "type")?,
                    content: required(content, "content")?,
                    parent_id,
                    position: required(position, "position")?,
                    created_at: required(created_at, "createdAt")?,
                    metadata,
                    branch_id,
                    reasoning,
                    translated_content,
                    translation_language,
                    original_input,
                    extra,
                })
            }
        }
        d.deserialize_map(EntryVisitor)
    }
}

fn json_text(value: &Option<Value>) -> Option<String> {
    value
        .as_ref()
        .filter(|v| !v.is_null())
        .map(Value::to_string)
}

fn extra_text(map: &Map<String, Value>) -> Option<String> {
    (!map.is_empty()).then(|| Value::Object(map.clone()).to_string())
}

fn parse_json(text: &Option<String>) -> Option<Value> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

fn parse_extra(text: &Option<String>) -> Map<String, Value> {
    match parse_json(text) {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

mod convert;
mod read;
mod write;

pub use convert::{from_wire, into_wire, to_wire};
pub use read::{read, read_parts};
pub use write::{to_compact_string, write, write_streamed};
