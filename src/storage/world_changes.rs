//! World updates kept beside the narration that caused them, and kept in step with the text the
//! story shows: an update whose text is no longer shown (another alternative chosen, the entry
//! deleted or undone) is taken back, and made again when its text comes back — unless the
//! writer undid it. An update waiting for the writer's word is kept here too.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::domain::world_change::Applied;
use crate::domain::world_wire::{applied_from_json, applied_to_json};
use crate::domain::{EntryId, StoryId, now_ms};

/// An update waiting for the writer's word: where it is kept, the narration it was read from,
/// what it would change, and how many more wait after it.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitingUpdate {
    pub kept: i64,
    pub entry: EntryId,
    pub changes: Applied,
    pub more: usize,
}

/// One kept update as `settle` weighs it.
struct KeptSet {
    id: i64,
    alternative: Option<String>,
    applied: String,
    summary: String,
    in_effect: bool,
    taken_back: bool,
}

impl Store {
    /// Keeps what a world update did (already made), tied to `entry` and the alternative it
    /// shows now.
    pub fn record_world_changes(
        &self,
        story: &StoryId,
        entry: &EntryId,
        applied: &Applied,
    ) -> Result<i64> {
        self.insert_set(story, entry, applied, true, false)
    }

    /// Keeps an update that waits for the writer's word; nothing in the world changes yet.
    pub fn record_pending_world_changes(
        &self,
        story: &StoryId,
        entry: &EntryId,
        applied: &Applied,
    ) -> Result<i64> {
        self.insert_set(story, entry, applied, false, true)
    }

