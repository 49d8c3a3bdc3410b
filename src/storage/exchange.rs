//! Whole stories in and out: reading a story with everything it has into a `StoryBundle`, and
//! writing a bundle back in one transaction, with the conflict rule for ids that already exist.

use rusqlite::{OptionalExtension, Transaction, params};

use super::entries::{char_count, word_count};
use super::{Result, Store, StoreError};
use crate::domain::{
    BundleEntry, BundleLore, BundleStory, EntryId, EntryKind, InjectionMode, LoreEntry, LoreId,
    LoreKind, Pov, StoryBundle, StoryId, StoryMode, Tense, now_ms,
};

/// What to do when the story's id is already in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnConflict {
    /// Refuse with `StoreError::Conflict` (the caller asks the user).
    Refuse,
    /// Import a copy with new ids and "(imported)" after its title.
    KeepBoth,
    /// Put the current story in the Trash (under new ids), then import with the file's ids.
    Replace,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    pub story: StoryId,
    pub title: String,
    pub entries: usize,
    /// The story that was put in the Trash to make room, when replacing.
    pub replaced: Option<StoryId>,
}

fn strings(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

impl Store {
    /// Whether a story with this id exists (in the library or the Trash), and its title.
    pub fn story_title(&self, id: &StoryId) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT title FROM stories WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Everything stored about a story, entries in order, for export or sync.
    pub fn export_bundle(&self, id: &StoryId) -> Result<StoryBundle> {
        self.export_parts(id, true)
    }

    /// The story without its entries (for writers that stream them with `stream_entries`).
    pub fn export_head(&self, id: &StoryId) -> Result<StoryBundle> {
        self.export_parts(id, false)
    }

    /// Hands the story's live entries, in order, to `read` one row at a time, so a writer can
    /// send a story of any size without holding it. A read error ends the rows and is returned.
    pub fn stream_entries<T>(
        &self,
        id: &StoryId,
        read: impl FnOnce(&mut dyn Iterator<Item = BundleEntry>) -> T,
    ) -> Result<T> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, kind, content, parent_id, position, created_at, updated_at, metadata,
                        branch_id, reasoning, translated_content, translation_language,
                        original_input, extra
                 FROM entries WHERE story_id = ?1 AND deleted_at IS NULL ORDER BY position, rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id.as_str()], |r| {
                let kind: String = r.get(1)?;
                Ok(BundleEntry {
                    id: EntryId(r.get(0)?),
                    kind: EntryKind::parse(&kind).unwrap_or(EntryKind::System),
                    content: r.get(2)?,
                    parent_id: r.get(3)?,
                    position: r.get(4)?,
                    created_at: r.get(5)?,
                    updated_at: r.get(6)?,
                    metadata: r.get(7)?,
                    branch_id: r.get(8)?,
                    reasoning: r.get(9)?,
                    translated_content: r.get(10)?,
                    translation_language: r.get(11)?,
                    original_input: r.get(12)?,
                    extra: r.get(13)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut failed = None;
        let mut ok_rows = rows.map_while(|r| match r {
            Ok(entry) => Some(entry),
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        let out = read(&mut ok_rows);
        drop(ok_rows);
        match failed {
            Some(e) => Err(self.err(e)),
            None => Ok(out),
        }
    }

    /// The story without its entries, then its entries one row at a time: for writers that never
    /// hold a story whole (an exported file, a pulled story).
    pub fn stream_story<T>(
        &self,
        id: &StoryId,
        read: impl FnOnce(StoryBundle, &mut dyn Iterator<Item = BundleEntry>) -> T,
    ) -> Result<T> {
        let head = self.export_head(id)?;
        self.stream_entries(id, |rows| read(head, rows))
    }

    fn export_parts(&self, id: &StoryId, with_entries: bool) -> Result<StoryBundle> {
        let story = self
            .conn
            .query_row(
                "SELECT id, title, description, genre, template_id, mode, pov, tense, protagonist,
                        settings, memory_config, retry_state, style_review_state, time_tracker,
                        current_branch_id, created_at, updated_at, extra
                 FROM stories WHERE id = ?1",
                [id.as_str()],
                |r| {
                    let mode: String = r.get(5)?;
                    let pov: String = r.get(6)?;
                    let tense: String = r.get(7)?;
                    Ok(BundleStory {
                        id: StoryId(r.get(0)?),
                        title: r.get(1)?,
                        description: r.get(2)?,
                        genre: r.get(3)?,
                        template_id: r.get(4)?,
                        mode: StoryMode::parse(&mode).unwrap_or_default(),
                        pov: Pov::parse(&pov).unwrap_or_default(),
                        tense: Tense::parse(&tense).unwrap_or_default(),
                        protagonist: r.get(8)?,
                        settings: r.get(9)?,
                        memory_config: r.get(10)?,
                        retry_state: r.get(11)?,
                        style_review_state: r.get(12)?,
                        time_tracker: r.get(13)?,
                        current_branch_id: r.get(14)?,
                        created_at: r.get(15)?,
                        updated_at: r.get(16)?,
                        extra: r.get(17)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound(format!("Story {id}")))?;

        let entries = if with_entries {
            self.stream_entries(id, |rows| rows.collect())?
        } else {
            Vec::new()
        };

        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, name, kind, description, COALESCE(hidden_info, ''), aliases, keywords,
                        injection_mode, priority, created_at, updated_at, state, adventure_state,
                        creative_state, first_mentioned, last_mentioned, mention_count, created_by,
                        lore_management_blacklisted, branch_id, extra, injection_extra
                 FROM lore_entries WHERE story_id = ?1 AND deleted_at IS NULL ORDER BY rowid",
            )
            .map_err(|e| self.err(e))?;
        let lore = stmt
            .query_map([id.as_str()], |r| {
                let kind: String = r.get(2)?;
                let mode: String = r.get(7)?;
                Ok(BundleLore {
                    entry: LoreEntry {
                        id: LoreId(r.get(0)?),
                        story_id: id.clone(),
                        name: r.get(1)?,
                        kind: LoreKind::parse(&kind).unwrap_or_default(),
                        description: r.get(3)?,
                        hidden_info: r.get(4)?,
                        aliases: strings(&r.get::<_, String>(5)?),
                        keywords: strings(&r.get::<_, String>(6)?),
                        mode: InjectionMode::parse(&mode).unwrap_or_default(),
                        priority: r.get(8)?,
                        created_at: r.get(9)?,
                        updated_at: r.get(10)?,
                    },
                    state: r.get(11)?,
                    adventure_state: r.get(12)?,
                    creative_state: r.get(13)?,
                    first_mentioned: r.get(14)?,
                    last_mentioned: r.get(15)?,
                    mention_count: r.get(16)?,
                    created_by: r.get(17)?,
                    blacklisted: r.get(18)?,
                    branch_id: r.get(19)?,
                    extra: r.get(20)?,
                    injection_extra: r.get(21)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;

        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, json FROM story_sections WHERE story_id = ?1 ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let sections = stmt
            .query_map([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(StoryBundle {
            story,
            entries,
            lore,
            sections,
        })
    }

    /// Writes a whole story in one transaction: killed half way, nothing of it remains.
    pub fn import_bundle(
        &mut self,
        bundle: &StoryBundle,
        on_conflict: OnConflict,
    ) -> Result<Imported> {
        let existing = self.story_title(&bundle.story.id)?;
        let (bundle, replace) = match (&existing, on_conflict) {
            (None, _) => (std::borrow::Cow::Borrowed(bundle), false),
            (Some(title), OnConflict::Refuse) => {
                return Err(StoreError::Conflict(format!(
                    "This story is already in Fabula as “{title}”. Import it as a copy, or replace the one you have (it goes to the Trash)."
                )));
            }
            (Some(_), OnConflict::KeepBoth) => {
                let mut copy = bundle.with_new_ids();
                copy.story.title = format!("{} (imported)", copy.story.title);
                (std::borrow::Cow::Owned(copy), false)
            }
            (Some(_), OnConflict::Replace) => (std::borrow::Cow::Borrowed(bundle), true),
        };
        let (bundle, replaced_id) = match self.write_bundle(&bundle, replace) {
            Err(StoreError::IdsTaken(owner)) => match on_conflict {
                // The story itself is not here, but its entries' ids are (a copy made elsewhere
                // from the same file): a copy under new ids is the only way to keep both.
                OnConflict::KeepBoth | OnConflict::Replace => {
                    let renumbered = bundle.with_new_entry_ids();
                    let replaced_id = self.write_bundle(&renumbered, replace)?;
                    (std::borrow::Cow::Owned(renumbered), replaced_id)
                }
                OnConflict::Refuse => {
                    return Err(StoreError::Conflict(format!(
                        "Entries of this file are already in Fabula, in “{owner}”. Import it as a copy (its entries get new ids)."
                    )));
                }
            },
            written => (bundle, written?),
        };
        Ok(Imported {
            story: bundle.story.id.clone(),
            title: bundle.story.title.clone(),
            entries: bundle.entries.len(),
            replaced: replaced_id,
        })
    }

    /// One transaction: the story already there (when replacing) into the Trash, then the bundle.
    /// Entry or lore ids that another story holds give `IdsTaken` and change nothing.
    fn write_bundle(&mut self, bundle: &StoryBundle, replace: bool) -> Result<Option<StoryId>> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        let replaced_id = if replace {
            // The current story keeps everything (alternatives, drafts, sections) under new ids.
            Some(rekey_into_trash(&tx, &bundle.story.id).map_err(err)?)
        } else {
            None
        };
        let started = std::time::Instant::now();
        if let Err(e) = insert_bundle(&tx, bundle) {
            let taken = e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
                && ["entries.id", "lore_entries.id"]
                    .iter()
                    .any(|column| e.to_string().ends_with(column));
            if taken {
                drop(tx);
                return Err(StoreError::IdsTaken(self.owner_of_taken_ids(bundle)?));
            }
            return Err(err(e));
        }
        let written = started.elapsed();
        tx.commit().map_err(err)?;
        log::debug!(
            "import: {} entries written in {} ms, committed in {} ms",
            bundle.entries.len(),
            written.as_millis(),
            (started.elapsed() - written).as_millis()
        );
        Ok(replaced_id)
    }

    /// The title of a story holding one of the bundle's entry or lore ids, to name in a message.
    fn owner_of_taken_ids(&self, bundle: &StoryBundle) -> Result<String> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.title FROM stories s WHERE s.id IN (
                     SELECT story_id FROM entries WHERE id = ?1
                     UNION ALL SELECT story_id FROM lore_entries WHERE id = ?1)",
            )
            .map_err(|e| self.err(e))?;
        for id in bundle.ids().iter().skip(1) {
            if let Some(title) = stmt
                .query_row([id], |r| r.get::<_, String>(0))
                .optional()
                .map_err(|e| self.err(e))?
            {
                return Ok(title);
            }
        }
        Ok("another story".into())
    }
}

/// Gives a story and everything under it new ids and puts it in the Trash, inside `tx`.
fn rekey_into_trash(tx: &Transaction<'_>, old: &StoryId) -> rusqlite::Result<StoryId> {
    // Children point at the ids being changed; the checks run at commit, when all agree again.
    tx.pragma_update(None, "defer_foreign_keys", "ON")?;
    let new = StoryId::new();
    let now = now_ms();
    tx.execute(
        "UPDATE stories SET id = ?2, deleted_at = ?3 WHERE id = ?1",
        params![old.as_str(), new.as_str(), now],
    )?;
    for table in ["lore_entries", "drafts", "story_sections"] {
        tx.execute(
            &format!("UPDATE {table} SET story_id = ?2 WHERE story_id = ?1"),
            params![old.as_str(), new.as_str()],
        )?;
    }
    tx.execute(
        "UPDATE lore_entries SET id = lower(hex(randomblob(16))) WHERE story_id = ?1",
        [new.as_str()],
    )?;
    // One set-based pass per table through a map of old to new ids: looking each id up in the
    // story's rows made a 20k-entry replace take 95 s.
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS rekey (old TEXT PRIMARY KEY NOT NULL, new TEXT NOT NULL) WITHOUT ROWID;
         DELETE FROM temp.rekey;",
    )?;
    {
        let mut ids = tx.prepare("SELECT id FROM entries WHERE story_id = ?1")?;
        let mut map = tx.prepare("INSERT INTO temp.rekey (old, new) VALUES (?1, ?2)")?;
        let mut rows = ids.query([old.as_str()])?;
        while let Some(row) = rows.next()? {
            map.execute(params![row.get::<_, String>(0)?, EntryId::new().0])?;
        }
    }
    tx.execute(
        "UPDATE entries SET id = (SELECT new FROM temp.rekey WHERE old = entries.id), story_id = ?2
         WHERE story_id = ?1",
        params![old.as_str(), new.as_str()],
    )?;
    tx.execute(
        "UPDATE entries SET parent_id = (SELECT new FROM temp.rekey WHERE old = entries.parent_id)
         WHERE story_id = ?1 AND parent_id IN (SELECT old FROM temp.rekey)",
        [new.as_str()],
    )?;
    tx.execute_batch(
        "UPDATE entry_alternatives SET entry_id = (SELECT new FROM temp.rekey WHERE old = entry_alternatives.entry_id)
         WHERE entry_id IN (SELECT old FROM temp.rekey);
         UPDATE drafts SET target_entry_id = (SELECT new FROM temp.rekey WHERE old = drafts.target_entry_id)
         WHERE target_entry_id IN (SELECT old FROM temp.rekey);
         DELETE FROM temp.rekey;",
    )?;
    Ok(new)
}

fn insert_bundle(tx: &Transaction<'_>, bundle: &StoryBundle) -> rusqlite::Result<()> {
    let s = &bundle.story;
    tx.execute(
        "INSERT INTO stories (id, title, description, genre, template_id, mode, pov, tense, protagonist,
             settings, memory_config, retry_state, style_review_state, time_tracker, current_branch_id,
             created_at, updated_at, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
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
    // The per-row count trigger makes every INSERT a multi-write statement with its own statement
    // journal, a fifth of a large import's time. The story is new, so its counts are set once
    // below instead; the trigger is dropped and re-created from its own stored SQL inside this
    // transaction, so no other connection ever sees it missing and a rollback restores it.
    let count_trigger: String = tx.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'entries_count_insert'",
        [],
        |r| r.get(0),
    )?;
    tx.execute_batch("DROP TRIGGER entries_count_insert")?;
    let mut words = 0i64;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO entries (id, story_id, kind, content, parent_id, position, branch_id, metadata,
                 reasoning, translated_content, translation_language, original_input, char_count,
                 word_count, created_at, updated_at, extra)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?;
        for e in &bundle.entries {
            let entry_words = word_count(&e.content);
            words = words.saturating_add(entry_words);
            stmt.execute(params![
                e.id.as_str(),
                s.id.as_str(),
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
                char_count(&e.content),
                entry_words,
                e.created_at,
                e.updated_at,
                e.extra
            ])?;
        }
    }
    tx.execute_batch(&count_trigger)?;
    tx.execute(
        "UPDATE stories SET entry_count = ?2, word_count = ?3 WHERE id = ?1",
        params![s.id.as_str(), bundle.entries.len() as i64, words],
    )?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO lore_entries (id, story_id, name, kind, description, hidden_info, aliases,
                 keywords, injection_mode, priority, state, adventure_state, creative_state,
                 first_mentioned, last_mentioned, mention_count, created_by,
                 lore_management_blacklisted, branch_id, created_at, updated_at, extra, injection_extra)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22, ?23)",
        )?;
        for l in &bundle.lore {
            let e = &l.entry;
            let list = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
            stmt.execute(params![
                e.id.as_str(),
                s.id.as_str(),
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
    }
    let mut stmt =
        tx.prepare_cached("INSERT INTO story_sections (story_id, name, json) VALUES (?1, ?2, ?3)")?;
    for (name, json) in &bundle.sections {
        stmt.execute(params![s.id.as_str(), name, json])?;
    }
    // The entry triggers move updated_at forward; the file's own time is the story's.
    tx.execute(
        "UPDATE stories SET updated_at = ?2 WHERE id = ?1",
        params![s.id.as_str(), s.updated_at],
    )?;
    Ok(())
}
