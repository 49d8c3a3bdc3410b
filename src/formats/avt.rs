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

/// Reads an exchange file of any 1.x version. Bad input is refused with a message that names the
/// problem; nothing is returned half-read.
pub fn read(reader: impl Read) -> Result<StoryBundle, FormatError> {
    let mut scanner = Scanner::new(std::io::BufReader::with_capacity(1 << 16, reader));
    let mut collected = Collect(Vec::new());
    let mut file = read_file(&mut scanner, &mut collected)?;
    file.entries = collected.0;
    from_wire(file)
}

/// Reads an exchange file as `read` does, handing it to `send` part by part as it arrives (see
/// `ImportPart`): the story, its entries a batch at a time, then the rest once all of it has been
/// read and checked. A bad file ends without `ImportPart::Rest`. `send` answers false to stop the
/// reading (`FormatError::Stopped`).
pub fn read_parts(
    reader: impl Read,
    send: &mut dyn FnMut(ImportPart) -> bool,
) -> Result<(), FormatError> {
    let mut scanner = Scanner::new(std::io::BufReader::with_capacity(1 << 16, reader));
    let mut parts = Parts {
        send,
        check: None,
        waiting: Vec::new(),
        batch: Vec::with_capacity(IMPORT_BATCH),
    };
    let file = read_file(&mut scanner, &mut parts)?;
    parts.flush()?;
    let Some(mut check) = parts.check.take() else {
        return Err(FormatError::Invalid(
            "The file is JSON but not a story file: missing field `story`.".into(),
        ));
    };
    check.finish()?;
    check_version(&file.version)?;
    let mut story = story_from_wire(&file.story)?;
    story.protagonist = protagonist(&file.sections);
    let lore = lore_from_wire(file.lorebook_entries, &mut check.seen, &story.id)?;
    let rest = ImportPart::Rest {
        story,
        lore,
        sections: sections_from_wire(file.sections),
    };
    if (parts.send)(rest) {
        Ok(())
    } else {
        Err(FormatError::Stopped)
    }
}

/// Where `read_file` puts what it reads as it goes.
trait FileSink {
    fn story(&mut self, story: &AvtStory) -> Result<(), FormatError>;
    fn entry(&mut self, entry: AvtEntry) -> Result<(), FormatError>;
}

/// Keeps the entries, for `read`.
struct Collect(Vec<AvtEntry>);

impl FileSink for Collect {
    fn story(&mut self, _: &AvtStory) -> Result<(), FormatError> {
        Ok(())
    }

    fn entry(&mut self, entry: AvtEntry) -> Result<(), FormatError> {
        self.0.push(entry);
        Ok(())
    }
}

/// Checks each entry and passes it on in batches, for `read_parts`. Entries before the story (a
/// file written in another key order) wait for it.
struct Parts<'a> {
    send: &'a mut dyn FnMut(ImportPart) -> bool,
    check: Option<EntryCheck>,
    waiting: Vec<AvtEntry>,
    batch: Vec<BundleEntry>,
}

impl Parts<'_> {
    fn flush(&mut self) -> Result<(), FormatError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(IMPORT_BATCH));
        if (self.send)(ImportPart::Entries(batch)) {
            Ok(())
        } else {
            Err(FormatError::Stopped)
        }
    }
}

impl FileSink for Parts<'_> {
    fn story(&mut self, story: &AvtStory) -> Result<(), FormatError> {
        let story = story_from_wire(story)?;
        self.check = Some(EntryCheck::new(&story.id));
        if !(self.send)(ImportPart::Story(story)) {
            return Err(FormatError::Stopped);
        }
        for entry in std::mem::take(&mut self.waiting) {
            self.entry(entry)?;
        }
        Ok(())
    }

    fn entry(&mut self, entry: AvtEntry) -> Result<(), FormatError> {
        let Some(check) = &mut self.check else {
            self.waiting.push(entry);
            return Ok(());
        };
        self.batch.push(check.entry(entry)?);
        if self.batch.len() >= IMPORT_BATCH {
            self.flush()?;
        }
        Ok(())
    }
}

