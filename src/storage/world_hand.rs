//! The writer's hand edits of the world kept as updates of the branch they were made on, so that
//! switching branch takes them back and brings them again like the narrator's (see V14).

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::world_change::Applied;
use crate::domain::world_wire::applied_to_json;
use crate::domain::{StoryId, now_ms};

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
