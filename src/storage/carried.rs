//! What Fabula keeps that the exchange format has no field for (an entry's alternatives, ‹ 2/3 ›;
//! a story's unfinished draft), carried in keys the original app ignores: written into the unknown
//! keys on the way out, and taken back into their own tables on the way in, so a story moved by
//! file or sync between two Fabula devices loses nothing.

use rusqlite::{Transaction, functions::FunctionFlags};

/// The entry keys that carry the alternatives (an array of {content, reasoning, createdAt}) and
/// which one is shown (1-based).
pub(super) const ALTERNATIVES_KEY: &str = "fabulaAlternatives";

/// The `extra` column of an exported entry: its unknown keys, plus its alternatives when it has
/// them (`e` is the entries table's alias in the query).
pub(super) const EXTRA_WITH_ALTERNATIVES: &str = "CASE WHEN e.active_alternative_id IS NULL THEN e.extra
     ELSE json_set(COALESCE(e.extra, '{}'),
         '$.fabulaAlternatives',
         json((SELECT json_group_array(json_object('content', a.content, 'reasoning', a.reasoning,
                                                   'createdAt', a.created_at) ORDER BY a.rowid)
               FROM entry_alternatives a WHERE a.entry_id = e.id)),
         '$.fabulaActiveAlternative',
         (SELECT count(*) FROM entry_alternatives a WHERE a.entry_id = e.id
             AND a.rowid <= (SELECT rowid FROM entry_alternatives WHERE id = e.active_alternative_id)))
     END";

/// Whether an arriving entry's unknown keys carry alternatives (a cheap look before any SQL).
pub(super) fn carries_alternatives(extra: Option<&str>) -> bool {
    extra.is_some_and(|x| x.contains(ALTERNATIVES_KEY))
}

/// After a story's entries are written: the alternatives they carry go into their table (in
/// place of any the entry had), the one that was shown is shown, and the carrying keys leave the
/// entry's unknown keys.
pub(super) fn adopt_alternatives(tx: &Transaction<'_>, story: &str) -> rusqlite::Result<()> {
    tx.create_scalar_function("fabula_new_id", 0, FunctionFlags::SQLITE_UTF8, |_| {
        Ok(crate::domain::new_uuid())
    })?;
    let carrying = "SELECT id FROM entries WHERE story_id = ?1 AND extra IS NOT NULL
                    AND json_valid(extra) AND json_type(extra, '$.fabulaAlternatives') = 'array'";
    tx.execute(
        &format!("DELETE FROM entry_alternatives WHERE entry_id IN ({carrying})"),
        [story],
    )?;
    tx.execute(
        "INSERT INTO entry_alternatives (id, entry_id, content, reasoning, created_at)
         SELECT fabula_new_id(), e.id, json_extract(j.value, '$.content'),
                json_extract(j.value, '$.reasoning'),
                COALESCE(json_extract(j.value, '$.createdAt'), e.created_at)
         FROM entries e, json_each(e.extra, '$.fabulaAlternatives') j
         WHERE e.story_id = ?1 AND e.extra IS NOT NULL AND json_valid(e.extra)
           AND json_type(e.extra, '$.fabulaAlternatives') = 'array'
           AND json_type(j.value, '$.content') = 'text'
         ORDER BY e.rowid, j.key",
        [story],
    )?;
    tx.execute(
        "UPDATE entries SET
             active_alternative_id = COALESCE(
                 (SELECT a.id FROM entry_alternatives a WHERE a.entry_id = entries.id
                    AND (SELECT count(*) FROM entry_alternatives b
                         WHERE b.entry_id = a.entry_id AND b.rowid <= a.rowid)
                        = COALESCE(json_extract(entries.extra, '$.fabulaActiveAlternative'), 1)),
                 (SELECT a.id FROM entry_alternatives a WHERE a.entry_id = entries.id
                  ORDER BY a.rowid LIMIT 1)),
             extra = NULLIF(json_remove(extra, '$.fabulaAlternatives', '$.fabulaActiveAlternative'), '{}')
         WHERE story_id = ?1 AND extra IS NOT NULL AND json_valid(extra)
           AND json_type(extra, '$.fabulaAlternatives') IS NOT NULL",
        [story],
    )?;
    tx.remove_function("fabula_new_id", 0)?;
    Ok(())
}

/// The story's unknown keys as exported, with its draft (a stopped, failed or interrupted
/// narration) under `fabulaDraft` when it has one (`s` is the stories table's alias).
pub(super) const STORY_EXTRA_WITH_DRAFT: &str = "CASE WHEN d.story_id IS NULL THEN s.extra
     ELSE json_set(COALESCE(s.extra, '{}'), '$.fabulaDraft', json_object(
         'targetEntryId', d.target_entry_id, 'content', d.content, 'reasoning', d.reasoning,
         'state', d.state, 'error', d.error, 'model', d.model,
         'startedAt', d.started_at, 'updatedAt', d.updated_at))
     END";

/// After an arriving story's row is written: the draft it carries becomes its draft (unless the
/// one here is newer: the last words written win), and the key leaves its unknown keys. A draft
/// naming an entry the story does not have is for the end of the story.
pub(super) fn adopt_draft(tx: &Transaction<'_>, story: &str) -> rusqlite::Result<()> {
    let carries = "SELECT 1 FROM stories WHERE id = ?1 AND extra IS NOT NULL AND json_valid(extra)
                   AND json_type(extra, '$.fabulaDraft') = 'object'";
    if !tx.prepare(carries)?.exists([story])? {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO drafts (story_id, target_entry_id, content, reasoning, state, error, model,
                             started_at, updated_at)
         SELECT s.id,
                (SELECT e.id FROM entries e WHERE e.story_id = s.id
                    AND e.id = json_extract(s.extra, '$.fabulaDraft.targetEntryId')),
                json_extract(s.extra, '$.fabulaDraft.content'),
                COALESCE(json_extract(s.extra, '$.fabulaDraft.reasoning'), ''),
                CASE json_extract(s.extra, '$.fabulaDraft.state')
                    WHEN 'cancelled' THEN 'cancelled' WHEN 'failed' THEN 'failed'
                    ELSE 'streaming' END,
                json_extract(s.extra, '$.fabulaDraft.error'),
                json_extract(s.extra, '$.fabulaDraft.model'),
                COALESCE(json_extract(s.extra, '$.fabulaDraft.startedAt'), s.updated_at),
                COALESCE(json_extract(s.extra, '$.fabulaDraft.updatedAt'), s.updated_at)
         FROM stories s
         WHERE s.id = ?1 AND json_type(s.extra, '$.fabulaDraft.content') = 'text'
         ON CONFLICT (story_id) DO UPDATE SET
             target_entry_id = excluded.target_entry_id, content = excluded.content,
             reasoning = excluded.reasoning, state = excluded.state, error = excluded.error,
             model = excluded.model, started_at = excluded.started_at,
             updated_at = excluded.updated_at
         WHERE excluded.updated_at > drafts.updated_at",
        [story],
    )?;
    tx.execute(
        "UPDATE stories SET extra = NULLIF(json_remove(extra, '$.fabulaDraft'), '{}') WHERE id = ?1",
        [story],
    )?;
    Ok(())
}
