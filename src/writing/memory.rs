//! The Memory task: closes chapters. After a narration, once the entries outside the recent
//! buffer and in no chapter hold the story's token threshold, it picks where the chapter ends (a
//! natural break, as structured output with the chapter's title, keywords, people, places,
//! threads and tone) and writes the summary the narrator reads from then on. "End chapter here"
//! and "Re-summarize" run the same steps with the end given. Shared by the window (on a job)
//! and the CLI.

use super::WritingError;
use super::task::TaskCall;
use crate::domain::chapter::Chapter;
use crate::domain::world_wire::story_time_to_wire;
use crate::domain::{EntryId, EntryKind, HistoryItem, StoryId, Task, new_uuid, now_ms};
use crate::jobs::CancelToken;
use crate::keys::KeyStore;
use crate::storage::Store;

/// The most a summary is written from: a chapter longer than this is summarised from its start
/// up to here (the Memory model's window is often smaller than the narrator's).
const SUMMARY_READ: usize = 32_000;

const BREAK_INSTRUCTION: &str = "You divide a long story into chapters. The ENTRIES below are numbered and come in story order. Choose the entry after which a chapter ends best: a natural break (a scene closes, time passes, the place changes, a thread resolves), preferably late rather than early. Then name the chapter (a short title, no quotation marks) and list its keywords, the characters and places that matter in it, the plot threads still open at its end, and its tone in a few words.";

const SUMMARY_INSTRUCTION: &str = "You keep the long-term memory of a story. Summarise the CHAPTER below for the narrator who will go on writing it without seeing this text again: what happened, in order; who was involved and what they want; where it took place; what was gained, lost, learned or promised; what is left open. Past tense, plain prose, no heading, at most 250 words.";

/// Where the chapter ends and what it is about, as the Memory task answers.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct ChapterBreak {
    /// The number of the last entry of the chapter.
    end_index: u32,
    title: String,
    keywords: Vec<String>,
    characters: Vec<String>,
    places: Vec<String>,
    plot_threads: Vec<String>,
    tone: String,
}

fn numbered(entries: &[HistoryItem]) -> String {
    let mut out = String::new();
    for (i, item) in entries.iter().enumerate() {
        let who = match item.kind {
            EntryKind::UserAction => "action",
            EntryKind::Narration => "narration",
            _ => "note",
        };
        out.push_str(&format!("[{}] ({who}) {}\n\n", i + 1, item.text.trim()));
    }
    out
}

