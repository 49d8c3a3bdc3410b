//! Replacing a story with another copy of itself (a file, or a peer's push of a story that is here
//! already): only what differs is written, and the story as it was goes to the Trash only when the
//! file changes or removes something it has. A sync of an unchanged or grown story then costs a
//! read of it and leaves no second copy behind.

use std::hash::{BuildHasher, RandomState};

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{OptionalExtension, Row, Statement, Transaction, params};

use super::entries::{char_count, word_count};
use super::exchange::{Imported, read_head, read_lore, read_sections};
use super::import::{
    EntryWriter, each_entry, insert_lore, insert_sections, settle_lore_ids, upsert_story,
    without_count_trigger,
};
use super::renumber::follow_new_ids;
use super::{Result, Store, StoreError};
use crate::domain::{
    BundleEntry, BundleLore, BundleStory, IdRemap, ImportPart, OnConflict, StoryId, now_ms,
};

impl Store {
    /// `import_parts` under `OnConflict::Replace` for a story that is here: see the module doc.
    pub(super) fn replace_parts(
        &mut self,
        story: BundleStory,
        mut parts: impl Iterator<Item = ImportPart>,
    ) -> Result<Imported> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        let started = std::time::Instant::now();
        let count_trigger = without_count_trigger(&tx).map_err(err)?;
        let unindexed = super::search::unindex_story(&tx, &story.id).map_err(err)?;
        let mut remap = IdRemap::default();
        let mut entries = InPlace::new(&tx, &story.id).map_err(err)?;
        let mut carried = false;
        let rest = each_entry(&mut parts, |entry| {
            carried |= super::carried::carries_alternatives(entry.extra.as_deref());
            entries.put(entry, &mut remap)
        })?;
        let Some((mut last, mut lore, mut sections)) = rest else {
            return Err(StoreError::Incomplete);
        };
        last.id = story.id.clone();
        let met = started.elapsed();
        entries.remove_unseen().map_err(err)?;

        // Every sync moves the story's time forward, so that alone loses nothing.
        let before = read_head(&tx, &story.id).map_err(err)?;
        let same_story = before.map(|b| BundleStory {
            updated_at: last.updated_at,
            ..b
        }) == Some(last.clone());
        let same_lore = same_lore(read_lore(&tx, &story.id).map_err(err)?, &lore, &story.id);
        let mut by_name = sections.clone();
        by_name.sort();
        let same_sections = read_sections(&tx, &story.id).map_err(err)? == by_name;
        // Ids given anew (another story held them) change references in texts of every kind:
        // rare enough to keep the old story whole rather than follow each one.
        let renamed = !remap.is_empty();
        if renamed || !same_story || !same_lore || !same_sections {
            entries.keep_old().map_err(err)?;
        }
        if renamed || !same_lore {
            tx.execute(
                "DELETE FROM lore_entries WHERE story_id = ?1",
                [story.id.as_str()],
            )
            .map_err(err)?;
            settle_lore_ids(
                &tx,
                &story.id,
                &mut lore,
                false,
                OnConflict::Replace,
                &mut remap,
            )?;
        }
        follow_new_ids(
            &tx,
            &story.id,
            &remap,
            false,
            &mut last,
            &mut lore,
            &mut sections,
        )
        .map_err(err)?;
        if renamed || !same_lore {
            insert_lore(&tx, &story.id, &lore).map_err(err)?;
        }
        if renamed || !same_sections {
            tx.execute(
                "DELETE FROM story_sections WHERE story_id = ?1",
                [story.id.as_str()],
            )
            .map_err(err)?;
            super::world_sections::clear_world(&tx, &story.id).map_err(err)?;
            super::branch_sections::clear_branches(&tx, &story.id).map_err(err)?;
            super::branch_sections::check_branch_section(&tx, &story.id, &sections)?;
            insert_sections(&tx, &story.id, &sections).map_err(err)?;
        }
        super::branch_sections::mark_own_worlds(&tx, &story.id).map_err(err)?;
        let count = entries.count;
        let trashed = entries.trashed.take();
        let copy_time = entries.copy_time;
        drop(entries);
        let indexed: Vec<&StoryId> = std::iter::once(&story.id).chain(trashed.as_ref()).collect();
        unindexed.reindex(&tx, &indexed).map_err(err)?;
        tx.execute_batch(&count_trigger).map_err(err)?;
        upsert_story(&tx, &last).map_err(err)?;
        super::carried::adopt_draft(&tx, story.id.as_str()).map_err(err)?;
        tx.execute(
            "UPDATE stories SET deleted_at = NULL WHERE id = ?1",
            [story.id.as_str()],
        )
        .map_err(err)?;
        for id in std::iter::once(&story.id).chain(trashed.as_ref()) {
            recount(&tx, id).map_err(err)?;
        }
        let written = started.elapsed();
        if trashed.is_some() {
            tx.remove_function(NEW_ID, 1).map_err(err)?;
        }
        if carried {
            super::carried::adopt_alternatives(&tx, story.id.as_str()).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        log::debug!(
            "replace: {count} entries met in {} ms, {} the old story kept in {} ms, written in {} ms, committed in {} ms",
            met.as_millis(),
            if trashed.is_some() { "with" } else { "without" },
            copy_time.as_millis(),
            written.as_millis(),
            (started.elapsed() - written).as_millis()
        );
        Ok(Imported {
            story: story.id,
            title: last.title,
            entries: count,
            updated: trashed.is_none(),
            replaced: trashed,
        })
    }
}

