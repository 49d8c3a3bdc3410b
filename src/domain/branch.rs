//! A story's tree of branches and its checkpoints: each branch forks from an entry of its parent
//! (the main line when it has none) and sees its ancestors' entries up to each fork, then its
//! own; a checkpoint is a named moment. Both also in the exchange format's shapes (the
//! `branches` and `checkpoints` sections), read leniently and written back as they came, and the
//! checks that refuse a tree that cannot be (a cycle, a missing parent, a fork entry absent).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::EntryId;
use super::world_wire::{Reading, Writing};

/// One branch of a story.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Branch {
    pub id: String,
    pub name: String,
    /// `None`: it forks from the main line.
    pub parent: Option<String>,
    /// The entry (on the parent's lineage) it forks after; it sees that entry and those before.
    pub fork_entry: EntryId,
    pub checkpoint: Option<String>,
    pub created_at: i64,
    pub extra: Option<String>,
    /// A branch from the original's file, which carries its own copy of the world and lorebook
    /// (rows tagged with it) instead of inheriting its ancestors'.
    pub own_world: bool,
}

/// A named moment of a story: the entry it is after, on the branch it was made on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    pub id: String,
    pub name: String,
    pub entry: EntryId,
    pub branch: Option<String>,
    pub preview: Option<String>,
    pub entry_count: i64,
    pub created_at: i64,
    /// The original's snapshots and anything else not modelled, kept for export.
    pub extra: Option<String>,
}

/// What the Branches panel says of a branch beside its name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BranchFacts {
    pub id: String,
    /// Its own entries (the shared ones are its ancestors').
    pub entries: i64,
    /// When one of its own entries was last written (its making, before any).
    pub last_edited: i64,
    /// The start of the entry it forks after.
    pub fork_preview: String,
}

/// What a checkpoint shows of its moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckpointMoment {
    pub world: super::World,
    /// Name and description of each lore entry then (the original's snapshot when the
    /// checkpoint came from its file).
    pub lore: Vec<(String, String)>,
    /// Whether the lorebook was kept with the checkpoint (else `lore` is as it stands now).
    pub lore_kept: bool,
}

pub fn branch_from_wire(object: Map<String, Value>, index: usize) -> Branch {
    let mut r = Reading::new(object);
    let id = r
        .take("id", |v| {
            v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
        })
        .unwrap_or_else(|| format!("branch-{index}"));
    let name = r.text("name").unwrap_or_default();
    let parent = r.text("parentBranchId");
    let fork_entry = EntryId::from(r.text("forkEntryId").unwrap_or_default().as_str());
    let checkpoint = r.text("checkpointId");
    let created_at = r.peek("createdAt").and_then(Value::as_i64).unwrap_or(0);
    Branch {
        id,
        name,
        parent,
        fork_entry,
        checkpoint,
        created_at,
        extra: r.extra(),
        own_world: false,
    }
}

pub fn branch_to_wire(b: &Branch, story_id: &str) -> Value {
    let text = |t: &Option<String>| t.clone().map_or(Value::Null, Value::from);
    let Value::Object(mut map) = Writing::new(&b.id, story_id)
        .put("name", b.name.as_str())
        .put("parentBranchId", text(&b.parent))
        .put("forkEntryId", b.fork_entry.as_str())
        .put("checkpointId", text(&b.checkpoint))
        .finish_kept(&b.extra)
    else {
        return Value::Null;
    };
    map.entry("createdAt").or_insert(b.created_at.into());
    Value::Object(map)
}

