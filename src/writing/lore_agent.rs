//! The lore agent: after a chapter closes (or when the writer asks), the Lore agent task reads
//! what happened and the lorebook, and proposes changes through tools (create, update, merge,
//! delete). Every change is held as a proposal for the writer to accept or reject; the agent
//! never writes to the lorebook, and entries marked "keep as written" are refused to it.

use std::time::Duration;

use super::WritingError;
use super::task::TaskCall;
use crate::domain::lore_proposal::{LoreDraft, ProposalAction};
use crate::domain::{LoreEntry, LoreId, LoreKind, StoryId, Task};
use crate::jobs::CancelToken;
use crate::keys::KeyStore;
use crate::providers::tools::{Limits, RunEnd, ToolCall, ToolReply, ToolSpec, Toolbox};
use crate::storage::Store;

const LIMITS: Limits = Limits {
    steps: 10,
    time: Duration::from_secs(180),
};
/// The story text the agent reads when no chapter is named (tokens).
const RECENT_READ: usize = 6_000;

const INSTRUCTION: &str = "You keep the lorebook of a story: short entries about its characters, places, items, factions, concepts and events, which the narrator is shown when they matter. Read WHAT HAPPENED and the lorebook, then propose what should change: new entries for what matters and is missing, updates where an entry is out of date, merges of entries about the same thing, deletions of entries that are wrong. Use list_entries and read_entry to see the lorebook. Each proposal waits for the writer's approval. Entries marked [keep as written] must not be changed. Propose nothing when the lorebook is right; call finish when done.";

