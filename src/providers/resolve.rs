//! From profiles to a call: environment keys as ready profiles, which profile and model serve a
//! task, and the usage row a finished call leaves.

use super::{Completion, Endpoint, Failure, Finish, PRESETS, ProviderError, preset};
use crate::domain::{
    ApiProfile, CallOutcome, ModelInfo, ProfileSource, Reasoning, Task, TaskAssignment,
    UsageRecord, now_ms,
};
use crate::keys::KeyStore;

/// A profile for every preset whose key is set in the environment (never stored).
pub fn environment_profiles(lookup: &dyn Fn(&str) -> Option<String>) -> Vec<ApiProfile> {
    PRESETS
        .iter()
        .filter_map(|p| {
            let (var, key) = p.key_env.iter().find_map(|var| {
                lookup(var)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (*var, v))
            })?;
            Some(ApiProfile {
                id: ApiProfile::environment_id(p.id),
                name: format!("{} ({var})", p.label),
                preset: p.id.to_owned(),
                base_url: String::new(),
                api_key: Some(crate::domain::Secret::new(key)),
                default_model: String::new(),
                custom_models: Vec::new(),
                favourite_models: Vec::new(),
                key_in_keyring: false,
                source: ProfileSource::Environment(var),
            })
        })
        .collect()
}

/// Saved profiles followed by those found in this process's environment.
pub fn with_environment_profiles(mut saved: Vec<ApiProfile>) -> Vec<ApiProfile> {
    saved.extend(environment_profiles(&|k| std::env::var(k).ok()));
    saved
}

/// The endpoint a profile describes.
pub fn endpoint_for(profile: &ApiProfile) -> Result<Endpoint, ProviderError> {
    let preset = preset(&profile.preset).ok_or_else(|| {
        ProviderError::Config(format!(
            "The profile “{}” uses an unknown provider “{}”.",
            profile.name, profile.preset
        ))
    })?;
    match &profile.api_key {
        None if profile.key_in_keyring => {
            Endpoint::with_keyring_key(preset, &profile.base_url, &profile.id)
        }
        key => Endpoint::new(preset, &profile.base_url, key.clone()),
    }
}

/// Reads a key kept in the OS key store into the endpoint: on the job about to use it, since the
/// OS may ask to unlock its keyring first. Endpoints with their key at hand are left as they are.
pub fn fetch_key(
    endpoint: &mut Endpoint,
    profile_name: &str,
    keys: &dyn KeyStore,
) -> Result<(), ProviderError> {
    let Some(profile_id) = endpoint.keyring_profile.clone() else {
        return Ok(());
    };
    if endpoint.api_key.is_some() {
        return Ok(());
    }
    match keys.read(&profile_id) {
        Ok(Some(key)) if !key.is_empty() => {
            endpoint.api_key = Some(key);
            Ok(())
        }
        Ok(_) => Err(ProviderError::Config(format!(
            "The key of “{profile_name}” is not in {} any more: open the profile and paste it again.",
            keys.name()
        ))),
        Err(e) => Err(ProviderError::Config(format!(
            "The key of “{profile_name}” could not be read from {}: {e} Unlock the keyring and try again, or keep keys in the database (Settings > Providers).",
            keys.name()
        ))),
    }
}

impl ResolvedCall {
    /// `fetch_key` for the call's endpoint.
    pub fn fetch_key(&mut self, keys: &dyn KeyStore) -> Result<(), ProviderError> {
        fetch_key(&mut self.endpoint, &self.profile.name, keys)
    }
}

/// Everything needed to make one call for a task.
#[derive(Clone, Debug)]
pub struct ResolvedCall {
    pub task: Task,
    pub profile: ApiProfile,
    pub endpoint: Endpoint,
    /// Empty when neither the task nor the profile names one.
    pub model: String,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub reasoning: Reasoning,
}

