//! Lorebook changes the lore agent proposes, held until the writer accepts or rejects each:
//! what it would create, update, merge or delete, and the diff a writer reads to decide.

use serde::{Deserialize, Serialize};

use super::{InjectionMode, LoreEntry, LoreId, LoreKind, StoryId};

/// What a proposal does to the lorebook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProposalAction {
    Create,
    Update,
    /// The first target is kept (as the draft says) and the others go to the Trash.
    Merge,
    Delete,
}

impl ProposalAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Merge => "merge",
            Self::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Create, Self::Update, Self::Merge, Self::Delete]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// A lore entry as a proposal would leave it (and as one was before, for Undo).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoreDraft {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub kind: String,
    pub description: String,
    #[serde(default)]
    pub hidden_info: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub priority: i64,
}

impl LoreDraft {
    pub fn of(entry: &LoreEntry) -> Self {
        Self {
            id: Some(entry.id.as_str().to_owned()),
            name: entry.name.clone(),
            kind: entry.kind.as_str().to_owned(),
            description: entry.description.clone(),
            hidden_info: entry.hidden_info.clone(),
            aliases: entry.aliases.clone(),
            keywords: entry.keywords.clone(),
            mode: Some(entry.mode.as_str().to_owned()),
            priority: entry.priority,
        }
    }

    /// The entry `base` becomes with this draft's fields (a new entry when `base` is none).
    pub fn onto(&self, base: Option<&LoreEntry>, story: &StoryId) -> LoreEntry {
        let mut entry = base.cloned().unwrap_or_else(|| LoreEntry {
            id: LoreId::new(),
            story_id: story.clone(),
            ..LoreEntry::default()
        });
        entry.name = self.name.trim().to_owned();
        entry.kind = LoreKind::parse(&self.kind).unwrap_or(entry.kind);
        entry.description = self.description.trim().to_owned();
        entry.hidden_info = self.hidden_info.trim().to_owned();
        entry.aliases = self.aliases.clone();
        entry.keywords = self.keywords.clone();
        if let Some(mode) = self.mode.as_deref().and_then(InjectionMode::parse) {
            entry.mode = mode;
        }
        if base.is_some() || self.priority != 0 {
            entry.priority = self.priority;
        }
        entry
    }
}

/// One proposed change, waiting.
#[derive(Clone, Debug, PartialEq)]
pub struct LoreProposal {
    pub id: i64,
    pub story: StoryId,
    pub action: ProposalAction,
    pub targets: Vec<LoreId>,
    pub draft: Option<LoreDraft>,
    pub reason: String,
}

/// One line of a proposal's diff: a field, what it says now, what it would say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub before: String,
    pub after: String,
}

fn name_of(lore: &[LoreEntry], id: &LoreId) -> String {
    lore.iter().find(|l| &l.id == id).map_or_else(
        || "(an entry no longer here)".to_owned(),
        |l| l.name.clone(),
    )
}

impl LoreProposal {
    /// "New entry: Tobin", "Update: Tobin", "Merge: Tobin, Old Tobin", "Delete: Tobin".
    pub fn title(&self, lore: &[LoreEntry]) -> String {
        let names = || {
            self.targets
                .iter()
                .map(|t| name_of(lore, t))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self.action {
            ProposalAction::Create => format!(
                "New entry: {}",
                self.draft.as_ref().map_or("", |d| d.name.as_str())
            ),
            ProposalAction::Update => format!("Update: {}", names()),
            ProposalAction::Merge => format!("Merge: {}", names()),
            ProposalAction::Delete => format!("Delete: {}", names()),
        }
    }

    /// What would change, field by field (only the fields that would).
    pub fn diff(&self, lore: &[LoreEntry]) -> Vec<FieldChange> {
        let before = self
            .targets
            .first()
            .and_then(|t| lore.iter().find(|l| &l.id == t))
            .map(LoreDraft::of);
        let empty = LoreDraft::default();
        let after = match self.action {
            ProposalAction::Delete => &empty,
            _ => self.draft.as_ref().unwrap_or(&empty),
        };
        let before = match self.action {
            ProposalAction::Create => empty.clone(),
            _ => before.unwrap_or_default(),
        };
        let list = |v: &[String]| v.join(", ");
        [
            ("Name", before.name.clone(), after.name.clone()),
            ("Kind", before.kind.clone(), after.kind.clone()),
            (
                "Description",
                before.description.clone(),
                after.description.clone(),
            ),
            (
                "Hidden",
                before.hidden_info.clone(),
                after.hidden_info.clone(),
            ),
            ("Aliases", list(&before.aliases), list(&after.aliases)),
            ("Keywords", list(&before.keywords), list(&after.keywords)),
        ]
        .into_iter()
        .filter(|(_, b, a)| b.trim() != a.trim())
        .map(|(field, before, after)| FieldChange {
            field,
            before,
            after,
        })
        .collect()
    }
}
