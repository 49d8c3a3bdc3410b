//! The story world's tables: read whole for the World panel and the prompt, and changed by a
//! change-set in one transaction (the writer's own edits, kept per branch, are in world_hand.rs;
//! the exchange format's world sections in world_sections.rs).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

use super::{Result, Store};
use crate::domain::world_wire::{
    looks_from_map, looks_to_wire, story_time_from_wire, story_time_to_wire,
};
use crate::domain::{
    Beat, BeatKind, BeatStatus, Character, CharacterStatus, Item, Looks, Place, StoryId, StoryTime,
    World, WorldKind, WorldRow, now_ms,
};

/// The table each kind lives in.
pub(super) fn table(kind: WorldKind) -> &'static str {
    match kind {
        WorldKind::Character => "world_characters",
        WorldKind::Place => "world_places",
        WorldKind::Item => "world_items",
        WorldKind::Beat => "world_beats",
    }
}

pub(super) fn put_character(
    tx: &Connection,
    story: &StoryId,
    c: &Character,
    position: i64,
    now: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO world_characters (story_id, id, branch_id, position, name, description,
             relationship, traits, visual, portrait, status, metadata, extra, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)
         ON CONFLICT (story_id, id) DO UPDATE SET branch_id = excluded.branch_id,
             name = excluded.name, description = excluded.description,
             relationship = excluded.relationship, traits = excluded.traits,
             visual = excluded.visual, portrait = excluded.portrait, status = excluded.status,
             metadata = excluded.metadata, extra = excluded.extra,
             updated_at = excluded.updated_at, deleted_at = NULL, by_text = 0",
    )?
    .execute(params![
        story.as_str(),
        c.id,
        c.branch_id,
        position,
        c.name,
        c.description,
        c.relationship,
        Value::from(c.traits.clone()).to_string(),
        looks_to_wire(&c.looks).to_string(),
        c.portrait,
        c.status.as_str(),
        c.metadata,
        c.extra,
        now
    ])?;
    Ok(())
}

pub(super) fn put_place(
    tx: &Connection,
    story: &StoryId,
    p: &Place,
    position: i64,
    now: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO world_places (story_id, id, branch_id, position, name, description, visited,
             current, connections, metadata, extra, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
         ON CONFLICT (story_id, id) DO UPDATE SET branch_id = excluded.branch_id,
             name = excluded.name, description = excluded.description,
             visited = excluded.visited, current = excluded.current,
             connections = excluded.connections, metadata = excluded.metadata,
             extra = excluded.extra, updated_at = excluded.updated_at, deleted_at = NULL, by_text = 0",
    )?
    .execute(params![
        story.as_str(),
        p.id,
        p.branch_id,
        position,
        p.name,
        p.description,
        p.visited,
        p.current,
        Value::from(p.connections.clone()).to_string(),
        p.metadata,
        p.extra,
        now
    ])?;
    Ok(())
}

pub(super) fn put_item(
    tx: &Connection,
    story: &StoryId,
    i: &Item,
    position: i64,
    now: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO world_items (story_id, id, branch_id, position, name, description, quantity,
             equipped, location, metadata, extra, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
         ON CONFLICT (story_id, id) DO UPDATE SET branch_id = excluded.branch_id,
             name = excluded.name, description = excluded.description,
             quantity = excluded.quantity, equipped = excluded.equipped,
             location = excluded.location, metadata = excluded.metadata,
             extra = excluded.extra, updated_at = excluded.updated_at, deleted_at = NULL, by_text = 0",
    )?
    .execute(params![
        story.as_str(),
        i.id,
        i.branch_id,
        position,
        i.name,
        i.description,
        i.quantity,
        i.equipped,
        i.location,
        i.metadata,
        i.extra,
        now
    ])?;
    Ok(())
}

pub(super) fn put_beat(
    tx: &Connection,
    story: &StoryId,
    b: &Beat,
    position: i64,
    now: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO world_beats (story_id, id, branch_id, position, title, description, kind,
             status, triggered_at, resolved_at, metadata, extra, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)
         ON CONFLICT (story_id, id) DO UPDATE SET branch_id = excluded.branch_id,
             title = excluded.title, description = excluded.description, kind = excluded.kind,
             status = excluded.status, triggered_at = excluded.triggered_at,
             resolved_at = excluded.resolved_at, metadata = excluded.metadata,
             extra = excluded.extra, updated_at = excluded.updated_at, deleted_at = NULL, by_text = 0",
    )?
    .execute(params![
        story.as_str(),
        b.id,
        b.branch_id,
        position,
        b.title,
        b.description,
        b.kind.as_str(),
        b.status.as_str(),
        b.triggered_at,
        b.resolved_at,
        b.metadata,
        b.extra,
        now
    ])?;
    Ok(())
}

