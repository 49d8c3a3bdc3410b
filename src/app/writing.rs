//! The controller's side of the writing loop: starts generation and suggestion jobs, folds their
//! events into `WritingState` each frame, and applies drafts and alternatives (lore is in lore.rs,
//! story settings and prompt packs in prompts.rs).

use super::FabulaApp;
use super::generation::{GenerationEvent, generation_job};
use super::next_step::next_step;
use crate::domain::{EntryId, EntryKind, EntryRow, StoryId, Target};
use crate::providers::Delta;
use crate::state::{Action, Streaming, SuggestionStatus, ViewEvent, WritingAction, WritingState};
use crate::storage::{Store, StoreError};
use crate::writing::{Ending, Outcome, WritingError};

type Result<T> = std::result::Result<T, StoreError>;

impl FabulaApp {
    /// Carries out one writing action (see `WritingAction`).
    pub(super) fn apply_writing(
        &mut self,
        store: &mut Store,
        action: WritingAction,
    ) -> std::result::Result<(), StoreError> {
        match action {
            WritingAction::Generate(input) => self.generate(store, input)?,
            WritingAction::Regenerate(entry) => {
                self.start_generation(store, crate::domain::Target::Regenerate(entry))?;
            }
            WritingAction::Continue(entry) => {
                self.start_generation(store, crate::domain::Target::Continue(entry))?;
            }
            WritingAction::EditAndRegenerate { entry, text } => {
                self.edit_and_regenerate(store, &entry, text)?;
            }
            WritingAction::StopGeneration => self.stop_generation(),
            WritingAction::KeepDraft => self.keep_draft(store)?,
            WritingAction::RetryDraft => self.retry_draft(store)?,
            WritingAction::DiscardDraft => self.discard_draft(store)?,
            WritingAction::SelectAlternative { entry, index } => {
                self.select_alternative(store, &entry, index)?;
            }
            WritingAction::SaveStorySettings(settings) => {
                self.save_story_settings(store, settings)?
            }
            WritingAction::SavePromptPack(pack) => self.save_prompt_pack(store, pack)?,
            WritingAction::ShowInspector => self.show_inspector(store)?,
            WritingAction::ExportPromptPack(path) => self.export_prompt_pack(store, &path)?,
            WritingAction::ImportPromptPack(path) => self.import_prompt_pack(store, &path)?,
        }
        Ok(())
    }

