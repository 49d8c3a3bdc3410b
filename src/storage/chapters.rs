//! A story's chapters: listed in order, edited, put in the Trash, and carried in exchange files
//! (the `chapters` section read into the table and written from it).

use rusqlite::{Connection, Row, Transaction, params};
use serde_json::Value;

use super::{Result, Store};
use crate::domain::chapter::{Chapter, MemorySettings, chapter_from_wire, chapter_to_wire};
use crate::domain::{EntryId, StoryId, now_ms};

/// The exchange format's section.
pub(super) const SECTION: &str = "chapters";

const COLUMNS: &str = "id, branch_id, number, title, start_entry_id, end_entry_id, entry_count, \
     summary, start_time, end_time, keywords, characters, places, plot_threads, tone, created_at, \
     extra, prompt_tokens";

fn strings(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn chapter_row(r: &Row<'_>) -> rusqlite::Result<Chapter> {
    Ok(Chapter {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        number: r.get(2)?,
        title: r.get(3)?,
        start_entry: EntryId::from(r.get::<_, String>(4)?.as_str()),
        end_entry: EntryId::from(r.get::<_, String>(5)?.as_str()),
        entry_count: r.get(6)?,
        summary: r.get(7)?,
        start_time: r.get(8)?,
        end_time: r.get(9)?,
        keywords: strings(&r.get::<_, String>(10)?),
        characters: strings(&r.get::<_, String>(11)?),
        places: strings(&r.get::<_, String>(12)?),
        plot_threads: strings(&r.get::<_, String>(13)?),
        tone: r.get(14)?,
        created_at: r.get(15)?,
        extra: r.get(16)?,
        prompt_tokens: r
            .get::<_, Option<i64>>(17)?
            .and_then(|t| usize::try_from(t).ok()),
    })
}

pub(super) fn put_chapter(
    conn: &Connection,
    story: &StoryId,
    c: &Chapter,
    now: i64,
) -> rusqlite::Result<()> {
    let list = |v: &Vec<String>| Value::from(v.clone()).to_string();
    conn.prepare_cached(
        "INSERT INTO chapters (story_id, id, branch_id, number, title, start_entry_id, end_entry_id,
             entry_count, summary, start_time, end_time, keywords, characters, places, plot_threads,
             tone, extra, created_at, updated_at, prompt_tokens)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
             ?20)
         ON CONFLICT (story_id, id) DO UPDATE SET branch_id = excluded.branch_id,
             number = excluded.number, title = excluded.title,
             start_entry_id = excluded.start_entry_id, end_entry_id = excluded.end_entry_id,
             entry_count = excluded.entry_count, summary = excluded.summary,
             start_time = excluded.start_time, end_time = excluded.end_time,
             keywords = excluded.keywords, characters = excluded.characters,
             places = excluded.places, plot_threads = excluded.plot_threads, tone = excluded.tone,
             extra = excluded.extra, updated_at = excluded.updated_at,
             prompt_tokens = excluded.prompt_tokens, deleted_at = NULL",
    )?
    .execute(params![
        story.as_str(),
        c.id,
        c.branch_id,
        c.number,
        c.title,
        c.start_entry.as_str(),
        c.end_entry.as_str(),
        c.entry_count,
        c.summary,
        c.start_time,
        c.end_time,
        list(&c.keywords),
        list(&c.characters),
        list(&c.places),
        list(&c.plot_threads),
        c.tone,
        c.extra,
        c.created_at,
        now,
        i64::try_from(crate::domain::count_tokens(&c.prompt_text())).unwrap_or(i64::MAX)
    ])?;
    Ok(())
}

pub(super) fn read_chapters(conn: &Connection, story: &StoryId) -> rusqlite::Result<Vec<Chapter>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM chapters WHERE story_id = ?1 AND deleted_at IS NULL
         ORDER BY number, rowid"
    ))?
    .query_map([story.as_str()], chapter_row)?
    .collect()
}

