//! Stories: create, list, rename, duplicate, and the Trash for whole stories.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store, StoreError};
use crate::domain::{
    NewStory, Pov, Story, StoryId, StoryMode, StorySummary, Tense, new_uuid, now_ms,
};

const SUMMARY_COLUMNS: &str = "id, title, description, genre, mode, pov, tense, protagonist, \
     created_at, updated_at, entry_count, word_count, deleted_at";

fn summary_from_row(row: &Row<'_>) -> rusqlite::Result<StorySummary> {
    let mode: String = row.get(4)?;
    let pov: String = row.get(5)?;
    let tense: String = row.get(6)?;
    Ok(StorySummary {
        story: Story {
            id: StoryId(row.get(0)?),
            title: row.get(1)?,
            description: row.get(2)?,
            genre: row.get(3)?,
            // The CHECK constraints make other spellings impossible; fall back rather than fail.
            mode: StoryMode::parse(&mode).unwrap_or_default(),
            pov: Pov::parse(&pov).unwrap_or_default(),
            tense: Tense::parse(&tense).unwrap_or_default(),
            protagonist: row.get(7)?,
            created_at: row.get(8)?,
            updated_at: row.get(9)?,
        },
        entry_count: row.get::<_, i64>(10)?.max(0).unsigned_abs(),
        word_count: row.get::<_, i64>(11)?.max(0).unsigned_abs(),
        deleted_at: row.get(12)?,
    })
}