/// Whether the story's live lore is the file's, in any order.
fn same_lore(mut here: Vec<BundleLore>, file: &[BundleLore], story: &StoryId) -> bool {
    let mut file: Vec<BundleLore> = file
        .iter()
        .cloned()
        .map(|mut l| {
            l.entry.story_id = story.clone();
            l
        })
        .collect();
    here.sort_by(|a, b| a.entry.id.as_str().cmp(b.entry.id.as_str()));
    file.sort_by(|a, b| a.entry.id.as_str().cmp(b.entry.id.as_str()));
    here == file
}

/// The file's entries against the story's: the same ones are left as they are, changed ones are
/// written over (after the story as it was is kept), new ones are added.
struct InPlace<'t> {
    tx: &'t Transaction<'t>,
    story: StoryId,
    /// Rows after this one were added by this replace, so they are no part of the story as it was.
    last_old_rowid: i64,
    find: Statement<'t>,
    update: Statement<'t>,
    added: EntryWriter<'t>,
    /// Rows of the story the file has, sorted once all have been met.
    seen: Vec<i64>,
    /// The story as it was, in the Trash, once something it had was changed or removed.
    trashed: Option<StoryId>,
    copy_time: std::time::Duration,
    count: usize,
}

impl<'t> InPlace<'t> {
    fn new(tx: &'t Transaction<'t>, story: &StoryId) -> rusqlite::Result<Self> {
        let last_old_rowid =
            tx.query_row("SELECT COALESCE(MAX(rowid), 0) FROM entries", [], |r| {
                r.get(0)
            })?;
        let find = tx.prepare(
            "SELECT rowid, story_id, kind, content, parent_id, position, branch_id, metadata,
                    reasoning, translated_content, translation_language, original_input,
                    created_at, updated_at, extra, deleted_at IS NULL
             FROM entries WHERE id = ?1",
        )?;
        let update = tx.prepare(
            "UPDATE entries SET kind = ?2, content = ?3, parent_id = ?4, position = ?5,
                 branch_id = ?6, metadata = ?7, reasoning = ?8, translated_content = ?9,
                 translation_language = ?10, original_input = ?11, char_count = ?12,
                 word_count = ?13, created_at = ?14, updated_at = ?15, extra = ?16,
                 deleted_at = NULL, active_alternative_id = NULL, token_count = NULL
             WHERE rowid = ?1",
        )?;
        Ok(Self {
            tx,
            story: story.clone(),
            last_old_rowid,
            find,
            update,
            added: EntryWriter::new(tx, story, false, OnConflict::Replace)?,
            seen: Vec::new(),
            trashed: None,
            copy_time: std::time::Duration::ZERO,
            count: 0,
        })
    }

    fn put(&mut self, e: BundleEntry, remap: &mut IdRemap) -> Result<()> {
        let err = |e: rusqlite::Error| StoreError::Sqlite(e.to_string());
        let parent = e
            .parent_id
            .as_ref()
            .map(|p| remap.get(p).map_or_else(|| p.clone(), str::to_owned));
        let story = self.story.as_str();
        let found = self
            .find
            .query_row([e.id.as_str()], |r| {
                let ours = r.get_ref(1)?.as_str()? == story;
                Ok((
                    r.get::<_, i64>(0)?,
                    ours,
                    ours && same_entry(r, &e, &parent)?,
                ))
            })
            .optional()
            .map_err(err)?;
        self.count += 1;
        match found {
            Some((rowid, true, true)) => self.seen.push(rowid),
            Some((rowid, true, false)) => {
                self.keep_old().map_err(err)?;
                self.update
                    .execute(params![
                        rowid,
                        e.kind.as_str(),
                        e.content,
                        parent,
                        e.position,
                        e.branch_id,
                        e.metadata,
                        e.reasoning,
                        e.translated_content,
                        e.translation_language,
                        e.original_input,
                        char_count(&e.content),
                        word_count(&e.content),
                        e.created_at,
                        e.updated_at,
                        e.extra
                    ])
                    .map_err(err)?;
                self.seen.push(rowid);
            }
            // New here, or held by another story (then it gets a new id).
            _ => self.added.insert(e, remap)?,
        }
        Ok(())
    }

