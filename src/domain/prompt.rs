//! Narrator prompt assembly: templates with named placeholders, style instructions, the lorebook
//! block, and the most recent entries that fit the token budget.

use std::fmt;

use super::entry::EntryKind;
use super::ids::EntryId;
use super::lore::{LoreEntry, LoreMatcher, LoreSelection, select_lore};
use super::story::{Pov, Story, StoryMode, Tense};
use super::story_settings::{NarrationLength, StorySettings};

/// The editable prompt templates; Settings keeps one pack, exportable as JSON.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PromptPack {
    pub adventure: String,
    pub creative: String,
    pub suggestions_adventure: String,
    pub suggestions_creative: String,
}

impl Default for PromptPack {
    fn default() -> Self {
        Self {
            adventure: ADVENTURE_TEMPLATE.to_owned(),
            creative: CREATIVE_TEMPLATE.to_owned(),
            suggestions_adventure: SUGGESTIONS_ADVENTURE_TEMPLATE.to_owned(),
            suggestions_creative: SUGGESTIONS_CREATIVE_TEMPLATE.to_owned(),
        }
    }
}

/// Which template of a pack; also names it in the Settings editor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TemplateKind {
    Adventure,
    Creative,
    SuggestionsAdventure,
    SuggestionsCreative,
}

impl TemplateKind {
    pub const ALL: [TemplateKind; 4] = [
        TemplateKind::Adventure,
        TemplateKind::Creative,
        TemplateKind::SuggestionsAdventure,
        TemplateKind::SuggestionsCreative,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TemplateKind::Adventure => "Adventure narrator",
            TemplateKind::Creative => "Creative writing narrator",
            TemplateKind::SuggestionsAdventure => "Adventure action choices",
            TemplateKind::SuggestionsCreative => "Creative writing suggestions",
        }
    }

    /// The placeholders this template may use.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            TemplateKind::Adventure | TemplateKind::Creative => NARRATOR_PLACEHOLDERS,
            TemplateKind::SuggestionsAdventure | TemplateKind::SuggestionsCreative => {
                SUGGESTION_PLACEHOLDERS
            }
        }
    }

    pub fn default_text(self) -> &'static str {
        match self {
            TemplateKind::Adventure => ADVENTURE_TEMPLATE,
            TemplateKind::Creative => CREATIVE_TEMPLATE,
            TemplateKind::SuggestionsAdventure => SUGGESTIONS_ADVENTURE_TEMPLATE,
            TemplateKind::SuggestionsCreative => SUGGESTIONS_CREATIVE_TEMPLATE,
        }
    }
}

impl PromptPack {
    pub fn get(&self, kind: TemplateKind) -> &str {
        match kind {
            TemplateKind::Adventure => &self.adventure,
            TemplateKind::Creative => &self.creative,
            TemplateKind::SuggestionsAdventure => &self.suggestions_adventure,
            TemplateKind::SuggestionsCreative => &self.suggestions_creative,
        }
    }

    pub fn get_mut(&mut self, kind: TemplateKind) -> &mut String {
        match kind {
            TemplateKind::Adventure => &mut self.adventure,
            TemplateKind::Creative => &mut self.creative,
            TemplateKind::SuggestionsAdventure => &mut self.suggestions_adventure,
            TemplateKind::SuggestionsCreative => &mut self.suggestions_creative,
        }
    }

    /// Every template's first problem, if any.
    pub fn check(&self) -> Result<(), (TemplateKind, TemplateError)> {
        for kind in TemplateKind::ALL {
            check_template(self.get(kind), kind.placeholders()).map_err(|e| (kind, e))?;
        }
        Ok(())
    }

    pub fn narrator(&self, mode: StoryMode) -> (&str, TemplateKind) {
        match mode {
            StoryMode::Adventure => (&self.adventure, TemplateKind::Adventure),
            StoryMode::CreativeWriting => (&self.creative, TemplateKind::Creative),
        }
    }
}

pub const NARRATOR_PLACEHOLDERS: &[&str] = &[
    "title",
    "genre",
    "description",
    "protagonist",
    "style",
    "tone",
    "themes",
    "length",
    "lorebook",
];