/// Writes one row at its place (its own if it has one, else after the last of its kind).
pub(super) fn write_row(
    tx: &Connection,
    story: &StoryId,
    row: &WorldRow,
    now: i64,
) -> rusqlite::Result<()> {
    let kind = row.kind();
    let position: i64 = tx.query_row(
        &format!(
            "SELECT COALESCE((SELECT position FROM {0} WHERE story_id = ?1 AND id = ?2),
                    (SELECT COALESCE(MAX(position), -1) + 1 FROM {0} WHERE story_id = ?1))",
            table(kind)
        ),
        params![story.as_str(), row.id()],
        |r| r.get(0),
    )?;
    // A row new on a branch that carries its own copy of the world is that branch's.
    let owned;
    let row = match super::lineage::world_owner(tx, story)? {
        Some(Some(owner)) if row.branch_id().is_none() => {
            owned = row.clone().with_branch(Some(owner));
            &owned
        }
        _ => row,
    };
    match row {
        WorldRow::Character(c) => put_character(tx, story, c, position, now),
        WorldRow::Place(p) => put_place(tx, story, p, position, now),
        WorldRow::Item(i) => put_item(tx, story, i, position, now),
        WorldRow::Beat(b) => put_beat(tx, story, b, position, now),
    }
}

/// The story's time tracker set to `time`, its other keys kept.
pub(super) fn write_story_time(
    conn: &Connection,
    story: &StoryId,
    time: StoryTime,
) -> rusqlite::Result<()> {
    let previous: Option<String> = conn.query_row(
        "SELECT time_tracker FROM stories WHERE id = ?1",
        [story.as_str()],
        |r| r.get(0),
    )?;
    conn.execute(
        "UPDATE stories SET time_tracker = ?2 WHERE id = ?1",
        params![
            story.as_str(),
            story_time_to_wire(time, previous.as_deref())
        ],
    )?;
    Ok(())
}

fn json_strings(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn looks_of(text: &str) -> Looks {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => looks_from_map(map),
        _ => Looks::default(),
    }
}

fn character_row(r: &Row<'_>) -> rusqlite::Result<Character> {
    let status: String = r.get(8)?;
    Ok(Character {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        relationship: r.get(4)?,
        traits: json_strings(&r.get::<_, String>(5)?),
        looks: looks_of(&r.get::<_, String>(6)?),
        portrait: r.get(7)?,
        status: CharacterStatus::parse(&status).unwrap_or_default(),
        metadata: r.get(9)?,
        extra: r.get(10)?,
    })
}

fn place_row(r: &Row<'_>) -> rusqlite::Result<Place> {
    Ok(Place {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        visited: r.get(4)?,
        current: r.get(5)?,
        connections: json_strings(&r.get::<_, String>(6)?),
        metadata: r.get(7)?,
        extra: r.get(8)?,
    })
}

fn item_row(r: &Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        quantity: r.get(4)?,
        equipped: r.get(5)?,
        location: r.get(6)?,
        metadata: r.get(7)?,
        extra: r.get(8)?,
    })
}

fn beat_row(r: &Row<'_>) -> rusqlite::Result<Beat> {
    let kind: String = r.get(4)?;
    let status: String = r.get(5)?;
    Ok(Beat {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        title: r.get(2)?,
        description: r.get(3)?,
        kind: BeatKind::parse(&kind).unwrap_or_default(),
        status: BeatStatus::parse(&status).unwrap_or_default(),
        triggered_at: r.get(6)?,
        resolved_at: r.get(7)?,
        metadata: r.get(8)?,
        extra: r.get(9)?,
    })
}

/// The columns each kind's row reader takes, in its order.
fn columns(kind: WorldKind) -> &'static str {
    match kind {
        WorldKind::Character => {
            "id, branch_id, name, description, relationship, traits, visual, portrait, status, \
             metadata, extra"
        }
        WorldKind::Place => {
            "id, branch_id, name, description, visited, current, connections, metadata, extra"
        }
        WorldKind::Item => {
            "id, branch_id, name, description, quantity, equipped, location, metadata, extra"
        }
        WorldKind::Beat => {
            "id, branch_id, title, description, kind, status, triggered_at, resolved_at, \
             metadata, extra"
        }
    }
}

/// The live rows of one kind in their order; with `id`, only that row.
fn live_rows<T>(
    conn: &Connection,
    kind: WorldKind,
    story: &StoryId,
    id: Option<&str>,
    read: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    rows_where(conn, kind, story, id, " AND deleted_at IS NULL", read)
}

/// How a row stands, live or not: `None` when there is no such row at all.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Standing {
    Live,
    /// Taken away because the text that made it went (it comes back with the text).
    GoneWithText,
    /// In the Trash by the writer's hand.
    Trashed,
}