    /// Removes the story's entries the file does not have, after keeping the story as it was.
    /// Entries already in the Trash stay there.
    fn remove_unseen(&mut self) -> rusqlite::Result<()> {
        self.seen.sort_unstable();
        let gone: Vec<i64> = {
            let mut live = self.tx.prepare(
                "SELECT rowid FROM entries WHERE story_id = ?1 AND rowid <= ?2 AND deleted_at IS NULL",
            )?;
            let rows = live.query_map(params![self.story.as_str(), self.last_old_rowid], |r| {
                r.get::<_, i64>(0)
            })?;
            let mut gone = Vec::new();
            for rowid in rows {
                let rowid = rowid?;
                if self.seen.binary_search(&rowid).is_err() {
                    gone.push(rowid);
                }
            }
            gone
        };
        if gone.is_empty() {
            return Ok(());
        }
        self.keep_old()?;
        // Foreign keys are off during an import, so nothing cascades.
        let mut alternatives = self.tx.prepare(
            "DELETE FROM entry_alternatives WHERE entry_id = (SELECT id FROM entries WHERE rowid = ?1)",
        )?;
        let mut entry = self.tx.prepare("DELETE FROM entries WHERE rowid = ?1")?;
        for rowid in gone {
            alternatives.execute([rowid])?;
            entry.execute([rowid])?;
        }
        // A regeneration left over for an entry that is gone belongs with the story as it was.
        if let Some(trashed) = &self.trashed {
            self.tx.execute(
                "UPDATE drafts SET story_id = ?2,
                     target_entry_id = fabula_trash_id(target_entry_id)
                 WHERE story_id = ?1 AND target_entry_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM entries WHERE id = drafts.target_entry_id)",
                params![self.story.as_str(), trashed.as_str()],
            )?;
        }
        Ok(())
    }

    /// Puts a copy of the story as it was in the Trash, once: before the first change to it.
    fn keep_old(&mut self) -> rusqlite::Result<()> {
        if self.trashed.is_none() {
            let started = std::time::Instant::now();
            self.trashed = Some(copy_into_trash(self.tx, &self.story, self.last_old_rowid)?);
            self.copy_time = started.elapsed();
        }
        Ok(())
    }
}

/// Whether the stored row `r` (as `InPlace::find` reads it) is `e` with parent `parent`.
fn same_entry(r: &Row<'_>, e: &BundleEntry, parent: &Option<String>) -> rusqlite::Result<bool> {
    let text = |i: usize| -> rusqlite::Result<Option<&str>> {
        match r.get_ref(i)? {
            ValueRef::Null => Ok(None),
            value => value.as_str().map(Some).map_err(Into::into),
        }
    };
    Ok(r.get::<_, bool>(15)?
        && text(2)? == Some(e.kind.as_str())
        && text(3)? == Some(e.content.as_str())
        && text(4)? == parent.as_deref()
        && r.get::<_, i64>(5)? == e.position
        && text(6)? == e.branch_id.as_deref()
        && text(7)? == e.metadata.as_deref()
        && text(8)? == e.reasoning.as_deref()
        && text(9)? == e.translated_content.as_deref()
        && text(10)? == e.translation_language.as_deref()
        && text(11)? == e.original_input.as_deref()
        && r.get::<_, i64>(12)? == e.created_at
        && r.get::<_, i64>(13)? == e.updated_at
        && text(14)? == e.extra.as_deref())
}

/// A copy of the story under new ids, in the Trash: its row, its entries up to `last_rowid` with
/// their alternatives, its lore, its sections and its world. Columns are read from the schema, so one added
/// later is copied too.
fn copy_into_trash(
    tx: &Transaction<'_>,
    story: &StoryId,
    last_rowid: i64,
) -> rusqlite::Result<StoryId> {
    let copy = StoryId::new();
    let ids = TrashIds::new();
    tx.create_scalar_function(
        NEW_ID,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |cx| {
            Ok(match cx.get_raw(0) {
                ValueRef::Null => None,
                old => Some(ids.of(old.as_bytes()?)),
            })
        },
    )?;
    copy_rows(tx, story, &copy, last_rowid)?;
    Ok(copy)
}

