//! World updates kept beside the narration that caused them, and kept in step with the text the
//! story shows: an update whose text is no longer shown (another alternative chosen, the entry
//! deleted or undone) is taken back, and made again when its text comes back.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::domain::world_change::Applied;
use crate::domain::world_wire::{applied_from_json, applied_to_json};
use crate::domain::{EntryId, StoryId, now_ms};

impl Store {
    /// Keeps what a world update did, tied to `entry` and the alternative it shows now.
    pub fn record_world_changes(
        &self,
        story: &StoryId,
        entry: &EntryId,
        applied: &Applied,
    ) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO world_change_sets (story_id, entry_id, alternative_id, applied, summary,
                     in_effect, created_at)
                 VALUES (?1, ?2, (SELECT active_alternative_id FROM entries WHERE id = ?2), ?3, ?4, 1, ?5)",
                params![
                    story.as_str(),
                    entry.as_str(),
                    applied_to_json(applied),
                    applied.summary,
                    now_ms()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Takes back (`on` false) or makes again one kept update, when it is not so already (Undo
    /// and Redo of the update as a step of its own).
    pub fn set_world_changes_in_effect(&self, story: &StoryId, id: i64, on: bool) -> Result<()> {
        let kept: Option<(String, bool)> = self
            .conn
            .query_row(
                "SELECT applied, in_effect FROM world_change_sets WHERE id = ?1 AND story_id = ?2",
                params![id, story.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((text, now_on)) = kept else {
            return Ok(());
        };
        if now_on == on {
            return Ok(());
        }
        if let Some(applied) = applied_from_json(&text) {
            self.apply_world_changes(story, &applied, !on)?;
        }
        self.conn
            .execute(
                "UPDATE world_change_sets SET in_effect = ?2 WHERE id = ?1",
                params![id, on],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Brings the world in step with what `entry` shows now; returns the summaries of the
    /// updates taken back (`false`) or made again (`true`).
    pub fn follow_text(&self, story: &StoryId, entry: &EntryId) -> Result<Vec<(bool, String)>> {
        let state: Option<(bool, Option<String>)> = self
            .conn
            .query_row(
                "SELECT deleted_at IS NULL, active_alternative_id FROM entries WHERE id = ?1",
                [entry.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let (live, shown) = state.unwrap_or((false, None));
        let mut sets: Vec<(i64, Option<String>, String, String, bool)> = self
            .conn
            .prepare_cached(
                "SELECT id, alternative_id, applied, summary, in_effect FROM world_change_sets
                 WHERE entry_id = ?1 AND story_id = ?2 ORDER BY id",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![entry.as_str(), story.as_str()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect()
            })
            .map_err(|e| self.err(e))?;
        // Taken back newest first; made again oldest first.
        let (mut back, mut again): (Vec<_>, Vec<_>) = sets
            .drain(..)
            .filter(|(_, alt, _, _, on)| (live && *alt == shown) != *on)
            .partition(|(_, _, _, _, on)| *on);
        back.reverse();
        let mut said = Vec::new();
        for (id, _, text, summary, on) in back.into_iter().chain(again.drain(..)) {
            let Some(applied) = applied_from_json(&text) else {
                log::warn!("a kept world update could not be read; it stays as it is");
                continue;
            };
            self.apply_world_changes(story, &applied, on)?;
            self.conn
                .execute(
                    "UPDATE world_change_sets SET in_effect = ?2 WHERE id = ?1",
                    params![id, !on],
                )
                .map_err(|e| self.err(e))?;
            said.push((!on, summary));
        }
        Ok(said)
    }
}
