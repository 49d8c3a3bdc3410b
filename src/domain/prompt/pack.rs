//! Prompt packs: the narrator's and the suggestions' templates for each story mode, the defaults,\nand the placeholders each may use.

use super::super::story::StoryMode;
use super::template::{TemplateError, check_template};

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
    "world",
    "story_time",
    "story_so_far",
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

{{world}}

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

{{world}}

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
