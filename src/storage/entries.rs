//! Entries of a story: append (one INSERT), edit, page loading for the story view, and the entry Trash.

use rusqlite::{OptionalExtension, Row, params};

use super::stories::expect_one;
use super::{Result, Store, StoreError};
use crate::domain::{
    AlternativePosition, Entry, EntryId, EntryKind, EntryRow, StoryId, TrashedEntry, count_tokens,
    count_words, now_ms,
};

/// Columns of `entry_from_row`; the alternative position is counted by rowid, which grows with
/// every insert, so "2 of 3" follows the order the alternatives were written in.
const ENTRY_COLUMNS: &str = "id, story_id, kind, content, position, created_at, updated_at, \
     COALESCE(reasoning, ''), \
     (SELECT COUNT(*) FROM entry_alternatives a WHERE a.entry_id = entries.id), \
     (SELECT COUNT(*) FROM entry_alternatives a WHERE a.entry_id = entries.id \
         AND a.rowid <= (SELECT b.rowid FROM entry_alternatives b WHERE b.id = entries.active_alternative_id)), \
     cut_off";

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<Entry> {
    let kind: String = row.get(2)?;
    Ok(Entry {
        id: EntryId(row.get(0)?),
        story_id: StoryId(row.get(1)?),
        kind: EntryKind::parse(&kind).unwrap_or(EntryKind::System),
        content: row.get(3)?,
        position: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        reasoning: row.get(7)?,
        alternative: alternative_position(row.get(8)?, row.get(9)?),
        cut_off: row.get(10)?,
    })
}

fn alternative_position(count: i64, index: i64) -> Option<AlternativePosition> {
    (count > 1).then(|| AlternativePosition {
        index: u32::try_from(index.clamp(1, count)).unwrap_or(1),
        count: u32::try_from(count).unwrap_or(u32::MAX),
    })
}

fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<EntryRow> {
    let kind: String = r.get(1)?;
    Ok(EntryRow {
        id: EntryId(r.get(0)?),
        kind: EntryKind::parse(&kind).unwrap_or(EntryKind::System),
        char_count: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX),
        position: r.get(3)?,
    })
}

pub(super) fn char_count(text: &str) -> i64 {
    i64::try_from(text.chars().count()).unwrap_or(i64::MAX)
}

pub(super) fn word_count(text: &str) -> i64 {
    i64::try_from(count_words(text)).unwrap_or(i64::MAX)
}

pub(super) fn token_count(text: &str) -> i64 {
    i64::try_from(count_tokens(text)).unwrap_or(i64::MAX)
}

// Token counts are left NULL on every write: writes stay fast (the BPE tables are never loaded on
// the UI thread), and the prompt's history read, on a job, fills them in once.
// A new entry is on the branch it is written for (?9: the story's current one, or a pinned one).
pub(super) const INSERT_ENTRY: &str = "INSERT INTO entries (id, story_id, kind, content, position, char_count, word_count, created_at, updated_at, reasoning, branch_id)
     VALUES (?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(position), -1) + 1 FROM entries WHERE story_id = ?2), ?5, ?6, ?7, ?7, ?8, ?9)
     RETURNING position";

impl Store {
    /// `AND (…)`: the entries the story's current branch sees, and the values it binds (numbered
    /// from `?{from}`); empty for a story without branches.
    pub(super) fn on_current_line(
        &self,
        story: &StoryId,
        from: usize,
    ) -> Result<(String, Vec<rusqlite::types::Value>)> {
        self.on_current_line_of("", story, from)
    }

    /// As `on_current_line`, on the entries row `table` names (`"e."`) in a query of several.
    pub(super) fn on_current_line_of(
        &self,
        table: &str,
        story: &StoryId,
        from: usize,
    ) -> Result<(String, Vec<rusqlite::types::Value>)> {
        let current = self.current_branch(story)?;
        Ok(
            match super::lineage::lineage_sql(&self.conn, story, current.as_deref(), table, from)
                .map_err(|e| self.err(e))?
            {
                Some((condition, values)) => (format!(" AND {condition}"), values),
                None => (String::new(), Vec::new()),
            },
        )
    }

