//! The narration itself: streamed, saved as a draft every second on its own connection, asked\nagain when a reply comes back empty, then stored (or kept as a draft, or held when storage is\ngone), with its usage row and inspector record.

use super::{Prepared, WritingError};
use crate::domain::{Draft, DraftState, EntryId, GenerationRecord, Target, Task, now_ms};
use crate::jobs::{CancelToken, Periodic};
use crate::providers::{self, Completion, Delta, Failure, Finish, ProviderError};
use crate::storage::{Store, StoreError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often the text streamed so far is written to the draft: a crash loses at most this much.
const DRAFT_EVERY: Duration = Duration::from_secs(1);

/// How long the finished narration keeps trying to be stored while another program holds the
/// database's write lock: the text exists nowhere else once the stream has ended.
const STORE_PATIENCE: Duration = Duration::from_secs(30);

/// The draft saver gives up on one tick after this (it tries again a second later) rather than
/// waiting the store's full busy timeout, so stopping it never takes long.
const SAVER_BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// An empty reply is asked for again this many times before it counts as a failure.
const EMPTY_RETRIES: u32 = 3;

/// How a generation ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Ending {
    /// The narration was written: a new entry, or a new alternative of the target.
    Written(EntryId),
    /// Stopped by the user; the text so far is a draft.
    Cancelled,
    /// The provider failed; the text so far (if any) is a draft.
    Failed(ProviderError),
    /// The narration arrived whole but could not be stored (the disk is full, the database stayed
    /// locked or became read-only): the text is only in `Outcome::text`, and the caller must keep it.
    Unsaved(String),
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub ending: Ending,
    pub text: String,
    pub reasoning: String,
    pub first_token_ms: Option<u64>,
    pub total_ms: u64,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    /// Why the draft could not be kept on disk while streaming (the last failure), if it could not.
    pub draft_problem: Option<String>,
    /// Stream messages the provider sent that could not be read (the text may miss pieces).
    pub skipped: u32,
}

/// What the draft saver shares with the stream: the text so far, whether it changed since the last
/// save, and the last save's failure. The saver never logs: a logger blocked on a full pipe (or a
/// caller holding stderr) must not stop it, nor the stream that waits for it at the end.
struct PendingDraft {
    draft: Draft,
    dirty: bool,
    problem: Option<String>,
}

/// Streams the prepared request. Every `on_delta` piece is also kept in the story's draft, written
/// at most once a second; at the end the narration is stored (and the draft removed) in one
/// transaction, or the draft is marked cancelled or failed with the text so far.
pub fn run(
    store: &mut Store,
    prepared: &Prepared,
    cancel: &CancelToken,
    on_delta: &mut dyn FnMut(&Delta),
) -> Result<Outcome, WritingError> {
    let started_at = now_ms();
    let mut draft = Draft {
        story_id: prepared.story.id.clone(),
        target: prepared.target.entry().cloned(),
        content: prepared.prefix.clone(),
        reasoning: String::new(),
        state: DraftState::Streaming,
        error: None,
        model: Some(prepared.call.model.clone()),
        started_at,
        updated_at: started_at,
    };
    // A draft that cannot be written is no reason not to stream: the text still arrives, and the
    // narration is stored at the end.
    // Its failure is logged with the saver's at the end (unless a later save mends it).
    let first_problem = store.save_draft(&draft).err().map(|e| e.to_string());
    // A ticker writes what has arrived once a second, also while the stream stalls, so a crash or
    // kill loses at most the last second; it has its own connection and stops before `finish`.
    let pending = Arc::new(Mutex::new(PendingDraft {
        draft: draft.clone(),
        dirty: false,
        problem: first_problem,
    }));
    let saver = {
        let pending = pending.clone();
        let path = store.path().to_owned();
        let mut connection: Option<Store> = None;
        Periodic::start("draft-saver", DRAFT_EVERY, move || {
            let snapshot = {
                let mut guard = pending.lock().unwrap_or_else(PoisonError::into_inner);
                if !guard.dirty {
                    return;
                }
                guard.dirty = false;
                guard.draft.updated_at = now_ms();
                guard.draft.clone()
            };
            let saved = match &connection {
                Some(store) => store.save_draft(&snapshot),
                None => Store::open_worker(&path).and_then(|store| {
                    store.set_busy_timeout(SAVER_BUSY_TIMEOUT)?;
                    let saved = store.save_draft(&snapshot);
                    connection = Some(store);
                    saved
                }),
            };
            let mut guard = pending.lock().unwrap_or_else(PoisonError::into_inner);
            match saved {
                Ok(()) => guard.problem = None,
                Err(e) => {
                    // Saved again on the next tick, whatever arrives meanwhile.
                    guard.dirty = true;
                    guard.problem = Some(e.to_string());
                }
            }
        })
        .map_err(|e| StoreError::Sqlite(format!("the draft saver could not start: {e}")))?
    };
    let mut empties = 0;
    let result = loop {
        {
            let mut guard = pending.lock().unwrap_or_else(PoisonError::into_inner);
            guard.draft.content.clone_from(&prepared.prefix);
            guard.draft.reasoning.clear();
        }
        let outcome = providers::stream_chat(
            &prepared.call.endpoint,
            &prepared.request,
            cancel,
            &mut |delta| {
                {
                    let mut guard = pending.lock().unwrap_or_else(PoisonError::into_inner);
                    match delta {
                        Delta::Text(t) => {
                            if guard.draft.content.len() == prepared.prefix.len() {
                                let joint = crate::domain::joint(&prepared.prefix, t);
                                guard.draft.content.push_str(joint);
                            }
                            guard.draft.content.push_str(t);
                        }
                        Delta::Reasoning(r) => guard.draft.reasoning.push_str(r),
                    }
                    guard.dirty = true;
                }
                on_delta(delta);
            },
        );
        match &outcome {
            Ok(c) if c.finish == Finish::Complete && c.text.trim().is_empty() => {
                empties += 1;
                log_call(store, prepared, &outcome);
                if empties > EMPTY_RETRIES || cancel.is_cancelled() {
                    break Err(empty_failure(
                        prepared.call.endpoint.label(),
                        c.clone(),
                        empties,
                    ));
                }
                log::info!("empty reply from {}; asking again", prepared.call.model);
            }
            _ => break outcome,
        }
    };
    drop(saver);
    let draft_problem = pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .problem
        .take();
    if let Some(problem) = &draft_problem {
        log::warn!("the draft could not be saved while streaming: {problem}");
    }
    let mut outcome = finish(store, prepared, &mut draft, result)?;
    outcome.draft_problem = draft_problem;
    Ok(outcome)
}

