//! Whole stories in: a story written from its parts as they arrive, in one transaction, with the
//! conflict rule for ids that already exist (a replace is in replace.rs).

use rusqlite::{OptionalExtension, Transaction, params};

use super::entries::{char_count, word_count};
use super::exchange::Imported;
use super::renumber::follow_new_ids;
use super::{Result, Store, StoreError};
use crate::domain::{
    BundleEntry, BundleLore, BundleStory, EntryId, IdRemap, ImportPart, LoreId, OnConflict,
    StoryBundle, StoryId,
};

impl Store {
    /// Writes a whole story in one transaction: killed half way, nothing of it remains.
    pub fn import_bundle(
        &mut self,
        bundle: &StoryBundle,
        on_conflict: OnConflict,
    ) -> Result<Imported> {
        self.import_parts(on_conflict, bundle.parts())
    }

    /// Writes a story as its parts arrive (see `ImportPart`), in one transaction that commits only
    /// once `ImportPart::Rest` has come: parts that stop before it leave nothing behind
    /// (`StoreError::Incomplete`). Entry or lore ids another story holds are given new ones
    /// (refused under `OnConflict::Refuse`); a copy kept beside the story already here gets new
    /// ids throughout.
    pub fn import_parts(
        &mut self,
        on_conflict: OnConflict,
        parts: impl Iterator<Item = ImportPart>,
    ) -> Result<Imported> {
        // A large story's id index is written in random order: with SQLite's default 2 MB page
        // cache its pages go to the WAL and are read back again and again. The cache is set back
        // after the import, so the memory is only taken while one runs.
        let usual: i64 = self
            .conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "cache_size", IMPORT_CACHE_KIB)
            .map_err(|e| self.err(e))?;
        // Two checks cost much and protect nothing here. Every row the import writes belongs to
        // the story row it writes first, in the same transaction: checking each entry's story
        // cost about 0.1 s of a 200,000-entry import. The entry kind's CHECK (an IN list) builds
        // a temporary index for every row, a tenth of the import; kinds come from `EntryKind`,
        // which has only the allowed ones. (These pragmas cannot change inside a transaction.)
        let relaxed = [
            ("foreign_keys", "OFF", "ON"),
            ("ignore_check_constraints", "ON", "OFF"),
        ];
        for (pragma, during, _) in relaxed {
            self.conn
                .pragma_update(None, pragma, during)
                .map_err(|e| self.err(e))?;
        }
        let imported = self.import_parts_cached(on_conflict, parts);
        let usual = usual.to_string();
        let restore = relaxed
            .iter()
            .map(|(pragma, _, after)| (*pragma, *after))
            .chain([("cache_size", usual.as_str())]);
        for (pragma, value) in restore {
            if let Err(e) = self.conn.pragma_update(None, pragma, value) {
                log::warn!("{pragma} could not be set back after an import: {e}");
            }
        }
        imported
    }

    fn import_parts_cached(
        &mut self,
        on_conflict: OnConflict,
        mut parts: impl Iterator<Item = ImportPart>,
    ) -> Result<Imported> {
        let Some(ImportPart::Story(mut story)) = parts.next() else {
            return Err(StoreError::Incomplete);
        };
        let mut remap = IdRemap::default();
        let copy = match (self.story_title(&story.id)?, on_conflict) {
            (None, _) => false,
            (Some(title), OnConflict::Refuse) => {
                return Err(StoreError::Conflict(format!(
                    "This story is already in Fabula as “{title}”. Import it as a copy, or replace the one you have (if that changes anything, yours goes to the Trash first)."
                )));
            }
            (Some(_), OnConflict::KeepBoth) => true,
            (Some(_), OnConflict::Replace) => return self.replace_parts(story, parts),
        };
        if copy {
            story.id = StoryId(remap.assign(story.id.as_str()));
        }
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        let started = std::time::Instant::now();
        upsert_story(&tx, &story).map_err(err)?;
        let count_trigger = without_count_trigger(&tx).map_err(err)?;
        let unindexed = super::search::unindex_story(&tx, &story.id).map_err(err)?;
        let mut entries = EntryWriter::new(&tx, &story.id, copy, on_conflict).map_err(err)?;
        let mut carried = false;
        let rest = each_entry(&mut parts, |entry| {
            carried |= super::carried::carries_alternatives(entry.extra.as_deref());
            entries.insert(entry, &mut remap)
        })?;
        let (count, words) = (entries.count, entries.words);
        drop(entries);
        let Some((mut last, mut lore, mut sections)) = rest else {
            return Err(StoreError::Incomplete);
        };
        let written = started.elapsed();
        last.id = story.id.clone();
        if copy {
            last.title = format!("{} (imported)", last.title);
        }
        settle_lore_ids(&tx, &story.id, &mut lore, copy, on_conflict, &mut remap)?;
        follow_new_ids(
            &tx,
            &story.id,
            &remap,
            copy,
            &mut last,
            &mut lore,
            &mut sections,
        )
        .map_err(err)?;
        insert_lore(&tx, &story.id, &lore).map_err(err)?;
        super::branch_sections::check_branch_section(&tx, &story.id, &sections)?;
        insert_sections(&tx, &story.id, &sections).map_err(err)?;
        if carried {
            super::carried::adopt_alternatives(&tx, story.id.as_str()).map_err(err)?;
        }
        unindexed.reindex(&tx, &[&story.id]).map_err(err)?;
        tx.execute_batch(&count_trigger).map_err(err)?;
        // Last, so no trigger moves the file's own time forward.
        upsert_story(&tx, &last).map_err(err)?;
        super::carried::adopt_draft(&tx, story.id.as_str()).map_err(err)?;
        tx.execute(
            "UPDATE stories SET entry_count = ?2, word_count = ?3 WHERE id = ?1",
            params![story.id.as_str(), count as i64, words],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        log::debug!(
            "import: {count} entries written in {} ms, committed in {} ms",
            written.as_millis(),
            (started.elapsed() - written).as_millis()
        );
        Ok(Imported {
            story: story.id,
            title: last.title,
            entries: count,
            replaced: None,
            updated: false,
        })
    }
}

