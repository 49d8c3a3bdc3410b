//! The lorebook of a story: list, save (insert or update), and the Trash for lore entries.

use rusqlite::{OptionalExtension, Row, params};

use super::stories::expect_one;
use super::{Result, Store, StoreError};
use crate::domain::{InjectionMode, LoreEntry, LoreId, LoreKind, StoryId, now_ms};

const LORE_COLUMNS: &str = "id, story_id, name, kind, description, COALESCE(hidden_info, ''), aliases, \
     keywords, injection_mode, priority, created_at, updated_at";

fn strings(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn lore_from_row(row: &Row<'_>) -> rusqlite::Result<LoreEntry> {
    let kind: String = row.get(3)?;
    let mode: String = row.get(8)?;
    Ok(LoreEntry {
        id: LoreId(row.get(0)?),
        story_id: StoryId(row.get(1)?),
        name: row.get(2)?,
        kind: LoreKind::parse(&kind).unwrap_or_default(),
        description: row.get(4)?,
        hidden_info: row.get(5)?,
        aliases: strings(&row.get::<_, String>(6)?),
        keywords: strings(&row.get::<_, String>(7)?),
        mode: InjectionMode::parse(&mode).unwrap_or_default(),
        priority: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

fn clean(list: &[String]) -> String {
    let kept: Vec<&str> = list
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    serde_json::to_string(&kept).unwrap_or_else(|_| "[]".to_owned())
}

/// `(branch_id IS NULL OR branch_id IN (…))` for the branches of `chain` (see
/// `world_chain`), on `table`'s row, with the values bound from `?{from}`.
fn on_chain(
    chain: &[Option<String>],
    table: &str,
    from: usize,
) -> (String, Vec<rusqlite::types::Value>) {
    let mut parts = Vec::new();
    let mut values = Vec::new();
    for branch in chain {
        match branch {
            Some(id) => {
                values.push(rusqlite::types::Value::Text(id.clone()));
                parts.push(format!("{table}branch_id = ?{}", from + values.len() - 1));
            }
            None => parts.push(format!("{table}branch_id IS NULL")),
        }
    }
    (format!("({})", parts.join(" OR ")), values)
}

/// `AND …`: the lore rows the lineage of `branch` sees (its own, its ancestors' as far as one
/// carries its own copy, less those a copy on the lineage stands in for), bound from `?{from}`.
pub(super) fn lore_on_line(
    conn: &rusqlite::Connection,
    story: &StoryId,
    branch: Option<&str>,
    from: usize,
) -> rusqlite::Result<(String, Vec<rusqlite::types::Value>)> {
    let chain = super::lineage::world_chain(conn, story, branch)?;
    let (mine, mut values) = on_chain(&chain, "lore_entries.", from);
    let (theirs, more) = on_chain(&chain, "o.", from + values.len());
    values.extend(more);
    Ok((
        format!(
            " AND {mine} AND NOT EXISTS (SELECT 1 FROM lore_entries o
                 WHERE o.shadows = lore_entries.id AND {theirs})"
        ),
        values,
    ))
}

impl Store {
    /// The live lore entries the story's branch shown (or pinned) sees, highest priority
    /// first, then by name.
    pub fn lore(&self, story: &StoryId) -> Result<Vec<LoreEntry>> {
        let branch = self.current_branch(story)?;
        let (on_line, bound) =
            lore_on_line(&self.conn, story, branch.as_deref(), 2).map_err(|e| self.err(e))?;
        let mut values = vec![rusqlite::types::Value::Text(story.as_str().to_owned())];
        values.extend(bound);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {LORE_COLUMNS} FROM lore_entries WHERE story_id = ?1 AND deleted_at IS NULL{on_line}
                 ORDER BY priority DESC, name COLLATE NOCASE"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), lore_from_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// The row that holds `id` on the branch shown: `id` itself when it is the branch's own (or
    /// the story has no branch shown), else the branch's copy standing in for it, made now
    /// (copy-on-write, every column taken along) when `make` and there is none yet. `None`
    /// when there is no such entry (or no copy and `make` false).
    fn lore_row_on_branch(&self, id: &LoreId, make: bool) -> Result<Option<LoreId>> {
        let found: Option<(String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT story_id, branch_id FROM lore_entries WHERE id = ?1",
                [id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((story, owner)) = found else {
            return Ok(None);
        };
        let story = StoryId(story);
        let branch = self.current_branch(&story)?;
        if branch.is_none() || owner == branch {
            return Ok(Some(id.clone()));
        }
        let copy: Option<String> = self
            .conn
            .query_row(
                "SELECT id FROM lore_entries WHERE story_id = ?1 AND shadows = ?2 AND branch_id IS ?3",
                params![story.as_str(), id.as_str(), branch],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(copy) = copy {
            return Ok(Some(LoreId(copy)));
        }
        if !make {
            return Ok(None);
        }
        let copy = crate::domain::new_uuid();
        self.conn
            .execute(
                "INSERT INTO lore_entries (id, story_id, name, kind, description, hidden_info, aliases,
                     keywords, injection_mode, priority, state, adventure_state, creative_state,
                     first_mentioned, last_mentioned, mention_count, created_by,
                     lore_management_blacklisted, branch_id, created_at, updated_at, extra,
                     injection_extra, shadows)
                 SELECT ?2, story_id, name, kind, description, hidden_info, aliases,
                     keywords, injection_mode, priority, state, adventure_state, creative_state,
                     first_mentioned, last_mentioned, mention_count, created_by,
                     lore_management_blacklisted, ?3, created_at, updated_at,
                     json_set(CASE WHEN json_valid(extra) THEN extra ELSE '{}' END,
                         '$.shadowsLoreId', ?1),
                     injection_extra, ?1
                 FROM lore_entries WHERE id = ?1",
                params![id.as_str(), copy, branch],
            )
            .map_err(|e| self.err(e))?;
        Ok(Some(LoreId(copy)))
    }

    /// Inserts a new entry (on the branch shown) or updates the one with the same id (on a
    /// branch that inherited it, the branch's own copy: the ancestor keeps its text). A blank
    /// name is refused. Returns the entry as stored (a copy has its own id).
    pub fn save_lore(&self, entry: &LoreEntry) -> Result<LoreEntry> {
        let name = entry.name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("A lore entry needs a name.".to_owned()));
        }
        let tx = self.step()?;
        let id = self
            .lore_row_on_branch(&entry.id, true)?
            .unwrap_or_else(|| entry.id.clone());
        let branch = self.current_branch(&entry.story_id)?;
        let now = now_ms();
        let hidden = entry.hidden_info.trim();
        self.conn
            .execute(
                "INSERT INTO lore_entries (id, story_id, name, kind, description, hidden_info, aliases,
                     keywords, injection_mode, priority, created_at, updated_at, branch_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)
                 ON CONFLICT (id) DO UPDATE SET name = ?3, kind = ?4, description = ?5,
                     hidden_info = ?6, aliases = ?7, keywords = ?8, injection_mode = ?9,
                     priority = ?10, updated_at = ?11",
                params![
                    id.as_str(),
                    entry.story_id.as_str(),
                    name,
                    entry.kind.as_str(),
                    entry.description.trim(),
                    (!hidden.is_empty()).then_some(hidden),
                    clean(&entry.aliases),
                    clean(&entry.keywords),
                    entry.mode.as_str(),
                    entry.priority,
                    now,
                    branch
                ],
            )
            .map_err(|e| self.err(e))?;
        let saved = self
            .conn
            .query_row(
                &format!("SELECT {LORE_COLUMNS} FROM lore_entries WHERE id = ?1"),
                [id.as_str()],
                lore_from_row,
            )
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(saved)
    }

    /// Moves an entry to the Trash on the branch shown (one inherited from an ancestor is put
    /// away by the branch's own copy, so the ancestor keeps it).
    pub fn trash_lore(&self, id: &LoreId) -> Result<()> {
        let tx = self.step()?;
        let id = self
            .lore_row_on_branch(id, true)?
            .unwrap_or_else(|| id.clone());
        let now = now_ms();
        let changed = self
            .conn
            .execute(
                "UPDATE lore_entries SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
                params![id.as_str(), now],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Lore entry {id}"))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Brings an entry back from the Trash (by its own id, or by the id of the one its copy on
    /// the branch shown put away).
    pub fn restore_lore(&self, id: &LoreId) -> Result<()> {
        let id = self
            .lore_row_on_branch(id, false)?
            .unwrap_or_else(|| id.clone());
        let changed = self
            .conn
            .execute(
                "UPDATE lore_entries SET deleted_at = NULL, updated_at = ?2 WHERE id = ?1",
                params![id.as_str(), now_ms()],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Lore entry {id}"))
    }
}
