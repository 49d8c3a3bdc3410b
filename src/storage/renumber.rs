//! After an import gave ids anew (a copy, or ids another story holds): the references to them in
//! the story's JSON texts, its lore, its sections and its entries follow.

use crate::domain::{BundleLore, BundleStory, IdRemap, JsonRewriter, StoryId};
use rusqlite::{Transaction, params};

/// After an import that gave new ids: the parents read before their new id was made, and the ids
/// inside the entries' verbatim JSON.
fn rewrite_entries(
    tx: &Transaction<'_>,
    story_id: &StoryId,
    remap: &IdRemap,
    copy: bool,
) -> rusqlite::Result<()> {
    let rewriter = remap.json_rewriter();
    if !copy {
        // A copy's parents were all mapped as they came; otherwise a child can come before its
        // parent's id was found taken.
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS rekey (old TEXT PRIMARY KEY NOT NULL, new TEXT NOT NULL) WITHOUT ROWID;
             DELETE FROM temp.rekey;",
        )?;
        let mut map = tx.prepare("INSERT INTO temp.rekey (old, new) VALUES (?1, ?2)")?;
        let mut parents = tx.prepare(
            "SELECT DISTINCT parent_id FROM entries WHERE story_id = ?1 AND parent_id IS NOT NULL",
        )?;
        let mut rows = parents.query([story_id.as_str()])?;
        while let Some(row) = rows.next()? {
            let parent: String = row.get(0)?;
            if let Some(new) = remap.get(&parent) {
                map.execute(params![parent, new])?;
            }
        }
        tx.execute(
            "UPDATE entries SET parent_id = (SELECT new FROM temp.rekey WHERE old = entries.parent_id)
             WHERE story_id = ?1 AND parent_id IN (SELECT old FROM temp.rekey)",
            [story_id.as_str()],
        )?;
        tx.execute_batch("DELETE FROM temp.rekey")?;
    }
    let mut texts = tx.prepare(
        "SELECT rowid, metadata, extra FROM entries
         WHERE story_id = ?1 AND (metadata IS NOT NULL OR extra IS NOT NULL)",
    )?;
    let mut update = tx.prepare("UPDATE entries SET metadata = ?2, extra = ?3 WHERE rowid = ?1")?;
    let mut rows = texts.query([story_id.as_str()])?;
    while let Some(row) = rows.next()? {
        let mut metadata: Option<String> = row.get(1)?;
        let mut extra: Option<String> = row.get(2)?;
        let before = (metadata.clone(), extra.clone());
        rewriter.rewrite_opt(&mut metadata);
        rewriter.rewrite_opt(&mut extra);
        if (metadata.clone(), extra.clone()) != before {
            update.execute(params![row.get::<_, i64>(0)?, metadata, extra])?;
        }
    }
    Ok(())
}

fn rewrite_story_json(story: &mut BundleStory, rewriter: &JsonRewriter<'_>) {
    for text in [
        &mut story.settings,
        &mut story.memory_config,
        &mut story.retry_state,
        &mut story.style_review_state,
        &mut story.time_tracker,
        &mut story.extra,
    ] {
        rewriter.rewrite_opt(text);
    }
}

/// After ids were given anew: the references to them in the story's JSON texts, its lore, its
/// sections and its entries.
pub(super) fn follow_new_ids(
    tx: &Transaction<'_>,
    story_id: &StoryId,
    remap: &IdRemap,
    copy: bool,
    story: &mut BundleStory,
    lore: &mut [BundleLore],
    sections: &mut [(String, String)],
) -> rusqlite::Result<()> {
    if remap.is_empty() {
        return Ok(());
    }
    let rewriter = remap.json_rewriter();
    rewrite_story_json(story, &rewriter);
    for l in lore {
        for text in [
            &mut l.state,
            &mut l.adventure_state,
            &mut l.creative_state,
            &mut l.first_mentioned,
            &mut l.last_mentioned,
            &mut l.extra,
            &mut l.injection_extra,
        ] {
            rewriter.rewrite_opt(text);
        }
    }
    for (_, text) in sections {
        if let Some(new) = rewriter.rewrite(text) {
            *text = new;
        }
    }
    rewrite_entries(tx, story_id, remap, copy)
}
