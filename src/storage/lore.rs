//! The lorebook of a story: list, save (insert or update), and the Trash for lore entries.

use rusqlite::{Row, params};

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

impl Store {
    /// The story's live lore entries, highest priority first, then by name.
    pub fn lore(&self, story: &StoryId) -> Result<Vec<LoreEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {LORE_COLUMNS} FROM lore_entries WHERE story_id = ?1 AND deleted_at IS NULL
                 ORDER BY priority DESC, name COLLATE NOCASE"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([story.as_str()], lore_from_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Inserts a new entry or updates the one with the same id. A blank name is refused.
    pub fn save_lore(&self, entry: &LoreEntry) -> Result<LoreEntry> {
        let name = entry.name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("A lore entry needs a name.".to_owned()));
        }
        let now = now_ms();
        let hidden = entry.hidden_info.trim();
        self.conn
            .execute(
                "INSERT INTO lore_entries (id, story_id, name, kind, description, hidden_info, aliases,
                     keywords, injection_mode, priority, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
                 ON CONFLICT (id) DO UPDATE SET name = ?3, kind = ?4, description = ?5,
                     hidden_info = ?6, aliases = ?7, keywords = ?8, injection_mode = ?9,
                     priority = ?10, updated_at = ?11",
                params![
                    entry.id.as_str(),
                    entry.story_id.as_str(),
                    name,
                    entry.kind.as_str(),
                    entry.description.trim(),
                    (!hidden.is_empty()).then_some(hidden),
                    clean(&entry.aliases),
                    clean(&entry.keywords),
                    entry.mode.as_str(),
                    entry.priority,
                    now
                ],
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .query_row(
                &format!("SELECT {LORE_COLUMNS} FROM lore_entries WHERE id = ?1"),
                [entry.id.as_str()],
                lore_from_row,
            )
            .map_err(|e| self.err(e))
    }

    pub fn trash_lore(&self, id: &LoreId) -> Result<()> {
        let now = now_ms();
        let changed = self
            .conn
            .execute(
                "UPDATE lore_entries SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
                params![id.as_str(), now],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Lore entry {id}"))
    }

    pub fn restore_lore(&self, id: &LoreId) -> Result<()> {
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
