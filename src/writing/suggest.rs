//! Suggested next actions: a small call that reads the last few entries and answers with choices.

use super::WritingError;
use super::prepare::task_call;
use crate::domain::{StoryId, Task, TemplateKind, parse_suggestions, suggestions_prompt};
use crate::jobs::CancelToken;
use crate::keys::KeyStore;
use crate::providers::{self, ChatRequest, Message};
use crate::storage::Store;

/// Entries the suggestions call sees.
const SUGGESTION_CONTEXT: usize = 6;

/// Asks the suggestions task for the next actions (adventure, up to 4) or directions (creative,
/// up to 3) after the newest entry.
pub fn suggest(
    store: &Store,
    keys: &dyn KeyStore,
    story_id: &StoryId,
    cancel: &CancelToken,
) -> Result<Vec<String>, WritingError> {
    let story = store.story_summary(story_id)?.story;
    let assignment = store.task_assignment(Task::Suggestions)?;
    let (call, models) = task_call(store, keys, Task::Suggestions, &assignment, cancel)?;
    let pack = store.prompt_pack()?;
    let recent = store.history_within(story_id, None, 3000)?;
    let start = recent.len().saturating_sub(SUGGESTION_CONTEXT);
    let prompt = suggestions_prompt(&story, &pack, &recent[start..]).map_err(|e| {
        let kind = match story.mode {
            crate::domain::StoryMode::Adventure => TemplateKind::SuggestionsAdventure,
            crate::domain::StoryMode::CreativeWriting => TemplateKind::SuggestionsCreative,
        };
        WritingError::Template { kind, error: e }
    })?;
    let mut request = ChatRequest::new(call.model.clone(), vec![Message::user(prompt)]);
    request.temperature = call.temperature.or(Some(0.8));
    request.max_tokens = Some(call.max_tokens.unwrap_or(300));
    request.reasoning = call.reasoning;
    let result = providers::stream_chat(&call.endpoint, &request, cancel, &mut |_| {});
    let usage = providers::usage_record(
        &call,
        &call.model,
        Some(story_id.as_str()),
        &result,
        &models,
    );
    if let Err(e) = store.record_usage(&usage) {
        log::warn!("the usage row could not be written: {e}");
    }
    let completion = result.map_err(|f| WritingError::Provider(f.error))?;
    let max = match story.mode {
        crate::domain::StoryMode::Adventure => 4,
        crate::domain::StoryMode::CreativeWriting => 3,
    };
    Ok(parse_suggestions(&completion.text, max))
}
