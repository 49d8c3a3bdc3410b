//! API profiles (which provider, where, with which key), reasoning effort, the tasks that call a
//! model and their assignments, and the usage record each call leaves behind.

use std::fmt;

/// An API key. Its `Debug` never shows the value and it has no `Display`, so a key cannot end up
/// in a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into().trim().to_owned())
    }

    /// The key itself, for the one place that sends it: an HTTP header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// "sk-…a1b2": enough to tell keys apart on screen.
    pub fn hint(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() <= 8 {
            return "•".repeat(chars.len().min(8));
        }
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// How hard a model may think before it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Reasoning {
    #[default]
    Off,
    Low,
    Medium,
    High,
}

impl Reasoning {
    pub const ALL: [Reasoning; 4] = [
        Reasoning::Off,
        Reasoning::Low,
        Reasoning::Medium,
        Reasoning::High,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reasoning::Off => "off",
            Reasoning::Low => "low",
            Reasoning::Medium => "medium",
            Reasoning::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Reasoning::Off => "Off",
            Reasoning::Low => "Low",
            Reasoning::Medium => "Medium",
            Reasoning::High => "High",
        }
    }

    /// The thinking budget in tokens, for protocols that take a budget rather than a level.
    pub fn budget_tokens(self) -> u32 {
        match self {
            Reasoning::Off => 0,
            Reasoning::Low => 4000,
            Reasoning::Medium => 8000,
            Reasoning::High => 16000,
        }
    }
}

/// Everything that calls a model. The narrator writes the story; the rest run in the background.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Task {
    Narrator,
    Classifier,
    Memory,
    Suggestions,
    Translation,
    Wizard,
    LoreAgent,
    /// "Test connection" and `fabula provider check`.
    Check,
}

impl Task {
    /// The tasks a user can assign a profile to.
    pub const ASSIGNABLE: [Task; 7] = [
        Task::Narrator,
        Task::Classifier,
        Task::Memory,
        Task::Suggestions,
        Task::Translation,
        Task::Wizard,
        Task::LoreAgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::Narrator => "narrator",
            Task::Classifier => "classifier",
            Task::Memory => "memory",
            Task::Suggestions => "suggestions",
            Task::Translation => "translation",
            Task::Wizard => "wizard",
            Task::LoreAgent => "lore-agent",
            Task::Check => "check",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ASSIGNABLE
            .into_iter()
            .chain([Task::Check])
            .find(|t| t.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Task::Narrator => "Narrator",
            Task::Classifier => "World-state classifier",
            Task::Memory => "Memory (chapter summaries)",
            Task::Suggestions => "Action choices / suggestions",
            Task::Translation => "Translation",
            Task::Wizard => "Story wizard",
            Task::LoreAgent => "Lore agent",
            Task::Check => "Connection check",
        }
    }
}

/// Where the profile came from: saved by the user, or found in an environment variable (never stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileSource {
    Stored,
    Environment(&'static str),
}

/// A provider account: a preset (protocol, default address, headers), optionally another base URL,
/// a key, and the model to use when a task names none.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiProfile {
    pub id: String,
    pub name: String,
    pub preset: String,
    /// Empty means the preset's own address.
    pub base_url: String,
    /// In the database, or `None`: when `key_in_keyring`, the key is in the OS key store and is
    /// read on the job that uses it (`providers::fetch_key`).
    pub api_key: Option<Secret>,
    pub key_in_keyring: bool,
    pub default_model: String,
    pub custom_models: Vec<String>,
    pub favourite_models: Vec<String>,
    pub source: ProfileSource,
}

impl ApiProfile {
    /// The id an environment profile gets: stable across runs, so a task can be assigned to it.
    pub fn environment_id(preset: &str) -> String {
        format!("env:{preset}")
    }
}

/// Overrides for one task; `None` fields fall back to the main profile and its default model.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TaskAssignment {
    pub profile_id: Option<String>,
    pub model: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub reasoning: Option<Reasoning>,
}

