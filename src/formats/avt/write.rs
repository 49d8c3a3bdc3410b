//! Writing an exchange file, its entries streamed as they come from the database.

use super::convert::*;
use super::*;

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