/// What a run of the lore agent came to.
#[derive(Clone, Debug, PartialEq)]
pub struct LoreAgentRun {
    /// Proposals it made (each waits in the lorebook panel).
    pub proposed: usize,
    pub summary: String,
    pub stopped: bool,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct NoArguments {}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct LoreRef {
    id: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct CreateEntry {
    name: String,
    /// character, location, item, faction, concept or event
    kind: String,
    description: String,
    /// Words that bring the entry into the prompt when they come up.
    keywords: Vec<String>,
    aliases: Vec<String>,
    /// Why the lorebook needs it.
    reason: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct UpdateEntry {
    id: String,
    /// Fields left out (null) stay as they are.
    name: Option<String>,
    description: Option<String>,
    keywords: Option<Vec<String>>,
    aliases: Option<Vec<String>>,
    reason: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct MergeEntries {
    /// The entry that stays.
    keep_id: String,
    /// The entries merged into it (they go to the Trash).
    merge_ids: Vec<String>,
    /// The kept entry's description after the merge.
    description: String,
    reason: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct DeleteEntry {
    id: String,
    reason: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct FinishLore {
    /// One or two sentences on what was proposed.
    summary: String,
}

struct LoreTools<'a> {
    store: &'a Store,
    story: &'a StoryId,
    lore: Vec<LoreEntry>,
    kept: Vec<LoreId>,
    proposed: usize,
}

impl LoreTools<'_> {
    fn entry(&self, id: &str) -> Result<&LoreEntry, String> {
        self.lore
            .iter()
            .find(|l| l.id.as_str() == id)
            .ok_or_else(|| format!("There is no entry with the id {id}; list_entries shows them."))
    }

    /// The entry, if the agent may change it.
    fn changeable(&self, id: &str) -> Result<&LoreEntry, String> {
        let entry = self.entry(id)?;
        if self.kept.contains(&entry.id) {
            return Err(format!(
                "“{}” is kept as written by the writer; leave it as it is.",
                entry.name
            ));
        }
        Ok(entry)
    }

    fn propose(
        &mut self,
        action: ProposalAction,
        targets: &[LoreId],
        draft: Option<&LoreDraft>,
        reason: &str,
    ) -> Result<String, String> {
        self.store
            .propose_lore(self.story, action, targets, draft, reason)
            .map_err(|e| e.to_string())?;
        self.proposed += 1;
        Ok("Proposed; it waits for the writer's approval.".into())
    }

    fn list(&self) -> String {
        if self.lore.is_empty() {
            return "The lorebook is empty.".into();
        }
        self.lore
            .iter()
            .map(|l| {
                let short: String = l.description.chars().take(100).collect();
                format!(
                    "{} | {} ({}){}: {short}",
                    l.id,
                    l.name,
                    l.kind.as_str(),
                    if self.kept.contains(&l.id) {
                        " [keep as written]"
                    } else {
                        ""
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn call(&mut self, call: &ToolCall) -> Result<String, String> {
        match call.name.as_str() {
            "list_entries" => call.read::<NoArguments>().map(|_| self.list()),
            "read_entry" => {
                let a = call.read::<LoreRef>()?;
                let entry = self.entry(&a.id)?;
                Ok(format!(
                    "{}\nkeywords: {}\naliases: {}",
                    entry.prompt_text(),
                    entry.keywords.join(", "),
                    entry.aliases.join(", ")
                ))
            }
            "create_entry" => {
                let a = call.read::<CreateEntry>()?;
                if a.name.trim().is_empty() {
                    return Err("A new entry needs a name.".into());
                }
                let kind = LoreKind::parse(a.kind.trim()).ok_or_else(|| {
                    format!(
                        "“{}” is not a kind; use character, location, item, faction, concept or event.",
                        a.kind
                    )
                })?;
                if let Some(same) = self
                    .lore
                    .iter()
                    .find(|l| l.name.trim().eq_ignore_ascii_case(a.name.trim()))
                {
                    return Err(format!(
                        "“{}” is already in the lorebook (id {}); update it instead.",
                        same.name, same.id
                    ));
                }
                let draft = LoreDraft {
                    name: a.name,
                    kind: kind.as_str().to_owned(),
                    description: a.description,
                    keywords: a.keywords,
                    aliases: a.aliases,
                    ..LoreDraft::default()
                };
                self.propose(ProposalAction::Create, &[], Some(&draft), &a.reason)
            }
            "update_entry" => {
                let a = call.read::<UpdateEntry>()?;
                let entry = self.changeable(&a.id)?;
                let mut draft = LoreDraft::of(entry);
                let id = entry.id.clone();
                if let Some(name) = a.name.filter(|n| !n.trim().is_empty()) {
                    draft.name = name;
                }
                if let Some(d) = a.description {
                    draft.description = d;
                }
                if let Some(k) = a.keywords {
                    draft.keywords = k;
                }
                if let Some(al) = a.aliases {
                    draft.aliases = al;
                }
                if draft == LoreDraft::of(entry) {
                    return Err("That changes nothing; give the fields that should change.".into());
                }
                self.propose(ProposalAction::Update, &[id], Some(&draft), &a.reason)
            }
            "merge_entries" => {
                let a = call.read::<MergeEntries>()?;
                let keep = self.changeable(&a.keep_id)?;
                let mut draft = LoreDraft::of(keep);
                let mut targets = vec![keep.id.clone()];
                for id in &a.merge_ids {
                    let other = self.changeable(id)?;
                    if other.id == targets[0] {
                        return Err("An entry cannot be merged into itself.".into());
                    }
                    for k in other.keywords.iter().chain(std::iter::once(&other.name)) {
                        if !draft.keywords.contains(k) && !draft.aliases.contains(k) {
                            draft.aliases.push(k.clone());
                        }
                    }
                    targets.push(other.id.clone());
                }
                if targets.len() < 2 {
                    return Err("Name at least one entry to merge into the kept one.".into());
                }
                draft.description = a.description;
                self.propose(ProposalAction::Merge, &targets, Some(&draft), &a.reason)
            }
            "delete_entry" => {
                let a = call.read::<DeleteEntry>()?;
                let id = self.changeable(&a.id)?.id.clone();
                self.propose(ProposalAction::Delete, &[id], None, &a.reason)
            }
            other => Err(format!("There is no tool named “{other}”.")),
        }
    }
}

impl Toolbox for LoreTools<'_> {
    fn specs(&self) -> Vec<ToolSpec> {
        vec![
            ToolSpec::of::<NoArguments>(
                "list_entries",
                "The lorebook: id, name, kind and the start of each description.",
            ),
            ToolSpec::of::<LoreRef>("read_entry", "One entry in full."),
            ToolSpec::of::<CreateEntry>("create_entry", "Proposes a new entry."),
            ToolSpec::of::<UpdateEntry>("update_entry", "Proposes changes to an entry."),
            ToolSpec::of::<MergeEntries>(
                "merge_entries",
                "Proposes merging entries about the same thing into one.",
            ),
            ToolSpec::of::<DeleteEntry>("delete_entry", "Proposes deleting a wrong entry."),
            ToolSpec::of::<FinishLore>("finish", "Ends the review."),
        ]
    }

    fn run(&mut self, call: &ToolCall) -> ToolReply {
        if call.name == "finish" {
            return match call.read::<FinishLore>() {
                Ok(a) => ToolReply::Finish(a.summary),
                Err(e) => ToolReply::Error(e),
            };
        }
        match self.call(call) {
            Ok(text) => ToolReply::Ok(text),
            Err(e) => ToolReply::Error(e),
        }
    }
}

/// Runs the lore agent over the chapter `chapter_id` (its summary and text), or over the newest
/// part of the story when none is named. `progress` hears (calls made, calls at most).
pub fn review_lore(
    store: &Store,
    keys: &dyn KeyStore,
    story: &StoryId,
    chapter_id: Option<&str>,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<LoreAgentRun, WritingError> {
    let chapter = match chapter_id {
        Some(id) => store.chapters(story)?.into_iter().find(|c| c.id == id),
        None => None,
    };
    let happened = match &chapter {
        Some(c) => {
            let text: Vec<String> = store
                .chapter_entries(story, c, RECENT_READ)?
                .into_iter()
                .map(|e| e.text.trim().to_owned())
                .collect();
            format!(
                "{}\nSummary: {}\nCharacters: {}\nPlaces: {}\n\n{}",
                c.heading(),
                c.summary.trim(),
                c.characters.join(", "),
                c.places.join(", "),
                text.join("\n\n")
            )
        }
        None => store
            .history_within(story, None, RECENT_READ)?
            .iter()
            .map(|h| h.text.trim().to_owned())
            .collect::<Vec<_>>()
            .join("\n\n"),
    };
    let task = TaskCall::resolve(store, keys, Task::LoreAgent, story, cancel)?;
    let mut tools = LoreTools {
        store,
        story,
        lore: store.lore(story)?,
        kept: store.kept_lore(story)?,
        proposed: 0,
    };
    let lorebook = tools.list();
    let request = task.request(
        INSTRUCTION,
        format!("WHAT HAPPENED:\n{happened}\n\nTHE LOREBOOK:\n{lorebook}"),
        0.3,
        1200,
    );
    let run = task.tools(&request, &mut tools, LIMITS, cancel, progress)?;
    Ok(LoreAgentRun {
        proposed: tools.proposed,
        summary: run.text.trim().to_owned(),
        stopped: run.end == RunEnd::Stopped,
    })
}
