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

/// The protagonist's pronouns, for the words around an action ("Mara thinks to herself").
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Pronouns {
    #[default]
    They,
    She,
    He,
    /// Any other: its reflexive form ("xemself").
    Custom(String),
}

impl Pronouns {
    pub fn reflexive(&self) -> &str {
        match self {
            Pronouns::They => "themselves",
            Pronouns::She => "herself",
            Pronouns::He => "himself",
            Pronouns::Custom(reflexive) if !reflexive.trim().is_empty() => reflexive.trim(),
            Pronouns::Custom(_) => "themselves",
        }
    }

    /// As the story's settings keep it: "they", "she", "he", or "custom:xemself".
    pub fn as_stored(&self) -> String {
        match self {
            Pronouns::They => "they".into(),
            Pronouns::She => "she".into(),
            Pronouns::He => "he".into(),
            Pronouns::Custom(reflexive) => format!("custom:{reflexive}"),
        }
    }

    pub fn parse(stored: &str) -> Self {
        match stored {
            "she" => Pronouns::She,
            "he" => Pronouns::He,
            other => match other.strip_prefix("custom:") {
                Some(reflexive) => Pronouns::Custom(reflexive.to_owned()),
                None => Pronouns::They,
            },
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Pronouns::They => "they / them",
            Pronouns::She => "she / her",
            Pronouns::He => "he / him",
            Pronouns::Custom(_) => "Other…",
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
    pub pronouns: Pronouns,
    /// Actions go into the story exactly as typed, with no "I …" or "Mara says, …" around them.
    pub actions_as_typed: bool,
    /// After each narration the Classifier task updates the world (characters, places, items,
    /// quests, time).
    pub track_world: bool,
    /// The world update waits in the World panel for each change to be accepted or rejected.
    pub ask_before_world: bool,
}

impl StorySettings {
    pub fn new() -> Self {
        Self {
            suggestions: true,
            track_world: true,
            ..Self::default()
        }
    }
}

/// Used when neither the model list nor the story says how large the window is; small enough for
/// local models, which are the likeliest to leave it out.
pub const DEFAULT_CONTEXT_WINDOW: u32 = 8192;
pub const DEFAULT_MAX_OUTPUT: u32 = 1024;