fn scan_error(e: ScanError) -> FormatError {
    match e {
        ScanError::Io(e) => FormatError::Invalid(format!("The file could not be read: {e}")),
        ScanError::Eof => {
            FormatError::Invalid("The file ends too early; it may be cut off.".into())
        }
        ScanError::Unexpected(b) => FormatError::Invalid(format!(
            "The file is not valid JSON (`{}` where it cannot be).",
            b.escape_ascii()
        )),
    }
}

/// Parses the next value: objects, arrays and strings straight from the stream (a section of
/// images may be hundreds of MB, read once), anything else from its bytes.
fn stream_value<T: serde::de::DeserializeOwned, R: BufRead>(
    scanner: &mut Scanner<R>,
    buf: &mut Vec<u8>,
    place: &str,
) -> Result<T, FormatError> {
    let first = scanner.peek_token().map_err(scan_error)?;
    if matches!(first, Some(b'{' | b'[' | b'"')) {
        // serde_json reads nothing past the `}`, `]` or `"` that ends these.
        let mut de = serde_json::Deserializer::from_reader(scanner.reader());
        T::deserialize(&mut de).map_err(|e| FormatError::from_json_in(e, place))
    } else {
        slice_value(scanner, buf, place)
    }
}

/// Parses the next value from its bytes.
fn slice_value<T: serde::de::DeserializeOwned, R: BufRead>(
    scanner: &mut Scanner<R>,
    buf: &mut Vec<u8>,
    place: &str,
) -> Result<T, FormatError> {
    buf.clear();
    scanner.take_value(buf).map_err(scan_error)?;
    serde_json::from_slice(buf).map_err(|e| FormatError::from_json_in(e, place))
}

/// The entries array, each entry parsed from its own bytes and handed to `sink`.
fn read_entries<R: BufRead>(
    scanner: &mut Scanner<R>,
    buf: &mut Vec<u8>,
    sink: &mut dyn FileSink,
) -> Result<(), FormatError> {
    if scanner.peek_token().map_err(scan_error)? != Some(b'[') {
        // Not a list: the parser says what it is instead.
        return slice_value::<Vec<AvtEntry>, _>(scanner, buf, "`entries`")
            .and_then(|entries| entries.into_iter().try_for_each(|e| sink.entry(e)));
    }
    scanner.expect(b'[').map_err(scan_error)?;
    if scanner.peek_token().map_err(scan_error)? == Some(b']') {
        scanner.expect(b']').map_err(scan_error)?;
        return Ok(());
    }
    let mut count = 0usize;
    loop {
        count += 1;
        let place = format!("entry {count}");
        sink.entry(slice_value(scanner, buf, &place)?)?;
        if scanner.one_of(b",]").map_err(scan_error)? == b']' {
            return Ok(());
        }
    }
}

