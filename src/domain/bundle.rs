//! A whole story as it moves between the database and exchange files: every stored field, with the
//! parts Fabula does not model kept as JSON text so nothing is lost on the way through.

use std::collections::HashMap;

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

/// A story as it is read from a file or a peer, in the order it arrives, so it can be stored while
/// the rest is still on its way and is never held whole.
#[derive(Debug)]
pub enum ImportPart {
    /// The story itself, before its entries; its protagonist (named in a later section) is not
    /// known yet.
    Story(BundleStory),
    /// The next entries, in the file's order.
    Entries(Vec<BundleEntry>),
    /// Everything after the entries, once the whole story has been read and checked: the story as
    /// it is to be stored, its lore and its verbatim sections. Nothing is kept without it.
    Rest {
        story: BundleStory,
        lore: Vec<BundleLore>,
        sections: Vec<(String, String)>,
    },
}

impl StoryBundle {
    /// The bundle as import parts, its entries copied a batch at a time as they are taken, so
    /// storing a bundle never holds a second copy of it.
    pub fn parts(&self) -> impl Iterator<Item = ImportPart> + '_ {
        std::iter::once(ImportPart::Story(self.story.clone()))
            .chain(
                self.entries
                    .chunks(IMPORT_BATCH)
                    .map(|batch| ImportPart::Entries(batch.to_vec())),
            )
            .chain(std::iter::once_with(|| ImportPart::Rest {
                story: self.story.clone(),
                lore: self.lore.clone(),
                sections: self.sections.clone(),
            }))
    }
}

/// Entries per `ImportPart::Entries`: large enough that handing batches between threads costs
/// nothing next to storing them, small enough to hold a few in flight.
pub const IMPORT_BATCH: usize = 256;

/// New ids for old ones, made on first sight, for a copy that must never collide with what it was
/// copied from.
#[derive(Debug, Default)]
pub struct IdRemap {
    new_of: HashMap<String, String>,
}

impl IdRemap {
    pub fn is_empty(&self) -> bool {
        self.new_of.is_empty()
    }

    /// The new id for `old`, made now if `old` has none yet.
    pub fn assign(&mut self, old: &str) -> String {
        if let Some(new) = self.new_of.get(old) {
            return new.clone();
        }
        let new = super::ids::new_uuid();
        self.new_of.insert(old.to_owned(), new.clone());
        new
    }

    pub fn get(&self, old: &str) -> Option<&str> {
        self.new_of.get(old).map(String::as_str)
    }

    /// A rewriter of the JSON kept verbatim, where an id shows up as a quoted string.
    pub fn json_rewriter(&self) -> JsonRewriter<'_> {
        JsonRewriter {
            new_of: &self.new_of,
        }
    }
}

/// Replaces old ids in JSON text with the new ones (see `IdRemap::json_rewriter`): every string
/// of the text that is exactly an old id. One pass over the text with a lookup per string, so a
/// copy of a story of 200,000 entries costs no more than reading its JSON (a search for all its
/// ids at once built an automaton of hundreds of megabytes).
pub struct JsonRewriter<'a> {
    new_of: &'a HashMap<String, String>,
}

impl JsonRewriter<'_> {
    /// The text with its ids replaced, or `None` when it holds none.
    pub fn rewrite(&self, text: &str) -> Option<String> {
        if self.new_of.is_empty() {
            return None;
        }
        let bytes = text.as_bytes();
        let mut out: Option<String> = None;
        let mut copied = 0;
        let mut i = 0;
        while let Some(open) = bytes[i..].iter().position(|&b| b == b'"').map(|p| i + p) {
            // The closing quote: the next one not escaped by a backslash.
            let mut j = open + 1;
            let mut escaped = false;
            while j < bytes.len() && (escaped || bytes[j] != b'"') {
                escaped = !escaped && bytes[j] == b'\\';
                j += 1;
            }
            if j >= bytes.len() {
                break;
            }
            // Both ends are ASCII quotes, so these are char boundaries.
            if let Some(new) = text
                .get(open + 1..j)
                .and_then(|inner| self.new_of.get(inner))
            {
                let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(&text[copied..=open]);
                out.push_str(new);
                copied = j;
            }
            i = j + 1;
        }
        out.map(|mut out| {
            out.push_str(&text[copied..]);
            out
        })
    }

    /// As `rewrite`, for an optional text, keeping it when it holds no id.
    pub fn rewrite_opt(&self, text: &mut Option<String>) {
        if let Some(new) = text.as_deref().and_then(|t| self.rewrite(t)) {
            *text = Some(new);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IdRemap;

    #[test]
    fn ids_are_replaced_where_they_are_whole_strings_only() {
        let mut remap = IdRemap::default();
        let new = remap.assign("e1");
        let rewriter = remap.json_rewriter();
        let text = r#"{"e1": ["e1", "e12", "xe1", "say \"e1\"", "\\", "e1"], "k": "é e1"}"#;
        let expected = format!(
            r#"{{"{new}": ["{new}", "e12", "xe1", "say \"e1\"", "\\", "{new}"], "k": "é e1"}}"#
        );
        assert_eq!(rewriter.rewrite(text).as_deref(), Some(expected.as_str()));
        assert_eq!(rewriter.rewrite(r#"{"a": "b"}"#), None);
        assert_eq!(
            rewriter.rewrite(r#"["e1"#),
            None,
            "an unclosed string is left alone"
        );
    }
}
