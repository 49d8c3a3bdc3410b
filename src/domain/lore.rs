//! The lorebook: entries about the story world and the keyword matcher that decides which are injected.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::ids::{LoreId, StoryId};
use super::text::is_cjk;

/// What a lore entry describes; spelled as the exchange format spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum LoreKind {
    #[default]
    Character,
    Location,
    Item,
    Faction,
    Concept,
    Event,
}

impl LoreKind {
    pub const ALL: [LoreKind; 6] = [
        LoreKind::Character,
        LoreKind::Location,
        LoreKind::Item,
        LoreKind::Faction,
        LoreKind::Concept,
        LoreKind::Event,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoreKind::Character => "character",
            LoreKind::Location => "location",
            LoreKind::Item => "item",
            LoreKind::Faction => "faction",
            LoreKind::Concept => "concept",
            LoreKind::Event => "event",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            LoreKind::Character => "Character",
            LoreKind::Location => "Location",
            LoreKind::Item => "Item",
            LoreKind::Faction => "Faction",
            LoreKind::Concept => "Concept",
            LoreKind::Event => "Event",
        }
    }
}

/// When an entry goes into the prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum InjectionMode {
    Always,
    #[default]
    Keyword,
    Never,
}

impl InjectionMode {
    pub const ALL: [InjectionMode; 3] = [
        InjectionMode::Always,
        InjectionMode::Keyword,
        InjectionMode::Never,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InjectionMode::Always => "always",
            InjectionMode::Keyword => "keyword",
            InjectionMode::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            InjectionMode::Always => "Always",
            InjectionMode::Keyword => "When mentioned",
            InjectionMode::Never => "Never",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct LoreEntry {
    pub id: LoreId,
    pub story_id: StoryId,
    pub name: String,
    pub kind: LoreKind,
    pub description: String,
    /// What the narrator knows but the reader has not learned yet.
    pub hidden_info: String,
    pub aliases: Vec<String>,
    pub keywords: Vec<String>,
    pub mode: InjectionMode,
    /// Higher goes in first when the lore budget is short.
    pub priority: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl LoreEntry {
    /// The entry as the narrator reads it in the lorebook block.
    pub fn prompt_text(&self) -> String {
        let mut text = format!("- {} ({})", self.name.trim(), self.kind.as_str());
        if !self.aliases.is_empty() {
            text.push_str(&format!(", also called {}", self.aliases.join(", ")));
        }
        text.push_str(": ");
        text.push_str(self.description.trim());
        if !self.hidden_info.trim().is_empty() {
            text.push_str(&format!(
                "\n  Hidden from the reader for now: {}",
                self.hidden_info.trim()
            ));
        }
        text
    }
}

/// Where a keyword entry was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchSource {
    Input,
    /// How many entries back from the newest (0 is the newest).
    RecentEntry(usize),
}

/// Why an entry went into (or was considered for) the prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FireReason {
    Always,
    Matched { term: String, source: MatchSource },
}

impl FireReason {
    pub fn describe(&self) -> String {
        match self {
            FireReason::Always => "always on".to_owned(),
            FireReason::Matched {
                term,
                source: MatchSource::Input,
            } => format!("“{term}” in your input"),
            FireReason::Matched {
                term,
                source: MatchSource::RecentEntry(0),
            } => format!("“{term}” in the last entry"),
            FireReason::Matched {
                term,
                source: MatchSource::RecentEntry(n),
            } => format!("“{term}” {} entries back", n + 1),
        }
    }
}

/// One lore entry the selection looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiredLore {
    /// Index into the lorebook slice the matcher was built from.
    pub index: usize,
    pub reason: FireReason,
    pub tokens: usize,
}

/// The outcome of one turn's lore selection: what went in, and what fired but did not fit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoreSelection {
    pub injected: Vec<FiredLore>,
    pub cut: Vec<FiredLore>,
    pub tokens: usize,
}

/// One automaton over every name, alias and keyword of a lorebook; rebuilt when the lorebook changes.
#[derive(Clone, Debug)]
pub struct LoreMatcher {
    automaton: Option<AhoCorasick>,
    /// For each pattern: the entry it belongs to, the term as the user wrote it, and whether it
    /// is matched as a substring (terms with CJK characters, which are written without spaces).
    patterns: Vec<(usize, String, bool)>,
    entries: usize,
}