/// Reads the file's top level; its entries go to `sink` as they are parsed (`entries` is empty).
fn read_file<R: BufRead>(
    scanner: &mut Scanner<R>,
    sink: &mut dyn FileSink,
) -> Result<AvtFile, FormatError> {
    match scanner.peek_token().map_err(scan_error)? {
        Some(b'{') => scanner.expect(b'{').map_err(scan_error)?,
        Some(b'[' | b'"' | b'-' | b'0'..=b'9') => {
            return Err(FormatError::Invalid(
                "The file is JSON but not a story file: it is not an object.".into(),
            ));
        }
        Some(_) => {
            return Err(FormatError::Invalid(
                "The file is not valid JSON (it does not start with `{`).".into(),
            ));
        }
        None => return Err(FormatError::Invalid("The file is empty.".into())),
    }
    let mut buf = Vec::new();
    let (mut version, mut exported_at, mut story, mut entries) = (None, None, None, None);
    let mut lorebook_entries = None;
    let mut sections = Map::new();
    let mut seen = HashSet::new();
    if scanner.peek_token().map_err(scan_error)? == Some(b'}') {
        scanner.expect(b'}').map_err(scan_error)?;
    } else {
        loop {
            match scanner.peek_token().map_err(scan_error)? {
                Some(b'"') => {}
                Some(b) => return Err(scan_error(ScanError::Unexpected(b))),
                None => return Err(scan_error(ScanError::Eof)),
            }
            let key: String = slice_value(scanner, &mut buf, "a key")?;
            scanner.expect(b':').map_err(scan_error)?;
            if MODELED.contains(&key.as_str()) && !seen.insert(key.clone()) {
                return Err(FormatError::Invalid(format!(
                    "The file is JSON but not a story file: duplicate field `{key}`."
                )));
            }
            match key.as_str() {
                "version" => {
                    version = Some(slice_value::<String, _>(scanner, &mut buf, "`version`")?)
                }
                "exportedAt" => {
                    exported_at =
                        Some(slice_value::<Millis, _>(scanner, &mut buf, "`exportedAt`")?.0);
                }
                "story" => {
                    let read = stream_value::<AvtStory, _>(scanner, &mut buf, "`story`")?;
                    sink.story(&read)?;
                    story = Some(read);
                }
                "entries" => {
                    read_entries(scanner, &mut buf, sink)?;
                    entries = Some(());
                }
                "lorebookEntries" => {
                    lorebook_entries = stream_value(scanner, &mut buf, "`lorebookEntries`")?;
                }
                _ => {
                    let place = format!("`{key}`");
                    let value: Value = stream_value(scanner, &mut buf, &place)?;
                    sections.insert(key, value);
                }
            }
            if scanner.one_of(b",}").map_err(scan_error)? == b'}' {
                break;
            }
        }
    }
    if let Some(b) = scanner.peek_token().map_err(scan_error)? {
        return Err(FormatError::Invalid(format!(
            "The file is not valid JSON (`{}` after the story's closing brace).",
            b.escape_ascii()
        )));
    }
    let missing = |name: &str| {
        FormatError::Invalid(format!(
            "The file is JSON but not a story file: missing field `{name}`."
        ))
    };
    Ok(AvtFile {
        version: version.ok_or_else(|| missing("version"))?,
        exported_at: exported_at.ok_or_else(|| missing("exportedAt"))?,
        story: story.ok_or_else(|| missing("story"))?,
        entries: entries
            .map(|()| Vec::new())
            .ok_or_else(|| missing("entries"))?,
        lorebook_entries,
        sections,
    })
}

/// Checks and converts a parsed file.
pub fn from_wire(file: AvtFile) -> Result<StoryBundle, FormatError> {
    check_version(&file.version)?;
    let mut story = story_from_wire(&file.story)?;
    let mut check = EntryCheck::new(&story.id);
    let mut entries = file
        .entries
        .into_iter()
        .map(|e| check.entry(e))
        .collect::<Result<Vec<_>, _>>()?;
    check.finish()?;
    entries.sort_by_key(|e| e.position);
    story.protagonist = protagonist(&file.sections);
    let lore = lore_from_wire(file.lorebook_entries, &mut check.seen, &story.id)?;
    Ok(StoryBundle {
        story,
        entries,
        lore,
        sections: sections_from_wire(file.sections),
    })
}

fn check_version(version: &str) -> Result<(), FormatError> {
    let major = version.split('.').next().unwrap_or("");
    if major == "1" {
        Ok(())
    } else {
        Err(FormatError::Invalid(format!(
            "This file is version {version}; Fabula reads version 1 files."
        )))
    }
}

