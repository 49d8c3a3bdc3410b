//! Whole stories out: a story with everything it has as a `StoryBundle`, or streamed entry by
//! entry; and what an import is told and tells (`OnConflict`, `Imported`; the import is in
//! import.rs).

use rusqlite::{Connection, OptionalExtension};

use super::{Result, Store, StoreError};
use crate::domain::{
    BundleEntry, BundleLore, BundleStory, EntryId, EntryKind, InjectionMode, LoreEntry, LoreId,
    LoreKind, Pov, StoryBundle, StoryId, StoryMode, Tense,
};

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    pub story: StoryId,
    pub title: String,
    pub entries: usize,
    /// The story as it was before a replace, put in the Trash because the file changed or
    /// removed part of it.
    pub replaced: Option<StoryId>,
    /// A replace found the story here and only added to it (or found it the same): nothing it had
    /// was lost, so nothing went to the Trash.
    pub updated: bool,
}

fn strings(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

impl Store {
    /// Whether a story with this id exists (in the library or the Trash), and its title.
    pub fn story_title(&self, id: &StoryId) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT title FROM stories WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// About how many bytes the story's texts take (their characters, from the index), to size a
    /// transfer's deadline before sending it.
    pub fn story_text_bytes(&self, id: &StoryId) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(char_count), 0) FROM entries WHERE story_id = ?1 AND deleted_at IS NULL",
                [id.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .map(|chars| u64::try_from(chars).unwrap_or(0))
            .map_err(|e| self.err(e))
    }

    /// Everything stored about a story, entries in order, for export or sync.
    pub fn export_bundle(&self, id: &StoryId) -> Result<StoryBundle> {
        self.export_parts(id, true)
    }

    /// The story without its entries (for writers that stream them with `stream_entries`).
    pub fn export_head(&self, id: &StoryId) -> Result<StoryBundle> {
        self.export_parts(id, false)
    }

    /// Hands the story's live entries, in order, to `read` one row at a time, so a writer can
    /// send a story of any size without holding it. A read error ends the rows and is returned.
    pub fn stream_entries<T>(
        &self,
        id: &StoryId,
        read: impl FnOnce(&mut dyn Iterator<Item = BundleEntry>) -> T,
    ) -> Result<T> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, kind, content, parent_id, position, created_at, updated_at, metadata,
                        branch_id, reasoning, translated_content, translation_language,
                        original_input, {}
                 FROM entries e WHERE story_id = ?1 AND deleted_at IS NULL ORDER BY position, rowid",
                super::carried::EXTRA_WITH_ALTERNATIVES
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id.as_str()], |r| {
                let kind: String = r.get(1)?;
                Ok(BundleEntry {
                    id: EntryId(r.get(0)?),
                    kind: EntryKind::parse(&kind).unwrap_or(EntryKind::System),
                    content: r.get(2)?,
                    parent_id: r.get(3)?,
                    position: r.get(4)?,
                    created_at: r.get(5)?,
                    updated_at: r.get(6)?,
                    metadata: r.get(7)?,
                    branch_id: r.get(8)?,
                    reasoning: r.get(9)?,
                    translated_content: r.get(10)?,
                    translation_language: r.get(11)?,
                    original_input: r.get(12)?,
                    extra: r.get(13)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut failed = None;
        let mut ok_rows = rows.map_while(|r| match r {
            Ok(entry) => Some(entry),
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        let out = read(&mut ok_rows);
        drop(ok_rows);
        match failed {
            Some(e) => Err(self.err(e)),
            None => Ok(out),
        }
    }

    /// The story without its entries, then its entries one row at a time: for writers that never
    /// hold a story whole (an exported file, a pulled story).
    pub fn stream_story<T>(
        &self,
        id: &StoryId,
        read: impl FnOnce(StoryBundle, &mut dyn Iterator<Item = BundleEntry>) -> T,
    ) -> Result<T> {
        let head = self.export_head(id)?;
        self.stream_entries(id, |rows| read(head, rows))
    }

    fn export_parts(&self, id: &StoryId, with_entries: bool) -> Result<StoryBundle> {
        let story = read_head(&self.conn, id)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound(format!("Story {id}")))?;
        let entries = if with_entries {
            self.stream_entries(id, |rows| rows.collect())?
        } else {
            Vec::new()
        };
        let lore = read_lore(&self.conn, id).map_err(|e| self.err(e))?;
        let sections = read_sections(&self.conn, id).map_err(|e| self.err(e))?;
        Ok(StoryBundle {
            story,
            entries,
            lore,
            sections,
        })
    }
}

/// The story row as the exchange format has it, or `None` when there is no such story.
pub(super) fn read_head(conn: &Connection, id: &StoryId) -> rusqlite::Result<Option<BundleStory>> {
    conn.prepare_cached(&format!(
        "SELECT s.id, s.title, s.description, s.genre, s.template_id, s.mode, s.pov, s.tense,
                s.protagonist, s.settings, s.memory_config, s.retry_state, s.style_review_state,
                s.time_tracker, s.current_branch_id, s.created_at, s.updated_at, {}
         FROM stories s LEFT JOIN drafts d ON d.story_id = s.id WHERE s.id = ?1",
        super::carried::STORY_EXTRA_WITH_DRAFT
    ))?
    .query_row([id.as_str()], |r| {
        let mode: String = r.get(5)?;
        let pov: String = r.get(6)?;
        let tense: String = r.get(7)?;
        Ok(BundleStory {
            id: StoryId(r.get(0)?),
            title: r.get(1)?,
            description: r.get(2)?,
            genre: r.get(3)?,
            template_id: r.get(4)?,
            mode: StoryMode::parse(&mode).unwrap_or_default(),
            pov: Pov::parse(&pov).unwrap_or_default(),
            tense: Tense::parse(&tense).unwrap_or_default(),
            protagonist: r.get(8)?,
            settings: r.get(9)?,
            memory_config: r.get(10)?,
            retry_state: r.get(11)?,
            style_review_state: r.get(12)?,
            time_tracker: r.get(13)?,
            current_branch_id: r.get(14)?,
            created_at: r.get(15)?,
            updated_at: r.get(16)?,
            extra: r.get(17)?,
        })
    })
    .optional()
}

/// The story's live lore entries, in the order they were written.
pub(super) fn read_lore(conn: &Connection, id: &StoryId) -> rusqlite::Result<Vec<BundleLore>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, kind, description, COALESCE(hidden_info, ''), aliases, keywords,
                injection_mode, priority, created_at, updated_at, state, adventure_state,
                creative_state, first_mentioned, last_mentioned, mention_count, created_by,
                lore_management_blacklisted, branch_id, extra, injection_extra
         FROM lore_entries WHERE story_id = ?1 AND deleted_at IS NULL ORDER BY rowid",
    )?;
    stmt.query_map([id.as_str()], |r| {
        let kind: String = r.get(2)?;
        let mode: String = r.get(7)?;
        Ok(BundleLore {
            entry: LoreEntry {
                id: LoreId(r.get(0)?),
                story_id: id.clone(),
                name: r.get(1)?,
                kind: LoreKind::parse(&kind).unwrap_or_default(),
                description: r.get(3)?,
                hidden_info: r.get(4)?,
                aliases: strings(&r.get::<_, String>(5)?),
                keywords: strings(&r.get::<_, String>(6)?),
                mode: InjectionMode::parse(&mode).unwrap_or_default(),
                priority: r.get(8)?,
                created_at: r.get(9)?,
                updated_at: r.get(10)?,
            },
            state: r.get(11)?,
            adventure_state: r.get(12)?,
            creative_state: r.get(13)?,
            first_mentioned: r.get(14)?,
            last_mentioned: r.get(15)?,
            mention_count: r.get(16)?,
            created_by: r.get(17)?,
            blacklisted: r.get(18)?,
            branch_id: r.get(19)?,
            extra: r.get(20)?,
            injection_extra: r.get(21)?,
        })
    })?
    .collect()
}

/// The story's verbatim sections, by name.
pub(super) fn read_sections(
    conn: &Connection,
    id: &StoryId,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, json FROM story_sections WHERE story_id = ?1 ORDER BY name",
    )?;
    let mut sections: Vec<(String, String)> = stmt
        .query_map([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    // The world is in its own tables; a section of the same name kept verbatim (one that was not
    // an array of objects) stands in for it.
    for (name, json) in super::world_sections::world_sections(conn, id)? {
        if !sections.iter().any(|(n, _)| *n == name) {
            sections.push((name, json));
        }
    }
    for section in super::branch_sections::branch_sections(conn, id)? {
        sections.retain(|(n, _)| *n != section.0);
        sections.push(section);
    }
    // Chapters in the table win over a section kept verbatim (an empty one, from the file).
    if let Some(chapters) = super::chapters::chapter_section(conn, id)? {
        sections.retain(|(n, _)| *n != chapters.0);
        sections.push(chapters);
    }
    sections.sort();
    Ok(sections)
}
