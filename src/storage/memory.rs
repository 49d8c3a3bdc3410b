//! What the Memory task reads: the run of entries a new chapter may close (after the last
//! chapter, before the recent buffer), a chapter's own entries (bounded), and the story time at
//! an entry (from the world updates tied to the entries up to it).

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::domain::chapter::Chapter;
use crate::domain::world_wire::applied_from_json;
use crate::domain::{EntryId, EntryKind, HistoryItem, StoryId, StoryTime};

/// The entries not yet in a chapter and outside the recent buffer: how many tokens they hold,
/// and the positions that bound them (exclusive at both ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChapterRoom {
    pub tokens: usize,
    pub entries: usize,
    pub after: i64,
    pub before: i64,
}

/// An entry's tokens as the store counts them: the cached count, or a quarter of its characters
/// (what a count would come near) where none is cached yet.
const TOKENS: &str = "COALESCE(token_count, char_count / 4 + 1)";

impl Store {
    /// The current branch's condition for a read of the entries between two positions, and all
    /// the values it binds (the story, the two positions, then the lineage's).
    fn between_on_line(
        &self,
        story: &StoryId,
        after: i64,
        before: i64,
    ) -> Result<(String, Vec<rusqlite::types::Value>)> {
        let (on_line, line_values) = self.on_current_line(story, 4)?;
        let values = [
            story.as_str().to_owned().into(),
            after.into(),
            before.into(),
        ]
        .into_iter()
        .chain(line_values)
        .collect();
        Ok((on_line, values))
    }