/// How a call ended, as the usage ledger records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    Ok,
    Cancelled,
    Failed,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Cancelled => "cancelled",
            CallOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [CallOutcome::Ok, CallOutcome::Cancelled, CallOutcome::Failed]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One row of the usage ledger: what one call to a model cost.
#[derive(Clone, Debug, PartialEq)]
pub struct UsageRecord {
    pub at_ms: i64,
    pub provider: String,
    pub profile_id: Option<String>,
    pub model: String,
    pub task: Task,
    pub story_id: Option<String>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
    pub first_token_ms: Option<u64>,
    pub total_ms: u64,
    /// In millionths of a US dollar, when the model's pricing is known.
    pub cost_micro_usd: Option<i64>,
    pub outcome: CallOutcome,
    pub error: Option<String>,
}

/// Prices per million tokens in US dollars, as model lists report them.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Pricing {
    pub prompt_per_mtok: f64,
    pub completion_per_mtok: f64,
}

impl Pricing {
    /// The cost of a call in millionths of a dollar; reasoning tokens bill as completion tokens.
    pub fn cost_micro_usd(&self, prompt: u64, completion: u64) -> i64 {
        let usd = prompt as f64 * self.prompt_per_mtok / 1e6
            + completion as f64 * self.completion_per_mtok / 1e6;
        (usd * 1e6).round() as i64
    }
}

/// A model as a provider lists it (and as the model cache keeps it).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ModelInfo {
    pub id: String,
    pub name: String,
    pub context_length: Option<u64>,
    pub pricing: Option<Pricing>,
}

/// One summed line of the Usage view.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct UsageTotal {
    /// The story title, provider id or day (YYYY-MM-DD), depending on the grouping.
    pub key: String,
    pub calls: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_micro_usd: i64,
    pub failed: u64,
}

/// How the Usage view groups the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UsageGrouping {
    #[default]
    Story,
    Provider,
    Day,
}

impl UsageGrouping {
    pub const ALL: [UsageGrouping; 3] = [
        UsageGrouping::Story,
        UsageGrouping::Provider,
        UsageGrouping::Day,
    ];

    pub fn label(self) -> &'static str {
        match self {
            UsageGrouping::Story => "By story",
            UsageGrouping::Provider => "By provider",
            UsageGrouping::Day => "By day",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let key = Secret::new("sk-live-abcdef1234567890");
        let profile = ApiProfile {
            id: "p".into(),
            name: "Main".into(),
            preset: "openai".into(),
            base_url: String::new(),
            api_key: Some(key.clone()),
            default_model: "gpt-4o-mini".into(),
            custom_models: vec![],
            favourite_models: vec![],
            key_in_keyring: false,
            source: ProfileSource::Stored,
        };
        let shown = format!("{profile:?} {:?}", Some(&key));
        assert!(!shown.contains("abcdef"), "{shown}");
        assert_eq!(key.hint(), "sk-…7890");
        assert_eq!(Secret::new("abc").hint(), "•••");
    }

    #[test]
    fn names_round_trip_and_budgets_follow_the_reference() {
        for t in Task::ASSIGNABLE {
            assert_eq!(Task::parse(t.as_str()), Some(t));
        }
        for r in Reasoning::ALL {
            assert_eq!(Reasoning::parse(r.as_str()), Some(r));
        }
        let budgets: Vec<u32> = Reasoning::ALL.iter().map(|r| r.budget_tokens()).collect();
        assert_eq!(budgets, vec![0, 4000, 8000, 16000]);
    }

    #[test]
    fn cost_is_computed_from_per_million_prices() {
        let p = Pricing {
            prompt_per_mtok: 3.0,
            completion_per_mtok: 15.0,
        };
        // 1000 × 3/1e6 + 500 × 15/1e6 = 0.003 + 0.0075 dollars.
        assert_eq!(p.cost_micro_usd(1000, 500), 10_500);
    }
}