pub const SUGGESTION_PLACEHOLDERS: &[&str] = &["title", "genre", "protagonist", "recent", "count"];

const ADVENTURE_TEMPLATE: &str = "You are the narrator of an interactive adventure, \"{{title}}\".
Genre: {{genre}}
Premise: {{description}}
The protagonist is {{protagonist}}.
The reader plays the protagonist. Describe what happens as a result of their actions and what they \
perceive; never decide what the protagonist says, thinks or does next.
{{style}}
Tone: {{tone}}
Themes: {{themes}}
Write {{length}} per reply. End at a moment that invites the reader's next action.

{{lorebook}}";

const CREATIVE_TEMPLATE: &str = "You are co-writing the story \"{{title}}\" with its author.
Genre: {{genre}}
Premise: {{description}}
The protagonist is {{protagonist}}.
Follow the author's directions faithfully and continue the prose from where it stops. Do not \
address the author, comment on the story or repeat what was already written.
{{style}}
Tone: {{tone}}
Themes: {{themes}}
Write {{length}} per reply.

{{lorebook}}";

const SUGGESTIONS_ADVENTURE_TEMPLATE: &str = "You suggest what the protagonist of the interactive \
adventure \"{{title}}\" could do next.
Genre: {{genre}}
The protagonist is {{protagonist}}.

The story so far ends with:
{{recent}}

Give {{count}} short, distinct actions the reader might take next, each under 12 words, written as \
the reader would type them (\"Open the chest\", \"Ask the guard about the tower\").
Answer with JSON only: {\"choices\": [\"...\", \"...\"]}";

const SUGGESTIONS_CREATIVE_TEMPLATE: &str = "You help the author of \"{{title}}\" decide what \
happens next.
Genre: {{genre}}

The story so far ends with:
{{recent}}

Give {{count}} short, distinct directions for the next passage, each one sentence.
Answer with JSON only: {\"suggestions\": [\"...\", \"...\"]}";

/// A template that cannot be rendered, said so the editor can show it next to the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    Unknown { name: String, line: usize },
    Unclosed { line: usize },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unknown { name, line } => write!(
                f,
                "Line {line}: {{{{{name}}}}} is not a placeholder this template knows."
            ),
            TemplateError::Unclosed { line } => {
                write!(
                    f,
                    "Line {line}: a placeholder opened with {{{{ is never closed."
                )
            }
        }
    }
}

impl std::error::Error for TemplateError {}

enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

fn pieces(line: &str, line_no: usize) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find("{{") {
        out.push(Piece::Text(&rest[..open]));
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or(TemplateError::Unclosed { line: line_no })?;
        out.push(Piece::Placeholder(after[..close].trim()));
        rest = &after[close + 2..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// Checks that every placeholder is known, without rendering.
pub fn check_template(template: &str, known: &[&str]) -> Result<(), TemplateError> {
    for (n, line) in template.lines().enumerate() {
        for piece in pieces(line, n + 1)? {
            if let Piece::Placeholder(name) = piece
                && !known.contains(&name)
            {
                return Err(TemplateError::Unknown {
                    name: name.to_owned(),
                    line: n + 1,
                });
            }
        }
    }
    Ok(())
}

/// Fills the placeholders. A line whose placeholders are all empty is left out, so "Tone: {{tone}}"
/// disappears for a story without a tone instead of leaving a dangling label.
pub fn render_template(
    template: &str,
    known: &[&str],
    value: &dyn Fn(&str) -> String,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() * 2);
    let mut blank_run = false;
    for (n, line) in template.lines().enumerate() {
        let mut rendered = String::with_capacity(line.len());
        let (mut placeholders, mut empty) = (0, 0);
        for piece in pieces(line, n + 1)? {
            match piece {
                Piece::Text(t) => rendered.push_str(t),
                Piece::Placeholder(name) => {
                    if !known.contains(&name) {
                        return Err(TemplateError::Unknown {
                            name: name.to_owned(),
                            line: n + 1,
                        });
                    }
                    let v = value(name);
                    placeholders += 1;
                    if v.trim().is_empty() {
                        empty += 1;
                    }
                    rendered.push_str(&v);
                }
            }
        }
        if placeholders > 0 && placeholders == empty {
            continue;
        }
        // Dropped lines must not leave runs of blank lines behind.
        let blank = rendered.trim().is_empty();
        if blank && blank_run {
            continue;
        }
        blank_run = blank;
        out.push_str(&rendered);
        out.push('\n');
    }
    Ok(out.trim_end().to_owned())
}

/// How the narrator is told to write, for each point of view and tense.
pub fn style_instruction(pov: Pov, tense: Tense) -> &'static str {
    match (pov, tense) {
        (Pov::First, Tense::Present) => {
            "Write in the first person and the present tense, as the protagonist (\"I step inside. The air is cold.\")."
        }
        (Pov::First, Tense::Past) => {
            "Write in the first person and the past tense, as the protagonist (\"I stepped inside. The air was cold.\")."
        }
        (Pov::Second, Tense::Present) => {
            "Write in the second person and the present tense, addressing the protagonist as \"you\" (\"You step inside. The air is cold.\")."
        }
        (Pov::Second, Tense::Past) => {
            "Write in the second person and the past tense, addressing the protagonist as \"you\" (\"You stepped inside. The air was cold.\")."
        }
        (Pov::Third, Tense::Present) => {
            "Write in the third person and the present tense, naming the protagonist (\"She steps inside. The air is cold.\")."
        }
        (Pov::Third, Tense::Past) => {
            "Write in the third person and the past tense, naming the protagonist (\"She stepped inside. The air was cold.\")."
        }
    }
}

