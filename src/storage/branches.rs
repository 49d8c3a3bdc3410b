//! A story's branches and checkpoints: their tables' rows, the lineage each branch reads its
//! entries through, the story's current branch (or a connection's pinned one), and branches
//! made, renamed and put in the Trash. The exchange file's sections are in branch_sections.rs.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::lineage::{lineage_of, read_branches};
use super::{Result, Store, StoreError};
use crate::domain::branch::{Branch, Checkpoint, Lineage};
use crate::domain::{EntryId, StoryId, new_uuid, now_ms};

/// One row changed, or the thing was not there.
pub(super) fn changed_one(changed: usize, what: impl FnOnce() -> String) -> Result<()> {
    if changed == 0 {
        return Err(StoreError::NotFound(what()));
    }
    Ok(())
}
fn checkpoint_row(r: &Row<'_>) -> rusqlite::Result<Checkpoint> {
    Ok(Checkpoint {
        id: r.get(0)?,
        name: r.get(1)?,
        entry: EntryId::from(r.get::<_, String>(2)?.as_str()),
        branch: r.get(3)?,
        preview: r.get(4)?,
        entry_count: r.get(5)?,
        created_at: r.get(6)?,
        extra: r.get(7)?,
    })
}

pub(super) fn read_checkpoints(
    conn: &Connection,
    story: &StoryId,
) -> rusqlite::Result<Vec<Checkpoint>> {
    conn.prepare_cached(
        "SELECT id, name, entry_id, branch_id, preview, entry_count, created_at, extra
         FROM checkpoints WHERE story_id = ?1 AND deleted_at IS NULL ORDER BY rowid",
    )?
    .query_map([story.as_str()], checkpoint_row)?
    .collect()
}

pub(super) fn put_branch(conn: &Connection, story: &StoryId, b: &Branch) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO branches (story_id, id, name, parent_id, fork_entry_id, checkpoint_id,
             created_at, extra, own_world)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (story_id, id) DO UPDATE SET name = excluded.name,
             parent_id = excluded.parent_id, fork_entry_id = excluded.fork_entry_id,
             checkpoint_id = excluded.checkpoint_id, extra = excluded.extra,
             own_world = excluded.own_world, deleted_at = NULL",
    )?
    .execute(params![
        story.as_str(),
        b.id,
        b.name,
        b.parent,
        b.fork_entry.as_str(),
        b.checkpoint,
        b.created_at,
        b.extra,
        b.own_world
    ])?;
    Ok(())
}

pub(super) fn put_checkpoint(
    conn: &Connection,
    story: &StoryId,
    c: &Checkpoint,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO checkpoints (story_id, id, name, entry_id, branch_id, preview, entry_count,
             created_at, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (story_id, id) DO UPDATE SET name = excluded.name,
             entry_id = excluded.entry_id, branch_id = excluded.branch_id,
             preview = excluded.preview, entry_count = excluded.entry_count,
             extra = excluded.extra, deleted_at = NULL",
    )?
    .execute(params![
        story.as_str(),
        c.id,
        c.name,
        c.entry.as_str(),
        c.branch,
        c.preview,
        c.entry_count,
        c.created_at,
        c.extra
    ])?;
    Ok(())
}

impl Store {
    pub fn branches(&self, story: &StoryId) -> Result<Vec<Branch>> {
        read_branches(&self.conn, story).map_err(|e| self.err(e))
    }

    pub fn checkpoints(&self, story: &StoryId) -> Result<Vec<Checkpoint>> {
        read_checkpoints(&self.conn, story).map_err(|e| self.err(e))
    }

    /// Binds this connection to `branch` of whatever story it reads: its reads see that lineage
    /// and its writes land there, whatever the story shows meanwhile (a job's own connection,
    /// for the work that follows a narration; `fabula generate --branch`).
    pub fn pin_branch(&self, branch: Option<String>) {
        *self.pinned_branch.borrow_mut() = Some(branch);
    }