/// What comes after a story's entries: the story as it is to be stored, its lore, its sections.
pub(super) type StoryRest = (BundleStory, Vec<BundleLore>, Vec<(String, String)>);

/// Hands each entry of the parts to `store`, up to the rest of the story, which it returns
/// (`None` when the parts stopped before it: a cut file, a dropped peer).
pub(super) fn each_entry(
    parts: &mut impl Iterator<Item = ImportPart>,
    mut store: impl FnMut(BundleEntry) -> Result<()>,
) -> Result<Option<StoryRest>> {
    for part in parts {
        match part {
            ImportPart::Entries(batch) => {
                for entry in batch {
                    store(entry)?;
                }
            }
            ImportPart::Rest {
                story,
                lore,
                sections,
            } => return Ok(Some((story, lore, sections))),
            ImportPart::Story(_) => break,
        }
    }
    Ok(None)
}

/// The page cache while importing, in KiB as SQLite takes it (negative): enough for the indexes
/// of a story of a few hundred thousand entries.
const IMPORT_CACHE_KIB: i64 = -65_536;

fn taken_ids(owner: &str) -> StoreError {
    StoreError::Conflict(format!(
        "Entries of this file are already in Fabula, in “{owner}”. Import it as a copy (its entries get new ids)."
    ))
}

/// The title of the story holding a row of `table` (entries or lore), to name in a message.
fn owner_of(tx: &Transaction<'_>, table: &str, id: &str) -> rusqlite::Result<String> {
    let title = tx
        .query_row(
            &format!(
                "SELECT s.title FROM stories s JOIN {table} t ON t.story_id = s.id WHERE t.id = ?1"
            ),
            [id],
            |r| r.get::<_, String>(0),
        )
        .optional()?;
    Ok(title.unwrap_or_else(|| "another story".into()))
}

