//! A whole story as it moves between the database and exchange files: every stored field, with the
//! parts Fabula does not model kept as JSON text so nothing is lost on the way through.

use super::entry::EntryKind;
use super::ids::{EntryId, StoryId};
use super::lore::LoreEntry;
use super::story::{Pov, StoryMode, Tense};

#[derive(Clone, Debug, PartialEq)]
pub struct BundleStory {
    pub id: StoryId,
    pub title: String,
    pub description: Option<String>,
    pub genre: Option<String>,
    pub template_id: Option<String>,
    pub mode: StoryMode,
    pub pov: Pov,
    pub tense: Tense,
    pub protagonist: Option<String>,
    /// JSON texts of the exchange format's story objects.
    pub settings: Option<String>,
    pub memory_config: Option<String>,
    pub retry_state: Option<String>,
    pub style_review_state: Option<String>,
    pub time_tracker: Option<String>,
    pub current_branch_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Unknown keys, as a JSON object.
    pub extra: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BundleEntry {
    pub id: EntryId,
    pub kind: EntryKind,
    pub content: String,
    pub parent_id: Option<String>,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub metadata: Option<String>,
    pub branch_id: Option<String>,
    pub reasoning: Option<String>,
    pub translated_content: Option<String>,
    pub translation_language: Option<String>,
    pub original_input: Option<String>,
    pub extra: Option<String>,
}

/// A lore entry with the exchange format's fields Fabula keeps but does not use yet.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleLore {
    pub entry: LoreEntry,
    pub state: Option<String>,
    pub adventure_state: Option<String>,
    pub creative_state: Option<String>,
    pub first_mentioned: Option<String>,
    pub last_mentioned: Option<String>,
    pub mention_count: i64,
    pub created_by: String,
    pub blacklisted: bool,
    pub branch_id: Option<String>,
    pub extra: Option<String>,
    pub injection_extra: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoryBundle {
    pub story: BundleStory,
    /// Ordered by position.
    pub entries: Vec<BundleEntry>,
    pub lore: Vec<BundleLore>,
    /// Top-level sections kept verbatim: (key, JSON text).
    pub sections: Vec<(String, String)>,
}

impl StoryBundle {
    /// Every id the bundle defines (story, entries, lore), for remapping a copy.
    pub fn ids(&self) -> Vec<String> {
        let mut ids = vec![self.story.id.0.clone()];
        ids.extend(self.entries.iter().map(|e| e.id.0.clone()));
        ids.extend(self.lore.iter().map(|l| l.entry.id.0.clone()));
        ids
    }
}

impl StoryBundle {
    /// A copy with fresh ids everywhere they appear, also inside the JSON kept verbatim (where an
    /// id shows up as a quoted string), so "keep both" never collides with the original.
    pub fn with_new_ids(&self) -> StoryBundle {
        self.renumbered(false)
    }

    /// The same story (its id kept) whose entries and lore get fresh ids: for a file whose entry
    /// ids are already taken by another story of the library.
    pub fn with_new_entry_ids(&self) -> StoryBundle {
        self.renumbered(true)
    }

    fn renumbered(&self, keep_story_id: bool) -> StoryBundle {
        let mut old = self.ids();
        if keep_story_id {
            old.remove(0);
        }
        let new: Vec<String> = old.iter().map(|_| super::ids::new_uuid()).collect();
        let quoted_old: Vec<String> = old.iter().map(|id| format!("\"{id}\"")).collect();
        let quoted_new: Vec<String> = new.iter().map(|id| format!("\"{id}\"")).collect();
        let map: std::collections::HashMap<&str, &str> = old
            .iter()
            .map(String::as_str)
            .zip(new.iter().map(String::as_str))
            .collect();
        let automaton = aho_corasick::AhoCorasick::new(&quoted_old).ok();
        let json = |text: &Option<String>| -> Option<String> {
            text.as_ref().map(|t| match &automaton {
                Some(a) => a.replace_all(t, &quoted_new),
                None => t.clone(),
            })
        };
        let id = |value: &str| -> String { map.get(value).map_or(value, |v| v).to_owned() };
        let mut copy = self.clone();
        copy.story.id = StoryId(id(self.story.id.as_str()));
        for text in [
            &mut copy.story.settings,
            &mut copy.story.memory_config,
            &mut copy.story.retry_state,
            &mut copy.story.style_review_state,
            &mut copy.story.time_tracker,
            &mut copy.story.extra,
        ] {
            *text = json(text);
        }
        for entry in &mut copy.entries {
            entry.id = EntryId(id(entry.id.as_str()));
            entry.parent_id = entry.parent_id.as_deref().map(id);
            entry.metadata = json(&entry.metadata);
            entry.extra = json(&entry.extra);
        }
        for lore in &mut copy.lore {
            lore.entry.id = super::ids::LoreId(id(lore.entry.id.as_str()));
            lore.entry.story_id = copy.story.id.clone();
            for text in [
                &mut lore.state,
                &mut lore.adventure_state,
                &mut lore.creative_state,
                &mut lore.first_mentioned,
                &mut lore.last_mentioned,
                &mut lore.extra,
                &mut lore.injection_extra,
            ] {
                *text = json(text);
            }
        }
        for (_, text) in &mut copy.sections {
            if let Some(a) = &automaton {
                *text = a.replace_all(text, &quoted_new);
            }
        }
        copy
    }
}