/// Stores the finished narration, waiting out another program's write lock for a while: once the
/// stream has ended, the text exists nowhere else.
fn store_narration(
    store: &mut Store,
    prepared: &Prepared,
    completion: &Completion,
) -> Result<EntryId, StoreError> {
    let give_up = Instant::now() + STORE_PATIENCE;
    let text = written_text(prepared, &completion.text);
    let reasoning = &completion.reasoning;
    let cut_off = providers::stopped_at_limit(completion.finish_reason.as_deref());
    loop {
        let stored = match &prepared.target {
            Target::Next => store.finish_narration_on(
                &prepared.story.id,
                prepared.branch.as_deref(),
                &text,
                reasoning,
                cut_off,
            ),
            Target::Regenerate(entry) | Target::Continue(entry) => store
                .add_alternative(entry, &text, reasoning, cut_off)
                .map(|_| entry.clone()),
        };
        match stored {
            Err(StoreError::Locked { .. }) if Instant::now() < give_up => {
                log::info!("the database is locked; trying again to store the narration");
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// The narration as it will stand: the reply trimmed, or for a continuation the cut text with the
/// reply joined on (its opening break kept).
fn written_text(prepared: &Prepared, reply: &str) -> String {
    if prepared.prefix.is_empty() {
        return reply.trim().to_owned();
    }
    let reply = reply.trim_end();
    let mut text = String::with_capacity(prepared.prefix.len() + reply.len() + 1);
    text.push_str(&prepared.prefix);
    text.push_str(crate::domain::joint(&prepared.prefix, reply));
    text.push_str(reply);
    text
}

#[allow(clippy::result_large_err)]
fn empty_failure(provider: &str, partial: Completion, times: u32) -> Failure {
    Failure {
        error: ProviderError::Protocol {
            provider: provider.to_owned(),
            detail: format!("only empty replies ({times} in a row)"),
        },
        partial,
    }
}

#[allow(clippy::result_large_err)]
fn finish(
    store: &mut Store,
    prepared: &Prepared,
    draft: &mut Draft,
    result: Result<Completion, Failure>,
) -> Result<Outcome, WritingError> {
    // The story's text first: the usage row and the inspector's record are worth less than it and
    // each waits the busy timeout on a locked database.
    let (completion, mut ending) = match &result {
        Ok(c) if c.finish == Finish::Complete => {
            let ending = match store_narration(store, prepared, c) {
                Ok(id) => Ending::Written(id),
                Err(e) => Ending::Unsaved(e.to_string()),
            };
            (c.clone(), ending)
        }
        Ok(c) => (c.clone(), Ending::Cancelled),
        Err(f) => (f.partial.clone(), Ending::Failed(f.error.clone())),
    };
    if !matches!(ending, Ending::Written(_)) {
        draft.content = if prepared.prefix.is_empty() {
            completion.text.trim_start().to_owned()
        } else {
            written_text(prepared, &completion.text)
        };
        draft.reasoning.clone_from(&completion.reasoning);
        draft.updated_at = now_ms();
        (draft.state, draft.error) = match &ending {
            Ending::Failed(error) => (DraftState::Failed, Some(error.to_string())),
            Ending::Unsaved(reason) => (DraftState::Failed, Some(reason.clone())),
            _ => (DraftState::Cancelled, None),
        };
        if let Err(e) = store.save_draft(draft) {
            log::warn!("the draft could not be saved: {e}");
            // Text that is on disk nowhere is the caller's to keep (see `Ending::Unsaved`).
            if !matches!(ending, Ending::Unsaved(_)) && !completion.text.trim().is_empty() {
                ending = Ending::Unsaved(e.to_string());
            }
        }
    }
    record_call(store, prepared, &result);
    let unsaved = matches!(ending, Ending::Unsaved(_));
    let mut outcome = outcome_of(ending, completion);
    if unsaved && !prepared.prefix.is_empty() {
        // The caller keeps what is on disk nowhere: the whole continued text.
        outcome.text = written_text(prepared, &outcome.text);
    }
    Ok(outcome)
}

/// The usage row and the inspector's record of a call; a failure to write them is only logged.
#[allow(clippy::result_large_err)]
fn record_call(store: &Store, prepared: &Prepared, result: &Result<Completion, Failure>) {
    let usage = providers::usage_record(
        &prepared.call,
        &prepared.call.model,
        Some(prepared.story.id.as_str()),
        result,
        &prepared.models,
    );
    if let Err(e) = store.record_usage(&usage) {
        log::warn!("the usage row could not be written: {e}");
    }
    log_call(store, prepared, result);
}

fn outcome_of(ending: Ending, completion: Completion) -> Outcome {
    Outcome {
        ending,
        text: completion.text,
        reasoning: completion.reasoning,
        first_token_ms: completion.first_token_ms,
        total_ms: completion.total_ms,
        prompt_tokens: completion.usage.prompt_tokens,
        completion_tokens: completion.usage.completion_tokens,
        draft_problem: None,
        skipped: completion.skipped,
    }
}

fn log_call(store: &Store, prepared: &Prepared, result: &Result<Completion, Failure>) {
    let (url, request) = providers::request_preview(&prepared.call.endpoint, &prepared.request);
    let (completion, outcome, error) = match result {
        Ok(c) if c.finish == Finish::Cancelled => (c, "cancelled", None),
        Ok(c) if c.text.trim().is_empty() => (c, "empty", None),
        Ok(c) => (c, "ok", None),
        Err(f) => (&f.partial, "failed", Some(f.error.to_string())),
    };
    let error = error.or_else(|| skipped_note(completion.skipped));
    let usage = completion.usage;
    let usage = (usage.prompt_tokens.is_some() || usage.completion_tokens.is_some()).then(|| {
        serde_json::json!({
            "promptTokens": usage.prompt_tokens,
            "completionTokens": usage.completion_tokens,
            "reasoningTokens": usage.reasoning_tokens,
            "firstTokenMs": completion.first_token_ms,
            "totalMs": completion.total_ms,
        })
        .to_string()
    });
    let lore: Vec<String> = prepared
        .lore
        .iter()
        .map(|(name, why, fit)| {
            format!(
                "{name}: {why}{}",
                if *fit { "" } else { " (cut: over budget)" }
            )
        })
        .collect();
    let record = GenerationRecord {
        id: 0,
        story_id: Some(prepared.story.id.clone()),
        task: Task::Narrator.as_str().to_owned(),
        provider: prepared.call.endpoint.preset.id.to_owned(),
        model: prepared.call.model.clone(),
        url,
        request,
        response: completion.text.clone(),
        reasoning: completion.reasoning.clone(),
        usage,
        budget: Some(prepared.prompt.budget),
        lore: (!lore.is_empty()).then(|| lore.join("\n")),
        outcome: outcome.to_owned(),
        error,
        created_at: now_ms(),
    };
    if let Err(e) = store.log_generation(&record) {
        log::warn!("the prompt inspector's record could not be written: {e}");
    }
}

/// What the inspector and the status say when a stream had messages that could not be read.
pub fn skipped_note(skipped: u32) -> Option<String> {
    match skipped {
        0 => None,
        1 => Some(
            "1 message of the stream could not be read and was skipped; the text may miss a piece."
                .into(),
        ),
        n => Some(format!(
            "{n} messages of the stream could not be read and were skipped; the text may miss pieces."
        )),
    }
}