fn lore_id_taken(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<bool> {
    tx.query_row("SELECT 1 FROM lore_entries WHERE id = ?1", [id], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}

/// Inserts the entries of an import one at a time, giving new ids where the copy needs them or
/// another story holds them.
pub(super) struct EntryWriter<'t> {
    insert: rusqlite::Statement<'t>,
    story_id: StoryId,
    copy: bool,
    on_conflict: OnConflict,
    tx: &'t Transaction<'t>,
    pub(super) count: usize,
    pub(super) words: i64,
}

impl<'t> EntryWriter<'t> {
    pub(super) fn new(
        tx: &'t Transaction<'t>,
        story_id: &StoryId,
        copy: bool,
        on_conflict: OnConflict,
    ) -> rusqlite::Result<Self> {
        // An id another story holds inserts nothing (rather than failing the statement), so the
        // import can go on under a new one.
        let insert = tx.prepare(
            "INSERT INTO entries (id, story_id, kind, content, parent_id, position, branch_id, metadata,
                 reasoning, translated_content, translation_language, original_input, char_count,
                 word_count, created_at, updated_at, extra)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT (id) DO NOTHING",
        )?;
        Ok(Self {
            insert,
            story_id: story_id.clone(),
            copy,
            on_conflict,
            tx,
            count: 0,
            words: 0,
        })
    }

    pub(super) fn insert(&mut self, mut e: BundleEntry, remap: &mut IdRemap) -> Result<()> {
        let err = |e: rusqlite::Error| StoreError::Sqlite(e.to_string());
        if self.copy {
            e.id = EntryId(remap.assign(e.id.as_str()));
            e.parent_id = e.parent_id.map(|p| remap.assign(&p));
        } else if let Some(parent) = &e.parent_id
            && let Some(new) = remap.get(parent)
        {
            e.parent_id = Some(new.to_owned());
        }
        let words = word_count(&e.content);
        let chars = char_count(&e.content);
        let mut run = |id: &str| {
            self.insert.execute(params![
                id,
                self.story_id.as_str(),
                e.kind.as_str(),
                e.content,
                e.parent_id,
                e.position,
                e.branch_id,
                e.metadata,
                e.reasoning,
                e.translated_content,
                e.translation_language,
                e.original_input,
                chars,
                words,
                e.created_at,
                e.updated_at,
                e.extra
            ])
        };
        if run(e.id.as_str()).map_err(err)? == 0 {
            if self.on_conflict == OnConflict::Refuse {
                let owner = owner_of(self.tx, "entries", e.id.as_str()).map_err(err)?;
                return Err(taken_ids(&owner));
            }
            let new = remap.assign(e.id.as_str());
            if run(&new).map_err(err)? == 0 {
                return Err(StoreError::Sqlite(format!("entry id {new} is taken")));
            }
        }
        self.count += 1;
        self.words = self.words.saturating_add(words);
        Ok(())
    }
}

/// Drops the per-row count trigger for the rest of `tx` and returns the SQL that re-creates it.
///
/// The trigger makes every INSERT a multi-write statement with its own statement journal, a fifth
/// of a large import's time; an import sets the counts once at the end instead. It is dropped and
/// re-created from its own stored SQL inside the transaction, so no other connection ever sees it
/// missing and a rollback restores it.
pub(super) fn without_count_trigger(tx: &Transaction<'_>) -> rusqlite::Result<String> {
    let sql: String = tx.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'entries_count_insert'",
        [],
        |r| r.get(0),
    )?;
    tx.execute_batch("DROP TRIGGER entries_count_insert")?;
    Ok(sql)
}