impl LoreMatcher {
    pub fn new(lore: &[LoreEntry]) -> Self {
        let mut patterns = Vec::new();
        let mut needles = Vec::new();
        for (index, entry) in lore.iter().enumerate() {
            if entry.mode != InjectionMode::Keyword {
                continue;
            }
            let terms = std::iter::once(&entry.name)
                .chain(&entry.aliases)
                .chain(&entry.keywords);
            for term in terms {
                let term = term.trim();
                if term.is_empty() {
                    continue;
                }
                needles.push(term.to_lowercase());
                patterns.push((index, term.to_owned(), term.chars().any(is_cjk)));
            }
        }
        let automaton = if needles.is_empty() {
            None
        } else {
            // Standard semantics so overlapping searches report every term, not only the longest.
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&needles)
                .ok()
        };
        Self {
            automaton,
            patterns,
            entries: lore.len(),
        }
    }

    /// Whether this matcher was built for a lorebook of this size (a cheap staleness check).
    pub fn entry_count(&self) -> usize {
        self.entries
    }

    /// For each entry index that appears in `text`, the first term that matched.
    /// Terms match as whole words, ignoring case; CJK terms match anywhere.
    pub fn find(&self, text: &str) -> Vec<(usize, &str)> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let haystack = text.to_lowercase();
        let mut found: Vec<(usize, &str)> = Vec::new();
        for m in automaton.find_overlapping_iter(&haystack) {
            let Some((index, term, substring)) = self.patterns.get(m.pattern().as_usize()) else {
                continue;
            };
            if found.iter().any(|(i, _)| i == index) {
                continue;
            }
            if *substring || is_whole_word(&haystack, m.start(), m.end()) {
                found.push((*index, term.as_str()));
            }
        }
        found
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
}