/// Stores a file's `chapters` section in the table when it holds chapters (an array of objects
/// that is not empty); returns whether it did. Anything else is kept verbatim by the caller, so
/// a file goes through unchanged.
pub(super) fn store_chapter_section(
    tx: &Transaction<'_>,
    story: &StoryId,
    json: &str,
) -> rusqlite::Result<bool> {
    let Ok(Value::Array(values)) = serde_json::from_str::<Value>(json) else {
        return Ok(false);
    };
    let Some(objects) = values
        .into_iter()
        .map(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .filter(|o| !o.is_empty())
    else {
        return Ok(false);
    };
    let now = now_ms();
    for (index, object) in objects.into_iter().enumerate() {
        put_chapter(tx, story, &chapter_from_wire(object, index), now)?;
    }
    Ok(true)
}

/// The section as the exchange format has it, when the story has chapters.
pub(super) fn chapter_section(
    conn: &Connection,
    story: &StoryId,
) -> rusqlite::Result<Option<(String, String)>> {
    let chapters = read_chapters(conn, story)?;
    if chapters.is_empty() {
        return Ok(None);
    }
    let rows: Vec<Value> = chapters
        .iter()
        .map(|c| chapter_to_wire(c, story.as_str()))
        .collect();
    Ok(Some((SECTION.to_owned(), Value::Array(rows).to_string())))
}

impl Store {
    /// The chapters the branch shown (or pinned) sees, first to last: those closing an entry
    /// of its lineage (the file's and the tree's whole list is `read_chapters`).
    pub fn chapters(&self, story: &StoryId) -> Result<Vec<Chapter>> {
        let (on_line, bound) = self.on_current_line_of("last.", story, 2)?;
        let mut values = vec![rusqlite::types::Value::Text(story.as_str().to_owned())];
        values.extend(bound);
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM chapters WHERE story_id = ?1 AND deleted_at IS NULL
                   AND (EXISTS (SELECT 1 FROM entries last WHERE last.id = chapters.end_entry_id{on_line})
                        OR NOT EXISTS (SELECT 1 FROM entries last WHERE last.id = chapters.end_entry_id))
                 ORDER BY number, rowid"
            ))
            .and_then(|mut stmt| {
                stmt.query_map(rusqlite::params_from_iter(values), chapter_row)?
                    .collect()
            })
            .map_err(|e| self.err(e))
    }

    /// Writes one chapter (a new one, or an edited summary or title).
    pub fn save_chapter(&self, story: &StoryId, chapter: &Chapter) -> Result<()> {
        put_chapter(&self.conn, story, chapter, now_ms()).map_err(|e| self.err(e))
    }

    /// Moves a chapter to the Trash: its entries go back into the narrator's history.
    pub fn trash_chapter(&self, story: &StoryId, id: &str) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE chapters SET deleted_at = ?3, updated_at = ?3
                 WHERE story_id = ?1 AND id = ?2 AND deleted_at IS NULL",
                params![story.as_str(), id, now_ms()],
            )
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Err(super::StoreError::NotFound(format!("Chapter {id}")));
        }
        Ok(())
    }

    pub fn restore_chapter(&self, story: &StoryId, id: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE chapters SET deleted_at = NULL, updated_at = ?3
                 WHERE story_id = ?1 AND id = ?2",
                params![story.as_str(), id, now_ms()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// When the story's chapters close and what is recalled from them (its `memoryConfig`).
    pub fn memory_settings(&self, story: &StoryId) -> Result<MemorySettings> {
        Ok(MemorySettings::from_wire(
            self.memory_config(story)?.as_deref(),
        ))
    }

    pub fn save_memory_settings(&self, story: &StoryId, settings: &MemorySettings) -> Result<()> {
        let previous = self.memory_config(story)?;
        self.conn
            .execute(
                "UPDATE stories SET memory_config = ?2 WHERE id = ?1",
                params![story.as_str(), settings.to_wire(previous.as_deref())],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn memory_config(&self, story: &StoryId) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT memory_config FROM stories WHERE id = ?1",
                [story.as_str()],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }
}