    /// The branch the story shows and writes on (`None`: the main line), or the pinned one.
    pub fn current_branch(&self, story: &StoryId) -> Result<Option<String>> {
        if let Some(pinned) = self.pinned_branch.borrow().clone() {
            return Ok(pinned);
        }
        // A story not (or no longer) here has no branch: its reads simply find nothing.
        self.conn
            .query_row(
                "SELECT current_branch_id FROM stories WHERE id = ?1",
                [story.as_str()],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    pub fn switch_branch(&self, story: &StoryId, branch: Option<&str>) -> Result<()> {
        if let Some(id) = branch
            && !self.branches(story)?.iter().any(|b| b.id == id)
        {
            return Err(StoreError::NotFound(format!("Branch {id}")));
        }
        let tx = self.step()?;
        tx.execute(
            "UPDATE stories SET current_branch_id = ?2 WHERE id = ?1",
            params![story.as_str(), branch],
        )
        .map_err(|e| self.err(e))?;
        super::world_changes::settle_in(&tx, story, None, None).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// What `branch` sees of the story.
    pub fn lineage(&self, story: &StoryId, branch: Option<&str>) -> Result<Lineage> {
        lineage_of(&self.conn, story, branch).map_err(|e| self.err(e))
    }

    /// A new branch forking at `entry` that starts with the entry's `alternative`-th (1-based)
    /// text shown: the one shown now makes a plain branch; another gives the branch its own copy
    /// of the entry (its alternatives and the world updates read from each taken along), which
    /// stands in for it on the branch's lineage. The line the entry is on keeps showing what it
    /// showed.
    pub fn create_branch_with(
        &self,
        story: &StoryId,
        entry: &EntryId,
        alternative: Option<u32>,
        name: &str,
    ) -> Result<Branch> {
        let Some(index) = alternative else {
            return self.create_branch(story, entry, name);
        };
        let alternatives: Vec<String> = self
            .conn
            .prepare_cached("SELECT id FROM entry_alternatives WHERE entry_id = ?1 ORDER BY rowid")
            .and_then(|mut s| s.query_map([entry.as_str()], |r| r.get(0))?.collect())
            .map_err(|e| self.err(e))?;
        let Some(chosen) = usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| alternatives.get(i))
        else {
            return Err(StoreError::Invalid(format!(
                "The entry has no alternative {index} (it has {}).",
                alternatives.len()
            )));
        };
        let row = self.entry(entry)?;
        let active: Option<String> = self
            .conn
            .query_row(
                "SELECT active_alternative_id FROM entries WHERE id = ?1",
                [entry.as_str()],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if active.as_deref() == Some(chosen.as_str()) || row.story_id != *story {
            return self.create_branch(story, entry, name);
        }
        let tx = self.step()?;
        let branch = self.create_branch(story, entry, name)?;
        let copy = EntryId::new().as_str().to_owned();
        copy_row(
            &tx,
            "entries",
            entry.as_str(),
            &[
                ("id", &copy),
                ("branch_id", &branch.id),
                ("replaces", entry.as_str()),
            ],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE entries SET position = (SELECT MAX(position) + 1 FROM entries WHERE story_id = ?2),
                 extra = json_set(CASE WHEN json_valid(extra) THEN extra ELSE '{}' END,
                     '$.replacesEntryId', ?3)
             WHERE id = ?1",
            params![copy, story.as_str(), entry.as_str()],
        )
        .map_err(|e| self.err(e))?;
        for old in &alternatives {
            let new = crate::domain::AlternativeId::new().as_str().to_owned();
            copy_row(
                &tx,
                "entry_alternatives",
                old,
                &[("id", &new), ("entry_id", &copy)],
            )
            .map_err(|e| self.err(e))?;
            tx.execute(
                "INSERT INTO world_change_sets (story_id, entry_id, alternative_id, applied, summary,
                     in_effect, pending, created_at, taken_back)
                 SELECT story_id, ?2, ?3, applied, summary, 0, pending, created_at, taken_back
                 FROM world_change_sets WHERE entry_id = ?1 AND alternative_id = ?4 AND by_hand = 0
                 ORDER BY id",
                params![entry.as_str(), copy, new, old],
            )
            .map_err(|e| self.err(e))?;
            if old == chosen {
                let (content, reasoning, cut_off): (String, Option<String>, bool) = tx
                    .query_row(
                        "SELECT content, reasoning, cut_off FROM entry_alternatives WHERE id = ?1",
                        [&new],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .map_err(|e| self.err(e))?;
                tx.execute(
                    "UPDATE entries SET content = ?2, reasoning = ?3, active_alternative_id = ?4,
                         char_count = ?5, word_count = ?6, token_count = NULL, cut_off = ?7
                     WHERE id = ?1",
                    params![
                        copy,
                        content,
                        reasoning,
                        new,
                        super::entries::char_count(&content),
                        super::entries::word_count(&content),
                        cut_off
                    ],
                )
                .map_err(|e| self.err(e))?;
            }
        }
        super::world_changes::settle_in(&tx, story, None, None).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(branch)
    }

    /// A new branch forking after `entry` (on the line it is on), named `name`, made current.
    /// Nothing is copied: the branch reads its ancestors' entries through its lineage.
    pub fn create_branch(&self, story: &StoryId, entry: &EntryId, name: &str) -> Result<Branch> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("A branch needs a name.".into()));
        }
        let row = self.entry(entry)?;
        if &row.story_id != story {
            return Err(StoreError::NotFound(format!("Entry {entry} in this story")));
        }
        let branch = Branch {
            id: new_uuid(),
            name: name.to_owned(),
            parent: self.entry_branch(entry)?,
            fork_entry: entry.clone(),
            checkpoint: None,
            created_at: now_ms(),
            extra: None,
            own_world: false,
        };
        let tx = self.step()?;
        put_branch(&tx, story, &branch).map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE stories SET current_branch_id = ?2 WHERE id = ?1",
            params![story.as_str(), branch.id],
        )
        .map_err(|e| self.err(e))?;
        super::world_changes::settle_in(&tx, story, None, None).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(branch)
    }

    pub fn rename_branch(&self, story: &StoryId, branch: &str, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("A branch needs a name.".into()));
        }
        let changed = self
            .conn
            .execute(
                "UPDATE branches SET name = ?3 WHERE story_id = ?1 AND id = ?2 AND deleted_at IS NULL",
                params![story.as_str(), branch, name],
            )
            .map_err(|e| self.err(e))?;
        changed_one(changed, || format!("Branch {branch}"))
    }

    /// Moves a branch to the Trash (its entries stay, unseen, until it is restored). One that
    /// other branches fork from is refused, naming them; the story moves to the parent's line
    /// when it was on this branch.
    pub fn trash_branch(&self, story: &StoryId, branch: &str) -> Result<()> {
        let all = self.branches(story)?;
        let Some(gone) = all.iter().find(|b| b.id == branch) else {
            return Err(StoreError::NotFound(format!("Branch {branch}")));
        };
        let children: Vec<&str> = all
            .iter()
            .filter(|b| b.parent.as_deref() == Some(branch))
            .map(|b| b.name.as_str())
            .collect();
        if !children.is_empty() {
            return Err(StoreError::Invalid(format!(
                "“{}” cannot be deleted while {} fork from it.",
                gone.name,
                children
                    .iter()
                    .map(|c| format!("“{c}”"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let tx = self.step()?;
        tx.execute(
            "UPDATE branches SET deleted_at = ?3 WHERE story_id = ?1 AND id = ?2",
            params![story.as_str(), branch, now_ms()],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE stories SET current_branch_id = ?3 WHERE id = ?1 AND current_branch_id = ?2",
            params![story.as_str(), branch, gone.parent],
        )
        .map_err(|e| self.err(e))?;
        super::world_changes::settle_in(&tx, story, None, None).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn restore_branch(&self, story: &StoryId, branch: &str) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE branches SET deleted_at = NULL WHERE story_id = ?1 AND id = ?2",
                params![story.as_str(), branch],
            )
            .map_err(|e| self.err(e))?;
        changed_one(changed, || format!("Branch {branch}"))
    }

    /// The branch whose fork is `entry`, if one is: such an entry cannot be deleted.
    pub fn branch_forking_at(&self, story: &StoryId, entry: &EntryId) -> Result<Option<Branch>> {
        Ok(self
            .branches(story)?
            .into_iter()
            .find(|b| &b.fork_entry == entry))
    }
}

/// Inserts a copy of `table`'s row `id` with every column taken along but those `set`.
fn copy_row(
    conn: &Connection,
    table: &str,
    id: &str,
    set: &[(&str, &str)],
) -> rusqlite::Result<()> {
    let columns: Vec<String> = conn
        .prepare_cached("SELECT name FROM pragma_table_info(?1)")?
        .query_map([table], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut values = Vec::new();
    let selected: Vec<String> = columns
        .iter()
        .map(|c| match set.iter().find(|(name, _)| name == c) {
            Some((_, value)) => {
                values.push(value.to_string());
                format!("?{}", values.len() + 1)
            }
            None => format!("\"{c}\""),
        })
        .collect();
    let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    let sql = format!(
        "INSERT INTO {table} ({}) SELECT {} FROM {table} WHERE id = ?1",
        quoted.join(", "),
        selected.join(", ")
    );
    let mut params = vec![id.to_owned()];
    params.extend(values);
    conn.execute(&sql, rusqlite::params_from_iter(params))?;
    Ok(())
}