/// New ids for a copy, each a keyed hash of the old one, so a parent, an alternative and a
/// leftover draft find their row's new id without a map of every id. The keys are random per
/// copy; the ids have the form of any other (UUID v4).
struct TrashIds(RandomState, RandomState);

impl TrashIds {
    fn new() -> Self {
        Self(RandomState::new(), RandomState::new())
    }

    fn of(&self, old: &[u8]) -> String {
        let high = u128::from(self.0.hash_one(old)) << 64;
        let random = (high | u128::from(self.1.hash_one(old))).to_le_bytes();
        uuid::Builder::from_random_bytes(random)
            .into_uuid()
            .to_string()
    }
}

fn column_names(tx: &Transaction<'_>, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = tx.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
    stmt.query_map([table], |r| r.get::<_, String>(0))?
        .collect()
}

/// The SQL function `copy_into_trash` gives the new ids by, there until the replace ends.
const NEW_ID: &str = "fabula_trash_id";

fn copy_rows(
    tx: &Transaction<'_>,
    story: &StoryId,
    copy: &StoryId,
    last_rowid: i64,
) -> rusqlite::Result<()> {
    let columns = |table: &str, set: &[(&str, &str)]| -> rusqlite::Result<_> {
        let names = column_names(tx, table)?;
        let values: Vec<String> = names
            .iter()
            .map(|name| match set.iter().find(|(column, _)| column == name) {
                Some((_, value)) => (*value).to_owned(),
                None => format!("x.{name}"),
            })
            .collect();
        Ok((names.join(", "), values.join(", ")))
    };
    let now = now_ms();
    let bound: [(&str, &dyn rusqlite::ToSql); 4] = [
        (":story", &story.as_str()),
        (":copy", &copy.as_str()),
        (":last", &last_rowid),
        (":now", &now),
    ];
    let copy_of = |table: &str, set: &[(&str, &str)], from: &str| -> rusqlite::Result<()> {
        let (names, values) = columns(table, set)?;
        let mut stmt = tx.prepare(&format!(
            "INSERT INTO {table} ({names}) SELECT {values} FROM {table} x {from}"
        ))?;
        for (name, value) in bound {
            if let Some(index) = stmt.parameter_index(name)? {
                stmt.raw_bind_parameter(index, value)?;
            }
        }
        stmt.raw_execute()?;
        Ok(())
    };
    let new_id = |column: &str| format!("{NEW_ID}(x.{column})");
    copy_of(
        "stories",
        &[("id", ":copy"), ("deleted_at", ":now")],
        "WHERE x.id = :story",
    )?;
    copy_of(
        "entries",
        &[
            ("id", &new_id("id")),
            ("story_id", ":copy"),
            ("parent_id", &new_id("parent_id")),
            ("active_alternative_id", &new_id("active_alternative_id")),
        ],
        // In the index's order, so no sort, and the copy's index rows go in at one end. (SQLite
        // writes the rows to a temporary table first, as it must when a table is copied into
        // itself; reading and writing them one at a time from here was slower still.)
        "WHERE x.story_id = :story AND x.rowid <= :last ORDER BY x.position",
    )?;
    copy_of(
        "entry_alternatives",
        &[("id", &new_id("id")), ("entry_id", &new_id("entry_id"))],
        "JOIN entries e ON e.id = x.entry_id WHERE e.story_id = :story AND e.rowid <= :last",
    )?;
    copy_of(
        "lore_entries",
        &[("id", &new_id("id")), ("story_id", ":copy")],
        "WHERE x.story_id = :story",
    )?;
    for table in [
        "story_sections",
        "world_characters",
        "world_places",
        "world_items",
        "world_beats",
    ] {
        copy_of(table, &[("story_id", ":copy")], "WHERE x.story_id = :story")?;
    }
    Ok(())
}

/// Sets the story's entry and word counts from its live entries (an import writes with the
/// per-row count trigger dropped).
fn recount(tx: &Transaction<'_>, story: &StoryId) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE stories SET
             entry_count = (SELECT COUNT(*) FROM entries WHERE story_id = ?1 AND deleted_at IS NULL),
             word_count = (SELECT COALESCE(SUM(word_count), 0) FROM entries
                           WHERE story_id = ?1 AND deleted_at IS NULL)
         WHERE id = ?1",
        [story.as_str()],
    )?;
    Ok(())
}