/// The story as stored, without its protagonist (named in the `characters` section).
fn story_from_wire(story: &AvtStory) -> Result<BundleStory, FormatError> {
    if story.id.trim().is_empty() {
        return Err(FormatError::Invalid("The story has no id.".into()));
    }
    let mode = StoryMode::parse(&story.mode).ok_or_else(|| {
        FormatError::Invalid(format!(
            "The story's mode “{}” is neither adventure nor creative-writing.",
            story.mode
        ))
    })?;
    let setting = |key: &str| {
        story
            .settings
            .as_ref()
            .and_then(|s| s.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let pov = setting("pov")
        .and_then(|p| Pov::parse(&p))
        .unwrap_or_default();
    let tense = setting("tense")
        .and_then(|t| Tense::parse(&t))
        .unwrap_or_default();
    Ok(BundleStory {
        id: StoryId(story.id.clone()),
        title: story.title.clone(),
        description: story.description.clone(),
        genre: story.genre.clone(),
        template_id: story.template_id.clone(),
        mode,
        pov,
        tense,
        protagonist: None,
        settings: json_text(&story.settings),
        memory_config: json_text(&story.memory_config),
        retry_state: json_text(&story.retry_state),
        style_review_state: json_text(&story.style_review_state),
        time_tracker: json_text(&story.time_tracker),
        current_branch_id: story.current_branch_id.clone(),
        created_at: story.created_at,
        updated_at: story.updated_at,
        extra: extra_text(&story.extra),
    })
}

/// The original marks the protagonist as the character whose relationship is "self".
fn protagonist(sections: &Map<String, Value>) -> Option<String> {
    sections
        .get("characters")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("relationship").and_then(Value::as_str) == Some("self"))
        })
        .and_then(|c| c.get("name").and_then(Value::as_str))
        .map(str::to_owned)
}

/// The checks each entry must pass, one entry at a time: ids present and unique, of this story,
/// of a known kind, and (once all are read) every parent among them.
struct EntryCheck {
    story_id: String,
    seen: HashSet<String>,
    count: usize,
    /// Parents not yet seen when their child was read.
    ahead: Vec<(String, String)>,
}

impl EntryCheck {
    fn new(story_id: &StoryId) -> Self {
        Self {
            story_id: story_id.0.clone(),
            seen: HashSet::new(),
            count: 0,
            ahead: Vec::new(),
        }
    }

    fn entry(&mut self, e: AvtEntry) -> Result<BundleEntry, FormatError> {
        self.count += 1;
        let i = self.count;
        let where_ = || format!("Entry {i} ({})", e.id);
        if e.id.trim().is_empty() {
            return Err(FormatError::Invalid(format!("Entry {i} has no id.")));
        }
        if !self.seen.insert(e.id.clone()) {
            return Err(FormatError::Invalid(format!(
                "{} appears twice in the file.",
                where_()
            )));
        }
        if e.story_id != self.story_id {
            return Err(FormatError::Invalid(format!(
                "{} belongs to another story ({}).",
                where_(),
                e.story_id
            )));
        }
        let kind = EntryKind::parse(&e.kind).ok_or_else(|| {
            FormatError::Invalid(format!("{} has an unknown type “{}”.", where_(), e.kind))
        })?;
        if let Some(parent) = &e.parent_id
            && !self.seen.contains(parent)
        {
            self.ahead.push((e.id.clone(), parent.clone()));
        }
        Ok(BundleEntry {
            id: EntryId(e.id),
            kind,
            content: e.content,
            parent_id: e.parent_id,
            position: e.position,
            created_at: e.created_at,
            updated_at: e.created_at,
            metadata: json_text(&e.metadata),
            branch_id: e.branch_id,
            reasoning: e.reasoning,
            translated_content: e.translated_content,
            translation_language: e.translation_language,
            original_input: e.original_input,
            extra: extra_text(&e.extra),
        })
    }

    fn finish(&self) -> Result<(), FormatError> {
        match self
            .ahead
            .iter()
            .find(|(_, parent)| !self.seen.contains(parent))
        {
            Some((id, parent)) => Err(FormatError::Invalid(format!(
                "Entry {id} points to a parent entry {parent} that is not in the file."
            ))),
            None => Ok(()),
        }
    }
}

