//! The usage ledger: one row per model call, summed by story, provider or day for the Usage view.

use rusqlite::params;

use super::{Result, Store};
use crate::domain::{CallOutcome, Task, UsageGrouping, UsageRecord, UsageTotal};

fn to_i64(v: Option<u64>) -> Option<i64> {
    v.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

fn to_u64(v: Option<i64>) -> Option<u64> {
    v.map(|n| u64::try_from(n).unwrap_or(0))
}

impl Store {
    pub fn record_usage(&self, r: &UsageRecord) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO usage_log (at, provider, profile_id, model, task, story_id,
                     prompt_tokens, completion_tokens, reasoning_tokens, first_token_ms, total_ms,
                     cost_micro_usd, outcome, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    r.at_ms,
                    r.provider,
                    r.profile_id,
                    r.model,
                    r.task.as_str(),
                    r.story_id,
                    to_i64(r.prompt_tokens),
                    to_i64(r.completion_tokens),
                    to_i64(r.reasoning_tokens),
                    to_i64(r.first_token_ms),
                    to_i64(Some(r.total_ms)),
                    r.cost_micro_usd,
                    r.outcome.as_str(),
                    r.error
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The newest calls first, at most `limit`.
    pub fn recent_usage(&self, limit: usize) -> Result<Vec<UsageRecord>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT at, provider, profile_id, model, task, story_id, prompt_tokens,
                     completion_tokens, reasoning_tokens, first_token_ms, total_ms, cost_micro_usd,
                     outcome, error
                 FROM usage_log ORDER BY at DESC, id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok(UsageRecord {
                    at_ms: r.get(0)?,
                    provider: r.get(1)?,
                    profile_id: r.get(2)?,
                    model: r.get(3)?,
                    task: Task::parse(&r.get::<_, String>(4)?).unwrap_or(Task::Check),
                    story_id: r.get(5)?,
                    prompt_tokens: to_u64(r.get(6)?),
                    completion_tokens: to_u64(r.get(7)?),
                    reasoning_tokens: to_u64(r.get(8)?),
                    first_token_ms: to_u64(r.get(9)?),
                    total_ms: to_u64(r.get(10)?).unwrap_or(0),
                    cost_micro_usd: r.get(11)?,
                    outcome: CallOutcome::parse(&r.get::<_, String>(12)?)
                        .unwrap_or(CallOutcome::Failed),
                    error: r.get(13)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Sums of the whole ledger, grouped as asked, the biggest first (days: newest first).
    pub fn usage_totals(&self, grouping: UsageGrouping) -> Result<Vec<UsageTotal>> {
        let (key, from, order) = match grouping {
            UsageGrouping::Story => (
                "COALESCE(s.title, CASE WHEN u.story_id IS NULL THEN '(no story)' ELSE '(deleted story)' END)",
                "usage_log u LEFT JOIN stories s ON s.id = u.story_id",
                "tokens DESC",
            ),
            UsageGrouping::Provider => ("u.provider", "usage_log u", "tokens DESC"),
            UsageGrouping::Day => (
                "strftime('%Y-%m-%d', u.at / 1000, 'unixepoch', 'localtime')",
                "usage_log u",
                "key DESC",
            ),
        };
        let sql = format!(
            "SELECT {key} AS key, COUNT(*),
                 COALESCE(SUM(u.prompt_tokens), 0), COALESCE(SUM(u.completion_tokens), 0),
                 COALESCE(SUM(u.reasoning_tokens), 0), COALESCE(SUM(u.cost_micro_usd), 0),
                 SUM(u.outcome = 'failed'),
                 COALESCE(SUM(u.prompt_tokens), 0) + COALESCE(SUM(u.completion_tokens), 0) AS tokens
             FROM {from} GROUP BY key ORDER BY {order}, key"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(UsageTotal {
                    key: r.get(0)?,
                    calls: to_u64(r.get(1)?).unwrap_or(0),
                    prompt_tokens: to_u64(r.get(2)?).unwrap_or(0),
                    completion_tokens: to_u64(r.get(3)?).unwrap_or(0),
                    reasoning_tokens: to_u64(r.get(4)?).unwrap_or(0),
                    cost_micro_usd: r.get(5)?,
                    failed: to_u64(r.get(6)?).unwrap_or(0),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }
}
