//! The Trash's lore entries, world rows and branches: listed with their story, restored, or
//! deleted for good (a branch with its own entries). A world row taken away because its text went is not the writer's deletion and stays out
//! of the Trash (it comes back with its text).

use rusqlite::{Connection, params};

use super::world::table;
use super::{Result, Store};
use crate::domain::{PieceKind, StoryId, TrashedPiece, WorldKind};

/// How many pieces the Trash lists (the newest deleted first).
const LISTED: usize = 500;

/// The table, the column that names a row, and what else picks the writer's deletions.
fn source(kind: PieceKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        PieceKind::Lore => ("lore_entries", "name", ""),
        PieceKind::Branch => ("branches", "name", ""),
        PieceKind::World(WorldKind::Beat) => {
            (table(WorldKind::Beat), "title", " AND t.by_text = 0")
        }
        PieceKind::World(kind) => (table(kind), "name", " AND t.by_text = 0"),
    }
}

fn all_kinds() -> impl Iterator<Item = PieceKind> {
    [PieceKind::Lore, PieceKind::Branch]
        .into_iter()
        .chain(WorldKind::ALL.into_iter().map(PieceKind::World))
}

pub(super) fn empty_world_trash(tx: &Connection) -> rusqlite::Result<()> {
    // A branch deleted for good takes its own entries with it: no lineage reads them again.
    tx.execute(
        "DELETE FROM entries WHERE EXISTS (SELECT 1 FROM branches b
             WHERE b.story_id = entries.story_id AND b.id = entries.branch_id
               AND b.deleted_at IS NOT NULL)",
        [],
    )?;
    tx.execute("DELETE FROM branches WHERE deleted_at IS NOT NULL", [])?;
    for kind in WorldKind::ALL {
        tx.execute(
            &format!(
                "DELETE FROM {} WHERE deleted_at IS NOT NULL AND by_text = 0",
                table(kind)
            ),
            [],
        )?;
    }
    Ok(())
}

impl Store {
    /// Lore entries and world rows in the Trash, of stories that are themselves not in it.
    pub fn trashed_pieces(&self) -> Result<Vec<TrashedPiece>> {
        let mut pieces = Vec::new();
        for kind in all_kinds() {
            let (table, name, mine) = source(kind);
            let sql = format!(
                "SELECT t.story_id, s.title, t.id, t.{name}, t.deleted_at
                 FROM {table} t JOIN stories s ON s.id = t.story_id
                 WHERE t.deleted_at IS NOT NULL AND s.deleted_at IS NULL{mine}
                 ORDER BY t.deleted_at DESC LIMIT {LISTED}"
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(TrashedPiece {
                        story_id: StoryId::from(r.get::<_, String>(0)?.as_str()),
                        story_title: r.get(1)?,
                        kind,
                        id: r.get(2)?,
                        name: r.get(3)?,
                        deleted_at: r.get(4)?,
                    })
                })
                .map_err(|e| self.err(e))?;
            for row in rows {
                pieces.push(row.map_err(|e| self.err(e))?);
            }
        }
        pieces.sort_by_key(|p| std::cmp::Reverse(p.deleted_at));
        pieces.truncate(LISTED);
        Ok(pieces)
    }

    /// Brings a piece back from the Trash into its story.
    pub fn restore_piece(&self, story: &StoryId, kind: PieceKind, id: &str) -> Result<()> {
        match kind {
            PieceKind::Lore => self.restore_lore(&crate::domain::LoreId::from(id)),
            PieceKind::World(kind) => self.restore_world_row(story, kind, id),
            PieceKind::Branch => self.restore_branch(story, id),
        }
    }

    /// Deletes a piece in the Trash for good.
    pub fn delete_piece_forever(&self, story: &StoryId, kind: PieceKind, id: &str) -> Result<()> {
        let (table, _, mine) = source(kind);
        // A branch and its own entries go together, or neither does.
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        if kind == PieceKind::Branch {
            tx.execute(
                "DELETE FROM entries WHERE story_id = ?1 AND branch_id = ?2
                   AND EXISTS (SELECT 1 FROM branches WHERE story_id = ?1 AND id = ?2
                               AND deleted_at IS NOT NULL)",
                params![story.as_str(), id],
            )
            .map_err(|e| self.err(e))?;
        }
        let changed = tx
            .execute(
                &format!(
                    "DELETE FROM {table} AS t WHERE t.story_id = ?1 AND t.id = ?2
                     AND t.deleted_at IS NOT NULL{mine}"
                ),
                params![story.as_str(), id],
            )
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Err(super::StoreError::NotFound(format!(
                "{} {id} in the Trash",
                kind.label()
            )));
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }
}
