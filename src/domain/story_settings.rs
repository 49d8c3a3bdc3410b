//! Per-story generation settings: tone, themes, narration length and overrides of the narrator's model.

use super::profile::Reasoning;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NarrationLength {
    Short,
    #[default]
    Medium,
    Long,
}

impl NarrationLength {
    pub const ALL: [NarrationLength; 3] = [
        NarrationLength::Short,
        NarrationLength::Medium,
        NarrationLength::Long,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NarrationLength::Short => "short",
            NarrationLength::Medium => "medium",
            NarrationLength::Long => "long",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            NarrationLength::Short => "Short",
            NarrationLength::Medium => "Medium",
            NarrationLength::Long => "Long",
        }
    }
}

/// What a story changes about how it is written. `None` means "as the narrator task says".
#[derive(Clone, Debug, PartialEq, Default)]
pub struct StorySettings {
    pub tone: String,
    pub themes: Vec<String>,
    pub length: NarrationLength,
    pub profile_id: Option<String>,
    pub model: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub reasoning: Option<Reasoning>,
    /// The model's context window when the model list does not say (or the user knows better).
    pub context_window: Option<u32>,
    /// Action choices (adventure) or suggestions (creative) after each narration.
    pub suggestions: bool,
}

impl StorySettings {
    pub fn new() -> Self {
        Self {
            suggestions: true,
            ..Self::default()
        }
    }
}

/// Used when neither the model list nor the story says how large the window is; small enough for
/// local models, which are the likeliest to leave it out.
pub const DEFAULT_CONTEXT_WINDOW: u32 = 8192;
pub const DEFAULT_MAX_OUTPUT: u32 = 1024;
