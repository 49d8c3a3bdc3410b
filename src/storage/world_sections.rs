//! The world in and out of exchange files and copies: the file's world sections stored in the
//! world's tables and written back from them (so files and sync carry the world), and a story's
//! rows copied for a duplicate.

use rusqlite::{Connection, Transaction, params};
use serde_json::Value;

use super::world::{put_beat, put_character, put_item, put_place, read_world, table};
use crate::domain::world_wire::{
    beat_from_wire, beat_to_wire, character_from_wire, character_to_wire, item_from_wire,
    item_to_wire, place_from_wire, place_to_wire,
};
use crate::domain::{StoryId, WorldKind, now_ms};

fn kind_of_section(name: &str) -> Option<WorldKind> {
    WorldKind::ALL.into_iter().find(|k| k.section() == name)
}

/// Stores the world sections among `sections` in their tables and returns the others, which are
/// kept verbatim. A world section that is not an array of objects is kept verbatim too: nothing
/// a file holds is dropped for being odd.
pub(super) fn store_world_sections<'a>(
    tx: &Transaction<'_>,
    story: &StoryId,
    sections: &'a [(String, String)],
) -> rusqlite::Result<Vec<&'a (String, String)>> {
    let now = now_ms();
    let mut verbatim = Vec::new();
    for section in sections {
        let (name, json) = section;
        let rows = kind_of_section(name).and_then(|kind| {
            let Ok(Value::Array(values)) = serde_json::from_str::<Value>(json) else {
                return None;
            };
            values
                .into_iter()
                .map(|v| match v {
                    Value::Object(map) => Some(map),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(|objects| (kind, objects))
        });
        let Some((kind, objects)) = rows else {
            verbatim.push(section);
            continue;
        };
        for (index, object) in objects.into_iter().enumerate() {
            let position = i64::try_from(index).unwrap_or(i64::MAX);
            match kind {
                WorldKind::Character => put_character(
                    tx,
                    story,
                    &character_from_wire(object, index),
                    position,
                    now,
                )?,
                WorldKind::Place => {
                    put_place(tx, story, &place_from_wire(object, index), position, now)?
                }
                WorldKind::Item => {
                    put_item(tx, story, &item_from_wire(object, index), position, now)?
                }
                WorldKind::Beat => {
                    put_beat(tx, story, &beat_from_wire(object, index), position, now)?
                }
            }
        }
    }
    Ok(verbatim)
}

/// Removes the story's world rows and chapters (before a replace writes the file's).
pub(super) fn clear_world(tx: &Transaction<'_>, story: &StoryId) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM chapters WHERE story_id = ?1", [story.as_str()])?;
    for kind in WorldKind::ALL {
        tx.execute(
            &format!("DELETE FROM {} WHERE story_id = ?1", table(kind)),
            [story.as_str()],
        )?;
    }
    Ok(())
}

/// The world sections as the exchange format has them (compact JSON text, the live rows in their
/// order), each named by its section, for export and for comparing with an arriving file.
pub(super) fn world_sections(
    conn: &Connection,
    story: &StoryId,
) -> rusqlite::Result<Vec<(String, String)>> {
    let world = read_world(conn, story)?;
    let id = story.as_str();
    let sections = [
        (
            WorldKind::Character,
            world
                .characters
                .iter()
                .map(|c| character_to_wire(c, id))
                .collect::<Vec<_>>(),
        ),
        (
            WorldKind::Place,
            world.places.iter().map(|p| place_to_wire(p, id)).collect(),
        ),
        (
            WorldKind::Item,
            world.items.iter().map(|i| item_to_wire(i, id)).collect(),
        ),
        (
            WorldKind::Beat,
            world.beats.iter().map(|b| beat_to_wire(b, id)).collect(),
        ),
    ];
    Ok(sections
        .into_iter()
        .map(|(kind, rows)| (kind.section().to_owned(), Value::Array(rows).to_string()))
        .collect())
}

/// Copies a story's rows of `table` to the story `to`, every column as it is but the story's id
/// (and `id`, when `new_id` gives the SQL for a fresh one): the columns are read from the schema,
/// so one added later is copied too.
pub(super) fn copy_story_rows(
    tx: &Transaction<'_>,
    table: &str,
    from: &StoryId,
    to: &StoryId,
    new_id: Option<&str>,
) -> rusqlite::Result<()> {
    let names: Vec<String> = tx
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?
        .query_map([table], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let values: Vec<String> = names
        .iter()
        .map(|name| match (name.as_str(), new_id) {
            ("story_id", _) => "?2".to_owned(),
            ("id", Some(fresh)) => fresh.to_owned(),
            _ => name.clone(),
        })
        .collect();
    tx.execute(
        &format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {table} WHERE story_id = ?1 AND deleted_at IS NULL",
            names.join(", "),
            values.join(", ")
        ),
        params![from.as_str(), to.as_str()],
    )?;
    Ok(())
}