    fn insert_set(
        &self,
        story: &StoryId,
        entry: &EntryId,
        applied: &Applied,
        in_effect: bool,
        pending: bool,
    ) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO world_change_sets (story_id, entry_id, alternative_id, applied, summary,
                     in_effect, pending, created_at)
                 VALUES (?1, ?2, (SELECT active_alternative_id FROM entries WHERE id = ?2), ?3, ?4,
                     ?5, ?6, ?7)",
                params![
                    story.as_str(),
                    entry.as_str(),
                    applied_to_json(applied),
                    applied.summary,
                    in_effect,
                    pending,
                    now_ms()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The writer undoes (`on` false) or redoes one kept update. An undone update stays undone
    /// when its text is shown again; a redone one is in effect while its text is shown.
    pub fn set_world_changes_in_effect(&self, story: &StoryId, id: i64, on: bool) -> Result<()> {
        let entry: Option<String> = self
            .conn
            .query_row(
                "UPDATE world_change_sets SET taken_back = ?3 WHERE id = ?1 AND story_id = ?2
                 RETURNING entry_id",
                params![id, story.as_str(), !on],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match entry {
            Some(entry) => self
                .settle(story, &EntryId::from(entry.as_str()), Some(id))
                .map(|_| ()),
            None => Ok(()),
        }
    }

    /// Brings the world in step with what `entry` shows now; returns the summaries of the
    /// updates taken back (`false`) or made again (`true`).
    pub fn follow_text(&self, story: &StoryId, entry: &EntryId) -> Result<Vec<(bool, String)>> {
        self.settle(story, entry, None)
    }

    /// Takes back or makes again the kept updates of `entry` (or only the one `only`) so that
    /// exactly those whose text is shown, and which the writer did not undo, are in effect.
    fn settle(
        &self,
        story: &StoryId,
        entry: &EntryId,
        only: Option<i64>,
    ) -> Result<Vec<(bool, String)>> {
        let (live, shown) = self.shown_text(entry)?;
        let sets: Vec<KeptSet> = self
            .conn
            .prepare_cached(
                "SELECT id, alternative_id, applied, summary, in_effect, taken_back
                 FROM world_change_sets
                 WHERE entry_id = ?1 AND story_id = ?2 AND pending = 0 AND (?3 IS NULL OR id = ?3)
                 ORDER BY id",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![entry.as_str(), story.as_str(), only], |r| {
                    Ok(KeptSet {
                        id: r.get(0)?,
                        alternative: r.get(1)?,
                        applied: r.get(2)?,
                        summary: r.get(3)?,
                        in_effect: r.get(4)?,
                        taken_back: r.get(5)?,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.err(e))?;
        let wanted = |set: &KeptSet| live && set.alternative == shown && !set.taken_back;
        // Taken back newest first; made again oldest first.
        let (mut back, again): (Vec<_>, Vec<_>) = sets
            .into_iter()
            .filter(|set| wanted(set) != set.in_effect)
            .partition(|set| set.in_effect);
        back.reverse();
        let mut said = Vec::new();
        for set in back.into_iter().chain(again) {
            let Some(applied) = applied_from_json(&set.applied) else {
                log::warn!("a kept world update could not be read; it stays as it is");
                continue;
            };
            self.apply_world_changes(story, &applied, set.in_effect)?;
            self.conn
                .execute(
                    "UPDATE world_change_sets SET in_effect = ?2 WHERE id = ?1",
                    params![set.id, !set.in_effect],
                )
                .map_err(|e| self.err(e))?;
            said.push((!set.in_effect, set.summary));
        }
        Ok(said)
    }

    /// Whether `entry` is in the story, and the alternative it shows.
    fn shown_text(&self, entry: &EntryId) -> Result<(bool, Option<String>)> {
        let state: Option<(bool, Option<String>)> = self
            .conn
            .query_row(
                "SELECT deleted_at IS NULL, active_alternative_id FROM entries WHERE id = ?1",
                [entry.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(state.unwrap_or((false, None)))
    }

    /// The oldest update of `story` waiting for the writer's word whose text the story shows
    /// (one for a text not shown waits until it is shown again).
    pub fn waiting_world_update(&self, story: &StoryId) -> Result<Option<WaitingUpdate>> {
        let rows: Vec<(i64, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT s.id, s.entry_id, s.applied FROM world_change_sets s
                 JOIN entries e ON e.id = s.entry_id
                 WHERE s.story_id = ?1 AND s.pending = 1 AND e.deleted_at IS NULL
                   AND s.alternative_id IS e.active_alternative_id
                 ORDER BY s.id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([story.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(|e| self.err(e))?;
        let more = rows.len().saturating_sub(1);
        for (kept, entry, text) in rows {
            if let Some(changes) = applied_from_json(&text) {
                return Ok(Some(WaitingUpdate {
                    kept,
                    entry: EntryId::from(entry.as_str()),
                    changes,
                    more,
                }));
            }
            log::warn!("a waiting world update could not be read; it is left out");
        }
        Ok(None)
    }

    /// The writer's word on part of a waiting update: `taken` is accepted (made and kept beside
    /// the same narration text) or rejected, and `rest` waits on (or, when it is nothing, the
    /// waiting update is done). Returns where an accepted part is kept.
    pub fn decide_waiting_world_update(
        &self,
        story: &StoryId,
        kept: i64,
        taken: &Applied,
        accept: bool,
        rest: &Applied,
    ) -> Result<Option<i64>> {
        let found: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT entry_id, alternative_id FROM world_change_sets
                 WHERE id = ?1 AND story_id = ?2 AND pending = 1",
                params![kept, story.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((entry, alternative)) = found else {
            return Ok(None);
        };
        if rest.is_nothing() {
            self.conn
                .execute("DELETE FROM world_change_sets WHERE id = ?1", [kept])
                .map_err(|e| self.err(e))?;
        } else {
            self.conn
                .execute(
                    "UPDATE world_change_sets SET applied = ?2, summary = ?3 WHERE id = ?1",
                    params![kept, applied_to_json(rest), rest.summary],
                )
                .map_err(|e| self.err(e))?;
        }
        if !accept || taken.is_nothing() {
            return Ok(None);
        }
        self.conn
            .execute(
                "INSERT INTO world_change_sets (story_id, entry_id, alternative_id, applied, summary,
                     in_effect, pending, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6)",
                params![
                    story.as_str(),
                    entry,
                    alternative,
                    applied_to_json(taken),
                    taken.summary,
                    now_ms()
                ],
            )
            .map_err(|e| self.err(e))?;
        let id = self.conn.last_insert_rowid();
        self.settle(story, &EntryId::from(entry.as_str()), Some(id))?;
        Ok(Some(id))
    }

    /// The newest `limit` kept updates of `story`, with what each did and where it stands.
    pub fn recent_world_updates(
        &self,
        story: &StoryId,
        limit: usize,
    ) -> Result<Vec<crate::domain::world_log::KeptUpdate>> {
        use crate::domain::world_log::{KeptUpdate, UpdateStanding};
        type Raw = (
            i64,
            String,
            Option<String>,
            String,
            bool,
            bool,
            bool,
            bool,
            i64,
        );
        let rows: Vec<Raw> = self
            .conn
            .prepare_cached(
                "SELECT s.id, s.entry_id, substr(e.content, 1, 200), s.applied, s.in_effect,
                        s.taken_back, s.pending,
                        e.deleted_at IS NULL AND s.alternative_id IS e.active_alternative_id,
                        s.created_at
                 FROM world_change_sets s LEFT JOIN entries e ON e.id = s.entry_id
                 WHERE s.story_id = ?1 ORDER BY s.id DESC LIMIT ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![story.as_str(), limit as i64], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get::<_, Option<bool>>(7)?.unwrap_or(false),
                        r.get(8)?,
                    ))
                })?
                .collect()
            })
            .map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    entry,
                    narration,
                    applied,
                    in_effect,
                    taken_back,
                    pending,
                    shown,
                    created_at,
                )| {
                    let standing = match (pending, in_effect, taken_back, shown) {
                        (true, ..) => UpdateStanding::Waiting,
                        (_, true, ..) => UpdateStanding::InEffect,
                        (_, _, true, _) => UpdateStanding::TakenBack,
                        _ => UpdateStanding::TextNotShown,
                    };
                    KeptUpdate {
                        id,
                        entry: EntryId::from(entry.as_str()),
                        narration: crate::domain::preview(narration.as_deref().unwrap_or(""), 60),
                        lines: applied_from_json(&applied)
                            .map(|a| a.lines())
                            .unwrap_or_default(),
                        standing,
                        created_at,
                    }
                },
            )
            .collect())
    }
}
