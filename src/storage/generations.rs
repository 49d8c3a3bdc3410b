//! The prompt inspector's log: each request as it was sent and what came back, the newest kept.

use super::{Result, Store};
use crate::domain::{Budget, GenerationRecord, KEEP_GENERATIONS, StoryId};
use rusqlite::params;

impl Store {
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
}