fn none_if_blank(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

impl Store {
    pub fn create_story(&self, new: &NewStory) -> Result<Story> {
        let now = now_ms();
        let story = Story {
            id: StoryId::new(),
            title: new.effective_title(),
            description: none_if_blank(&new.description).map(str::to_owned),
            genre: none_if_blank(&new.genre).map(str::to_owned),
            mode: new.mode,
            pov: new.pov,
            tense: new.tense,
            protagonist: none_if_blank(&new.protagonist).map(str::to_owned),
            created_at: now,
            updated_at: now,
        };
        self.conn
            .execute(
                "INSERT INTO stories (id, title, description, genre, mode, pov, tense, protagonist, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                params![
                    story.id.as_str(),
                    story.title,
                    story.description,
                    story.genre,
                    story.mode.as_str(),
                    story.pov.as_str(),
                    story.tense.as_str(),
                    story.protagonist,
                    now
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(story)
    }

    /// Stories not in the Trash, most recently edited first.
    pub fn list_stories(&self) -> Result<Vec<StorySummary>> {
        self.query_summaries(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM stories WHERE deleted_at IS NULL ORDER BY updated_at DESC"
        ))
    }

    /// Stories in the Trash, most recently deleted first.
    pub fn trashed_stories(&self) -> Result<Vec<StorySummary>> {
        self.query_summaries(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM stories WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC"
        ))
    }

    fn query_summaries(&self, sql: &str) -> Result<Vec<StorySummary>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], summary_from_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// One story, also when it is in the Trash.
    pub fn story_summary(&self, id: &StoryId) -> Result<StorySummary> {
        self.conn
            .query_row(
                &format!("SELECT {SUMMARY_COLUMNS} FROM stories WHERE id = ?1"),
                [id.as_str()],
                summary_from_row,
            )
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound(format!("Story {id}")))
    }

    pub fn rename_story(&self, id: &StoryId, title: &str) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE stories SET title = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.as_str(), title, now_ms()],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Story {id}"))
    }

    /// The story's genre, description and protagonist, as edited after it was created (blank
    /// means none).
    pub fn set_story_details(
        &self,
        id: &StoryId,
        genre: &str,
        description: &str,
        protagonist: &str,
    ) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE stories SET genre = ?2, description = ?3, protagonist = ?4, updated_at = ?5
                 WHERE id = ?1",
                params![
                    id.as_str(),
                    none_if_blank(genre),
                    none_if_blank(description),
                    none_if_blank(protagonist),
                    now_ms()
                ],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Story {id}"))
    }

    /// A full copy under new ids, titled "… (copy)", written in one transaction.
    pub fn duplicate_story(&mut self, id: &StoryId) -> Result<Story> {
        super::off_ui_thread("duplicate_story");
        let original = self.story_summary(id)?.story;
        let now = now_ms();
        let copy = Story {
            id: StoryId::new(),
            title: format!("{} (copy)", original.title),
            created_at: now,
            updated_at: now,
            ..original
        };
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO stories (id, title, description, genre, template_id, mode, pov, tense, protagonist,
                 settings, memory_config, retry_state, style_review_state, time_tracker, current_branch_id,
                 created_at, updated_at)
             SELECT ?2, ?3, description, genre, template_id, mode, pov, tense, protagonist,
                 settings, memory_config, retry_state, style_review_state, time_tracker, current_branch_id, ?4, ?4
             FROM stories WHERE id = ?1",
            params![id.as_str(), copy.id.as_str(), copy.title, now],
        )
        .map_err(err)?;
        let mut id_map: HashMap<String, String> = HashMap::new();
        {
            let mut select = tx
                .prepare("SELECT id FROM entries WHERE story_id = ?1 AND deleted_at IS NULL ORDER BY position")
                .map_err(err)?;
            let ids = select
                .query_map([id.as_str()], |r| r.get::<_, String>(0))
                .map_err(err)?;
            for old in ids {
                id_map.insert(old.map_err(err)?, new_uuid());
            }
            let mut insert = tx
                .prepare(
                    "INSERT INTO entries (id, story_id, kind, content, parent_id, position, branch_id, metadata,
                         reasoning, translated_content, translation_language, original_input,
                         char_count, word_count, created_at, updated_at)
                     SELECT ?2, ?3, kind, content, parent_id, position, branch_id, metadata,
                         reasoning, translated_content, translation_language, original_input,
                         char_count, word_count, created_at, updated_at
                     FROM entries WHERE id = ?1",
                )
                .map_err(err)?;
            let mut copy_alternatives = tx
                .prepare(
                    "INSERT INTO entry_alternatives (id, entry_id, content, reasoning, metadata, created_at)
                     SELECT lower(hex(randomblob(16))), ?2, content, reasoning, metadata, created_at
                     FROM entry_alternatives WHERE entry_id = ?1",
                )
                .map_err(err)?;
            for (old, new) in &id_map {
                insert
                    .execute(params![old, new, copy.id.as_str()])
                    .map_err(err)?;
                copy_alternatives.execute(params![old, new]).map_err(err)?;
            }
        }
        // The lorebook and the world come along: a copy to try another path needs them.
        for table in [
            "world_characters",
            "world_places",
            "world_items",
            "world_beats",
        ] {
            super::world_sections::copy_story_rows(&tx, table, id, &copy.id, None).map_err(err)?;
        }
        super::world_sections::copy_story_rows(
            &tx,
            "lore_entries",
            id,
            &copy.id,
            Some("lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))"),
        )
        .map_err(err)?;
        // Chapters come along with their entries (renamed as the copies are); one whose
        // entries are not all copied (in the Trash) is left out rather than point at nothing.
        for mut chapter in super::chapters::read_chapters(&tx, id).map_err(err)? {
            let (Some(start), Some(end)) = (
                id_map.get(chapter.start_entry.as_str()),
                id_map.get(chapter.end_entry.as_str()),
            ) else {
                continue;
            };
            chapter.start_entry = crate::domain::EntryId::from(start.as_str());
            chapter.end_entry = crate::domain::EntryId::from(end.as_str());
            chapter.id = new_uuid();
            super::chapters::put_chapter(&tx, &copy.id, &chapter, now).map_err(err)?;
        }
        // The tree comes along too (branch ids are the story's own, so the copy keeps them; the
        // entries they fork from are the copy's).
        super::branch_sections::copy_tree(&tx, id, &copy.id, &id_map).map_err(err)?;
        tx.execute(
            "INSERT INTO story_sections (story_id, name, json)
             SELECT ?2, name, json FROM story_sections WHERE story_id = ?1",
            params![id.as_str(), copy.id.as_str()],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(copy)
    }

    /// Moves a story to the Trash; its entries stay untouched until it is deleted for good.
    pub fn trash_story(&self, id: &StoryId) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE stories SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
                params![id.as_str(), now_ms()],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Story {id}"))
    }

    pub fn restore_story(&self, id: &StoryId) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE stories SET deleted_at = NULL WHERE id = ?1",
                [id.as_str()],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Story {id}"))
    }

    /// Deletes a story in the Trash with all its entries. Stories outside the Trash are refused.
    pub fn delete_story_forever(&self, id: &StoryId) -> Result<()> {
        super::off_ui_thread("delete_story_forever");
        let changed = self
            .conn
            .execute(
                "DELETE FROM stories WHERE id = ?1 AND deleted_at IS NOT NULL",
                [id.as_str()],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Story {id} in the Trash"))
    }

    /// Deletes every story and entry in the Trash, in one transaction.
    pub fn empty_trash(&mut self) -> Result<()> {
        super::off_ui_thread("empty_trash");
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM stories WHERE deleted_at IS NOT NULL", [])
            .map_err(err)?;
        tx.execute("DELETE FROM entries WHERE deleted_at IS NOT NULL", [])
            .map_err(err)?;
        tx.execute("DELETE FROM lore_entries WHERE deleted_at IS NOT NULL", [])
            .map_err(err)?;
        super::trash::empty_world_trash(&tx).map_err(err)?;
        tx.commit().map_err(err)
    }
}

pub(super) fn expect_one(changed: usize, what: impl FnOnce() -> String) -> Result<()> {
    if changed == 0 {
        Err(StoreError::NotFound(what()))
    } else {
        Ok(())
    }
}
