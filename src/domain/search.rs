//! What the writer searches for, taken apart for the full-text index (runs of three or more
//! characters) and for a plain scan (shorter ones), and what a search finds.

use super::{EntryId, StoryId};

/// Marks around the matched text in a hit's snippet (never in stories' text).
pub const MARK_START: char = '\u{1}';
pub const MARK_END: char = '\u{2}';

/// The words of a query, each matched as written anywhere in an entry (any case).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub terms: Vec<String>,
}

/// The shortest run of characters the index can look up; shorter words are scanned for.
pub const INDEXED_CHARS: usize = 3;

impl SearchQuery {
    /// Words split at white space; a quoted part ("the east gate") is one term.
    pub fn parse(text: &str) -> Self {
        let mut terms = Vec::new();
        for (i, part) in text.split('"').enumerate() {
            if i % 2 == 1 {
                let phrase = part.trim();
                if !phrase.is_empty() {
                    terms.push(phrase.to_owned());
                }
            } else {
                terms.extend(part.split_whitespace().map(str::to_owned));
            }
        }
        terms.retain(|t| !t.contains([MARK_START, MARK_END]));
        terms.dedup();
        Self { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The index's query for the terms it can look up (each one a phrase, all of them needed),
    /// or `None` when every term is too short for it.
    pub fn index_expression(&self) -> Option<String> {
        let phrases: Vec<String> = self
            .terms
            .iter()
            .filter(|t| t.chars().count() >= INDEXED_CHARS)
            .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
            .collect();
        (!phrases.is_empty()).then(|| phrases.join(" "))
    }

    /// The terms the index cannot look up, to be found by scanning.
    pub fn scanned_terms(&self) -> impl Iterator<Item = &str> {
        self.terms
            .iter()
            .filter(|t| t.chars().count() < INDEXED_CHARS)
            .map(String::as_str)
    }

    /// Where each term occurs in `text` (byte ranges, in order, not overlapping), any case.
    pub fn matches_in(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let folded = Folded::new(text);
        let mut found: Vec<std::ops::Range<usize>> = Vec::new();
        for term in &self.terms {
            let needle: String = term.chars().flat_map(char::to_lowercase).collect();
            if needle.is_empty() {
                continue;
            }
            let mut from = 0;
            while let Some(at) = folded.text[from..].find(&needle) {
                let start = from + at;
                let end = start + needle.len();
                found.push(folded.original(start)..folded.original(end));
                from = end;
            }
        }
        found.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
        for r in found {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// How SQL can narrow a scan for `term` before the exact check: `LIKE` for plain ASCII (its
    /// case rules are ASCII's), `instr` for text with no case (Chinese, Japanese), and nothing
    /// for other cased scripts (only the exact check folds their case right).
    pub fn narrowing(term: &str) -> Option<Narrowing> {
        if term.is_ascii() {
            let escaped = term
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            Some(Narrowing::Like(format!("%{escaped}%")))
        } else if term.to_lowercase() == term.to_uppercase() {
            Some(Narrowing::Contains(term.to_owned()))
        } else {
            None
        }
    }

    /// Whether every term occurs in `text`.
    pub fn all_in(&self, text: &str) -> bool {
        let folded: String = text.chars().flat_map(char::to_lowercase).collect();
        self.terms.iter().all(|t| {
            let needle: String = t.chars().flat_map(char::to_lowercase).collect();
            folded.contains(&needle)
        })
    }
}

/// A condition SQL can check cheaply before the exact one (see `SearchQuery::narrowing`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Narrowing {
    /// `content LIKE ? ESCAPE '\'` with this pattern.
    Like(String),
    /// `instr(content, ?) > 0` with this text.
    Contains(String),
}

/// Text in lower case, with the way back to the original's byte offsets.
struct Folded {
    text: String,
    /// For each byte of `text`, the original byte offset of the character it came from.
    back: Vec<usize>,
    len: usize,
}

impl Folded {
    fn new(original: &str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut back = Vec::with_capacity(original.len());
        for (at, c) in original.char_indices() {
            for lower in c.to_lowercase() {
                let before = text.len();
                text.push(lower);
                back.extend(std::iter::repeat_n(at, text.len() - before));
            }
        }
        Self {
            text,
            back,
            len: original.len(),
        }
    }

    fn original(&self, folded: usize) -> usize {
        self.back.get(folded).copied().unwrap_or(self.len)
    }
}

/// One entry found by a library search.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub story_id: StoryId,
    pub story_title: String,
    pub entry_id: EntryId,
    /// The entry's place in its story (0-based), to scroll to.
    pub position: i64,
    /// Text around the match, the matched parts between `MARK_START` and `MARK_END`.
    pub snippet: String,
}

/// `text` with the parts `query` matches marked, cut to about `chars` characters around the
/// first match (for hits the index could not make a snippet for).
pub fn marked_snippet(query: &SearchQuery, text: &str, chars: usize) -> String {
    let ranges = query.matches_in(text);
    let first = ranges.first().map_or(0, |r| r.start);
    let start = text[..first]
        .char_indices()
        .rev()
        .nth(chars / 3)
        .map_or(0, |(i, _)| i);
    let end = text[start..]
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| start + i);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for r in ranges.iter().filter(|r| r.start >= start && r.end <= end) {
        out.push_str(&text[at..r.start]);
        out.push(MARK_START);
        out.push_str(&text[r.clone()]);
        out.push(MARK_END);
        at = r.end;
    }
    out.push_str(&text[at..end]);
    if end < text.len() {
        out.push('…');
    }
    out.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_quoted_phrases_are_terms() {
        let q = SearchQuery::parse(r#"  lamp "east gate"  東京 "#);
        assert_eq!(q.terms, ["lamp", "east gate", "東京"]);
        assert_eq!(
            q.index_expression().as_deref(),
            Some(r#""lamp" "east gate""#)
        );
        assert_eq!(q.scanned_terms().collect::<Vec<_>>(), ["東京"]);
        assert!(SearchQuery::parse("  \" \" ").is_empty());
    }

    #[test]
    fn quotes_inside_a_term_cannot_break_the_index_query() {
        let q = SearchQuery::parse("it's O\"Brien");
        assert!(
            q.index_expression()
                .is_some_and(|e| !e.contains("\"\"\"\""))
        );
    }

    #[test]
    fn matches_are_found_in_any_case_and_in_any_script() {
        let q = SearchQuery::parse("gate 東京");
        let text = "The GATE of 東京 and the gate again";
        let found: Vec<&str> = q.matches_in(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(found, ["GATE", "東京", "gate"]);
        assert!(q.all_in(text));
        assert!(!q.all_in("only the gate"));
    }

    #[test]
    fn a_letter_that_grows_when_lowered_keeps_the_offsets_right() {
        // "İ" lowers to two characters; the match after it must still land on the original text.
        let q = SearchQuery::parse("lamp");
        let text = "İİ the LAMP";
        let found: Vec<&str> = q.matches_in(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(found, ["LAMP"]);
    }

    #[test]
    fn scans_are_narrowed_only_where_sql_gets_the_case_right() {
        assert_eq!(
            SearchQuery::narrowing("50%_a\\b"),
            Some(Narrowing::Like("%50\\%\\_a\\\\b%".into()))
        );
        assert_eq!(
            SearchQuery::narrowing("东京"),
            Some(Narrowing::Contains("东京".into()))
        );
        assert_eq!(SearchQuery::narrowing("Ärger"), None);
    }

    #[test]
    fn a_snippet_marks_the_match_and_is_cut_around_it() {
        let q = SearchQuery::parse("lamp");
        let text = format!("{} the lamp is lit {}", "a".repeat(200), "b".repeat(200));
        let snippet = marked_snippet(&q, &text, 60);
        assert!(
            snippet.starts_with('…') && snippet.ends_with('…'),
            "{snippet}"
        );
        assert!(snippet.contains("\u{1}lamp\u{2}"));
        assert!(snippet.chars().count() < 80);
    }
}