fn length_instruction(length: NarrationLength) -> &'static str {
    match length {
        NarrationLength::Short => "one short paragraph (about 100 words)",
        NarrationLength::Medium => "two or three paragraphs (about 250 words)",
        NarrationLength::Long => "four to six paragraphs (about 450 words)",
    }
}

/// One entry of the story as the assembler sees it; `tokens` comes from the per-entry cache.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryItem {
    pub id: EntryId,
    pub kind: EntryKind,
    pub text: String,
    pub tokens: usize,
}

/// How the context window is spent, as the budget bar draws it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    pub window: usize,
    pub system: usize,
    pub lore: usize,
    pub history: usize,
    pub input: usize,
    pub reserved_output: usize,
}

impl Budget {
    pub fn used(&self) -> usize {
        self.system + self.lore + self.history + self.input + self.reserved_output
    }

    /// Near the limit: the bar turns amber from here.
    pub fn is_tight(&self) -> bool {
        self.window > 0 && self.used() * 10 >= self.window * 9
    }
}

/// Everything one assembly needs, borrowed from the caller.
pub struct PromptInput<'a> {
    pub story: &'a Story,
    pub settings: &'a StorySettings,
    pub pack: &'a PromptPack,
    pub lore: &'a [LoreEntry],
    pub matcher: &'a LoreMatcher,
    /// Oldest first; only what comes before the point being generated.
    pub history: &'a [HistoryItem],
    pub context_window: usize,
    pub max_output: usize,
    pub count_tokens: &'a dyn Fn(&str) -> usize,
}

/// The assembled request text and how it was chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct AssembledPrompt {
    pub system: String,
    pub user: String,
    pub budget: Budget,
    pub lore: LoreSelection,
    /// Entries left out because the window was full, oldest first (of those the caller passed).
    pub cut: Vec<EntryId>,
    /// Entries that went in, counting the current input.
    pub kept: usize,
}

/// Labels entries as the original app did, so prompts written for it keep working.
fn tag(kind: EntryKind, mode: StoryMode) -> &'static str {
    match (kind, mode) {
        (EntryKind::UserAction, StoryMode::Adventure) => "[ACTION]",
        (EntryKind::UserAction, StoryMode::CreativeWriting) => "[DIRECTION]",
        (EntryKind::Narration, _) => "[NARRATIVE]",
        (EntryKind::System | EntryKind::Retry, _) => "[NOTE]",
    }
}

const CONTINUE: &str = "Continue the narrative:";
const LORE_HEADER: &str = "What the narrator knows about this world:";
/// Lore may take at most this share of the prompt budget, so history is never starved by it.
const LORE_SHARE: usize = 4;

