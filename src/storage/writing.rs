//! What the writing loop reads and writes: prompt history with cached token counts, and narration
//! with its alternatives (drafts, the inspector's log and story settings have their own files).

use rusqlite::{OptionalExtension, params};

use super::entries::{INSERT_ENTRY, char_count, token_count, word_count};
use super::stories::expect_one;
use super::{Result, Store, StoreError};
use crate::domain::{AlternativeId, EntryId, EntryKind, HistoryItem, StoryId, now_ms};

/// Entries a live chapter closes are in the narrator's memory as its summary, not in the
/// history (a chapter deleted gives its entries back). A chapter closes entries of its own line
/// only: positions interleave across branches, and one closed on a branch must never take text
/// of another out of its prompt.
/// `AND …`: entries outside every live chapter the branch shown sees (a chapter is on a lineage
/// when the entry it closes is), then on that lineage; with the values bound from `?{from}`.
fn outside_chapters(
    store: &Store,
    story: &StoryId,
    from: usize,
) -> Result<(String, Vec<rusqlite::types::Value>)> {
    let (chapters, mut values) = outside_chapters_only(store, story, from)?;
    let (on_line, more) = store.on_current_line(story, from + values.len())?;
    values.extend(more);
    Ok((format!("{chapters}{on_line}"), values))
}

/// `AND NOT EXISTS …`: outside every live chapter the branch shown sees, bound from `?{from}`.
fn outside_chapters_only(
    store: &Store,
    story: &StoryId,
    from: usize,
) -> Result<(String, Vec<rusqlite::types::Value>)> {
    let (chapter_on_line, values) = store.on_current_line_of("last.", story, from)?;
    Ok((
        format!(
            " AND NOT EXISTS (SELECT 1 FROM chapters c
                JOIN entries first ON first.id = c.start_entry_id
                JOIN entries last ON last.id = c.end_entry_id
                WHERE c.story_id = entries.story_id AND c.deleted_at IS NULL{chapter_on_line}
                  AND entries.position BETWEEN first.position AND last.position)"
        ),
        values,
    ))
}

