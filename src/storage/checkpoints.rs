//! Checkpoints: named moments of a story, made on the branch shown with the lorebook as it stood
//! (lore is not tied to entries, so it is kept; the world is read again from the lineage up to
//! the checkpoint's entry, since every change to it is tied to an entry), renamed, deleted.

use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use super::branches::{changed_one, put_checkpoint};
use super::{Result, Store, StoreError};
use crate::domain::branch::{BranchFacts, Checkpoint, CheckpointMoment, Lineage};
use crate::domain::{EntryId, LoreEntry, StoryId, new_uuid, now_ms};

/// Fabula's key for the lorebook a checkpoint saw, in the checkpoint's kept keys (the original's
/// `lorebookEntriesSnapshot` of a file's checkpoint is kept beside it as it came).
const LORE_SNAPSHOT: &str = "fabulaLoreSnapshot";

fn lore_snapshot(lore: &[LoreEntry]) -> Value {
    let entries: Vec<Value> = lore
        .iter()
        .map(|l| {
            json!({
                "id": l.id.as_str(),
                "name": l.name,
                "type": l.kind.as_str(),
                "description": l.description,
            })
        })
        .collect();
    json!({ LORE_SNAPSHOT: entries })
}

fn snapshot_lore(extra: Option<&str>) -> Option<Vec<(String, String)>> {
    let value: Value = serde_json::from_str(extra?).ok()?;
    let list = value
        .get(LORE_SNAPSHOT)
        .or_else(|| value.get("lorebookEntriesSnapshot"))?
        .as_array()?;
    Some(
        list.iter()
            .map(|l| {
                let text = |k: &str| l.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                (text("name"), text("description"))
            })
            .collect(),
    )
}

impl Store {
    /// Each branch's own entry count, last edit and fork, in one read of the entries per
    /// branch (by the index on branch and position) and one per fork entry.
    pub fn branch_facts(&self, story: &StoryId) -> Result<Vec<BranchFacts>> {
        let err = |e| self.err(e);
        let mut counts = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*), MAX(updated_at) FROM entries
                 WHERE story_id = ?1 AND branch_id = ?2 AND deleted_at IS NULL",
            )
            .map_err(err)?;
        let mut fork = self
            .conn
            .prepare_cached("SELECT substr(content, 1, 120) FROM entries WHERE id = ?1")
            .map_err(err)?;
        let mut out = Vec::new();
        for b in self.branches(story)? {
            let (entries, last): (i64, Option<i64>) = counts
                .query_row(params![story.as_str(), b.id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(err)?;
            let preview: Option<String> = fork
                .query_row([b.fork_entry.as_str()], |r| r.get(0))
                .optional()
                .map_err(err)?;
            out.push(BranchFacts {
                id: b.id.clone(),
                entries,
                last_edited: last.unwrap_or(b.created_at),
                fork_preview: crate::domain::preview(preview.as_deref().unwrap_or(""), 40),
            });
        }
        Ok(out)
    }

    /// A named checkpoint at `entry`, on the branch the story shows.
    pub fn create_checkpoint(
        &self,
        story: &StoryId,
        entry: &EntryId,
        name: &str,
    ) -> Result<Checkpoint> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("A checkpoint needs a name.".into()));
        }
        let row = self.entry(entry)?;
        let checkpoint = Checkpoint {
            id: new_uuid(),
            name: name.to_owned(),
            entry: entry.clone(),
            branch: self.current_branch(story)?,
            preview: Some(crate::domain::preview(&row.content, 100)),
            entry_count: row.position + 1,
            created_at: now_ms(),
            extra: Some(lore_snapshot(&self.lore(story)?).to_string()),
        };
        put_checkpoint(&self.conn, story, &checkpoint).map_err(|e| self.err(e))?;
        Ok(checkpoint)
    }

    pub fn delete_checkpoint(&self, story: &StoryId, id: &str) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE checkpoints SET deleted_at = ?3 WHERE story_id = ?1 AND id = ?2 AND deleted_at IS NULL",
                params![story.as_str(), id, now_ms()],
            )
            .map_err(|e| self.err(e))?;
        changed_one(changed, || format!("Checkpoint {id}"))
    }

    pub fn rename_checkpoint(&self, story: &StoryId, id: &str, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("A checkpoint needs a name.".into()));
        }
        let changed = self
            .conn
            .execute(
                "UPDATE checkpoints SET name = ?3 WHERE story_id = ?1 AND id = ?2 AND deleted_at IS NULL",
                params![story.as_str(), id, name],
            )
            .map_err(|e| self.err(e))?;
        changed_one(changed, || format!("Checkpoint {id}"))
    }

    /// The world and lorebook at a checkpoint's moment: the world its lineage's updates made up
    /// to the checkpoint's entry (worked out in a savepoint that is rolled back, nothing
    /// copied), the lorebook as it was kept.
    pub fn checkpoint_moment(&self, story: &StoryId, id: &str) -> Result<CheckpointMoment> {
        let Some(checkpoint) = self.checkpoints(story)?.into_iter().find(|c| c.id == id) else {
            return Err(StoreError::NotFound(format!("Checkpoint {id}")));
        };
        let entry = self.entry(&checkpoint.entry)?;
        let on = self.entry_branch(&checkpoint.entry)?;
        let full = self.lineage(story, checkpoint.branch.as_deref())?;
        // The lineage cut at the checkpoint's entry: the branches below the one it is on drop
        // out, and that one ends at it.
        let mut segments = Vec::new();
        for (branch, bound) in full.segments.iter().rev() {
            let bound = match branch == &on {
                true => Some(bound.map_or(entry.position, |b| b.min(entry.position))),
                false => *bound,
            };
            segments.insert(0, (branch.clone(), bound));
            if branch == &on {
                break;
            }
        }
        let cut = Lineage {
            segments,
            replaced: full.replaced,
        };
        let world = self.world_seen(story, checkpoint.branch.as_deref(), Some(&cut))?;
        let kept = snapshot_lore(checkpoint.extra.as_deref());
        let lore_kept = kept.is_some();
        let lore = match kept {
            Some(lore) => lore,
            None => self
                .lore(story)?
                .into_iter()
                .map(|l| (l.name, l.description))
                .collect(),
        };
        Ok(CheckpointMoment {
            world,
            lore,
            lore_kept,
        })
    }
}