fn plain(entries: &[HistoryItem]) -> String {
    entries
        .iter()
        .map(|e| e.text.trim())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The Memory task's answer on where a chapter ends and what it is about (`None`: stopped).
fn ask_break(
    task: &TaskCall<'_>,
    entries: String,
    cancel: &CancelToken,
) -> Result<Option<ChapterBreak>, WritingError> {
    let request = task.request(BREAK_INSTRUCTION, entries, 0.3, 800);
    task.shaped::<ChapterBreak>(&request, "chapter_break", cancel, &|detail| {
        format!("The chapter's end could not be read from the Memory task's answer ({detail}).")
    })
}

/// After a narration: closes a chapter when the story's settings say one is due. `None` when
/// none was (or it was stopped).
pub fn chapter_check(
    store: &Store,
    keys: &dyn KeyStore,
    story: &StoryId,
    cancel: &CancelToken,
) -> Result<Option<Chapter>, WritingError> {
    let settings = store.memory_settings(story)?;
    if !settings.auto_summarize {
        return Ok(None);
    }
    let room = store.chapter_room(story, settings.recent_buffer)?;
    let threshold = usize::try_from(settings.token_threshold.max(1)).unwrap_or(usize::MAX);
    if room.tokens < threshold || room.entries < 2 {
        return Ok(None);
    }
    // The chapter is read up to a quarter past the threshold: enough to find a break near it.
    let read = threshold.saturating_add(threshold / 4);
    let entries = store.entries_between(story, room.after, room.before, read)?;
    let task = TaskCall::resolve(store, keys, Task::Memory, story, cancel)?;
    let Some(found) = ask_break(&task, format!("ENTRIES:\n{}", numbered(&entries)), cancel)? else {
        return Ok(None);
    };
    // An index outside the entries read means the model lost count: the chapter takes them all.
    let end = usize::try_from(found.end_index)
        .ok()
        .filter(|i| (1..=entries.len()).contains(i))
        .unwrap_or(entries.len());
    close(&task, &entries[..end], found, cancel)
}

/// "End chapter here": closes a chapter from the first entry in none up to `entry`.
pub fn end_chapter_at(
    store: &Store,
    keys: &dyn KeyStore,
    story: &StoryId,
    entry: &EntryId,
    cancel: &CancelToken,
) -> Result<Option<Chapter>, WritingError> {
    if let Some(holding) = store.chapter_holding(story, entry)? {
        return Err(WritingError::Classifier(format!(
            "That entry is already in {}.",
            holding.heading()
        )));
    }
    let room = store.chapter_room(story, 1)?;
    let end = store.position_of(entry)?;
    if end <= room.after {
        return Err(WritingError::Classifier(
            "A chapter can only end after the last one; that entry comes before it.".into(),
        ));
    }
    let entries = store.entries_between(story, room.after, end + 1, usize::MAX)?;
    let task = TaskCall::resolve(store, keys, Task::Memory, story, cancel)?;
    let read: Vec<HistoryItem> = bounded(&entries);
    let asked = format!(
        "The chapter ends at the last entry; give {} as end_index.\nENTRIES:\n{}",
        read.len(),
        numbered(&read)
    );
    let Some(found) = ask_break(&task, asked, cancel)? else {
        return Ok(None);
    };
    close(&task, &entries, found, cancel)
}

/// "Re-summarize": writes the chapter's summary again from its entries (title and the rest kept).
pub fn resummarize(
    store: &Store,
    keys: &dyn KeyStore,
    story: &StoryId,
    chapter_id: &str,
    cancel: &CancelToken,
) -> Result<Option<Chapter>, WritingError> {
    let mut chapter = store
        .chapters(story)?
        .into_iter()
        .find(|c| c.id == chapter_id)
        .ok_or_else(|| WritingError::Classifier(format!("There is no chapter {chapter_id}.")))?;
    let entries = store.chapter_entries(story, &chapter, SUMMARY_READ)?;
    let task = TaskCall::resolve(store, keys, Task::Memory, story, cancel)?;
    let Some(summary) = summarise(&task, &entries, cancel)? else {
        return Ok(None);
    };
    chapter.summary = summary;
    store.save_chapter(story, &chapter)?;
    Ok(Some(chapter))
}

/// The entries from the start up to `SUMMARY_READ` tokens (at least one).
fn bounded(entries: &[HistoryItem]) -> Vec<HistoryItem> {
    let mut spent = 0usize;
    let mut out = Vec::new();
    for e in entries {
        if spent >= SUMMARY_READ && !out.is_empty() {
            break;
        }
        spent += e.tokens;
        out.push(e.clone());
    }
    out
}

fn summarise(
    task: &TaskCall<'_>,
    entries: &[HistoryItem],
    cancel: &CancelToken,
) -> Result<Option<String>, WritingError> {
    let read = bounded(entries);
    let request = task.request(
        SUMMARY_INSTRUCTION,
        format!("CHAPTER:\n{}", plain(&read)),
        0.3,
        700,
    );
    let Some(text) = task.text(&request, cancel)? else {
        return Ok(None);
    };
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(WritingError::Classifier(
            "The Memory task wrote an empty summary; the chapter was not closed.".into(),
        ));
    }
    Ok(Some(text))
}

/// Summarises `entries` and stores them as the story's next chapter.
fn close(
    task: &TaskCall<'_>,
    entries: &[HistoryItem],
    found: ChapterBreak,
    cancel: &CancelToken,
) -> Result<Option<Chapter>, WritingError> {
    let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
        return Ok(None);
    };
    let Some(summary) = summarise(task, entries, cancel)? else {
        return Ok(None);
    };
    let store = task.store;
    let story = task.story;
    let earlier = store.chapters(story)?;
    let previous = earlier.last();
    let time = |entry: &EntryId| -> Result<Option<String>, WritingError> {
        Ok(store
            .story_time_at(story, entry)?
            .map(|t| story_time_to_wire(t, None)))
    };
    let start_time = match previous {
        Some(p) => p.end_time.clone(),
        None => time(&first.id)?,
    };
    let clean = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let chapter = Chapter {
        id: new_uuid(),
        branch_id: store.entry_branch(&last.id)?,
        number: previous.map_or(1, |p| p.number + 1),
        title: Some(found.title.trim().trim_matches('"').to_owned()).filter(|t| !t.is_empty()),
        start_entry: first.id.clone(),
        end_entry: last.id.clone(),
        entry_count: i64::try_from(entries.len()).unwrap_or(i64::MAX),
        summary,
        start_time,
        end_time: time(&last.id)?,
        keywords: clean(found.keywords),
        characters: clean(found.characters),
        places: clean(found.places),
        plot_threads: clean(found.plot_threads),
        tone: Some(found.tone.trim().to_owned()).filter(|t| !t.is_empty()),
        created_at: now_ms(),
        extra: None,
        prompt_tokens: None,
    };
    store.save_chapter(story, &chapter)?;
    Ok(Some(chapter))
}