impl Store {
    /// The newest live entries before `before` (or the end), oldest first, stopping once their
    /// cached token counts pass `budget`. Reads only as far back as the budget reaches, so a
    /// 100,000-entry story costs the same as a short one. Missing counts are filled in.
    /// How many live entries come before `before` (all of them without it): what a request could
    /// have sent, so the budget bar can say how many were left out.
    pub fn entries_before(&self, story: &StoryId, before: Option<&EntryId>) -> Result<usize> {
        let before_position: i64 = match before {
            Some(id) => self.entry(id)?.position,
            None => i64::MAX,
        };
        let (on_line, mut values) = outside_chapters(self, story, 3)?;
        values.splice(
            0..0,
            [
                rusqlite::types::Value::Text(story.as_str().to_owned()),
                rusqlite::types::Value::Integer(before_position),
            ],
        );
        let count: i64 = self
            .conn
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM entries
                     WHERE story_id = ?1 AND deleted_at IS NULL AND position < ?2{on_line}"
            ))
            .and_then(|mut stmt| stmt.query_row(rusqlite::params_from_iter(values), |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    pub fn history_within(
        &self,
        story: &StoryId,
        before: Option<&EntryId>,
        budget: usize,
    ) -> Result<Vec<HistoryItem>> {
        let before_position: i64 = match before {
            Some(id) => self.entry(id)?.position,
            None => i64::MAX,
        };
        let (chapters, chapter_values) = outside_chapters_only(self, story, 3)?;
        // One read per branch of the lineage, newest first: each goes by the index on branch and
        // position, never over the entries other lines wrote after a fork.
        let from = 3 + chapter_values.len();
        let current = self.current_branch(story)?;
        let lineage = super::lineage::tree_lineage(&self.conn, story, current.as_deref())
            .map_err(|e| self.err(e))?;
        let parts: Vec<(String, Vec<rusqlite::types::Value>)> = match lineage {
            None => vec![(String::new(), Vec::new())],
            Some(lineage) => lineage
                .segments
                .iter()
                .map(|segment| {
                    let (condition, bound) = crate::domain::branch::Lineage {
                        segments: vec![segment.clone()],
                        replaced: lineage.replaced.clone(),
                    }
                    .condition("", from);
                    (
                        format!(" AND {condition}"),
                        super::lineage::sql_values(bound),
                    )
                })
                .collect(),
        };
        let mut items = Vec::new();
        let mut missing = Vec::new();
        let mut spent = 0usize;
        'parts: for (on_line, part_values) in parts {
            let mut values = vec![
                rusqlite::types::Value::Text(story.as_str().to_owned()),
                rusqlite::types::Value::Integer(before_position),
            ];
            values.extend(chapter_values.iter().cloned());
            values.extend(part_values);
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT id, kind, content, token_count FROM entries
                     WHERE story_id = ?1 AND deleted_at IS NULL AND position < ?2{chapters}{on_line}
                     ORDER BY position DESC"
                ))
                .map_err(|e| self.err(e))?;
            let mut rows = stmt
                .query(rusqlite::params_from_iter(values))
                .map_err(|e| self.err(e))?;
            while let Some(row) = rows.next().map_err(|e| self.err(e))? {
                let kind: String = row.get(1).map_err(|e| self.err(e))?;
                let text: String = row.get(2).map_err(|e| self.err(e))?;
                let cached: Option<i64> = row.get(3).map_err(|e| self.err(e))?;
                let tokens = match cached {
                    Some(t) => usize::try_from(t).unwrap_or(0),
                    None => {
                        let t = token_count(&text);
                        missing.push((row.get::<_, String>(0).map_err(|e| self.err(e))?, t));
                        usize::try_from(t).unwrap_or(0)
                    }
                };
                items.push(HistoryItem {
                    id: EntryId(row.get(0).map_err(|e| self.err(e))?),
                    kind: EntryKind::parse(&kind).unwrap_or(EntryKind::System),
                    text,
                    tokens,
                });
                spent += tokens + 2;
                if spent > budget {
                    break 'parts;
                }
            }
        }
        if !missing.is_empty() {
            let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
            {
                let mut update = tx
                    .prepare_cached("UPDATE entries SET token_count = ?2 WHERE id = ?1")
                    .map_err(|e| self.err(e))?;
                for (id, tokens) in &missing {
                    update
                        .execute(params![id, tokens])
                        .map_err(|e| self.err(e))?;
                }
            }
            tx.commit().map_err(|e| self.err(e))?;
        }
        items.reverse();
        Ok(items)
    }

    /// Ends a generation of the next narration: the entry is written and the draft removed in one
    /// transaction, so the text is never in both places or in neither. `cut_off`: the provider
    /// stopped at its length limit.
    pub fn finish_narration(
        &mut self,
        story: &StoryId,
        content: &str,
        reasoning: &str,
        cut_off: bool,
    ) -> Result<EntryId> {
        let branch = self.current_branch(story)?;
        self.finish_narration_on(story, branch.as_deref(), content, reasoning, cut_off)
    }

    /// As `finish_narration`, on `branch` (the one the generation started on).
    pub fn finish_narration_on(
        &mut self,
        story: &StoryId,
        branch: Option<&str>,
        content: &str,
        reasoning: &str,
        cut_off: bool,
    ) -> Result<EntryId> {
        let id = EntryId::new();
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        let now = now_ms();
        tx.query_row(
            INSERT_ENTRY,
            params![
                id.as_str(),
                story.as_str(),
                EntryKind::Narration.as_str(),
                content,
                char_count(content),
                word_count(content),
                now,
                (!reasoning.is_empty()).then_some(reasoning),
                branch
            ],
            |r| r.get::<_, i64>(0),
        )
        .map_err(err)?;
        if cut_off {
            tx.execute(
                "UPDATE entries SET cut_off = 1 WHERE id = ?1",
                [id.as_str()],
            )
            .map_err(err)?;
        }
        tx.execute("DELETE FROM drafts WHERE story_id = ?1", [story.as_str()])
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(id)
    }

    /// Adds a new text to an entry as its newest alternative and makes it the active one; the
    /// text it replaces stays as an alternative (the first regeneration also keeps the original).
    /// The draft of the story is removed in the same transaction.
    pub fn add_alternative(
        &mut self,
        entry: &EntryId,
        content: &str,
        reasoning: &str,
        cut_off: bool,
    ) -> Result<AlternativeId> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        let (story, original, original_reasoning, created_at, original_cut): (
            String,
            String,
            Option<String>,
            i64,
            bool,
        ) = tx
            .query_row(
                "SELECT story_id, content, reasoning, created_at, cut_off FROM entries WHERE id = ?1",
                [entry.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(err)?
            .ok_or_else(|| StoreError::NotFound(format!("Entry {entry}")))?;
        let existing: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM entry_alternatives WHERE entry_id = ?1",
                [entry.as_str()],
                |r| r.get(0),
            )
            .map_err(err)?;
        let insert =
            "INSERT INTO entry_alternatives (id, entry_id, content, reasoning, created_at, cut_off)
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
        if existing == 0 {
            let original_id = AlternativeId::new();
            tx.execute(
                insert,
                params![
                    original_id.as_str(),
                    entry.as_str(),
                    original,
                    original_reasoning,
                    created_at,
                    original_cut
                ],
            )
            .map_err(err)?;
            // World updates made for the original text now belong to it as an alternative.
            tx.execute(
                "UPDATE world_change_sets SET alternative_id = ?2
                 WHERE entry_id = ?1 AND alternative_id IS NULL",
                params![entry.as_str(), original_id.as_str()],
            )
            .map_err(err)?;
        }
        let id = AlternativeId::new();
        let now = now_ms();
        let reasoning = (!reasoning.is_empty()).then_some(reasoning);
        tx.execute(
            insert,
            params![
                id.as_str(),
                entry.as_str(),
                content,
                reasoning,
                now,
                cut_off
            ],
        )
        .map_err(err)?;
        let shown = Shown {
            id: id.as_str(),
            content,
            reasoning,
            cut_off,
        };
        show_alternative(&tx, entry, &shown, now).map_err(err)?;
        tx.execute("DELETE FROM drafts WHERE story_id = ?1", [story])
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(id)
    }

    /// Shows the `index`-th (1-based) alternative of an entry; the choice is what the next prompt sees.
    pub fn select_alternative(&mut self, entry: &EntryId, index: u32) -> Result<()> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        let offset = i64::from(index.max(1) - 1);
        let chosen: Option<(String, String, Option<String>, bool)> = tx
            .query_row(
                "SELECT id, content, reasoning, cut_off FROM entry_alternatives WHERE entry_id = ?1
                 ORDER BY rowid LIMIT 1 OFFSET ?2",
                params![entry.as_str(), offset],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(err)?;
        let Some((id, content, reasoning, cut_off)) = chosen else {
            return Err(StoreError::NotFound(format!(
                "Alternative {index} of entry {entry}"
            )));
        };
        let shown = Shown {
            id: &id,
            content: &content,
            reasoning: reasoning.as_deref(),
            cut_off,
        };
        let changed = show_alternative(&tx, entry, &shown, now_ms()).map_err(err)?;
        expect_one(changed, || format!("Entry {entry}"))?;
        tx.commit().map_err(err)
    }
}

/// One alternative as the entry will show it.
struct Shown<'a> {
    id: &'a str,
    content: &'a str,
    reasoning: Option<&'a str>,
    cut_off: bool,
}

/// Makes an alternative the entry's text (the counts follow; the token count is taken again).
fn show_alternative(
    tx: &rusqlite::Transaction<'_>,
    entry: &EntryId,
    shown: &Shown<'_>,
    now: i64,
) -> rusqlite::Result<usize> {
    tx.execute(
        "UPDATE entries SET content = ?2, reasoning = ?3, active_alternative_id = ?4,
             char_count = ?5, word_count = ?6, token_count = NULL, updated_at = ?7, cut_off = ?8
         WHERE id = ?1",
        params![
            entry.as_str(),
            shown.content,
            shown.reasoning,
            shown.id,
            char_count(shown.content),
            word_count(shown.content),
            now,
            shown.cut_off
        ],
    )
}