    /// Appends one entry at the end of a story: a single INSERT, whatever the story's length.
    pub fn append_entry(&self, story: &StoryId, kind: EntryKind, content: &str) -> Result<Entry> {
        let id = EntryId::new();
        let now = now_ms();
        let branch = self.current_branch(story)?;
        let mut stmt = self
            .conn
            .prepare_cached(INSERT_ENTRY)
            .map_err(|e| self.err(e))?;
        let position: i64 = stmt
            .query_row(
                params![
                    id.as_str(),
                    story.as_str(),
                    kind.as_str(),
                    content,
                    char_count(content),
                    word_count(content),
                    now,
                    Option::<&str>::None,
                    branch
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(Entry {
            id,
            story_id: story.clone(),
            kind,
            content: content.to_owned(),
            position,
            created_at: now,
            updated_at: now,
            reasoning: String::new(),
            alternative: None,
            cut_off: false,
        })
    }

    /// Appends many entries in one transaction: all of them or, on any failure, none.
    pub fn append_entries<'a>(
        &mut self,
        story: &StoryId,
        entries: impl IntoIterator<Item = (EntryKind, &'a str)>,
    ) -> Result<usize> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let branch = self.current_branch(story)?;
        let tx = self.conn.transaction().map_err(err)?;
        let mut count = 0;
        {
            let mut stmt = tx.prepare_cached(INSERT_ENTRY).map_err(err)?;
            let now = now_ms();
            for (kind, content) in entries {
                stmt.query_row(
                    params![
                        EntryId::new().as_str(),
                        story.as_str(),
                        kind.as_str(),
                        content,
                        char_count(content),
                        word_count(content),
                        now,
                        Option::<&str>::None,
                        branch
                    ],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(err)?;
                count += 1;
            }
        }
        tx.commit().map_err(err)?;
        Ok(count)
    }

    pub fn entry(&self, id: &EntryId) -> Result<Entry> {
        self.conn
            .query_row(
                &format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE id = ?1"),
                [id.as_str()],
                entry_from_row,
            )
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound(format!("Entry {id}")))
    }

    /// The story view's index: one small row per live entry, read from the covering index
    /// (no entry text is touched).
    pub fn entry_rows(&self, story: &StoryId) -> Result<Vec<EntryRow>> {
        self.row_index_reads.set(self.row_index_reads.get() + 1);
        let (on_line, mut values) = self.on_current_line(story, 2)?;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, kind, char_count, position FROM entries
                 WHERE story_id = ?1 AND deleted_at IS NULL{on_line} ORDER BY position"
            ))
            .map_err(|e| self.err(e))?;
        values.insert(0, rusqlite::types::Value::Text(story.as_str().to_owned()));
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), row_of)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// The story view's index, packed (see `RowIndex`): read row by row into it, no row's id
    /// kept as its own string.
    pub fn entry_row_index(&self, story: &StoryId) -> Result<crate::domain::RowIndex> {
        self.row_index_reads.set(self.row_index_reads.get() + 1);
        let (on_line, mut values) = self.on_current_line(story, 2)?;
        values.insert(0, rusqlite::types::Value::Text(story.as_str().to_owned()));
        // The story's count of live entries bounds any one line's.
        let live: i64 = self
            .conn
            .query_row(
                "SELECT entry_count FROM stories WHERE id = ?1",
                [story.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .unwrap_or(0);
        let mut index = crate::domain::RowIndex::with_capacity(usize::try_from(live).unwrap_or(0));
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, kind, char_count, position FROM entries
                 WHERE story_id = ?1 AND deleted_at IS NULL{on_line} ORDER BY position"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(values))
            .map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let read = (|| -> rusqlite::Result<()> {
                let id = r.get_ref(0)?.as_str()?;
                let kind = EntryKind::parse(r.get_ref(1)?.as_str()?).unwrap_or(EntryKind::System);
                let chars = u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX);
                index.push_parts(id, kind, chars, r.get(3)?);
                Ok(())
            })();
            read.map_err(|e| self.err(e))?;
        }
        index.shrink_to_fit();
        Ok(index)
    }

    /// The newest `limit` rows of the story view's index, oldest first: what a long story opens
    /// on while the rest of its index is read on a job.
    pub fn entry_rows_tail(&self, story: &StoryId, limit: usize) -> Result<Vec<EntryRow>> {
        let (on_line, mut values) = self.on_current_line(story, 3)?;
        values.splice(
            0..0,
            [
                rusqlite::types::Value::Text(story.as_str().to_owned()),
                rusqlite::types::Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)),
            ],
        );
        let mut rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, kind, char_count, position FROM entries
                 WHERE story_id = ?1 AND deleted_at IS NULL{on_line} ORDER BY position DESC LIMIT ?2"
            ))
            .and_then(|mut stmt| {
                stmt.query_map(rusqlite::params_from_iter(values), row_of)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))?;
        rows.reverse();
        Ok(rows)
    }

    /// One live entry's row of the index, with its story; `None` when it is in the Trash or gone.
    pub fn entry_row(&self, id: &EntryId) -> Result<Option<(StoryId, EntryRow)>> {
        self.conn
            .prepare_cached(
                "SELECT id, kind, char_count, position, story_id FROM entries
                 WHERE id = ?1 AND deleted_at IS NULL",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id.as_str()], |r| Ok((StoryId(r.get(4)?), row_of(r)?)))
                    .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// How often a story's whole row index was read through this connection: once per story
    /// opened, and never again for an edit, a delete or an undo (tests hold it to that).
    pub fn row_index_reads(&self) -> u64 {
        self.row_index_reads.get()
    }

    /// Live entries by id (for the rows on screen), in no particular order.
    pub fn entries_by_ids(&self, ids: &[&EntryId]) -> Result<Vec<Entry>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM entries WHERE id = ?1"
            ))
            .map_err(|e| self.err(e))?;
        for id in ids {
            if let Some(entry) = stmt
                .query_row([id.as_str()], entry_from_row)
                .optional()
                .map_err(|e| self.err(e))?
            {
                out.push(entry);
            }
        }
        Ok(out)
    }

    pub fn update_entry_content(&self, id: &EntryId, content: &str) -> Result<()> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let changed = tx
            .execute(
                "UPDATE entries SET content = ?2, char_count = ?3, word_count = ?4, updated_at = ?5,
                     token_count = NULL, cut_off = 0 WHERE id = ?1",
                params![
                    id.as_str(),
                    content,
                    char_count(content),
                    word_count(content),
                    now_ms()
                ],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Entry {id}"))?;
        // The active alternative follows an edit, so switching away and back keeps it.
        tx.execute(
            "UPDATE entry_alternatives SET content = ?2, cut_off = 0
             WHERE id = (SELECT active_alternative_id FROM entries WHERE id = ?1)",
            params![id.as_str(), content],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    pub fn trash_entry(&self, id: &EntryId) -> Result<()> {
        self.entry_update(
            id,
            "UPDATE entries SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
        )
    }

    /// Puts an entry back at its old place in the story.
    pub fn restore_entry(&self, id: &EntryId) -> Result<()> {
        self.entry_update(
            id,
            "UPDATE entries SET deleted_at = NULL, updated_at = ?2 WHERE id = ?1",
        )
    }

    /// Runs `sql` (`?1` the entry, `?2` now) on exactly one entry.
    fn entry_update(&self, id: &EntryId, sql: &str) -> Result<()> {
        let changed = self
            .conn
            .execute(sql, params![id.as_str(), now_ms()])
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Entry {id}"))
    }

    pub fn delete_entry_forever(&self, id: &EntryId) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "DELETE FROM entries WHERE id = ?1 AND deleted_at IS NOT NULL",
                [id.as_str()],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Entry {id} in the Trash"))
    }

    /// Entries deleted one by one from stories that are themselves not in the Trash.
    pub fn trashed_entries(&self) -> Result<Vec<TrashedEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT e.id, e.story_id, e.kind, e.content, e.position, e.created_at, e.updated_at,
                        COALESCE(e.reasoning, ''), 0, 0, e.cut_off, s.title, e.deleted_at
                 FROM entries e JOIN stories s ON s.id = e.story_id
                 WHERE e.deleted_at IS NOT NULL AND s.deleted_at IS NULL
                 ORDER BY e.deleted_at DESC LIMIT 500",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(TrashedEntry {
                    entry: entry_from_row(r)?,
                    story_title: r.get(11)?,
                    deleted_at: r.get(12)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }
}
