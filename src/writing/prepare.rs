//! Everything a narration needs before the call: the story, its settings, the narrator's profile and\nmodel, the lore that fires, the history that fits, assembled into one request.

use super::{Lorebook, WritingError};
use crate::domain::{
    AssembledPrompt, DEFAULT_CONTEXT_WINDOW, DEFAULT_MAX_OUTPUT, ModelInfo, PromptInput, Story,
    StoryId, StorySettings, Target, Task, TaskAssignment, assemble, count_tokens,
};
use crate::jobs::CancelToken;
use crate::keys::KeyStore;
use crate::providers::{self, ChatRequest, Message, ProviderError, ResolvedCall};
use crate::storage::Store;

/// A narrator request ready to send, and how it was put together.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub story: Story,
    pub settings: StorySettings,
    pub target: Target,
    pub call: ResolvedCall,
    pub request: ChatRequest,
    pub prompt: AssembledPrompt,
    /// For a continuation, the cut-off text it writes on from; empty otherwise.
    pub prefix: String,
    /// Lore that fired: name, why, and whether it fit.
    pub lore: Vec<(String, String, bool)>,
    pub models: Vec<ModelInfo>,
    /// The branch the story showed when the narration began: it lands there, whatever the
    /// story shows by the time it ends.
    pub branch: Option<String>,
}

/// The narrator's profile and settings: the story's own choices over the task's, over the main profile.
pub fn narrator_call(
    store: &Store,
    keys: &dyn KeyStore,
    settings: &StorySettings,
    cancel: &CancelToken,
) -> Result<(ResolvedCall, Vec<ModelInfo>), WritingError> {
    let assignment = store.task_assignment(Task::Narrator)?;
    let merged = TaskAssignment {
        profile_id: settings.profile_id.clone().or(assignment.profile_id),
        model: settings.model.clone().or(assignment.model),
        temperature: settings.temperature.or(assignment.temperature),
        max_tokens: settings.max_tokens.or(assignment.max_tokens),
        reasoning: settings.reasoning.or(assignment.reasoning),
    };
    task_call(store, keys, Task::Narrator, &merged, cancel)
}

/// Resolves a task's call (its key read from the OS key store when it is kept there) and fills in
/// a model when none is named: the first cached one, or the first the provider lists.
pub(super) fn task_call(
    store: &Store,
    keys: &dyn KeyStore,
    task: Task,
    assignment: &TaskAssignment,
    cancel: &CancelToken,
) -> Result<(ResolvedCall, Vec<ModelInfo>), WritingError> {
    let profiles = providers::with_environment_profiles(store.list_profiles()?);
    let main = store.main_profile_id()?;
    let mut call = providers::resolve(task, &profiles, main.as_deref(), assignment)?;
    call.fetch_key(keys)?;
    let mut models = store
        .cached_models(&call.profile.id)?
        .map(|(_, m)| m)
        .unwrap_or_default();
    if call.model.is_empty() {
        if models.is_empty() {
            models = providers::list_models(&call.endpoint, cancel)?;
            if let Err(e) = store.cache_models(&call.profile.id, &models) {
                log::warn!("the model list could not be cached: {e}");
            }
        }
        call.model = models.first().map(|m| m.id.clone()).ok_or_else(|| {
            ProviderError::Config(format!(
                "{} lists no models; name one in the profile.",
                call.endpoint.label()
            ))
        })?;
    }
    Ok((call, models))
}

/// Reads what the prompt needs and assembles the narrator's request.
pub fn prepare(
    store: &Store,
    keys: &dyn KeyStore,
    story_id: &StoryId,
    target: Target,
    lorebook: &Lorebook,
    cancel: &CancelToken,
) -> Result<Prepared, WritingError> {
    prepare_recalled(store, keys, story_id, target, lorebook, cancel, None)
}

/// As `prepare`, with what recall found in past chapters told to the narrator.
pub fn prepare_recalled(
    store: &Store,
    keys: &dyn KeyStore,
    story_id: &StoryId,
    target: Target,
    lorebook: &Lorebook,
    cancel: &CancelToken,
    recalled: Option<&str>,
) -> Result<Prepared, WritingError> {
    let story = store.story_summary(story_id)?.story;
    let settings = store.story_settings(story_id)?;
    let target_entry = match target.entry() {
        Some(id) => Some(store.entry(id)?),
        None => None,
    };
    if target_entry
        .as_ref()
        .is_some_and(|e| e.kind != crate::domain::EntryKind::Narration)
    {
        return Err(WritingError::NotNarration);
    }
    // A continuation sees the cut narration as the newest part of the story.
    let continued = match (&target, target_entry) {
        (Target::Continue(_), Some(entry)) => Some(entry),
        _ => None,
    };
    let (call, models) = narrator_call(store, keys, &settings, cancel)?;
    let context_window = settings
        .context_window
        .map(|w| w as usize)
        .or_else(|| {
            models
                .iter()
                .find(|m| m.id == call.model)
                .and_then(|m| m.context_length)
                .map(|w| usize::try_from(w).unwrap_or(usize::MAX))
        })
        .unwrap_or(DEFAULT_CONTEXT_WINDOW as usize);
    let max_output = call.max_tokens.unwrap_or(DEFAULT_MAX_OUTPUT) as usize;
    let pack = store.prompt_pack()?;
    pack.check()
        .map_err(|(kind, e)| WritingError::Template { kind, error: e })?;
    let mut history = store.history_within(
        story_id,
        target.entry(),
        context_window.saturating_sub(max_output),
    )?;
    if let Some(entry) = &continued {
        history.push(crate::domain::HistoryItem {
            id: entry.id.clone(),
            kind: entry.kind,
            text: entry.content.clone(),
            tokens: count_tokens(&entry.content),
        });
    }
    let world = store.world(story_id)?;
    let chapters = store.chapters(story_id)?;
    let mut prompt = assemble(&PromptInput {
        story: &story,
        settings: &settings,
        pack: &pack,
        lore: &lorebook.entries,
        matcher: &lorebook.matcher,
        history: &history,
        context_window,
        max_output,
        count_tokens: &count_tokens,
        continuing: continued.is_some(),
        world: &world,
        chapters: &chapters,
        recalled,
    })
    .map_err(|e| WritingError::Template {
        kind: pack.narrator(story.mode).1,
        error: e,
    })?;
    // The history read stops where the window is full, so what was left out is counted apart.
    let before = store.entries_before(story_id, target.entry())? + usize::from(continued.is_some());
    prompt.budget.entries_left_out = before.saturating_sub(prompt.budget.entries_sent);
    let lore = prompt
        .lore
        .injected
        .iter()
        .map(|f| (f, true))
        .chain(prompt.lore.cut.iter().map(|f| (f, false)))
        .filter_map(|(f, fit)| {
            let entry = lorebook.entries.get(f.index)?;
            Some((entry.name.clone(), f.reason.describe(), fit))
        })
        .collect();
    let mut request = ChatRequest::new(
        call.model.clone(),
        vec![
            Message::system(prompt.system.clone()),
            Message::user(prompt.user.clone()),
        ],
    );
    request.temperature = call.temperature;
    request.max_tokens = Some(u32::try_from(max_output).unwrap_or(DEFAULT_MAX_OUTPUT));
    request.reasoning = call.reasoning;
    Ok(Prepared {
        story,
        settings,
        target,
        call,
        request,
        prompt,
        prefix: continued.map(|e| e.content).unwrap_or_default(),
        lore,
        models,
        branch: store.current_branch(story_id)?,
    })
}
