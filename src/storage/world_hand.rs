//! The writer's own edits of the world — a row saved, put in the Trash or restored, the time set —
//! each kept as an update of the branch it was made on, so that switching branch takes it back
//! and brings it again like the narrator's (see V14).

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, Store, world};

use crate::domain::world_change::Applied;
use crate::domain::world_wire::applied_to_json;
use crate::domain::{StoryId, StoryTime, WorldKind, WorldRow, now_ms};

/// A kept update the writer made by hand: an edit, or a row put in the Trash.
pub(super) const HAND_EDIT: i64 = 1;
pub(super) const HAND_TRASH: i64 = 2;

/// The last entry the shown branch has (`''` before any), where a hand edit is tied.
pub(super) fn tail_entry(conn: &Connection, story: &StoryId) -> rusqlite::Result<String> {
    let shown = super::lineage::shown_branch(conn, story)?;
    let (condition, bound) =
        match super::lineage::lineage_sql(conn, story, shown.as_deref(), "", 2)? {
            Some((condition, bound)) => (format!(" AND {condition}"), bound),
            None => (String::new(), Vec::new()),
        };
    let mut values = vec![rusqlite::types::Value::Text(story.as_str().to_owned())];
    values.extend(bound);
    let tail: Option<String> = conn
        .prepare_cached(&format!(
            "SELECT id FROM entries WHERE story_id = ?1 AND deleted_at IS NULL{condition}
             ORDER BY position DESC LIMIT 1"
        ))?
        .query_row(rusqlite::params_from_iter(values), |r| r.get(0))
        .optional()?;
    Ok(tail.unwrap_or_default())
}

/// Keeps a hand edit (already made) on the shown branch: `HAND_EDIT` with what changed, or
/// `HAND_TRASH` naming the row put away.
pub(super) fn keep_hand_change(
    conn: &Connection,
    story: &StoryId,
    by_hand: i64,
    applied: &Applied,
    row_key: Option<&str>,
) -> rusqlite::Result<()> {
    let shown = super::lineage::shown_branch(conn, story)?;
    let tail = tail_entry(conn, story)?;
    conn.prepare_cached(
        "INSERT INTO world_change_sets (story_id, entry_id, alternative_id, applied, summary,
             in_effect, pending, created_at, by_hand, branch_id, row_key)
         VALUES (?1, ?2, NULL, ?3, '', 1, 0, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        story.as_str(),
        tail,
        applied_to_json(applied),
        now_ms(),
        by_hand,
        shown,
        row_key
    ])?;
    Ok(())
}

/// A row brought back from the Trash by the writer: the hand updates that put it there are
/// done with, on every branch.
pub(super) fn forget_hand_trash(
    conn: &Connection,
    story: &StoryId,
    row_key: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE world_change_sets SET taken_back = 1, in_effect = 0
         WHERE story_id = ?1 AND by_hand = 2 AND row_key = ?2",
        params![story.as_str(), row_key],
    )?;
    Ok(())
}

impl Store {
    /// Writes one row (new ones go last in their list; an edited one keeps its place). Only one
    /// place is the current one: making a place current moves the protagonist there.
    pub fn save_world_row(&self, story: &StoryId, row: &WorldRow) -> Result<()> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.step()?;
        let now = now_ms();
        if let WorldRow::Place(p) = row
            && p.current
        {
            tx.execute(
                "UPDATE world_places SET current = 0, updated_at = ?3
                 WHERE story_id = ?1 AND id <> ?2 AND current = 1",
                params![story.as_str(), p.id, now],
            )
            .map_err(err)?;
        }
        let before = world::one_row(&tx, story, row.kind(), row.id(), " AND deleted_at IS NULL")
            .map_err(err)?;
        world::write_row(&tx, story, row, now).map_err(err)?;
        let edit = crate::domain::world_change::Applied {
            rows: vec![(before, row.clone())],
            ..Default::default()
        };
        keep_hand_change(&tx, story, HAND_EDIT, &edit, None).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Moves a row to the Trash on the branch shown (`restore_world_row` brings it back).
    pub fn trash_world_row(&self, story: &StoryId, kind: WorldKind, id: &str) -> Result<()> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.step()?;
        let Some(row) =
            world::one_row(&tx, story, kind, id, " AND deleted_at IS NULL").map_err(err)?
        else {
            return Err(super::StoreError::NotFound(format!(
                "{} {id}",
                kind.label()
            )));
        };
        world::set_trashed(&tx, story, kind, id, true, now_ms()).map_err(err)?;
        let put_away = crate::domain::world_change::Applied {
            rows: vec![(Some(row.clone()), row)],
            ..Default::default()
        };
        let key = world::row_key(kind, id);
        keep_hand_change(&tx, story, HAND_TRASH, &put_away, Some(&key)).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Brings a row back from the Trash, on every branch that had put it away.
    pub fn restore_world_row(&self, story: &StoryId, kind: WorldKind, id: &str) -> Result<()> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.step()?;
        let found = world::any_row(&tx, story, kind, id).map_err(err)?;
        if found.is_none() {
            return Err(super::StoreError::NotFound(format!(
                "{} {id}",
                kind.label()
            )));
        }
        forget_hand_trash(&tx, story, &world::row_key(kind, id)).map_err(err)?;
        tx.execute(
            &format!(
                "UPDATE {} SET deleted_at = NULL, updated_at = ?3, by_text = 0
                 WHERE story_id = ?1 AND id = ?2",
                world::table(kind)
            ),
            params![story.as_str(), id, now_ms()],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Sets the time in the story on the branch shown (other keys of the original's tracker are
    /// kept).
    pub fn set_story_time(&self, story: &StoryId, time: StoryTime) -> Result<()> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.step()?;
        let before = world::read_world_time(&tx, story)
            .map_err(err)?
            .unwrap_or_default();
        world::write_story_time(&tx, story, time).map_err(err)?;
        let edit = crate::domain::world_change::Applied {
            time: Some((before, time)),
            ..Default::default()
        };
        keep_hand_change(&tx, story, HAND_EDIT, &edit, None).map_err(err)?;
        tx.commit().map_err(err)
    }
}
