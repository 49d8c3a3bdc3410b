//! Drafts: the narration being written, saved every second, so a crash loses at most the last
//! second; kept when a generation stops or fails until the writer keeps, retries or discards it.

use super::{Result, Store};
use crate::domain::{Draft, DraftState, EntryId, StoryId};
use rusqlite::{OptionalExtension, params};

impl Store {
    /// Saves the story's draft, on the branch this connection writes on.
    pub fn save_draft(&self, draft: &Draft) -> Result<()> {
        let branch = self.current_branch(&draft.story_id)?;
        self.conn
            .prepare_cached(
                "INSERT INTO drafts (story_id, target_entry_id, content, reasoning, state, error, model, started_at, updated_at, branch_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (story_id) DO UPDATE SET target_entry_id = ?2, content = ?3, reasoning = ?4,
                     state = ?5, error = ?6, model = ?7, started_at = ?8, updated_at = ?9,
                     branch_id = ?10",
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
                    draft.updated_at,
                    branch
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The story's draft when it was written on the branch this connection reads.
    pub fn draft(&self, story: &StoryId) -> Result<Option<Draft>> {
        let branch = self.current_branch(story)?;
        self.conn
            .query_row(
                "SELECT target_entry_id, content, reasoning, state, error, model, started_at, updated_at
                 FROM drafts WHERE story_id = ?1 AND branch_id IS ?2",
                params![story.as_str(), branch],
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
}
