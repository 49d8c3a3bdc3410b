//! Narrator prompt assembly: templates with named placeholders, style instructions, the lorebook
//! block, and the most recent entries that fit the token budget.

mod pack;
mod style;
mod suggestions;
mod template;
mod world;

pub use pack::{NARRATOR_PLACEHOLDERS, PromptPack, SUGGESTION_PLACEHOLDERS, TemplateKind};
pub use style::style_instruction;
pub use suggestions::{parse_suggestions, suggestions_prompt};
pub use template::{TemplateError, check_template, render_template};

use style::length_instruction;
use world::world_block;

use super::entry::EntryKind;
use super::ids::EntryId;
use super::lore::{LoreEntry, LoreMatcher, LoreSelection, select_lore};
use super::story::{Story, StoryMode};
use super::story_settings::StorySettings;

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
    /// The world block (where things stand, and what the recent text names).
    #[serde(default)]
    pub world: usize,
    pub history: usize,
    /// The chapters' summaries (the story before the history).
    #[serde(default)]
    pub memory: usize,
    pub input: usize,
    pub reserved_output: usize,
    /// Entries whose text went into the request, the current input among them.
    #[serde(default)]
    pub entries_sent: usize,
    /// Entries before the point written that did not fit, so were not sent (the oldest).
    #[serde(default)]
    pub entries_left_out: usize,
    /// Chapter summaries that did not fit, so were not sent (the oldest).
    #[serde(default)]
    pub chapters_left_out: usize,
}

impl Budget {
    pub fn used(&self) -> usize {
        self.system
            + self.lore
            + self.world
            + self.memory
            + self.history
            + self.input
            + self.reserved_output
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
    /// The newest history item is a narration cut off at the length limit, to be written on.
    pub continuing: bool,
    pub world: &'a super::world::World,
    /// The story's chapters, first to last: their summaries stand for the entries they close
    /// (which the caller leaves out of `history`).
    pub chapters: &'a [super::chapter::Chapter],
    /// What recall found in past chapters for this narration (told after the summaries).
    pub recalled: Option<&'a str>,
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
/// Asked when the newest narration was cut off at the length limit: its text is what comes next.
const CONTINUE_CUT: &str = "The last narration was cut off. Continue it from exactly where it stops, without repeating any of it:";
const LORE_HEADER: &str = "What the narrator knows about this world:";
const MEMORY_HEADER: &str = "[STORY SO FAR]";
const RECALL_HEADER: &str = "[RECALLED FROM EARLIER CHAPTERS]";
/// The chapters' summaries may take at most this share of what is left after the lore, so the
/// recent text is never starved by them.
const MEMORY_SHARE: usize = 2;
/// Lore may take at most this share of the prompt budget, so history is never starved by it.
const LORE_SHARE: usize = 4;

pub(super) fn history_line(item: &HistoryItem, mode: StoryMode) -> String {
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
    let world_text = {
        let mut around: Vec<&str> = recent.clone();
        around.push(current_text);
        world_block(input.world, &around)
    };
    let story_time = input.world.time.map(|t| t.describe()).unwrap_or_default();
    let fill = |lorebook: &str, world: &str, so_far: &str| {
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
            "world" => world.to_owned(),
            "story_time" => story_time.clone(),
            "story_so_far" => so_far.to_owned(),
            _ => String::new(),
        })
    };
    let bare_system = fill("", "", "")?;
    let system_tokens = count(&bare_system);
    let input_text = current.map(|c| history_line(c, mode));
    let ask = if input.continuing {
        CONTINUE_CUT
    } else {
        CONTINUE
    };
    let input_tokens = current.map_or(0, |c| c.tokens + 2) + count(ask) + 2;

    let prompt_budget = input.context_window.saturating_sub(input.max_output);
    // The world goes in whole when the template asks for it: it is bounded already.
    let world_in_template = template.contains("{{world}}");
    let world_tokens = if world_text.is_empty() || !world_in_template {
        0
    } else {
        count(&world_text) + 2
    };
    let free = prompt_budget.saturating_sub(system_tokens + input_tokens + world_tokens);
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
    let world_part = if world_tokens > 0 {
        world_text.as_str()
    } else {
        ""
    };
    let lore_block = if selection.injected.is_empty() {
        String::new()
    } else {
        let mut block = String::from(LORE_HEADER);
        for fired in &selection.injected {
            block.push('\n');
            block.push_str(&input.lore[fired.index].prompt_text());
        }
        block
    };

