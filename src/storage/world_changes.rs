//! World updates kept beside the narration that caused them, and kept in step with the text the
//! story shows: an update whose text is no longer shown (another alternative chosen, the entry
//! deleted or undone) is taken back, and made again when its text comes back — unless the
//! writer undid it. An update waiting for the writer's word is kept here too.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, Store};
use crate::domain::world_change::Applied;
use crate::domain::world_wire::{applied_from_json, applied_to_json};
use crate::domain::{EntryId, StoryId, World, now_ms};

/// An update waiting for the writer's word: where it is kept, the narration it was read from,
/// what it would change, and how many more wait after it.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitingUpdate {
    pub kept: i64,
    pub entry: EntryId,
    pub changes: Applied,
    pub more: usize,
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
        let tx = self.step()?;
        let changed = tx
            .execute(
                "UPDATE world_change_sets SET taken_back = ?3 WHERE id = ?1 AND story_id = ?2",
                params![id, story.as_str(), !on],
            )
            .map_err(|e| self.err(e))?;
        if changed > 0 {
            settle_in(&tx, story, None, Some(id)).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Brings the world in step with what `entry` shows now; returns the summaries of the
    /// updates taken back (`false`) or made again (`true`).
    pub fn follow_text(&self, story: &StoryId, entry: &EntryId) -> Result<Vec<(bool, String)>> {
        let tx = self.step()?;
        let said = settle_in(&tx, story, Some(entry.as_str()), None).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(said)
    }

    /// The story's world as it stands on the branch this connection reads (rows in the Trash
    /// left out). The tables hold the shown branch's world; a connection pinned to another
    /// branch (a job finishing what was begun there) sees that branch's, made in a transaction
    /// that is never committed.
    pub fn world(&self, story: &StoryId) -> Result<World> {
        let err = |e| self.err(e);
        let shown = super::lineage::shown_branch(&self.conn, story).map_err(err)?;
        let wanted = self.current_branch(story)?;
        if wanted == shown {
            return super::world::read_world(&self.conn, story).map_err(err);
        }
        let lineage =
            super::lineage::tree_lineage(&self.conn, story, wanted.as_deref()).map_err(err)?;
        self.world_seen(story, wanted.as_deref(), lineage.as_ref())
    }

    /// The world `lineage` implies (shown as `branch`'s), worked out in a savepoint that is
    /// rolled back, so nothing changes — also inside a caller's transaction.
    pub(super) fn world_seen(
        &self,
        story: &StoryId,
        branch: Option<&str>,
        lineage: Option<&crate::domain::branch::Lineage>,
    ) -> Result<World> {
        let err = |e| self.err(e);
        self.conn
            .execute_batch("SAVEPOINT peek_world")
            .map_err(err)?;
        let peeked = (|| {
            self.conn.execute(
                "UPDATE stories SET current_branch_id = ?2 WHERE id = ?1",
                params![story.as_str(), branch],
            )?;
            settle_on(&self.conn, story, lineage, None, None)?;
            super::world::read_world(&self.conn, story)
        })();
        self.conn
            .execute_batch("ROLLBACK TO peek_world; RELEASE peek_world")
            .map_err(err)?;
        peeked.map_err(err)
    }

    /// Keeps what a world update read from `entry` would change and makes it when the story
    /// shows that entry's text on the branch shown (an update read on another branch, by a job
    /// bound to it, waits in the record until that branch is shown).
    pub fn keep_world_changes(
        &self,
        story: &StoryId,
        entry: &EntryId,
        applied: &Applied,
    ) -> Result<i64> {
        let tx = self.step()?;
        let id = self.insert_set(story, entry, applied, false, false)?;
        settle_in(&tx, story, None, Some(id)).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(id)
    }

    /// The oldest update of `story` waiting for the writer's word whose text the story shows
    /// (one for a text not shown waits until it is shown again).
    pub fn waiting_world_update(&self, story: &StoryId) -> Result<Option<WaitingUpdate>> {
        let rows: Vec<(i64, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT s.id, s.entry_id, s.applied FROM world_change_sets s
                 JOIN entries e ON e.id = s.entry_id
                 WHERE s.story_id = ?1 AND s.pending = 1 AND s.by_hand = 0 AND e.deleted_at IS NULL
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
        settle_in(&self.conn, story, None, Some(id)).map_err(|e| self.err(e))?;
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
                 WHERE s.story_id = ?1 AND s.by_hand = 0 ORDER BY s.id DESC LIMIT ?2",
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

/// Takes back or makes again the kept updates of `entry` (or only the one `only`, or all the
/// story's) so that exactly those the shown branch's story implies are in effect: an update read
/// from a narration while that narration shows the text it was read from on the lineage (and the
/// writer did not undo it), a hand edit on the branch it was made on and those forked after it.
/// Returns the summaries of those taken back (`false`) or made again (`true`).
pub(super) fn settle_in(
    conn: &Connection,
    story: &StoryId,
    entry: Option<&str>,
    only: Option<i64>,
) -> rusqlite::Result<Vec<(bool, String)>> {
    let shown = super::lineage::shown_branch(conn, story)?;
    let lineage = super::lineage::tree_lineage(conn, story, shown.as_deref())?;
    settle_on(conn, story, lineage.as_ref(), entry, only)
}

/// As `settle_in`, for the world of `lineage` (`None`: a story without branches, whose every
/// entry is on its one line).
pub(super) fn settle_on(
    conn: &Connection,
    story: &StoryId,
    lineage: Option<&crate::domain::branch::Lineage>,
    entry: Option<&str>,
    only: Option<i64>,
) -> rusqlite::Result<Vec<(bool, String)>> {
    use rusqlite::types::Value as Sql;
    let mut values: Vec<Sql> = vec![
        Sql::Text(story.as_str().to_owned()),
        entry.map_or(Sql::Null, |e| Sql::Text(e.to_owned())),
        only.map_or(Sql::Null, Sql::Integer),
    ];
    let main = crate::domain::branch::Lineage::main();
    let on_line = match lineage {
        Some(lineage) => {
            let (condition, bound) = lineage.condition("e.", 4);
            values.extend(super::lineage::sql_values(bound));
            format!("(e.id IS NOT NULL AND {condition})")
        }
        None => "1".to_owned(),
    };
    let lineage = lineage.unwrap_or(&main);
    let mut on_branch = Vec::new();
    for (branch, _) in &lineage.segments {
        match branch {
            Some(id) => {
                values.push(Sql::Text(id.clone()));
                on_branch.push(format!("s.branch_id = ?{}", values.len()));
            }
            None => on_branch.push("s.branch_id IS NULL".to_owned()),
        }
    }
    let on_branch = on_branch.join(" OR ");
    let sql = format!(
        "SELECT s.id, s.applied, s.summary, s.in_effect, s.by_hand, s.row_key
         FROM world_change_sets s LEFT JOIN entries e ON e.id = s.entry_id
         WHERE s.story_id = ?1 AND s.pending = 0 AND (?2 IS NULL OR s.entry_id = ?2)
           AND (?3 IS NULL OR s.id = ?3)
           AND COALESCE(CASE WHEN s.by_hand > 0
                    THEN s.taken_back = 0 AND ({on_branch}) AND (s.entry_id = '' OR {on_line})
                    ELSE s.taken_back = 0 AND e.deleted_at IS NULL
                         AND s.alternative_id IS e.active_alternative_id AND {on_line}
                END, 0) <> s.in_effect
         ORDER BY s.id"
    );
    type Raw = (i64, String, String, bool, i64, Option<String>);
    let sets: Vec<Raw> = conn
        .prepare_cached(&sql)?
        .query_map(rusqlite::params_from_iter(values), |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    // Taken back newest first; made again oldest first.
    let (mut back, again): (Vec<_>, Vec<_>) = sets.into_iter().partition(|set| set.3);
    back.reverse();
    let now = now_ms();
    let mut said = Vec::new();
    for (id, applied, summary, in_effect, by_hand, row_key) in back.into_iter().chain(again) {
        if by_hand == super::world_hand::HAND_TRASH {
            let Some((kind, row)) = row_key.as_deref().and_then(super::world::parse_row_key) else {
                continue;
            };
            super::world::set_trashed(conn, story, kind, row, !in_effect, now)?;
        } else {
            let Some(applied) = applied_from_json(&applied) else {
                log::warn!("a kept world update could not be read; it stays as it is");
                continue;
            };
            super::world::apply_in(conn, story, &applied, in_effect, now)?;
        }
        conn.execute(
            "UPDATE world_change_sets SET in_effect = ?2 WHERE id = ?1",
            params![id, !in_effect],
        )?;
        if by_hand == 0 {
            said.push((!in_effect, summary));
        }
    }
    Ok(said)
}
