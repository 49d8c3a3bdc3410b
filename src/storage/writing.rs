//! What the writing loop reads and writes: prompt history with cached token counts, narration and its
//! alternatives, drafts, the prompt inspector's log, story settings and the prompt pack.

use rusqlite::{OptionalExtension, params};

use super::entries::{INSERT_ENTRY, char_count, token_count, word_count};
use super::stories::expect_one;
use super::{Result, Store, StoreError};
use crate::domain::{
    AlternativeId, Budget, Draft, DraftState, EntryId, EntryKind, GenerationRecord, HistoryItem,
    KEEP_GENERATIONS, NarrationLength, Pov, PromptPack, Reasoning, StoryId, StorySettings, Tense,
    now_ms,
};

const PROMPT_PACK_KEY: &str = "prompts.pack";

impl Store {
    /// The newest live entries before `before` (or the end), oldest first, stopping once their
    /// cached token counts pass `budget`. Reads only as far back as the budget reaches, so a
    /// 100,000-entry story costs the same as a short one. Missing counts are filled in.
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
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, kind, content, token_count FROM entries
                 WHERE story_id = ?1 AND deleted_at IS NULL AND position < ?2
                 ORDER BY position DESC",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![story.as_str(), before_position])
            .map_err(|e| self.err(e))?;
        let mut items = Vec::new();
        let mut missing = Vec::new();
        let mut spent = 0usize;
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
                break;
            }
        }
        drop(rows);
        drop(stmt);
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
    /// transaction, so the text is never in both places or in neither.
    pub fn finish_narration(
        &mut self,
        story: &StoryId,
        content: &str,
        reasoning: &str,
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
                (!reasoning.is_empty()).then_some(reasoning)
            ],
            |r| r.get::<_, i64>(0),
        )
        .map_err(err)?;
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
    ) -> Result<AlternativeId> {
        let path = self.path.clone();
        let err = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(err)?;
        let (story, original, original_reasoning, created_at): (
            String,
            String,
            Option<String>,
            i64,
        ) = tx
            .query_row(
                "SELECT story_id, content, reasoning, created_at FROM entries WHERE id = ?1",
                [entry.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
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
        let insert = "INSERT INTO entry_alternatives (id, entry_id, content, reasoning, created_at)
                      VALUES (?1, ?2, ?3, ?4, ?5)";
        if existing == 0 {
            tx.execute(
                insert,
                params![
                    AlternativeId::new().as_str(),
                    entry.as_str(),
                    original,
                    original_reasoning,
                    created_at
                ],
            )
            .map_err(err)?;
        }
        let id = AlternativeId::new();
        let now = now_ms();
        let reasoning = (!reasoning.is_empty()).then_some(reasoning);
        tx.execute(
            insert,
            params![id.as_str(), entry.as_str(), content, reasoning, now],
        )
        .map_err(err)?;
        tx.execute(
            "UPDATE entries SET content = ?2, reasoning = ?3, active_alternative_id = ?4,
                 char_count = ?5, word_count = ?6, token_count = NULL, updated_at = ?7
             WHERE id = ?1",
            params![
                entry.as_str(),
                content,
                reasoning,
                id.as_str(),
                char_count(content),
                word_count(content),
                now
            ],
        )
        .map_err(err)?;
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
        let chosen: Option<(String, String, Option<String>)> = tx
            .query_row(
                "SELECT id, content, reasoning FROM entry_alternatives WHERE entry_id = ?1
                 ORDER BY rowid LIMIT 1 OFFSET ?2",
                params![entry.as_str(), offset],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(err)?;
        let Some((id, content, reasoning)) = chosen else {
            return Err(StoreError::NotFound(format!(
                "Alternative {index} of entry {entry}"
            )));
        };
        let changed = tx
            .execute(
                "UPDATE entries SET content = ?2, reasoning = ?3, active_alternative_id = ?4,
                     char_count = ?5, word_count = ?6, token_count = NULL, updated_at = ?7
                 WHERE id = ?1",
                params![
                    entry.as_str(),
                    content,
                    reasoning,
                    id,
                    char_count(&content),
                    word_count(&content),
                    now_ms()
                ],
            )
            .map_err(err)?;
        expect_one(changed, || format!("Entry {entry}"))?;
        tx.commit().map_err(err)
    }

    pub fn save_draft(&self, draft: &Draft) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO drafts (story_id, target_entry_id, content, reasoning, state, error, model, started_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (story_id) DO UPDATE SET target_entry_id = ?2, content = ?3, reasoning = ?4,
                     state = ?5, error = ?6, model = ?7, started_at = ?8, updated_at = ?9",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    draft.story_id.as_str(),
                    draft.target.as_ref().map(EntryId::as_str),
                    draft.content,
                    draft.reasoning,
                    draft.state.as_str(),
                    draft.error,
                    draft.model,
                    draft.started_at,
                    draft.updated_at
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn draft(&self, story: &StoryId) -> Result<Option<Draft>> {
        self.conn
            .query_row(
                "SELECT target_entry_id, content, reasoning, state, error, model, started_at, updated_at
                 FROM drafts WHERE story_id = ?1",
                [story.as_str()],
                |r| {
                    let state: String = r.get(3)?;
                    Ok(Draft {
                        story_id: story.clone(),
                        target: r.get::<_, Option<String>>(0)?.map(EntryId),
                        content: r.get(1)?,
                        reasoning: r.get(2)?,
                        state: DraftState::parse(&state).unwrap_or(DraftState::Streaming),
                        error: r.get(4)?,
                        model: r.get(5)?,
                        started_at: r.get(6)?,
                        updated_at: r.get(7)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn discard_draft(&self, story: &StoryId) -> Result<()> {
        self.conn
            .execute("DELETE FROM drafts WHERE story_id = ?1", [story.as_str()])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records one generation for the inspector and keeps only the newest `KEEP_GENERATIONS`.
    pub fn log_generation(&self, record: &GenerationRecord) -> Result<i64> {
        let budget = record.budget.and_then(|b| serde_json::to_string(&b).ok());
        let id = self
            .conn
            .query_row(
                "INSERT INTO generation_log (story_id, task, provider, model, url, request, response,
                     reasoning, usage, budget, lore, outcome, error, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING id",
                params![
                    record.story_id.as_ref().map(StoryId::as_str),
                    record.task,
                    record.provider,
                    record.model,
                    record.url,
                    record.request,
                    record.response,
                    record.reasoning,
                    record.usage,
                    budget,
                    record.lore,
                    record.outcome,
                    record.error,
                    record.created_at
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .execute(
                "DELETE FROM generation_log WHERE id <= ?1 - ?2",
                params![id, i64::try_from(KEEP_GENERATIONS).unwrap_or(50)],
            )
            .map_err(|e| self.err(e))?;
        Ok(id)
    }

    /// The newest `limit` generations (at most `KEEP_GENERATIONS`), newest first; `story` narrows
    /// them to one story. Each holds a whole request, so ask only for what is shown.
    pub fn recent_generations(
        &self,
        story: Option<&StoryId>,
        limit: usize,
    ) -> Result<Vec<GenerationRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, story_id, task, provider, model, url, request, response, reasoning, usage,
                        budget, lore, outcome, error, created_at
                 FROM generation_log WHERE ?1 IS NULL OR story_id = ?1 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![
                    story.map(StoryId::as_str),
                    i64::try_from(limit.min(KEEP_GENERATIONS)).unwrap_or(50)
                ],
                |r| {
                    let budget: Option<String> = r.get(10)?;
                    Ok(GenerationRecord {
                        id: r.get(0)?,
                        story_id: r.get::<_, Option<String>>(1)?.map(StoryId),
                        task: r.get(2)?,
                        provider: r.get(3)?,
                        model: r.get(4)?,
                        url: r.get(5)?,
                        request: r.get(6)?,
                        response: r.get(7)?,
                        reasoning: r.get(8)?,
                        usage: r.get(9)?,
                        budget: budget.and_then(|b| serde_json::from_str::<Budget>(&b).ok()),
                        lore: r.get(11)?,
                        outcome: r.get(12)?,
                        error: r.get(13)?,
                        created_at: r.get(14)?,
                    })
                },
            )
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// The exchange format's `settings` object of a story (empty when it has none or it is unreadable).
    fn settings_object(
        &self,
        story: &StoryId,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let raw: Option<String> = self
            .conn
            .query_row(
                "SELECT settings FROM stories WHERE id = ?1",
                [story.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound(format!("Story {story}")))?;
        Ok(raw
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default())
    }

    /// The story's generation settings, read from the exchange format's `settings` object (other
    /// keys in it are kept as they are).
    pub fn story_settings(&self, story: &StoryId) -> Result<StorySettings> {
        let value = serde_json::Value::Object(self.settings_object(story)?);
        let str_of = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let num_of = |k: &str| value.get(k).and_then(serde_json::Value::as_f64);
        let defaults = StorySettings::new();
        Ok(StorySettings {
            tone: str_of("tone").unwrap_or_default(),
            themes: value
                .get("themes")
                .and_then(|t| t.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            length: str_of("narrationLength")
                .and_then(|l| NarrationLength::parse(&l))
                .unwrap_or_default(),
            profile_id: str_of("profileId"),
            model: str_of("model").filter(|m| !m.is_empty()),
            temperature: num_of("temperature").map(|t| t as f32),
            max_tokens: num_of("maxTokens").and_then(|t| u32::try_from(t as i64).ok()),
            reasoning: str_of("reasoningEffort").and_then(|r| Reasoning::parse(&r)),
            context_window: num_of("contextWindow").and_then(|t| u32::try_from(t as i64).ok()),
            suggestions: value
                .get("suggestionsEnabled")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(defaults.suggestions),
        })
    }

    pub fn save_story_settings(&self, story: &StoryId, settings: &StorySettings) -> Result<()> {
        let mut value = self.settings_object(story)?;
        let mut put = |k: &str, v: Option<serde_json::Value>| match v {
            Some(v) => {
                value.insert(k.to_owned(), v);
            }
            None => {
                value.remove(k);
            }
        };
        use serde_json::json;
        put(
            "tone",
            (!settings.tone.is_empty()).then(|| json!(settings.tone)),
        );
        put(
            "themes",
            (!settings.themes.is_empty()).then(|| json!(settings.themes)),
        );
        put("narrationLength", Some(json!(settings.length.as_str())));
        put("profileId", settings.profile_id.as_ref().map(|p| json!(p)));
        put("model", settings.model.as_ref().map(|m| json!(m)));
        put("temperature", settings.temperature.map(|t| json!(t)));
        put("maxTokens", settings.max_tokens.map(|t| json!(t)));
        put(
            "reasoningEffort",
            settings.reasoning.map(|r| json!(r.as_str())),
        );
        put("contextWindow", settings.context_window.map(|t| json!(t)));
        put("suggestionsEnabled", Some(json!(settings.suggestions)));
        let text = serde_json::Value::Object(value).to_string();
        let changed = self
            .conn
            .execute(
                "UPDATE stories SET settings = ?2 WHERE id = ?1",
                params![story.as_str(), text],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Story {story}"))
    }

    pub fn set_story_style(&self, story: &StoryId, pov: Pov, tense: Tense) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE stories SET pov = ?2, tense = ?3, updated_at = ?4 WHERE id = ?1",
                params![story.as_str(), pov.as_str(), tense.as_str(), now_ms()],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Story {story}"))
    }

    /// The prompt templates in use: the user's pack, or the defaults when none was saved (or the
    /// saved one cannot be read, which is logged rather than fatal).
    pub fn prompt_pack(&self) -> Result<PromptPack> {
        Ok(match self.setting(PROMPT_PACK_KEY)? {
            Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                log::warn!(
                    "the saved prompt templates could not be read ({e}); using the defaults"
                );
                PromptPack::default()
            }),
            None => PromptPack::default(),
        })
    }

    pub fn save_prompt_pack(&self, pack: &PromptPack) -> Result<()> {
        let text = serde_json::to_string(pack)
            .map_err(|e| StoreError::Invalid(format!("The templates could not be saved: {e}")))?;
        self.set_setting(PROMPT_PACK_KEY, &text)
    }
}