/// One row whatever its standing (for taking an update back or making it again).
pub(super) fn any_row(
    conn: &Connection,
    story: &StoryId,
    kind: WorldKind,
    id: &str,
) -> rusqlite::Result<Option<(WorldRow, Standing)>> {
    let standing: Option<(bool, bool)> = conn
        .query_row(
            &format!(
                "SELECT deleted_at IS NULL, by_text FROM {} WHERE story_id = ?1 AND id = ?2",
                table(kind)
            ),
            params![story.as_str(), id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((live, by_text)) = standing else {
        return Ok(None);
    };
    let standing = match (live, by_text) {
        (true, _) => Standing::Live,
        (false, true) => Standing::GoneWithText,
        (false, false) => Standing::Trashed,
    };
    let row = one_row(conn, story, kind, id, "")?;
    Ok(row.map(|row| (row, standing)))
}

/// The row of `kind` with `id`, as its kind's type, where `filter` lets it through.
pub(super) fn one_row(
    conn: &Connection,
    story: &StoryId,
    kind: WorldKind,
    id: &str,
    filter: &str,
) -> rusqlite::Result<Option<WorldRow>> {
    let one = Some(id);
    Ok(match kind {
        WorldKind::Character => rows_where(conn, kind, story, one, filter, character_row)?
            .pop()
            .map(|c| WorldRow::Character(Box::new(c))),
        WorldKind::Place => rows_where(conn, kind, story, one, filter, place_row)?
            .pop()
            .map(WorldRow::Place),
        WorldKind::Item => rows_where(conn, kind, story, one, filter, item_row)?
            .pop()
            .map(WorldRow::Item),
        WorldKind::Beat => rows_where(conn, kind, story, one, filter, beat_row)?
            .pop()
            .map(WorldRow::Beat),
    })
}

fn rows_where<T>(
    conn: &Connection,
    kind: WorldKind,
    story: &StoryId,
    id: Option<&str>,
    filter: &str,
    read: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let one = if id.is_some() { " AND id = :id" } else { "" };
    // Live rows are the shown branch's own copy when a branch from the original carries one.
    let owner = match filter.is_empty() {
        true => None,
        false => super::lineage::world_owner(conn, story)?,
    };
    let owned = if owner.is_some() {
        " AND branch_id IS :owner"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {} FROM {} WHERE story_id = :story{filter}{one}{owned} ORDER BY position, rowid",
        columns(kind),
        table(kind)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let owner = owner.flatten();
    let mut named: Vec<(&str, &dyn rusqlite::ToSql)> = vec![(":story", &story.0)];
    if let Some(id) = &id {
        named.push((":id", id));
    }
    if !owned.is_empty() {
        named.push((":owner", &owner));
    }
    stmt.query_map(named.as_slice(), read)?.collect()
}

pub(super) fn read_world(conn: &Connection, story: &StoryId) -> rusqlite::Result<World> {
    let time: Option<String> = conn
        .prepare_cached("SELECT time_tracker FROM stories WHERE id = ?1")?
        .query_row([story.as_str()], |r| r.get(0))
        .unwrap_or(None);
    Ok(World {
        characters: live_rows(conn, WorldKind::Character, story, None, character_row)?,
        places: live_rows(conn, WorldKind::Place, story, None, place_row)?,
        items: live_rows(conn, WorldKind::Item, story, None, item_row)?,
        beats: live_rows(conn, WorldKind::Beat, story, None, beat_row)?,
        time: story_time_from_wire(time.as_deref()),
    })
}

impl Store {
    /// One live row of the world as it stands (read by its id alone, not with the whole world).
    pub fn world_row(
        &self,
        story: &StoryId,
        kind: WorldKind,
        id: &str,
    ) -> Result<Option<WorldRow>> {
        let row = one_row(&self.conn, story, kind, id, " AND deleted_at IS NULL");
        row.map_err(|e| self.err(e))
    }

    /// Makes one update (or takes it back: `undo`) in one transaction, so the world never holds
    /// half of it. Only what the update itself changed is touched: a row or key changed since,
    /// by a newer update or by hand, keeps what it holds now, and a row the writer put in the
    /// Trash stays there.
    pub fn apply_world_changes(
        &self,
        story: &StoryId,
        applied: &crate::domain::world_change::Applied,
        undo: bool,
    ) -> Result<()> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.step()?;
        apply_in(&tx, story, applied, undo, now_ms()).map_err(err)?;
        tx.commit().map_err(err)
    }
}

/// How a hand Trash update names its row.
pub(super) fn row_key(kind: WorldKind, id: &str) -> String {
    format!("{}:{id}", kind.section())
}

pub(super) fn parse_row_key(key: &str) -> Option<(WorldKind, &str)> {
    let (section, id) = key.split_once(':')?;
    let kind = [
        WorldKind::Character,
        WorldKind::Place,
        WorldKind::Item,
        WorldKind::Beat,
    ]
    .into_iter()
    .find(|k| k.section() == section)?;
    Some((kind, id))
}

/// Puts a live row in the Trash (`trashed`) or brings one the writer's hand put there back; a
/// row in any other standing is left as it is.
pub(super) fn set_trashed(
    conn: &Connection,
    story: &StoryId,
    kind: WorldKind,
    id: &str,
    trashed: bool,
    now: i64,
) -> rusqlite::Result<()> {
    let standing = any_row(conn, story, kind, id)?.map(|(_, s)| s);
    let (from, to) = match trashed {
        true => (Standing::Live, Some(now)),
        false => (Standing::Trashed, None),
    };
    if standing == Some(from) {
        conn.execute(
            &format!(
                "UPDATE {} SET deleted_at = ?3, updated_at = ?4, by_text = 0
                 WHERE story_id = ?1 AND id = ?2",
                table(kind)
            ),
            params![story.as_str(), id, to, now],
        )?;
    }
    Ok(())
}

/// The rows of an update from one side to the other (`undo`: from after back to before).
pub(super) fn apply_in(
    tx: &Connection,
    story: &StoryId,
    applied: &crate::domain::world_change::Applied,
    undo: bool,
    now: i64,
) -> rusqlite::Result<()> {
    use crate::domain::world_merge::{rebase, shift_time};
    let sides =
        |(before, after): &(Option<WorldRow>, WorldRow)| -> (Option<WorldRow>, Option<WorldRow>) {
            if undo {
                (Some(after.clone()), before.clone())
            } else {
                (before.clone(), Some(after.clone()))
            }
        };
    // The scene is this update's to move only while the story is still where it left it.
    let left_at = applied.rows.iter().find_map(|pair| match sides(pair) {
        (Some(WorldRow::Place(p)), _) if p.current => Some(p.id),
        _ => None,
    });
    let keep_scene = match &left_at {
        Some(id) => current_place(tx, story)?.as_deref() != Some(id.as_str()),
        None => false,
    };
    let mut made_current = None;
    for pair in &applied.rows {
        let (from, to) = sides(pair);
        let kind = pair.1.kind();
        let id = pair.1.id();
        let now_row = any_row(tx, story, kind, id)?;
        let Some(to) = to else {
            if matches!(now_row, Some((_, Standing::Live))) {
                tx.execute(
                    &format!(
                        "UPDATE {} SET deleted_at = ?3, updated_at = ?3, by_text = 1
                         WHERE story_id = ?1 AND id = ?2",
                        table(kind)
                    ),
                    params![story.as_str(), id, now],
                )?;
            }
            continue;
        };
        let was_current =
            matches!(&now_row, Some((WorldRow::Place(p), Standing::Live)) if p.current);
        let mut row = match (now_row, from) {
            (Some((_, Standing::Trashed)), _) => continue,
            (Some((current, _)), Some(from)) => rebase(&current, &from, &to, keep_scene),
            (Some((current, _)), None) => current,
            (None, _) => to,
        };
        if let WorldRow::Place(p) = &mut row
            && p.current
        {
            if keep_scene && !was_current {
                p.current = false;
            } else {
                made_current = Some(p.id.clone());
            }
        }
        write_row(tx, story, &row, now)?;
    }
    if let Some(id) = made_current {
        tx.execute(
            "UPDATE world_places SET current = 0, updated_at = ?3
             WHERE story_id = ?1 AND id <> ?2 AND current = 1",
            params![story.as_str(), id, now],
        )?;
    }
    if let Some((before, after)) = applied.time {
        let (from, to) = if undo {
            (after, before)
        } else {
            (before, after)
        };
        let time = read_world_time(tx, story)?.unwrap_or(from);
        write_story_time(tx, story, shift_time(time, from, to))?;
    }
    Ok(())
}

fn current_place(conn: &Connection, story: &StoryId) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT id FROM world_places WHERE story_id = ?1 AND current = 1 AND deleted_at IS NULL
         ORDER BY updated_at DESC LIMIT 1",
        [story.as_str()],
        |r| r.get(0),
    )
    .optional()
}

pub(super) fn read_world_time(
    conn: &Connection,
    story: &StoryId,
) -> rusqlite::Result<Option<StoryTime>> {
    let text: Option<String> = conn
        .query_row(
            "SELECT time_tracker FROM stories WHERE id = ?1",
            [story.as_str()],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(story_time_from_wire(text.as_deref()))
}