fn history_line(item: &HistoryItem, mode: StoryMode) -> String {
    format!("{} {}", tag(item.kind, mode), item.text.trim())
}

/// Builds the narrator's system and user messages within the token budget.
pub fn assemble(input: &PromptInput<'_>) -> Result<AssembledPrompt, TemplateError> {
    let count = input.count_tokens;
    let story = input.story;
    let mode = story.mode;
    let (template, kind) = input.pack.narrator(mode);

    // The newest entry is the current input when the user wrote it; it always goes in.
    let (current, older) = match input.history.split_last() {
        Some((last, older)) if last.kind == EntryKind::UserAction => (Some(last), older),
        _ => (None, input.history),
    };
    let recent: Vec<&str> = older
        .iter()
        .rev()
        .take(5)
        .map(|h| h.text.as_str())
        .collect();
    let current_text = current.map_or("", |c| c.text.as_str());

    // Unnamed, the line about the protagonist drops out; the template already says who plays them.
    let protagonist = story.protagonist.clone().unwrap_or_default();
    let themes = input.settings.themes.join(", ");
    let fill = |lorebook: &str| {
        render_template(template, kind.placeholders(), &|name| match name {
            "title" => story.title.clone(),
            "genre" => story.genre.clone().unwrap_or_default(),
            "description" => story.description.clone().unwrap_or_default(),
            "protagonist" => protagonist.clone(),
            "style" => style_instruction(story.pov, story.tense).to_owned(),
            "tone" => input.settings.tone.clone(),
            "themes" => themes.clone(),
            "length" => length_instruction(input.settings.length).to_owned(),
            "lorebook" => lorebook.to_owned(),
            _ => String::new(),
        })
    };
    let bare_system = fill("")?;
    let system_tokens = count(&bare_system);
    let input_text = current.map(|c| history_line(c, mode));
    let input_tokens = current.map_or(0, |c| c.tokens + 2) + count(CONTINUE) + 2;

    let prompt_budget = input.context_window.saturating_sub(input.max_output);
    let free = prompt_budget.saturating_sub(system_tokens + input_tokens);
    let lore_budget = free / LORE_SHARE;
    let selection = select_lore(
        input.lore,
        input.matcher,
        current_text,
        &recent,
        lore_budget.saturating_sub(count(LORE_HEADER) + 2),
        count,
    );
    let lore_tokens = if selection.injected.is_empty() {
        0
    } else {
        selection.tokens + count(LORE_HEADER) + 2
    };
    let system = if selection.injected.is_empty() {
        bare_system
    } else {
        let mut block = String::from(LORE_HEADER);
        for fired in &selection.injected {
            block.push('\n');
            block.push_str(&input.lore[fired.index].prompt_text());
        }
        fill(&block)?
    };

    // Newest first until the rest of the budget is spent; an entry that does not fit ends the walk
    // so the story never has holes in the middle.
    let mut history_budget = free.saturating_sub(lore_tokens);
    let mut first_kept = older.len();
    for (i, item) in older.iter().enumerate().rev() {
        let cost = item.tokens + 2;
        if cost > history_budget {
            break;
        }
        history_budget -= cost;
        first_kept = i;
    }
    let kept = &older[first_kept..];
    let history_tokens: usize = kept.iter().map(|h| h.tokens + 2).sum();

    let mut user = String::new();
    for item in kept {
        user.push_str(&history_line(item, mode));
        user.push_str("\n\n");
    }
    if let Some(line) = &input_text {
        user.push_str(line);
        user.push_str("\n\n");
    }
    user.push_str(CONTINUE);

    Ok(AssembledPrompt {
        system,
        user,
        budget: Budget {
            window: input.context_window,
            system: system_tokens,
            lore: lore_tokens,
            history: history_tokens,
            input: input_tokens,
            reserved_output: input.max_output,
        },
        lore: selection,
        cut: older[..first_kept].iter().map(|h| h.id.clone()).collect(),
        kept: kept.len() + usize::from(current.is_some()),
    })
}

