//! A file's `branches` and `checkpoints` sections and the tables: read in (a tree that cannot be
//! is refused, and nothing is written), written back as they came, cleared for a replace and
//! copied for Duplicate.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::Value;

use super::branches::{put_branch, put_checkpoint, read_checkpoints};
use super::lineage::read_branches;
use super::{Result, StoreError};
use crate::domain::branch::{
    Branch, branch_from_wire, branch_to_wire, check_tree, checkpoint_from_wire, checkpoint_to_wire,
};
use crate::domain::{EntryId, StoryId};

pub(super) const BRANCHES: &str = "branches";
pub(super) const CHECKPOINTS: &str = "checkpoints";

/// The objects of a section that is a non-empty array of objects (anything else is kept
/// verbatim by the caller).
fn objects(json: &str) -> Option<Vec<serde_json::Map<String, Value>>> {
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
        .filter(|o| !o.is_empty())
}

/// Refuses a file's branch tree that cannot be (a cycle, a missing parent, a fork entry that is
/// not in the story or not on its parent's line), naming the problem; the entries are in the
/// transaction already.
pub(super) fn check_branch_section(
    tx: &Transaction<'_>,
    story: &StoryId,
    sections: &[(String, String)],
) -> Result<()> {
    let Some(json) = sections.iter().find(|(n, _)| n == BRANCHES).map(|(_, j)| j) else {
        return Ok(());
    };
    let Some(objects) = objects(json) else {
        return Ok(());
    };
    let branches: Vec<Branch> = objects
        .into_iter()
        .enumerate()
        .map(|(i, o)| branch_from_wire(o, i))
        .collect();
    let mut on = HashMap::new();
    let mut stmt = tx
        .prepare_cached("SELECT branch_id FROM entries WHERE story_id = ?1 AND id = ?2")
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    for b in &branches {
        let found: Option<Option<String>> = stmt
            .query_row(params![story.as_str(), b.fork_entry.as_str()], |r| r.get(0))
            .optional()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        if let Some(branch) = found {
            on.insert(b.fork_entry.clone(), branch);
        }
    }
    check_tree(&branches, &on)
        .map_err(|why| StoreError::Invalid(format!("The file's branches cannot be read: {why}")))
}

/// Stores a `branches` or `checkpoints` section in its table when it holds objects; returns
/// whether it did.
pub(super) fn store_branch_section(
    tx: &Transaction<'_>,
    story: &StoryId,
    name: &str,
    json: &str,
) -> rusqlite::Result<bool> {
    if name != BRANCHES && name != CHECKPOINTS {
        return Ok(false);
    }
    let Some(objects) = objects(json) else {
        return Ok(false);
    };
    for (i, object) in objects.into_iter().enumerate() {
        if name == BRANCHES {
            put_branch(tx, story, &branch_from_wire(object, i))?;
        } else {
            put_checkpoint(tx, story, &checkpoint_from_wire(object, i))?;
        }
    }
    Ok(true)
}

/// The sections as the exchange format has them, for the tables that hold rows.
pub(super) fn branch_sections(
    conn: &Connection,
    story: &StoryId,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let branches = read_branches(conn, story)?;
    if !branches.is_empty() {
        let rows: Vec<Value> = branches
            .iter()
            .map(|b| branch_to_wire(b, story.as_str()))
            .collect();
        out.push((BRANCHES.to_owned(), Value::Array(rows).to_string()));
    }
    let checkpoints = read_checkpoints(conn, story)?;
    if !checkpoints.is_empty() {
        let rows: Vec<Value> = checkpoints
            .iter()
            .map(|c| checkpoint_to_wire(c, story.as_str()))
            .collect();
        out.push((CHECKPOINTS.to_owned(), Value::Array(rows).to_string()));
    }
    Ok(out)
}

/// A story's branches and checkpoints copied to `to`, their entries renamed through `entries`
/// (old id → new); one whose entry was not copied (in the Trash) stays behind.
pub(super) fn copy_tree(
    tx: &Transaction<'_>,
    from: &StoryId,
    to: &StoryId,
    entries: &HashMap<String, String>,
) -> rusqlite::Result<()> {
    for mut b in read_branches(tx, from)? {
        let Some(fork) = entries.get(b.fork_entry.as_str()) else {
            continue;
        };
        b.fork_entry = EntryId::from(fork.as_str());
        put_branch(tx, to, &b)?;
    }
    for mut c in read_checkpoints(tx, from)? {
        let Some(entry) = entries.get(c.entry.as_str()) else {
            continue;
        };
        c.entry = EntryId::from(entry.as_str());
        put_checkpoint(tx, to, &c)?;
    }
    Ok(())
}

/// Marks the branches of a file from the original that carry their own copy of the world (rows
/// tagged with them), which stand in for their ancestors' on their lineage; and reads the links
/// of Fabula's own copies on a branch.
pub(super) fn mark_own_worlds(tx: &Connection, story: &StoryId) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE branches SET own_world = EXISTS (
             SELECT 1 FROM world_characters w WHERE w.story_id = ?1 AND w.branch_id = branches.id
             UNION ALL SELECT 1 FROM world_places w WHERE w.story_id = ?1 AND w.branch_id = branches.id
             UNION ALL SELECT 1 FROM world_items w WHERE w.story_id = ?1 AND w.branch_id = branches.id
             UNION ALL SELECT 1 FROM world_beats w WHERE w.story_id = ?1 AND w.branch_id = branches.id)
         WHERE story_id = ?1",
        [story.as_str()],
    )?;
    // Fabula's own links between a branch's copy and what it stands in for travel in the rows'
    // kept keys (renamed with the ids when an import gives ids anew).
    tx.execute(
        "UPDATE entries SET replaces = json_extract(extra, '$.replacesEntryId')
         WHERE story_id = ?1 AND extra LIKE '%replacesEntryId%' AND json_valid(extra)",
        [story.as_str()],
    )?;
    tx.execute(
        "UPDATE lore_entries SET shadows = json_extract(extra, '$.shadowsLoreId')
         WHERE story_id = ?1 AND extra LIKE '%shadowsLoreId%' AND json_valid(extra)",
        [story.as_str()],
    )?;
    Ok(())
}

pub(super) fn clear_branches(tx: &Transaction<'_>, story: &StoryId) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM branches WHERE story_id = ?1", [story.as_str()])?;
    tx.execute(
        "DELETE FROM checkpoints WHERE story_id = ?1",
        [story.as_str()],
    )?;
    Ok(())
}