pub fn checkpoint_from_wire(object: Map<String, Value>, index: usize) -> Checkpoint {
    let mut r = Reading::new(object);
    let id = r
        .take("id", |v| {
            v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
        })
        .unwrap_or_else(|| format!("checkpoint-{index}"));
    let name = r.text("name").unwrap_or_default();
    let entry = EntryId::from(r.text("lastEntryId").unwrap_or_default().as_str());
    let preview = r.text("lastEntryPreview");
    let entry_count = r.take("entryCount", Value::as_i64).unwrap_or(0);
    // The original has no branch on a checkpoint; where its snapshot says, it is left there.
    let branch = r
        .peek("branchId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let created_at = r.peek("createdAt").and_then(Value::as_i64).unwrap_or(0);
    Checkpoint {
        id,
        name,
        entry,
        branch,
        preview,
        entry_count,
        created_at,
        extra: r.extra(),
    }
}

pub fn checkpoint_to_wire(c: &Checkpoint, story_id: &str) -> Value {
    let Value::Object(mut map) = Writing::new(&c.id, story_id)
        .put("name", c.name.as_str())
        .put("lastEntryId", c.entry.as_str())
        .put(
            "lastEntryPreview",
            c.preview.clone().map_or(Value::Null, Value::from),
        )
        .put("entryCount", c.entry_count)
        .finish_kept(&c.extra)
    else {
        return Value::Null;
    };
    map.entry("createdAt").or_insert(c.created_at.into());
    Value::Object(map)
}

/// Why a tree cannot be taken as it is.
pub fn check_tree(
    branches: &[Branch],
    entry_branch: &HashMap<EntryId, Option<String>>,
) -> Result<(), String> {
    let by_id: HashMap<&str, &Branch> = branches.iter().map(|b| (b.id.as_str(), b)).collect();
    if by_id.len() != branches.len() {
        return Err("Two branches have the same id.".into());
    }
    for b in branches {
        if let Some(parent) = &b.parent
            && !by_id.contains_key(parent.as_str())
        {
            return Err(format!(
                "The branch “{}” names a parent branch that is not in the file.",
                b.name
            ));
        }
        let mut seen = HashSet::new();
        let mut at = Some(b);
        while let Some(branch) = at {
            if !seen.insert(branch.id.as_str()) {
                return Err(format!(
                    "The branches form a loop (“{}” is its own ancestor).",
                    b.name
                ));
            }
            at = branch.parent.as_deref().and_then(|p| by_id.get(p).copied());
        }
        match entry_branch.get(&b.fork_entry) {
            None => {
                return Err(format!(
                    "The branch “{}” forks from an entry that is not in the file.",
                    b.name
                ));
            }
            Some(on) if !lineage_ids(&by_id, b.parent.as_deref()).contains(on) => {
                return Err(format!(
                    "The branch “{}” forks from an entry that is not on its parent's line.",
                    b.name
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The branches a lineage runs through, from `branch` up to the main line (`None`).
fn lineage_ids(by_id: &HashMap<&str, &Branch>, branch: Option<&str>) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut at = branch;
    while let Some(id) = at {
        if out.contains(&Some(id.to_owned())) {
            break;
        }
        out.push(Some(id.to_owned()));
        at = by_id.get(id).and_then(|b| b.parent.as_deref());
    }
    out.push(None);
    out
}

/// What a branch sees: for each branch of its lineage (the main line as `None`), entries up to
/// this position (its own, the last, without a bound).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lineage {
    pub segments: Vec<(Option<String>, Option<i64>)>,
    /// Entries of an ancestor that a branch's own copy stands in for (a branch made from
    /// another alternative of its fork entry starts with that copy).
    pub replaced: Vec<String>,
}

impl Lineage {
    /// The main line alone: every entry with no branch.
    pub fn main() -> Self {
        Self {
            segments: vec![(None, None)],
            replaced: Vec::new(),
        }
    }

    /// `branch`'s lineage, given each branch and the position of each fork entry.
    pub fn of(
        branch: Option<&str>,
        branches: &[Branch],
        fork_position: &dyn Fn(&EntryId) -> Option<i64>,
    ) -> Self {
        let by_id: HashMap<&str, &Branch> = branches.iter().map(|b| (b.id.as_str(), b)).collect();
        let mut segments = Vec::new();
        let mut bound: Option<i64> = None;
        let mut at = branch;
        let mut seen = HashSet::new();
        while let Some(id) = at {
            let Some(b) = by_id.get(id) else {
                break;
            };
            if !seen.insert(id) {
                break;
            }
            segments.push((Some(id.to_owned()), bound));
            bound = fork_position(&b.fork_entry);
            at = b.parent.as_deref();
        }
        segments.push((None, bound));
        Self {
            segments,
            replaced: Vec::new(),
        }
    }

    /// The SQL condition on an entries row (`table`'s branch_id and position, e.g. `e.`, or
    /// `""` for the query's own table) and its bound values, numbered from `?{first}`.
    pub fn condition(&self, table: &str, first: usize) -> (String, Vec<LineageValue>) {
        let mut parts = Vec::new();
        let mut values = Vec::new();
        for (branch, up_to) in &self.segments {
            let mut part = match branch {
                Some(id) => {
                    values.push(LineageValue::Text(id.clone()));
                    format!("{table}branch_id = ?{}", first + values.len() - 1)
                }
                None => format!("{table}branch_id IS NULL"),
            };
            if let Some(p) = up_to {
                values.push(LineageValue::Int(*p));
                part.push_str(&format!(
                    " AND {table}position <= ?{}",
                    first + values.len() - 1
                ));
            }
            parts.push(format!("({part})"));
        }
        let mut condition = format!("({})", parts.join(" OR "));
        if !self.replaced.is_empty() {
            let mut holes = Vec::new();
            for id in &self.replaced {
                values.push(LineageValue::Text(id.clone()));
                holes.push(format!("?{}", first + values.len() - 1));
            }
            condition = format!("({condition} AND {table}id NOT IN ({}))", holes.join(", "));
        }
        (condition, values)
    }

    /// The branches the lineage runs through (the main line as `None`).
    pub fn branches(&self) -> impl Iterator<Item = Option<&str>> {
        self.segments.iter().map(|(b, _)| b.as_deref())
    }
}

/// A value a lineage condition binds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineageValue {
    Text(String),
    Int(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(id: &str, parent: Option<&str>, fork: &str) -> Branch {
        Branch {
            id: id.into(),
            name: id.to_uppercase(),
            parent: parent.map(str::to_owned),
            fork_entry: EntryId::from(fork),
            ..Branch::default()
        }
    }

    #[test]
    fn a_lineage_runs_up_to_each_fork() {
        let tree = [branch("b1", None, "m3"), branch("b2", Some("b1"), "x7")];
        let position = |e: &EntryId| match e.as_str() {
            "m3" => Some(3),
            "x7" => Some(7),
            _ => None,
        };
        let lineage = Lineage::of(Some("b2"), &tree, &position);
        assert_eq!(
            lineage.segments,
            [
                (Some("b2".to_owned()), None),
                (Some("b1".to_owned()), Some(7)),
                (None, Some(3))
            ]
        );
        let (sql, values) = lineage.condition("e.", 3);
        assert_eq!(
            sql,
            "((e.branch_id = ?3) OR (e.branch_id = ?4 AND e.position <= ?5) OR (e.branch_id IS NULL AND e.position <= ?6))"
        );
        assert_eq!(values.len(), 4);
        assert_eq!(Lineage::of(None, &tree, &position), Lineage::main());
    }

    #[test]
    fn a_tree_that_cannot_be_is_refused_with_a_reason() {
        let entries: HashMap<EntryId, Option<String>> = [
            (EntryId::from("m1"), None),
            (EntryId::from("a1"), Some("a".to_owned())),
        ]
        .into_iter()
        .collect();
        assert!(
            check_tree(
                &[branch("a", None, "m1"), branch("b", Some("a"), "a1")],
                &entries
            )
            .is_ok()
        );
        let cycle = [branch("a", Some("b"), "m1"), branch("b", Some("a"), "a1")];
        assert!(
            check_tree(&cycle, &entries)
                .expect_err("cycle")
                .contains("loop")
        );
        let orphan = [branch("a", Some("gone"), "m1")];
        assert!(
            check_tree(&orphan, &entries)
                .expect_err("orphan")
                .contains("parent branch")
        );
        let absent = [branch("a", None, "nowhere")];
        assert!(
            check_tree(&absent, &entries)
                .expect_err("absent")
                .contains("not in the file")
        );
        let elsewhere = [branch("a", None, "m1"), branch("c", None, "a1")];
        assert!(
            check_tree(&elsewhere, &entries)
                .expect_err("off line")
                .contains("parent's line")
        );
    }
}