/// The suggestions prompt: the last few entries and how many ideas to ask for.
pub fn suggestions_prompt(
    story: &Story,
    pack: &PromptPack,
    recent_oldest_first: &[HistoryItem],
) -> Result<String, TemplateError> {
    let (template, kind, count) = match story.mode {
        StoryMode::Adventure => (
            &pack.suggestions_adventure,
            TemplateKind::SuggestionsAdventure,
            "4",
        ),
        StoryMode::CreativeWriting => (
            &pack.suggestions_creative,
            TemplateKind::SuggestionsCreative,
            "3",
        ),
    };
    let recent: Vec<String> = recent_oldest_first
        .iter()
        .map(|h| history_line(h, story.mode))
        .collect();
    let recent = recent.join("\n\n");
    render_template(template, kind.placeholders(), &|name| match name {
        "title" => story.title.clone(),
        "genre" => story.genre.clone().unwrap_or_default(),
        "protagonist" => story.protagonist.clone().unwrap_or_default(),
        "recent" => recent.clone(),
        "count" => count.to_owned(),
        _ => String::new(),
    })
}

/// Reads the suggestions reply: JSON possibly inside a code fence or prose, with the list under
/// "choices", "suggestions" or as a bare array. At most `max` non-blank, distinct items.
pub fn parse_suggestions(reply: &str, max: usize) -> Vec<String> {
    let candidates = [('{', '}'), ('[', ']')];
    for (open, close) in candidates {
        let (Some(start), Some(end)) = (reply.find(open), reply.rfind(close)) else {
            continue;
        };
        if end <= start {
            continue;
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&reply[start..=end]) else {
            continue;
        };
        let list = match &value {
            serde_json::Value::Array(items) => Some(items),
            serde_json::Value::Object(map) => ["choices", "suggestions", "actions", "options"]
                .iter()
                .find_map(|k| map.get(*k).and_then(|v| v.as_array())),
            _ => None,
        };
        if let Some(items) = list {
            let mut out: Vec<String> = Vec::new();
            for item in items {
                let text = match item {
                    serde_json::Value::String(s) => s.trim().to_owned(),
                    serde_json::Value::Object(o) => ["text", "action", "suggestion", "title"]
                        .iter()
                        .find_map(|k| o.get(*k).and_then(|v| v.as_str()))
                        .unwrap_or("")
                        .trim()
                        .to_owned(),
                    _ => String::new(),
                };
                if !text.is_empty() && !out.contains(&text) && out.len() < max {
                    out.push(text);
                }
            }
            return out;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_placeholders_are_errors_with_their_line() {
        let err = check_template("Hello\nTone: {{mood}}", NARRATOR_PLACEHOLDERS).unwrap_err();
        assert_eq!(
            err,
            TemplateError::Unknown {
                name: "mood".into(),
                line: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "Line 2: {{mood}} is not a placeholder this template knows."
        );
        assert_eq!(
            check_template("{{title", NARRATOR_PLACEHOLDERS),
            Err(TemplateError::Unclosed { line: 1 })
        );
        assert!(PromptPack::default().check().is_ok());
    }

    #[test]
    fn lines_with_only_empty_placeholders_disappear() {
        let out = render_template(
            "A {{title}}\nTone: {{tone}}\n\n\n{{lorebook}}\n\nEnd",
            NARRATOR_PLACEHOLDERS,
            &|name| {
                if name == "title" {
                    "T".into()
                } else {
                    String::new()
                }
            },
        )
        .unwrap();
        assert_eq!(out, "A T\n\nEnd");
    }

    #[test]
    fn suggestions_parse_through_fences_and_prose() {
        let reply = "Sure! Here you go:\n```json\n{\"choices\": [\"Open the chest\", \" \", \"Run\", \"Run\"]}\n```";
        assert_eq!(parse_suggestions(reply, 4), ["Open the chest", "Run"]);
        assert_eq!(
            parse_suggestions("[\"a\", {\"text\": \"b\"}, 3]", 4),
            ["a", "b"]
        );
        assert_eq!(
            parse_suggestions("[\"1\",\"2\",\"3\",\"4\",\"5\"]", 3).len(),
            3
        );
        assert!(parse_suggestions("no json here", 4).is_empty());
        assert!(parse_suggestions("{broken", 4).is_empty());
    }
}