/// The lorebook; its ids must differ from each other and from the entries' (`seen`).
fn lore_from_wire(
    lorebook: Option<Vec<AvtLore>>,
    seen: &mut HashSet<String>,
    story_id: &StoryId,
) -> Result<Vec<BundleLore>, FormatError> {
    let mut lore = Vec::new();
    for (i, l) in lorebook.into_iter().flatten().enumerate() {
        let where_ = || format!("Lore entry {} ({})", i + 1, l.name);
        if !seen.insert(l.id.clone()) {
            return Err(FormatError::Invalid(format!(
                "{} reuses the id {}.",
                where_(),
                l.id
            )));
        }
        let kind = LoreKind::parse(&l.kind).ok_or_else(|| {
            FormatError::Invalid(format!("{} has an unknown type “{}”.", where_(), l.kind))
        })?;
        let mode = InjectionMode::parse(&l.injection.mode).ok_or_else(|| {
            FormatError::Invalid(format!(
                "{} has an unknown injection mode “{}”.",
                where_(),
                l.injection.mode
            ))
        })?;
        lore.push(BundleLore {
            entry: LoreEntry {
                id: LoreId(l.id),
                story_id: story_id.clone(),
                name: l.name,
                kind,
                description: l.description,
                hidden_info: l.hidden_info.unwrap_or_default(),
                aliases: l.aliases,
                keywords: l.injection.keywords,
                mode,
                priority: l.injection.priority,
                created_at: l.created_at,
                updated_at: l.updated_at,
            },
            state: json_text(&l.state),
            adventure_state: json_text(&l.adventure_state),
            creative_state: json_text(&l.creative_state),
            first_mentioned: json_text(&l.first_mentioned),
            last_mentioned: json_text(&l.last_mentioned),
            mention_count: l.mention_count,
            created_by: l.created_by,
            blacklisted: l.lore_management_blacklisted,
            branch_id: l.branch_id,
            extra: extra_text(&l.extra),
            injection_extra: extra_text(&l.injection.extra),
        });
    }

    Ok(lore)
}

fn sections_from_wire(sections: Map<String, Value>) -> Vec<(String, String)> {
    sections
        .into_iter()
        .filter(|(k, _)| !MODELED.contains(&k.as_str()))
        .map(|(k, v)| (k, v.to_string()))
        .collect()
}

/// The settings object as the file carries it, with the point of view and tense Fabula may have
/// changed. A story without settings keeps `null` unless they differ from the defaults.
fn settings_value(story: &BundleStory) -> Option<Value> {
    let mut settings = parse_json(&story.settings);
    match &mut settings {
        Some(Value::Object(map)) => {
            map.insert("pov".into(), Value::from(story.pov.as_str()));
            map.insert("tense".into(), Value::from(story.tense.as_str()));
        }
        _ if story.pov != Pov::default() || story.tense != Tense::default() => {
            settings = Some(serde_json::json!({
                "pov": story.pov.as_str(),
                "tense": story.tense.as_str(),
            }));
        }
        _ => {}
    }
    settings
}

/// Converts a bundle to the wire form this build writes (version 1.8.0, every listed section).
pub fn to_wire(bundle: &StoryBundle) -> AvtFile {
    into_wire(bundle.clone())
}

/// As `to_wire`, taking the bundle so the texts move instead of being copied (a story can be
/// hundreds of megabytes).
pub fn into_wire(bundle: StoryBundle) -> AvtFile {
    let settings = settings_value(&bundle.story);
    let story = bundle.story;
    let id = story.id.0;
    let entries = bundle
        .entries
        .into_iter()
        .map(|e| entry_to_wire(e, &id))
        .collect();
    let lore = bundle
        .lore
        .into_iter()
        .map(|l| {
            let kind = l.entry.kind.as_str().to_owned();
            AvtLore {
                id: l.entry.id.0,
                story_id: id.clone(),
                name: l.entry.name,
                state: parse_json(&l.state).or_else(|| Some(serde_json::json!({ "type": kind }))),
                kind,
                description: l.entry.description,
                hidden_info: Some(l.entry.hidden_info).filter(|h| !h.is_empty()),
                aliases: l.entry.aliases,
                adventure_state: parse_json(&l.adventure_state),
                creative_state: parse_json(&l.creative_state),
                injection: AvtInjection {
                    mode: l.entry.mode.as_str().to_owned(),
                    keywords: l.entry.keywords,
                    priority: l.entry.priority,
                    extra: parse_extra(&l.injection_extra),
                },
                first_mentioned: parse_json(&l.first_mentioned),
                last_mentioned: parse_json(&l.last_mentioned),
                mention_count: l.mention_count,
                created_by: l.created_by,
                created_at: l.entry.created_at,
                updated_at: l.entry.updated_at,
                lore_management_blacklisted: l.blacklisted,
                branch_id: l.branch_id,
                extra: parse_extra(&l.extra),
            }
        })
        .collect();
    let mut sections: Map<String, Value> = bundle
        .sections
        .into_iter()
        .filter_map(|(k, v)| Some((k, serde_json::from_str(&v).ok()?)))
        .collect();
    for key in LISTED_ARRAYS {
        sections
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
    }
    for key in LISTED_NULLABLE {
        sections.entry((*key).to_owned()).or_insert(Value::Null);
    }
    AvtFile {
        version: WRITE_VERSION.to_owned(),
        exported_at: now_ms(),
        story: AvtStory {
            id,
            title: story.title,
            description: story.description,
            genre: story.genre,
            template_id: story.template_id,
            mode: story.mode.as_str().to_owned(),
            created_at: story.created_at,
            updated_at: story.updated_at,
            settings,
            memory_config: parse_json(&story.memory_config),
            retry_state: parse_json(&story.retry_state),
            style_review_state: parse_json(&story.style_review_state),
            time_tracker: parse_json(&story.time_tracker),
            current_branch_id: story.current_branch_id,
            extra: parse_extra(&story.extra),
        },
        entries,
        lorebook_entries: Some(lore),
        sections,
    }
}

