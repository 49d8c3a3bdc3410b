//! Reading an exchange file: whole (`read`), or in parts as it arrives (`read_parts`), each entry
//! parsed from its own bytes.

use super::convert::*;
use super::*;

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

impl From<ScanError> for FormatError {
    fn from(e: ScanError) -> Self {
        match e {
            ScanError::Io(e) => FormatError::Invalid(format!("The file could not be read: {e}")),
            ScanError::Eof => {
                FormatError::Invalid("The file ends too early; it may be cut off.".into())
            }
            ScanError::Unexpected(b) => FormatError::Invalid(format!(
                "The file is not valid JSON (`{}` where it cannot be).",
                b.escape_ascii()
            )),
            ScanError::TooLong => FormatError::Invalid(
                "The file is not a story file: a key is over 64 KiB long.".into(),
            ),
            ScanError::BadString(why) => {
                FormatError::Invalid(format!("The file is not valid JSON ({why})."))
            }
        }
    }
}

/// Parses the next value: objects, arrays and strings straight from the stream (a section of
/// images may be hundreds of MB, read once), anything else from its bytes.
fn stream_value<T: serde::de::DeserializeOwned, R: BufRead>(
    scanner: &mut Scanner<R>,
    buf: &mut Vec<u8>,
    place: &str,
) -> Result<T, FormatError> {
    let first = scanner.peek_token()?;
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
    scanner.take_value(buf)?;
    serde_json::from_slice(buf).map_err(|e| FormatError::from_json_in(e, place))
}

/// The entries array, each entry parsed from its own bytes and handed to `sink`.
fn read_entries<R: BufRead>(
    scanner: &mut Scanner<R>,
    buf: &mut Vec<u8>,
    sink: &mut dyn FileSink,
) -> Result<(), FormatError> {
    if scanner.peek_token()? != Some(b'[') {
        // Not a list: the parser says what it is instead.
        return slice_value::<Vec<AvtEntry>, _>(scanner, buf, "`entries`")
            .and_then(|entries| entries.into_iter().try_for_each(|e| sink.entry(e)));
    }
    scanner.expect(b'[')?;
    if scanner.peek_token()? == Some(b']') {
        scanner.expect(b']')?;
        return Ok(());
    }
    let mut count = 0usize;
    loop {
        count += 1;
        let place = format!("entry {count}");
        sink.entry(slice_value(scanner, buf, &place)?)?;
        if scanner.one_of(b",]")? == b']' {
            return Ok(());
        }
    }
}

/// Reads the file's top level; its entries go to `sink` as they are parsed (`entries` is empty).
fn read_file<R: BufRead>(
    scanner: &mut Scanner<R>,
    sink: &mut dyn FileSink,
) -> Result<AvtFile, FormatError> {
    match scanner.peek_token()? {
        Some(b'{') => {}
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
    scanner.members(|scanner, key, _| {
        if MODELED.contains(&key.as_str()) && !seen.insert(key.clone()) {
            return Err(FormatError::Invalid(format!(
                "The file is JSON but not a story file: duplicate field `{key}`."
            )));
        }
        match key.as_str() {
            "version" => version = Some(slice_value::<String, _>(scanner, &mut buf, "`version`")?),
            "exportedAt" => {
                exported_at = Some(slice_value::<Millis, _>(scanner, &mut buf, "`exportedAt`")?.0);
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
        Ok(())
    })?;
    if let Some(b) = scanner.peek_token()? {
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