    /// Reads what the story screen shows about writing: draft, lore, settings, and the latest
    /// generation's budget. The inspector's list is read when its panel opens.
    pub(super) fn load_writing(&mut self, store: &Store, story: &StoryId) -> Result<()> {
        // A narration still being written (for this story or another) stays on: it ends on its own.
        let generating = self.state.writing.streaming.clone();
        let mut export_dir = std::mem::take(&mut self.state.writing.export_dir);
        if export_dir.as_os_str().is_empty() {
            export_dir = crate::storage::documents_dir(&self.state.data_dir);
        }
        let latest = store.recent_generations(Some(story), 1)?;
        let budget = latest.first().and_then(|r| r.budget);
        let lore_fired = latest
            .first()
            .and_then(|r| r.lore.clone())
            .map(|text| {
                text.lines()
                    .filter_map(|l| {
                        let (name, why) = l.split_once(": ")?;
                        let fit = !why.ends_with("(cut: over budget)");
                        Some((name.to_owned(), why.to_owned(), fit))
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.state.writing = WritingState {
            story: Some(story.clone()),
            streaming: generating,
            draft: match self.unsaved.get(story) {
                Some(unsaved) => Some(unsaved.clone()),
                None => store.draft(story)?,
            },
            budget,
            lore: store.lore(story)?,
            lore_proposals: store.pending_lore_proposals(story)?,
            lore_kept: store.kept_lore(story)?,
            world: store.world(story)?,
            world_pending: super::world::pending_of(store, story)?,
            world_updates: store.recent_world_updates(story, super::world::RECENT_UPDATES)?,
            chapters: store.chapters(story)?,
            memory: store.memory_settings(story)?,
            branches: store.branches(story)?,
            branch: store.current_branch(story)?,
            checkpoints: store.checkpoints(story)?,
            branch_facts: store.branch_facts(story)?,
            lore_fired,
            settings: store.story_settings(story)?,
            pack: store.prompt_pack()?,
            export_dir,
            ..WritingState::default()
        };
        self.forget_lorebook();
        Ok(())
    }

    /// Starts the narrator for `target` on a job; the user's entry (if any) is already stored.
    pub(super) fn start_generation(&mut self, store: &Store, target: Target) -> Result<()> {
        let Some(open) = &self.state.open else {
            return Ok(());
        };
        if self.jobs.is_running(GENERATION) {
            self.state
                .error("A narration is still being written; stop it first (Esc).");
            return Ok(());
        }
        let story = open.summary.story.id.clone();
        let lorebook = self.cached_lorebook(&story);
        // A leftover draft is replaced by the new attempt (Retry and Regenerate both mean that).
        store.discard_draft(&story)?;
        self.state.writing.draft = None;
        self.state.writing.suggestions.clear();
        self.state.writing.suggestions_status = SuggestionStatus::Idle;
        let path = store.path().to_owned();
        let job_story = story.clone();
        let job_target = target.clone();
        let lore_version = self.lore_version;
        let keys = self.keys.clone();
        let waker = self.waker();
        let started = self.jobs.start(
            GENERATION,
            "The narration",
            waker,
            move |cx| {
                generation_job(
                    &path,
                    keys.as_ref(),
                    &job_story,
                    job_target,
                    (lore_version, lorebook),
                    cx,
                );
            },
            Self::on_generation_event,
            Self::on_generation_end,
        );
        match started {
            Ok(()) => {
                self.state.writing.streaming = Some(Streaming {
                    story: story.clone(),
                    target,
                    text: String::new(),
                    reasoning: String::new(),
                    model: None,
                    profile_id: None,
                    recalling: None,
                    recalled: None,
                });
                self.state.status = None;
            }
            Err(e) => self
                .state
                .error(format!("The generation could not be started: {e}")),
        }
        Ok(())
    }

    pub(super) fn stop_generation(&mut self) {
        self.jobs.cancel(GENERATION);
        self.jobs.cancel(SUGGESTIONS);
    }

    fn on_generation_end(&mut self) {
        if self.state.writing.streaming.take().is_some() {
            // Ended without a Done event (a panic): show whatever the draft kept.
            self.reload_draft();
        }
    }

    fn on_generation_event(&mut self, event: GenerationEvent) {
        let writing = &mut self.state.writing;
        match event {
            GenerationEvent::Prepared {
                model,
                profile_id,
                budget,
                lore,
            } => {
                writing.budget = Some(budget);
                writing.lore_fired = lore;
                if let Some(s) = writing.streaming.as_mut() {
                    s.model = Some(model);
                    s.profile_id = Some(profile_id);
                }
            }
            GenerationEvent::Lorebook(version, story, book) => {
                if version == self.lore_version {
                    self.lorebook = Some((story, book));
                }
            }
            GenerationEvent::Recalling(done, of) => {
                if let Some(s) = writing.streaming.as_mut() {
                    s.recalling = Some((done, of));
                }
            }
            GenerationEvent::Recalled(outcome) => {
                if let Some(s) = writing.streaming.as_mut() {
                    s.recalling = None;
                    s.recalled = outcome
                        .as_ref()
                        .ok()
                        .and_then(|r| r.as_ref())
                        .map(|r| r.text.clone());
                }
                if let Err(e) = outcome {
                    self.state.info(
                        format!(
                            "Nothing was recalled from past chapters: {} The narration goes on without it.",
                            crate::domain::end_sentence(&e)
                        ),
                        false,
                    );
                }
            }
            GenerationEvent::Delta(delta) => {
                if let Some(s) = writing.streaming.as_mut() {
                    match delta {
                        Delta::Text(t) => s.text.push_str(&t),
                        Delta::Reasoning(r) => s.reasoning.push_str(&r),
                    }
                }
            }
            GenerationEvent::Done(result) => {
                let streaming = writing.streaming.take();
                match result {
                    Ok(outcome) => self.on_generation_done(outcome, streaming),
                    Err(error) => {
                        let message = error.to_string();
                        let next = match &error {
                            WritingError::Provider(e) => next_step(
                                e,
                                streaming.as_ref().and_then(|s| s.profile_id.as_deref()),
                                Action::Writing(WritingAction::RetryDraft),
                            ),
                            _ => None,
                        };
                        self.state.error_then(message.clone(), next);
                        self.state.writing.last_error = Some(message);
                        self.reload_draft();
                    }
                }
            }
        }
    }

    fn on_generation_done(&mut self, outcome: Outcome, streaming: Option<Streaming>) {
        let Some(store) = self.store.take() else {
            return;
        };
        let result = (|| -> Result<()> {
            match &outcome.ending {
                Ending::Written(id) => {
                    // What follows a narration reads the branch it was written on.
                    let branch = store.entry_branch(id)?;
                    self.refresh_entry(&store, id)?;
                    self.refresh_inspector(&store)?;
                    let fresh_turn =
                        matches!(streaming.as_ref().map(|s| &s.target), Some(Target::Next));
                    if fresh_turn && let Some(s) = streaming.as_ref() {
                        // Undo takes back the action and its narration together.
                        self.history.record_narration(&s.story, id.clone());
                    }
                    if let Some(story) = self.open_story_id()
                        && fresh_turn
                        && self.state.writing.settings.suggestions
                    {
                        self.start_suggestions(&store, &story);
                    }
                    // A new text for the story's last narration (a regeneration, a continuation)
                    // is read too: the one it replaced had its update taken back.
                    let newest = self
                        .state
                        .open
                        .as_ref()
                        .and_then(|o| o.rows.last())
                        .is_some_and(|r| &r.id == id);
                    if let Some(story) = self.open_story_id()
                        && (fresh_turn || newest)
                        && self.state.writing.settings.track_world
                    {
                        self.start_classifier(&store, &story, branch.clone());
                    }
                    // On the story the narration was written for, open or not.
                    if let Some(story) = streaming.as_ref().map(|s| s.story.clone())
                        && fresh_turn
                    {
                        self.start_chapter_check(&store, &story, branch);
                    }
                    self.state.writing.last_error = None;
                }
                Ending::Cancelled => {
                    self.state
                        .info("Stopped. The text so far is kept as a draft.", false);
                    self.refresh_draft_and_inspector(&store)?;
                }
                Ending::Failed(error) => {
                    let kept = if outcome.text.trim().is_empty() {
                        "No text arrived."
                    } else {
                        "The text so far is kept as a draft."
                    };
                    let message =
                        format!("{} {kept}", crate::domain::end_sentence(&error.to_string()));
                    let profile = streaming.as_ref().and_then(|s| s.profile_id.as_deref());
                    self.state.error_then(
                        message.clone(),
                        next_step(error, profile, Action::Writing(WritingAction::RetryDraft)),
                    );
                    self.state.writing.last_error = Some(message);
                    self.refresh_draft_and_inspector(&store)?;
                }
                Ending::Unsaved(reason) => {
                    // The text is on disk nowhere: it stays here as a draft, and Keep tries the
                    // write again once the disk or the lock is free.
                    let message = format!(
                        "The narration could not be stored: {} It is kept here as a draft; press Keep to try again.",
                        crate::domain::end_sentence(reason)
                    );
                    if let Some(streaming) = streaming {
                        let now = crate::domain::now_ms();
                        let draft = crate::domain::Draft {
                            story_id: streaming.story.clone(),
                            target: streaming.target.entry().cloned(),
                            content: outcome.text.trim().to_owned(),
                            reasoning: outcome.reasoning.clone(),
                            state: crate::domain::DraftState::Failed,
                            error: Some(reason.clone()),
                            model: streaming.model,
                            started_at: now,
                            updated_at: now,
                        };
                        if self.open_story_id().as_ref() == Some(&draft.story_id) {
                            self.state.writing.draft = Some(draft.clone());
                        }
                        self.unsaved.insert(draft.story_id.clone(), draft);
                    }
                    self.state.error(message.clone());
                    self.state.writing.last_error = Some(message);
                }
            }
            if let (Ending::Written(_), Some(note)) = (
                &outcome.ending,
                crate::writing::skipped_note(outcome.skipped),
            ) {
                self.state.info(note, false);
            }
            Ok(())
        })();
        self.store = Some(store);
        if let Err(e) = result {
            self.state.error(e.to_string());
        }
    }

    fn refresh_draft_and_inspector(&mut self, store: &Store) -> Result<()> {
        if let Some(story) = self.open_story_id() {
            self.state.writing.draft = store.draft(&story)?;
        }
        self.refresh_inspector(store)
    }

    /// The inspector's list (each record holds a whole request): read when its panel opens, and
    /// after a generation only while it has been opened.
    pub(super) fn show_inspector(&mut self, store: &Store) -> Result<()> {
        self.state.writing.inspector_loaded = true;
        self.refresh_inspector(store)
    }

    fn refresh_inspector(&mut self, store: &Store) -> Result<()> {
        if let (true, Some(story)) = (self.state.writing.inspector_loaded, self.open_story_id()) {
            self.state.writing.inspector =
                store.recent_generations(Some(&story), crate::domain::KEEP_GENERATIONS)?;
        }
        Ok(())
    }

    fn reload_draft(&mut self) {
        if let (Some(store), Some(story)) = (self.store.as_ref(), self.open_story_id()) {
            match store.draft(&story) {
                Ok(draft) => self.state.writing.draft = draft,
                Err(e) => self.state.error(e.to_string()),
            }
        }
    }

    pub(super) fn open_story_id(&self) -> Option<StoryId> {
        self.state.open.as_ref().map(|o| o.summary.story.id.clone())
    }

    /// Brings the open story up to date after `entry` was written or changed: its row is updated
    /// or appended (never the whole index re-read, which grows with the story).
    fn refresh_entry(&mut self, store: &Store, entry: &EntryId) -> Result<()> {
        let fresh = store.entry(entry)?;
        let Some(open) = self
            .state
            .open
            .as_mut()
            .filter(|o| o.summary.story.id == fresh.story_id)
        else {
            return Ok(());
        };
        let char_count = u32::try_from(fresh.content.chars().count()).unwrap_or(u32::MAX);
        // A narration that ends after the writer switched branch landed on the branch it began
        // on: it is not a row of the one shown.
        let shown_branch = store.entry_branch(entry)? == self.state.writing.branch;
        match open.rows.set_chars(entry, char_count) {
            true => {}
            false if !shown_branch => return Ok(()),
            false => open.rows.push(EntryRow {
                id: fresh.id.clone(),
                kind: fresh.kind,
                char_count,
                position: fresh.position,
            }),
        }
        open.rows_version += 1;
        open.summary = store.story_summary(&fresh.story_id)?;
        self.cache.put(fresh);
        self.view_events
            .push(ViewEvent::EntryChanged(entry.clone()));
        self.follow_world(store, entry)
    }

    /// Generate: store what the user wrote (if anything), then write the next narration.
    pub(super) fn generate(
        &mut self,
        store: &Store,
        input: Option<(EntryKind, String)>,
    ) -> Result<()> {
        if self.jobs.is_running(GENERATION) {
            self.state
                .error("A narration is still being written; stop it first (Esc).");
            return Ok(());
        }
        if let Some((kind, text)) = input {
            self.add_entry(store, kind, &text)?;
        }
        self.start_generation(store, Target::Next)
    }

    /// Edits the last action and writes its narration again: a new alternative when the action
    /// already has one, otherwise the next narration.
    pub(super) fn edit_and_regenerate(
        &mut self,
        store: &Store,
        entry: &EntryId,
        text: String,
    ) -> Result<()> {
        self.edit_entry(store, entry, text)?;
        let Some(open) = &self.state.open else {
            return Ok(());
        };
        let at = open.rows.index_of(entry);
        let next = at.and_then(|i| open.rows.get(i + 1));
        match next {
            Some(row) if row.kind == EntryKind::Narration => {
                let id = row.id.clone();
                self.start_generation(store, Target::Regenerate(id))
            }
            _ => self.start_generation(store, Target::Next),
        }
    }

    /// Keep: the draft becomes the narration (or the new alternative) it was meant to be.
    pub(super) fn keep_draft(&mut self, store: &mut Store) -> Result<()> {
        let Some(draft) = self.state.writing.draft.clone() else {
            return Ok(());
        };
        if draft.content.trim().is_empty() {
            return self.discard_draft(store);
        }
        let written = match &draft.target {
            None => store.finish_narration(
                &draft.story_id,
                draft.content.trim(),
                &draft.reasoning,
                false,
            )?,
            Some(entry) => {
                store.add_alternative(entry, draft.content.trim(), &draft.reasoning, false)?;
                entry.clone()
            }
        };
        self.state.writing.draft = None;
        self.unsaved.remove(&draft.story_id);
        self.refresh_entry(store, &written)?;
        self.view_events.push(ViewEvent::ScrollToBottom);
        self.state.info("The draft was added to the story.", false);
        Ok(())
    }

    pub(super) fn retry_draft(&mut self, store: &Store) -> Result<()> {
        let target = match self.state.writing.draft.as_ref().map(|d| d.target.clone()) {
            Some(Some(entry)) => Target::Regenerate(entry),
            _ => Target::Next,
        };
        self.start_generation(store, target)
    }

    /// Discard asks first in the UI; the text stays in the inspector's log either way.
    pub(super) fn discard_draft(&mut self, store: &Store) -> Result<()> {
        if let Some(draft) = self.state.writing.draft.take() {
            self.unsaved.remove(&draft.story_id);
            store.discard_draft(&draft.story_id)?;
            self.state.info(
                "The draft was discarded (its text is still in the prompt inspector).",
                false,
            );
        }
        Ok(())
    }

    pub(super) fn select_alternative(
        &mut self,
        store: &mut Store,
        entry: &EntryId,
        index: u32,
    ) -> Result<()> {
        store.select_alternative(entry, index)?;
        self.refresh_entry(store, entry)
    }

    /// Whether a narration is being written (for tests and a clean exit).
    pub fn is_generating(&self) -> bool {
        self.jobs.is_running(GENERATION) || self.jobs.is_running(SUGGESTIONS)
    }
}

/// The narrator's job, and the suggestions after it: one of each at a time.
pub(super) const GENERATION: &str = "generation";
pub(super) const SUGGESTIONS: &str = "suggestions";