/// Gives the file's lore entries their story, and new ids where the copy needs them or another
/// story holds them (refused under `OnConflict::Refuse`).
pub(super) fn settle_lore_ids(
    tx: &Transaction<'_>,
    story_id: &StoryId,
    lore: &mut [BundleLore],
    copy: bool,
    on_conflict: OnConflict,
    remap: &mut IdRemap,
) -> Result<()> {
    let err = |e: rusqlite::Error| StoreError::Sqlite(e.to_string());
    for l in lore {
        let id = l.entry.id.as_str();
        let taken = !copy && lore_id_taken(tx, id).map_err(err)?;
        if taken && on_conflict == OnConflict::Refuse {
            let owner = owner_of(tx, "lore_entries", id).map_err(err)?;
            return Err(taken_ids(&owner));
        }
        if copy || taken {
            l.entry.id = LoreId(remap.assign(id));
        }
        l.entry.story_id = story_id.clone();
    }
    Ok(())
}

pub(super) fn insert_sections(
    tx: &Transaction<'_>,
    story_id: &StoryId,
    sections: &[(String, String)],
) -> rusqlite::Result<()> {
    let verbatim = super::world_sections::store_world_sections(tx, story_id, sections)?;
    let mut stmt =
        tx.prepare_cached("INSERT INTO story_sections (story_id, name, json) VALUES (?1, ?2, ?3)")?;
    for (name, json) in verbatim {
        if name == super::chapters::SECTION
            && super::chapters::store_chapter_section(tx, story_id, json)?
        {
            continue;
        }
        if super::branch_sections::store_branch_section(tx, story_id, name, json)? {
            continue;
        }
        stmt.execute(params![story_id.as_str(), name, json])?;
    }
    super::branch_sections::mark_own_worlds(tx, story_id)
}

/// Inserts the story's row, or sets every column of it from `s` when it is there already.
pub(super) fn upsert_story(tx: &Transaction<'_>, s: &BundleStory) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO stories (id, title, description, genre, template_id, mode, pov, tense, protagonist,
             settings, memory_config, retry_state, style_review_state, time_tracker, current_branch_id,
             created_at, updated_at, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
             genre = excluded.genre, template_id = excluded.template_id, mode = excluded.mode,
             pov = excluded.pov, tense = excluded.tense, protagonist = excluded.protagonist,
             settings = excluded.settings, memory_config = excluded.memory_config,
             retry_state = excluded.retry_state, style_review_state = excluded.style_review_state,
             time_tracker = excluded.time_tracker, current_branch_id = excluded.current_branch_id,
             created_at = excluded.created_at, updated_at = excluded.updated_at, extra = excluded.extra",
        params![
            s.id.as_str(),
            s.title,
            s.description,
            s.genre,
            s.template_id,
            s.mode.as_str(),
            s.pov.as_str(),
            s.tense.as_str(),
            s.protagonist,
            s.settings,
            s.memory_config,
            s.retry_state,
            s.style_review_state,
            s.time_tracker,
            s.current_branch_id,
            s.created_at,
            s.updated_at,
            s.extra
        ],
    )?;
    Ok(())
}

pub(super) fn insert_lore(
    tx: &Transaction<'_>,
    story_id: &StoryId,
    lore: &[BundleLore],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
            "INSERT INTO lore_entries (id, story_id, name, kind, description, hidden_info, aliases,
                 keywords, injection_mode, priority, state, adventure_state, creative_state,
                 first_mentioned, last_mentioned, mention_count, created_by,
                 lore_management_blacklisted, branch_id, created_at, updated_at, extra, injection_extra)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22, ?23)",
        )?;
    for l in lore {
        let e = &l.entry;
        let list = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        stmt.execute(params![
            e.id.as_str(),
            story_id.as_str(),
            e.name,
            e.kind.as_str(),
            e.description,
            (!e.hidden_info.is_empty()).then_some(&e.hidden_info),
            list(&e.aliases),
            list(&e.keywords),
            e.mode.as_str(),
            e.priority,
            l.state,
            l.adventure_state,
            l.creative_state,
            l.first_mentioned,
            l.last_mentioned,
            l.mention_count,
            l.created_by,
            l.blacklisted,
            l.branch_id,
            e.created_at,
            e.updated_at,
            l.extra,
            l.injection_extra
        ])?;
    }
    Ok(())
}