/// Picks the task's own profile and settings, falling back to the main profile and its model.
pub fn resolve(
    task: Task,
    profiles: &[ApiProfile],
    main_profile: Option<&str>,
    assignment: &TaskAssignment,
) -> Result<ResolvedCall, ProviderError> {
    let wanted = assignment.profile_id.as_deref().or(main_profile);
    let profile = match wanted {
        Some(id) => profiles.iter().find(|p| p.id == id).ok_or_else(|| {
            ProviderError::Config(format!(
                "The profile chosen for {} no longer exists; pick another in Settings > Providers.",
                task.label()
            ))
        })?,
        None => profiles.first().ok_or_else(|| {
            ProviderError::Config(
                "No provider is set up yet: add a profile in Settings > Providers.".into(),
            )
        })?,
    };
    let model = assignment
        .model
        .clone()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| profile.default_model.clone());
    Ok(ResolvedCall {
        task,
        endpoint: endpoint_for(profile)?,
        profile: profile.clone(),
        model,
        temperature: assignment.temperature,
        max_tokens: assignment.max_tokens,
        reasoning: assignment.reasoning.unwrap_or_default(),
    })
}

/// The ledger row for a finished call; `models` supplies prices when the list had them.
pub fn usage_record(
    call: &ResolvedCall,
    model: &str,
    story_id: Option<&str>,
    outcome: &Result<Completion, Failure>,
    models: &[ModelInfo],
) -> UsageRecord {
    let (completion, result, error) = match outcome {
        Ok(c) if c.finish == Finish::Cancelled => (c, CallOutcome::Cancelled, None),
        Ok(c) => (c, CallOutcome::Ok, None),
        Err(f) => (&f.partial, CallOutcome::Failed, Some(f.error.to_string())),
    };
    let usage = completion.usage;
    let cost = models
        .iter()
        .find(|m| m.id == model)
        .and_then(|m| m.pricing)
        .zip(usage.prompt_tokens.zip(usage.completion_tokens))
        .map(|(p, (prompt, done))| p.cost_micro_usd(prompt, done));
    UsageRecord {
        at_ms: now_ms(),
        provider: call.endpoint.preset.id.to_owned(),
        profile_id: Some(call.profile.id.clone()),
        model: model.to_owned(),
        task: call.task,
        story_id: story_id.map(str::to_owned),
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        reasoning_tokens: usage.reasoning_tokens,
        first_token_ms: completion.first_token_ms,
        total_ms: completion.total_ms,
        cost_micro_usd: cost,
        outcome: result,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Secret;

    fn stored(id: &str, preset: &str, model: &str) -> ApiProfile {
        ApiProfile {
            id: id.into(),
            name: id.into(),
            preset: preset.into(),
            base_url: String::new(),
            api_key: Some(Secret::new("k")),
            default_model: model.into(),
            custom_models: vec![],
            favourite_models: vec![],
            key_in_keyring: false,
            source: ProfileSource::Stored,
        }
    }

    #[test]
    fn environment_keys_become_profiles_in_preference_order() {
        let env = |k: &str| match k {
            "GOOGLE_API_KEY" => Some("g2".to_owned()),
            "GEMINI_API_KEY" => Some("g1".to_owned()),
            "OPENAI_API_KEY" => Some("  ".to_owned()),
            _ => None,
        };
        let found = environment_profiles(&env);
        assert_eq!(found.len(), 1, "a blank key is no key");
        assert_eq!(found[0].id, "env:google");
        assert_eq!(found[0].api_key.as_ref().map(Secret::expose), Some("g1"));
        assert_eq!(
            found[0].source,
            ProfileSource::Environment("GEMINI_API_KEY")
        );
    }

    #[test]
    fn a_task_uses_its_own_profile_or_falls_back_to_the_main_one() {
        let profiles = vec![
            stored("a", "openai", "gpt-a"),
            stored("b", "anthropic", "claude-b"),
        ];
        let main = resolve(
            Task::Narrator,
            &profiles,
            Some("b"),
            &TaskAssignment::default(),
        )
        .expect("resolve");
        assert_eq!(
            (main.profile.id.as_str(), main.model.as_str()),
            ("b", "claude-b")
        );
        let own = TaskAssignment {
            profile_id: Some("a".into()),
            model: Some("gpt-mini".into()),
            reasoning: Some(Reasoning::Low),
            ..TaskAssignment::default()
        };
        let r = resolve(Task::Suggestions, &profiles, Some("b"), &own).expect("resolve");
        assert_eq!((r.profile.id.as_str(), r.model.as_str()), ("a", "gpt-mini"));
        assert_eq!(r.reasoning, Reasoning::Low);
        let gone = TaskAssignment {
            profile_id: Some("zzz".into()),
            ..TaskAssignment::default()
        };
        assert!(resolve(Task::Memory, &profiles, None, &gone).is_err());
        assert!(resolve(Task::Memory, &[], None, &TaskAssignment::default()).is_err());
    }
}