fn entry_to_wire(e: BundleEntry, story_id: &str) -> AvtEntry {
    AvtEntry {
        id: e.id.0,
        story_id: story_id.to_owned(),
        kind: e.kind.as_str().to_owned(),
        content: e.content,
        parent_id: e.parent_id,
        position: e.position,
        created_at: e.created_at,
        metadata: parse_json(&e.metadata),
        branch_id: e.branch_id,
        reasoning: e.reasoning.filter(|r| !r.is_empty()),
        translated_content: e.translated_content,
        translation_language: e.translation_language,
        original_input: e.original_input,
        extra: parse_extra(&e.extra),
    }
}

/// Entries serialized as they come from the database, one at a time.
struct EntryStream<'a> {
    story_id: &'a str,
    rows: std::cell::RefCell<&'a mut dyn Iterator<Item = BundleEntry>>,
}

impl Serialize for EntryStream<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(None)?;
        let mut rows = self.rows.borrow_mut();
        for entry in &mut **rows {
            seq.serialize_element(&entry_to_wire(entry, self.story_id))?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StreamedFile<'a> {
    version: &'a str,
    exported_at: i64,
    story: &'a AvtStory,
    entries: EntryStream<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lorebook_entries: Option<&'a Vec<AvtLore>>,
    #[serde(flatten)]
    sections: &'a Map<String, Value>,
}

/// Writes the file with the entries taken from `entries` as they are serialized: the story
/// header and lore are in memory, the entries never all at once. `formatter` shapes the JSON.
pub fn write_streamed(
    head: StoryBundle,
    entries: &mut dyn Iterator<Item = BundleEntry>,
    writer: impl Write,
    formatter: impl serde_json::ser::Formatter,
) -> Result<(), FormatError> {
    let file = into_wire(head);
    let streamed = StreamedFile {
        version: &file.version,
        exported_at: file.exported_at,
        story: &file.story,
        entries: EntryStream {
            story_id: &file.story.id,
            rows: std::cell::RefCell::new(entries),
        },
        lorebook_entries: file.lorebook_entries.as_ref(),
        sections: &file.sections,
    };
    let mut serializer = serde_json::Serializer::with_formatter(writer, formatter);
    streamed
        .serialize(&mut serializer)
        .map_err(FormatError::from_json)
}

/// Writes the file pretty-printed, as the original does for files.
pub fn write(bundle: &StoryBundle, writer: impl Write) -> Result<(), FormatError> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, writer);
    serde_json::to_writer_pretty(&mut out, &to_wire(bundle)).map_err(FormatError::from_json)?;
    out.flush().map_err(FormatError::Io)
}

/// The compact form sync messages carry inside a JSON string.
pub fn to_compact_string(bundle: &StoryBundle) -> Result<String, FormatError> {
    serde_json::to_string(&to_wire(bundle)).map_err(FormatError::from_json)
}