/// Chooses the lore for one turn: always-on entries and keyword entries seen in the input or the
/// recent entries (newest first), injected by priority until `budget` tokens are spent. Once an
/// entry does not fit, every lower-priority one is cut too, so priority means what it says.
pub fn select_lore(
    lore: &[LoreEntry],
    matcher: &LoreMatcher,
    input: &str,
    recent_newest_first: &[&str],
    budget: usize,
    count_tokens: &dyn Fn(&str) -> usize,
) -> LoreSelection {
    let mut fired: Vec<(usize, FireReason)> = lore
        .iter()
        .enumerate()
        .filter(|(_, e)| e.mode == InjectionMode::Always)
        .map(|(i, _)| (i, FireReason::Always))
        .collect();
    let sources = std::iter::once((input, MatchSource::Input)).chain(
        recent_newest_first
            .iter()
            .enumerate()
            .map(|(n, text)| (*text, MatchSource::RecentEntry(n))),
    );
    for (text, source) in sources {
        for (index, term) in matcher.find(text) {
            if index < lore.len() && !fired.iter().any(|(i, _)| *i == index) {
                fired.push((
                    index,
                    FireReason::Matched {
                        term: term.to_owned(),
                        source: source.clone(),
                    },
                ));
            }
        }
    }
    fired.sort_by(|(a, _), (b, _)| {
        lore[*b]
            .priority
            .cmp(&lore[*a].priority)
            .then_with(|| lore[*a].name.cmp(&lore[*b].name))
    });
    let mut selection = LoreSelection::default();
    let mut full = false;
    for (index, reason) in fired {
        let tokens = count_tokens(&lore[index].prompt_text()) + 1;
        let item = FiredLore {
            index,
            reason,
            tokens,
        };
        if !full && selection.tokens + tokens <= budget {
            selection.tokens += tokens;
            selection.injected.push(item);
        } else {
            full = true;
            selection.cut.push(item);
        }
    }
    selection
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, aliases: &[&str], keywords: &[&str], priority: i64) -> LoreEntry {
        LoreEntry {
            name: name.to_owned(),
            description: format!("About {name}."),
            aliases: aliases.iter().map(|s| (*s).to_owned()).collect(),
            keywords: keywords.iter().map(|s| (*s).to_owned()).collect(),
            priority,
            ..LoreEntry::default()
        }
    }

    fn words(text: &str) -> usize {
        text.split_whitespace().count()
    }

    fn names(lore: &[LoreEntry], fired: &[FiredLore]) -> Vec<String> {
        fired.iter().map(|f| lore[f.index].name.clone()).collect()
    }

    #[test]
    fn whole_words_only_and_case_is_ignored() {
        let lore = vec![entry("Hulk", &[], &[], 0)];
        let matcher = LoreMatcher::new(&lore);
        assert!(matcher.find("the madhulkman laughs").is_empty());
        assert!(matcher.find("hulks everywhere").is_empty());
        assert_eq!(matcher.find("The HULK smashes."), vec![(0, "Hulk")]);
        assert_eq!(matcher.find("(hulk)"), vec![(0, "Hulk")]);
        assert_eq!(matcher.find("hulk"), vec![(0, "Hulk")]);
    }

    #[test]
    fn aliases_and_keywords_fire_their_entry_once() {
        let lore = vec![
            entry("Mara Voss", &["the Captain"], &["airship"], 0),
            entry("Ostrava", &[], &[], 0),
        ];
        let matcher = LoreMatcher::new(&lore);
        assert_eq!(
            matcher.find("You salute the captain aboard the airship."),
            vec![(0, "the Captain")]
        );
        assert_eq!(matcher.find("The Ostrava docks"), vec![(1, "Ostrava")]);
        assert!(matcher.find("captains").is_empty());
    }

    #[test]
    fn cjk_terms_match_inside_running_text_and_accents_are_words() {
        let lore = vec![entry("王城", &[], &[], 0), entry("Zoë", &[], &[], 0)];
        let matcher = LoreMatcher::new(&lore);
        assert_eq!(matcher.find("我们走向王城的大门"), vec![(0, "王城")]);
        assert_eq!(matcher.find("zoë waves"), vec![(1, "Zoë")]);
        assert!(matcher.find("Zoëlle waves").is_empty());
    }

    #[test]
    fn never_and_always_ignore_keywords() {
        let mut always = entry("Sun", &[], &[], 0);
        always.mode = InjectionMode::Always;
        let mut never = entry("Moon", &[], &[], 0);
        never.mode = InjectionMode::Never;
        let lore = vec![always, never];
        let matcher = LoreMatcher::new(&lore);
        assert!(matcher.find("moon and sun").is_empty());
        let chosen = select_lore(&lore, &matcher, "the moon", &[], 1000, &words);
        assert_eq!(names(&lore, &chosen.injected), ["Sun"]);
        assert_eq!(chosen.injected[0].reason, FireReason::Always);
    }

    #[test]
    fn recent_entries_count_and_the_reason_says_where() {
        let lore = vec![entry("Ostrava", &[], &[], 0)];
        let matcher = LoreMatcher::new(&lore);
        let chosen = select_lore(
            &lore,
            &matcher,
            "I wait.",
            &["Rain.", "The road to Ostrava is long."],
            1000,
            &words,
        );
        assert_eq!(
            chosen.injected[0].reason,
            FireReason::Matched {
                term: "Ostrava".into(),
                source: MatchSource::RecentEntry(1)
            }
        );
        assert_eq!(
            chosen.injected[0].reason.describe(),
            "“Ostrava” 2 entries back"
        );
    }

    #[test]
    fn priority_decides_what_fits_and_the_rest_is_cut() {
        let lore = vec![
            entry("Low", &[], &[], 1),
            entry("High", &[], &[], 9),
            entry("Mid", &[], &[], 5),
        ];
        let matcher = LoreMatcher::new(&lore);
        let each = words(&lore[0].prompt_text()) + 1;
        let chosen = select_lore(&lore, &matcher, "low mid high", &[], 2 * each, &words);
        assert_eq!(names(&lore, &chosen.injected), ["High", "Mid"]);
        assert_eq!(names(&lore, &chosen.cut), ["Low"]);
        assert_eq!(chosen.tokens, 2 * each);
        let none = select_lore(&lore, &matcher, "low mid high", &[], each - 1, &words);
        assert!(none.injected.is_empty());
        assert_eq!(none.cut.len(), 3);
    }

    #[test]
    fn empty_lorebook_and_blank_terms_are_harmless() {
        let matcher = LoreMatcher::new(&[]);
        assert!(matcher.find("anything").is_empty());
        let lore = vec![entry("  ", &[""], &[], 0)];
        assert!(LoreMatcher::new(&lore).find("   ").is_empty());
    }
}
