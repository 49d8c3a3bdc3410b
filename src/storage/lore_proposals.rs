//! The lore agent's proposals: kept as pending, listed for the writer, and carried out (or
//! rejected) one at a time, each in one transaction. Accepting remembers what the lorebook held
//! before, so Undo puts it back and the proposal waits again. Entries marked "keep as written"
//! (the original's `loreManagementBlacklisted`) are never touched.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError};
use crate::domain::lore_proposal::{LoreDraft, LoreProposal, ProposalAction};
use crate::domain::{LoreEntry, LoreId, StoryId, now_ms};

fn ids_json(ids: &[LoreId]) -> String {
    serde_json::to_string(&ids.iter().map(LoreId::as_str).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

fn ids_from(text: &str) -> Vec<LoreId> {
    serde_json::from_str::<Vec<String>>(text)
        .unwrap_or_default()
        .iter()
        .map(|s| LoreId::from(s.as_str()))
        .collect()
}

impl Store {
    /// Whether the lore agent must leave the entry as it is.
    pub fn set_lore_kept(&self, id: &LoreId, kept: bool) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE lore_entries SET lore_management_blacklisted = ?2 WHERE id = ?1",
                params![id.as_str(), kept],
            )
            .map_err(|e| self.err(e))?;
        super::stories::expect_one(changed, || format!("Lore entry {id}"))
    }

    /// The story's live entries marked "keep as written".
    pub fn kept_lore(&self, story: &StoryId) -> Result<Vec<LoreId>> {
        self.conn
            .prepare_cached(
                "SELECT id FROM lore_entries WHERE story_id = ?1 AND deleted_at IS NULL
                   AND lore_management_blacklisted = 1",
            )
            .and_then(|mut s| {
                s.query_map([story.as_str()], |r| r.get::<_, String>(0))?
                    .map(|id| id.map(|id| LoreId::from(id.as_str())))
                    .collect()
            })
            .map_err(|e| self.err(e))
    }

    pub fn propose_lore(
        &self,
        story: &StoryId,
        action: ProposalAction,
        targets: &[LoreId],
        draft: Option<&LoreDraft>,
        reason: &str,
    ) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO lore_proposals (story_id, action, targets, draft, reason, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    story.as_str(),
                    action.as_str(),
                    ids_json(targets),
                    draft.and_then(|d| serde_json::to_string(d).ok()),
                    reason.trim(),
                    now_ms()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The story's waiting proposals, oldest first.
    pub fn pending_lore_proposals(&self, story: &StoryId) -> Result<Vec<LoreProposal>> {
        let rows: Vec<(i64, String, String, Option<String>, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, action, targets, draft, reason FROM lore_proposals
                 WHERE story_id = ?1 AND status = 'pending' ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([story.as_str()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect()
            })
            .map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, action, targets, draft, reason)| {
                Some(LoreProposal {
                    id,
                    story: story.clone(),
                    action: ProposalAction::parse(&action)?,
                    targets: ids_from(&targets),
                    draft: draft.and_then(|d| serde_json::from_str(&d).ok()),
                    reason,
                })
            })
            .collect())
    }

    fn proposal(&self, id: i64, status: &str) -> Result<LoreProposal> {
        let row: Option<(String, String, String, Option<String>, String)> = self
            .conn
            .query_row(
                "SELECT story_id, action, targets, draft, reason FROM lore_proposals
                 WHERE id = ?1 AND status = ?2",
                params![id, status],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let (story, action, targets, draft, reason) =
            row.ok_or_else(|| StoreError::NotFound(format!("Proposal {id}")))?;
        Ok(LoreProposal {
            id,
            story: StoryId::from(story.as_str()),
            action: ProposalAction::parse(&action)
                .ok_or_else(|| StoreError::Invalid(format!("Proposal {id} is unreadable.")))?,
            targets: ids_from(&targets),
            draft: draft.and_then(|d| serde_json::from_str(&d).ok()),
            reason,
        })
    }

    /// Carries a waiting proposal out; returns the entry it created or kept, if any.
    pub fn accept_lore_proposal(&self, id: i64) -> Result<Option<LoreEntry>> {
        let p = self.proposal(id, "pending")?;
        let lore = self.lore(&p.story)?;
        let kept = self.kept_lore(&p.story)?;
        let mut targets = Vec::new();
        for t in &p.targets {
            let entry = lore.iter().find(|l| &l.id == t).ok_or_else(|| {
                StoreError::Invalid(
                    "An entry this change is about is no longer in the lorebook.".into(),
                )
            })?;
            if kept.contains(t) {
                return Err(StoreError::Invalid(format!(
                    "“{}” is kept as written; the change was not made.",
                    entry.name
                )));
            }
            targets.push(entry.clone());
        }
        let before: Vec<LoreDraft> = targets.iter().map(LoreDraft::of).collect();
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let result = match (p.action, p.draft.as_ref()) {
            (ProposalAction::Create, Some(draft)) => {
                Some(self.save_lore(&draft.onto(None, &p.story))?)
            }
            (ProposalAction::Update, Some(draft)) => {
                Some(self.save_lore(&draft.onto(targets.first(), &p.story))?)
            }
            (ProposalAction::Merge, Some(draft)) => {
                let kept = self.save_lore(&draft.onto(targets.first(), &p.story))?;
                for gone in targets.iter().skip(1) {
                    self.trash_lore(&gone.id)?;
                }
                Some(kept)
            }
            (ProposalAction::Delete, _) => {
                for gone in &targets {
                    self.trash_lore(&gone.id)?;
                }
                None
            }
            (_, None) => {
                return Err(StoreError::Invalid(format!(
                    "Proposal {id} has no entry to write."
                )));
            }
        };
        tx.execute(
            "UPDATE lore_proposals SET status = 'accepted', decided_at = ?2, before = ?3,
                 created = ?4 WHERE id = ?1",
            params![
                id,
                now_ms(),
                serde_json::to_string(&before).ok(),
                (p.action == ProposalAction::Create)
                    .then(|| result.as_ref().map(|e| e.id.as_str().to_owned()))
                    .flatten()
            ],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(result)
    }

    pub fn reject_lore_proposal(&self, id: i64) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE lore_proposals SET status = 'rejected', decided_at = ?2
                 WHERE id = ?1 AND status = 'pending'",
                params![id, now_ms()],
            )
            .map_err(|e| self.err(e))?;
        super::stories::expect_one(changed, || format!("Proposal {id}"))
    }

    /// Undo of a decision: an accepted proposal's change is taken back, and it (or a rejected
    /// one) waits again.
    pub fn undecide_lore_proposal(&self, id: i64) -> Result<()> {
        let row: Option<(String, String, Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT status, action, before, created FROM lore_proposals WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let (status, action, before, created) =
            row.ok_or_else(|| StoreError::NotFound(format!("Proposal {id}")))?;
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        if status == "accepted" {
            let p = self.proposal(id, "accepted")?;
            if let Some(created) = created {
                self.trash_lore(&LoreId::from(created.as_str()))?;
            }
            let before: Vec<LoreDraft> = before
                .and_then(|b| serde_json::from_str(&b).ok())
                .unwrap_or_default();
            let action = ProposalAction::parse(&action);
            for (n, was) in before.iter().enumerate() {
                let Some(id) = was.id.as_deref().map(LoreId::from) else {
                    continue;
                };
                let gone = action == Some(ProposalAction::Delete)
                    || (action == Some(ProposalAction::Merge) && n > 0);
                if gone {
                    self.restore_lore(&id)?;
                } else {
                    let current = self.lore(&p.story)?.into_iter().find(|l| l.id == id);
                    self.save_lore(&was.onto(current.as_ref(), &p.story))?;
                }
            }
        }
        tx.execute(
            "UPDATE lore_proposals SET status = 'pending', decided_at = NULL, before = NULL,
                 created = NULL WHERE id = ?1",
            [id],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(())
    }
}
