//! How a story's tree is read: its branches, the lineage a branch sees its entries through, the
//! branch shown, and which world and lore rows a lineage sees.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row};

use crate::domain::branch::{Branch, Lineage, LineageValue};
use crate::domain::{EntryId, StoryId};

pub(super) fn branch_row(r: &Row<'_>) -> rusqlite::Result<Branch> {
    Ok(Branch {
        id: r.get(0)?,
        name: r.get(1)?,
        parent: r.get(2)?,
        fork_entry: EntryId::from(r.get::<_, String>(3)?.as_str()),
        checkpoint: r.get(4)?,
        created_at: r.get(5)?,
        extra: r.get(6)?,
        own_world: r.get(7)?,
    })
}

pub(super) fn read_branches(conn: &Connection, story: &StoryId) -> rusqlite::Result<Vec<Branch>> {
    conn.prepare_cached(
        "SELECT id, name, parent_id, fork_entry_id, checkpoint_id, created_at, extra, own_world
         FROM branches WHERE story_id = ?1 AND deleted_at IS NULL ORDER BY rowid",
    )?
    .query_map([story.as_str()], branch_row)?
    .collect()
}

/// What `current` (the branch shown, or the pinned one) sees, as a condition on `table`'s
/// entries row with its values, numbered from `?{from}`: `None` for a story without branches,
/// whose every entry is on its one line (also entries a file tagged with a branch it did not
/// describe).
pub(super) fn lineage_sql(
    conn: &Connection,
    story: &StoryId,
    current: Option<&str>,
    table: &str,
    from: usize,
) -> rusqlite::Result<Option<(String, Vec<rusqlite::types::Value>)>> {
    let Some(lineage) = tree_lineage(conn, story, current)? else {
        return Ok(None);
    };
    let (condition, values) = lineage.condition(table, from);
    Ok(Some((condition, sql_values(values))))
}

/// What `current` sees, or `None` for a story without branches (every entry on its one line).
pub(super) fn tree_lineage(
    conn: &Connection,
    story: &StoryId,
    current: Option<&str>,
) -> rusqlite::Result<Option<Lineage>> {
    let has_branches: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM branches WHERE story_id = ?1 AND deleted_at IS NULL)",
        )?
        .query_row([story.as_str()], |r| r.get(0))?;
    if !has_branches && current.is_none() {
        return Ok(None);
    }
    lineage_of(conn, story, current).map(Some)
}

/// A lineage condition's values as SQLite binds them.
pub(super) fn sql_values(values: Vec<LineageValue>) -> Vec<rusqlite::types::Value> {
    values
        .into_iter()
        .map(|v| match v {
            LineageValue::Text(t) => rusqlite::types::Value::Text(t),
            LineageValue::Int(i) => rusqlite::types::Value::Integer(i),
        })
        .collect()
}

/// `branch` and its ancestors, nearest first (a loop in a tree read from a file ends it).
fn way_up<'a>(branches: &'a [Branch], branch: &str) -> Vec<&'a Branch> {
    let by_id: HashMap<&str, &Branch> = branches.iter().map(|b| (b.id.as_str(), b)).collect();
    let mut chain: Vec<&Branch> = Vec::new();
    let mut at = Some(branch);
    while let Some(id) = at {
        let Some(b) = by_id.get(id) else {
            break;
        };
        if chain.iter().any(|c| c.id == b.id) {
            break;
        }
        chain.push(b);
        at = b.parent.as_deref();
    }
    chain
}

pub(super) fn lineage_of(
    conn: &Connection,
    story: &StoryId,
    branch: Option<&str>,
) -> rusqlite::Result<Lineage> {
    let Some(branch) = branch else {
        return Ok(Lineage::main());
    };
    let branches = read_branches(conn, story)?;
    // Only the forks on this branch's way up to the main line are read.
    let chain = way_up(&branches, branch);
    let mut positions = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT position FROM entries WHERE id = ?1")?;
    for b in chain {
        if let Some(p) = stmt
            .query_row([b.fork_entry.as_str()], |r| r.get::<_, i64>(0))
            .optional()?
        {
            positions.insert(b.fork_entry.clone(), p);
        }
    }
    let mut lineage = Lineage::of(Some(branch), &branches, &|e| positions.get(e).copied());
    let mut replacing = conn.prepare_cached(
        "SELECT replaces FROM entries WHERE story_id = ?1 AND branch_id = ?2
             AND replaces IS NOT NULL AND deleted_at IS NULL",
    )?;
    for on in lineage
        .branches()
        .flatten()
        .map(str::to_owned)
        .collect::<Vec<_>>()
    {
        let replaced = replacing
            .query_map(rusqlite::params![story.as_str(), on], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        lineage.replaced.extend(replaced);
    }
    Ok(lineage)
}

/// The branch the story shows: the one its world tables stand for, whatever a connection is
/// pinned to.
pub(super) fn shown_branch(conn: &Connection, story: &StoryId) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT current_branch_id FROM stories WHERE id = ?1")?
        .query_row([story.as_str()], |r| r.get::<_, Option<String>>(0))
        .optional()
        .map(Option::flatten)
}

/// The branches from `branch` up to the main line (`None`, last), as far as one carries its own
/// world: the lore (and, for the deepest such, the world rows) a lineage sees are tagged with
/// one of these.
pub(super) fn world_chain(
    conn: &Connection,
    story: &StoryId,
    branch: Option<&str>,
) -> rusqlite::Result<Vec<Option<String>>> {
    let Some(branch) = branch else {
        return Ok(vec![None]);
    };
    let branches = read_branches(conn, story)?;
    let mut chain = Vec::new();
    for b in way_up(&branches, branch) {
        chain.push(Some(b.id.clone()));
        if b.own_world {
            return Ok(chain);
        }
    }
    chain.push(None);
    Ok(chain)
}

/// Which world rows the story shows: `None` for a story whose branches all inherit (every row
/// is the shown lineage's, kept in step by its updates), else the rows tagged with the nearest
/// branch carrying its own copy (`Some(None)`: the main line's).
pub(super) fn world_owner(
    conn: &Connection,
    story: &StoryId,
) -> rusqlite::Result<Option<Option<String>>> {
    let any_own: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM branches WHERE story_id = ?1 AND own_world = 1
                 AND deleted_at IS NULL)",
        )?
        .query_row([story.as_str()], |r| r.get(0))?;
    if !any_own {
        return Ok(None);
    }
    let shown = shown_branch(conn, story)?;
    let chain = world_chain(conn, story, shown.as_deref())?;
    Ok(Some(chain.last().cloned().flatten()))
}