    // The newest summaries that fit their share; the oldest are the first to go.
    let after_lore = free.saturating_sub(lore_tokens);
    let mut memory_budget = (after_lore / MEMORY_SHARE).saturating_sub(count(MEMORY_HEADER) + 2);
    // What recall found is about this very narration: it is placed before the older summaries.
    let recalled = input
        .recalled
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| (r, count(RECALL_HEADER) + count(r) + 4))
        .filter(|(_, cost)| *cost <= memory_budget);
    if let Some((_, cost)) = recalled {
        memory_budget -= cost;
    }
    let mut first_chapter = input.chapters.len();
    let chapter_lines: Vec<(String, Option<usize>)> = input
        .chapters
        .iter()
        .map(|c| (c.prompt_text(), c.prompt_tokens))
        .collect();
    let cost_of =
        |(line, tokens): &(String, Option<usize>)| tokens.unwrap_or_else(|| count(line)) + 2;
    for (i, chapter) in chapter_lines.iter().enumerate().rev() {
        let cost = cost_of(chapter);
        if cost > memory_budget {
            break;
        }
        memory_budget -= cost;
        first_chapter = i;
    }
    let told = &chapter_lines[first_chapter..];
    let memory_tokens = if told.is_empty() {
        0
    } else {
        count(MEMORY_HEADER) + 2 + told.iter().map(cost_of).sum::<usize>()
    } + recalled.map_or(0, |(_, cost)| cost);

    // Newest first until the rest of the budget is spent; an entry that does not fit ends the walk
    // so the story never has holes in the middle.
    let mut history_budget = after_lore.saturating_sub(memory_tokens);
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

    let mut memory_text = String::new();
    if !told.is_empty() {
        memory_text.push_str(MEMORY_HEADER);
        memory_text.push('\n');
        for (line, _) in told {
            memory_text.push_str(line);
            memory_text.push_str("\n\n");
        }
    }
    if let Some((text, _)) = recalled {
        memory_text.push_str(RECALL_HEADER);
        memory_text.push('\n');
        memory_text.push_str(text);
        memory_text.push_str("\n\n");
    }
    // A template that names `{{story_so_far}}` has the summaries there; otherwise they open the
    // story's history, as the oldest part of it.
    let memory_in_template = template.contains("{{story_so_far}}");
    let system = if lore_block.is_empty()
        && world_part.is_empty()
        && (memory_text.is_empty() || !memory_in_template)
    {
        bare_system
    } else {
        let so_far = if memory_in_template {
            memory_text.trim_end()
        } else {
            ""
        };
        fill(&lore_block, world_part, so_far)?
    };
    let mut user = String::new();
    if !memory_in_template {
        user.push_str(&memory_text);
    }
    for item in kept {
        user.push_str(&history_line(item, mode));
        user.push_str("\n\n");
    }
    if let Some(line) = &input_text {
        user.push_str(line);
        user.push_str("\n\n");
    }
    user.push_str(ask);

    Ok(AssembledPrompt {
        system,
        user,
        budget: Budget {
            window: input.context_window,
            system: system_tokens,
            lore: lore_tokens,
            world: world_tokens,
            history: history_tokens,
            memory: memory_tokens,
            input: input_tokens,
            reserved_output: input.max_output,
            entries_sent: kept.len() + usize::from(current.is_some()),
            entries_left_out: first_kept,
            chapters_left_out: first_chapter,
        },
        lore: selection,
        cut: older[..first_kept].iter().map(|h| h.id.clone()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_and_repeated_choices_are_dropped() {
        let reply =
            r#"{"choices": ["...", "Light the lamp", "", "light the lamp", "…", "-", "Run"]}"#;
        assert_eq!(parse_suggestions(reply, 4), ["Light the lamp", "Run"]);
    }

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
