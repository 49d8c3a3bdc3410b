//! A story's writing settings (kept in the exchange format's settings object) and the prompt pack.

use super::stories::expect_one;
use super::{Result, Store, StoreError};
use crate::domain::{
    NarrationLength, Pov, PromptPack, Pronouns, Reasoning, StoryId, StorySettings, Tense, now_ms,
};
use rusqlite::{OptionalExtension, params};

const PROMPT_PACK_KEY: &str = "prompts.pack";

impl Store {
    /// The story's generation settings, read from the exchange format's `settings` object (other
    /// keys in it are kept as they are).
    pub fn story_settings(&self, story: &StoryId) -> Result<StorySettings> {
        let value = serde_json::Value::Object(self.settings_object(story)?);
        let str_of = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let num_of = |k: &str| value.get(k).and_then(serde_json::Value::as_f64);
        let defaults = StorySettings::new();
        Ok(StorySettings {
            tone: str_of("tone").unwrap_or_default(),
            themes: value
                .get("themes")
                .and_then(|t| t.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            length: str_of("narrationLength")
                .and_then(|l| NarrationLength::parse(&l))
                .unwrap_or_default(),
            profile_id: str_of("profileId"),
            model: str_of("model").filter(|m| !m.is_empty()),
            temperature: num_of("temperature").map(|t| t as f32),
            max_tokens: num_of("maxTokens").and_then(|t| u32::try_from(t as i64).ok()),
            reasoning: str_of("reasoningEffort").and_then(|r| Reasoning::parse(&r)),
            context_window: num_of("contextWindow").and_then(|t| u32::try_from(t as i64).ok()),
            suggestions: value
                .get("suggestionsEnabled")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(defaults.suggestions),
            pronouns: str_of("protagonistPronouns")
                .map(|p| Pronouns::parse(&p))
                .unwrap_or_default(),
            actions_as_typed: value
                .get("actionsAsTyped")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
            track_world: value
                .get("fabulaTrackWorld")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(defaults.track_world),
            ask_before_world: value
                .get("fabulaAskBeforeWorld")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
        })
    }

    pub fn save_story_settings(&self, story: &StoryId, settings: &StorySettings) -> Result<()> {
        let mut value = self.settings_object(story)?;
        let mut put = |k: &str, v: Option<serde_json::Value>| match v {
            Some(v) => {
                value.insert(k.to_owned(), v);
            }
            None => {
                value.remove(k);
            }
        };
        use serde_json::json;
        put(
            "tone",
            (!settings.tone.is_empty()).then(|| json!(settings.tone)),
        );
        put(
            "themes",
            (!settings.themes.is_empty()).then(|| json!(settings.themes)),
        );
        put("narrationLength", Some(json!(settings.length.as_str())));
        put("profileId", settings.profile_id.as_ref().map(|p| json!(p)));
        put("model", settings.model.as_ref().map(|m| json!(m)));
        put("temperature", settings.temperature.map(|t| json!(t)));
        put("maxTokens", settings.max_tokens.map(|t| json!(t)));
        put(
            "reasoningEffort",
            settings.reasoning.map(|r| json!(r.as_str())),
        );
        put("contextWindow", settings.context_window.map(|t| json!(t)));
        put("suggestionsEnabled", Some(json!(settings.suggestions)));
        put(
            "protagonistPronouns",
            (settings.pronouns != Pronouns::They).then(|| json!(settings.pronouns.as_stored())),
        );
        put(
            "actionsAsTyped",
            settings.actions_as_typed.then_some(json!(true)),
        );
        put(
            "fabulaTrackWorld",
            (!settings.track_world).then_some(json!(false)),
        );
        put(
            "fabulaAskBeforeWorld",
            settings.ask_before_world.then_some(json!(true)),
        );
        let text = serde_json::Value::Object(value).to_string();
        let changed = self
            .conn
            .execute(
                "UPDATE stories SET settings = ?2 WHERE id = ?1",
                params![story.as_str(), text],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Story {story}"))
    }

    pub fn set_story_style(&self, story: &StoryId, pov: Pov, tense: Tense) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE stories SET pov = ?2, tense = ?3, updated_at = ?4 WHERE id = ?1",
                params![story.as_str(), pov.as_str(), tense.as_str(), now_ms()],
            )
            .map_err(|e| self.err(e))?;
        expect_one(changed, || format!("Story {story}"))
    }

    /// The prompt templates in use: the user's pack, or the defaults when none was saved (or the
    /// saved one cannot be read, which is logged rather than fatal).
    pub fn prompt_pack(&self) -> Result<PromptPack> {
        Ok(match self.setting(PROMPT_PACK_KEY)? {
            Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                log::warn!(
                    "the saved prompt templates could not be read ({e}); using the defaults"
                );
                PromptPack::default()
            }),
            None => PromptPack::default(),
        })
    }

    pub fn save_prompt_pack(&self, pack: &PromptPack) -> Result<()> {
        let text = serde_json::to_string(pack)
            .map_err(|e| StoreError::Invalid(format!("The templates could not be saved: {e}")))?;
        self.set_setting(PROMPT_PACK_KEY, &text)
    }

    /// The exchange format's `settings` object of a story (empty when it has none or it is unreadable).
    fn settings_object(
        &self,
        story: &StoryId,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let raw: Option<String> = self
            .conn
            .query_row(
                "SELECT settings FROM stories WHERE id = ?1",
                [story.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NotFound(format!("Story {story}")))?;
        Ok(raw
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default())
    }
}