    /// The position of the last entry a live chapter of the branch shown closes (chapters end
    /// on the lineage's entries), or -1 before any.
    fn last_chapter_end(&self, story: &StoryId) -> Result<i64> {
        // The lineage's condition names the chapter's end entry, not the chapter's own branch.
        let (on_line, line_values) = self.on_current_line_of("e.", story, 2)?;
        let values: Vec<rusqlite::types::Value> = std::iter::once(story.as_str().to_owned().into())
            .chain(line_values)
            .collect();
        self.conn
            .prepare_cached(&format!(
                "SELECT COALESCE(MAX(e.position), -1) FROM chapters c
                 JOIN entries e ON e.id = c.end_entry_id
                 WHERE c.story_id = ?1 AND c.deleted_at IS NULL{on_line}"
            ))
            .and_then(|mut s| s.query_row(rusqlite::params_from_iter(values), |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    /// What a new chapter could close now, keeping the newest `buffer` live entries out.
    pub fn chapter_room(&self, story: &StoryId, buffer: u32) -> Result<ChapterRoom> {
        let after = self.last_chapter_end(story)?;
        // On the branch the story shows: its lineage is the text a chapter closes.
        let (on_line, line_values) = self.on_current_line(story, 3)?;
        let values: Vec<rusqlite::types::Value> = [
            story.as_str().to_owned().into(),
            (i64::from(buffer.max(1)) - 1).into(),
        ]
        .into_iter()
        .chain(line_values)
        .collect();
        let before: i64 = self
            .conn
            .prepare_cached(&format!(
                "SELECT position FROM entries WHERE story_id = ?1 AND deleted_at IS NULL{on_line}
                 ORDER BY position DESC LIMIT 1 OFFSET ?2"
            ))
            .and_then(|mut s| s.query_row(rusqlite::params_from_iter(values), |r| r.get(0)))
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(i64::MIN),
                e => Err(e),
            })
            .map_err(|e| self.err(e))?;
        let (on_line, values) = self.between_on_line(story, after, before)?;
        let (tokens, entries): (i64, i64) = self
            .conn
            .prepare_cached(&format!(
                "SELECT COALESCE(SUM({TOKENS}), 0), COUNT(*) FROM entries
                 WHERE story_id = ?1 AND deleted_at IS NULL AND position > ?2 AND position < ?3{on_line}"
            ))
            .and_then(|mut s| {
                s.query_row(rusqlite::params_from_iter(values), |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
            })
            .map_err(|e| self.err(e))?;
        Ok(ChapterRoom {
            tokens: usize::try_from(tokens).unwrap_or(0),
            entries: usize::try_from(entries).unwrap_or(0),
            after,
            before,
        })
    }

    /// Live entries strictly between two positions, oldest first, stopping once `budget` tokens
    /// are read (at least one entry is always read).
    pub fn entries_between(
        &self,
        story: &StoryId,
        after: i64,
        before: i64,
        budget: usize,
    ) -> Result<Vec<HistoryItem>> {
        let (on_line, values) = self.between_on_line(story, after, before)?;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, kind, content, {TOKENS} FROM entries
                 WHERE story_id = ?1 AND deleted_at IS NULL AND position > ?2 AND position < ?3{on_line}
                 ORDER BY position"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(values))
            .map_err(|e| self.err(e))?;
        let mut items = Vec::new();
        let mut spent = 0usize;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let read = || -> rusqlite::Result<HistoryItem> {
                Ok(HistoryItem {
                    id: EntryId(row.get(0)?),
                    kind: EntryKind::parse(&row.get::<_, String>(1)?).unwrap_or(EntryKind::System),
                    text: row.get(2)?,
                    tokens: usize::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
                })
            };
            let item = read().map_err(|e| self.err(e))?;
            spent += item.tokens;
            items.push(item);
            if spent >= budget {
                break;
            }
        }
        Ok(items)
    }

    /// A chapter's own entries, oldest first, up to `budget` tokens.
    pub fn chapter_entries(
        &self,
        story: &StoryId,
        chapter: &Chapter,
        budget: usize,
    ) -> Result<Vec<HistoryItem>> {
        let first = self.entry(&chapter.start_entry)?.position;
        let last = self.entry(&chapter.end_entry)?.position;
        self.entries_between(story, first - 1, last + 1, budget)
    }

    /// Where an entry stands in its story's order.
    pub fn position_of(&self, entry: &EntryId) -> Result<i64> {
        Ok(self.entry(entry)?.position)
    }

    /// The story time once the entries up to `entry` (and none after) had their world updates:
    /// the newest one in effect at or before it that moved the clock.
    pub fn story_time_at(&self, story: &StoryId, entry: &EntryId) -> Result<Option<StoryTime>> {
        let position = self.position_of(entry)?;
        let rows: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT s.applied FROM world_change_sets s JOIN entries e ON e.id = s.entry_id
                 WHERE s.story_id = ?1 AND s.in_effect = 1 AND e.position <= ?2
                 ORDER BY e.position DESC, s.id DESC LIMIT 50",
            )
            .and_then(|mut s| {
                s.query_map(params![story.as_str(), position], |r| r.get(0))?
                    .collect()
            })
            .map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .filter_map(|text| applied_from_json(text))
            .find_map(|applied| applied.time.map(|(_, after)| after)))
    }

    /// The branch an entry is on (`None`: the story's main line).
    pub fn entry_branch(&self, entry: &EntryId) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT branch_id FROM entries WHERE id = ?1")
            .and_then(|mut s| s.query_row([entry.as_str()], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    /// The chapter whose run holds `entry`, if one does (one query, however many chapters).
    pub fn chapter_holding(&self, story: &StoryId, entry: &EntryId) -> Result<Option<Chapter>> {
        let id: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT c.id FROM chapters c
                 JOIN entries first ON first.id = c.start_entry_id
                 JOIN entries last ON last.id = c.end_entry_id
                 JOIN entries e ON e.id = ?2
                 WHERE c.story_id = ?1 AND c.deleted_at IS NULL
                   AND e.position BETWEEN first.position AND last.position
                 ORDER BY c.number LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![story.as_str(), entry.as_str()], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.err(e))?;
        let Some(id) = id else {
            return Ok(None);
        };
        Ok(self.chapters(story)?.into_iter().find(|c| c.id == id))
    }
}
