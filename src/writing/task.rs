//! One call of a helper task (the classifier, the Memory task, recall, the lore agent) on its
//! assigned profile: the request made from the task's settings, and every attempt written to the
//! usage ledger and the prompt inspector, so what a task spent and said can always be seen.

use serde::de::DeserializeOwned;

use super::WritingError;
use super::prepare::task_call;
use crate::domain::{GenerationRecord, ModelInfo, StoryId, Task, now_ms};
use crate::jobs::CancelToken;
use crate::keys::KeyStore;
use crate::providers::structured::{ReplyShape, ShapeAsk, StructuredError, structured_chat};
use crate::providers::tools::{Limits, Run, Toolbox, run_tools};
use crate::providers::{self, ChatRequest, Completion, Failure, Message, ResolvedCall};
use crate::storage::Store;

/// A task's resolved call, bound to the store it logs to and the story it works for.
pub(crate) struct TaskCall<'a> {
    pub(crate) store: &'a Store,
    pub(crate) story: &'a StoryId,
    pub(crate) task: Task,
    pub(crate) call: ResolvedCall,
    models: Vec<ModelInfo>,
}

/// The key under which the way a model answered in shape last time is kept.
fn ask_key(profile: &str, model: &str) -> String {
    format!("structured.ask.{profile}.{model}")
}

impl<'a> TaskCall<'a> {
    pub(crate) fn resolve(
        store: &'a Store,
        keys: &dyn KeyStore,
        task: Task,
        story: &'a StoryId,
        cancel: &CancelToken,
    ) -> Result<Self, WritingError> {
        let assignment = store.task_assignment(task)?;
        let (call, models) = task_call(store, keys, task, &assignment, cancel)?;
        Ok(Self {
            store,
            story,
            task,
            call,
            models,
        })
    }

    /// A system and a user message, with the task's temperature and token limit (or these).
    pub(crate) fn request(
        &self,
        system: &str,
        user: String,
        temperature: f32,
        max_tokens: u32,
    ) -> ChatRequest {
        let mut request = ChatRequest::new(
            self.call.model.clone(),
            vec![Message::system(system), Message::user(user)],
        );
        request.temperature = Some(self.call.temperature.unwrap_or(temperature));
        request.max_tokens = Some(self.call.max_tokens.unwrap_or(max_tokens));
        request
    }

    /// Writes one attempt to the usage ledger and the inspector; a failure to is only logged.
    pub(crate) fn record(&self, sent: &ChatRequest, result: &Result<Completion, Failure>) {
        let usage = providers::usage_record(
            &self.call,
            &self.call.model,
            Some(self.story.as_str()),
            result,
            &self.models,
        );
        if let Err(e) = self.store.record_usage(&usage) {
            log::warn!("the usage row could not be written: {e}");
        }
        let (url, body) = providers::request_preview(&self.call.endpoint, sent);
        let (text, outcome, error) = match result {
            Ok(c) if c.finish == providers::Finish::Cancelled => {
                (c.text.clone(), "cancelled", None)
            }
            Ok(c) => (c.text.clone(), "ok", None),
            Err(f) => (f.partial.text.clone(), "failed", Some(f.error.to_string())),
        };
        let record = GenerationRecord {
            id: 0,
            story_id: Some(self.story.clone()),
            task: self.task.as_str().to_owned(),
            provider: self.call.endpoint.preset.id.to_owned(),
            model: self.call.model.clone(),
            url,
            request: body,
            response: text,
            reasoning: String::new(),
            usage: None,
            budget: None,
            lore: None,
            outcome: outcome.to_owned(),
            error,
            created_at: now_ms(),
        };
        if let Err(e) = self.store.log_generation(&record) {
            log::warn!("the prompt inspector's record could not be written: {e}");
        }
    }

    /// A reply in the shape of `T` (`None`: stopped). The way the model answered in shape is
    /// remembered for next time; `unreadable` words the error when the reply is not in shape.
    pub(crate) fn shaped<T: DeserializeOwned + schemars::JsonSchema>(
        &self,
        request: &ChatRequest,
        name: &str,
        cancel: &CancelToken,
        unreadable: &dyn Fn(&str) -> String,
    ) -> Result<Option<T>, WritingError> {
        let mut shape = ReplyShape::of::<T>(name);
        let key = ask_key(&self.call.profile.id, &self.call.model);
        let remembered = self
            .store
            .setting(&key)
            .ok()
            .flatten()
            .and_then(|s| ShapeAsk::parse(&s));
        if let Some(ask) = remembered {
            shape.ask = ask;
        }
        let outcome = structured_chat::<T>(
            &self.call.endpoint,
            request,
            shape,
            cancel,
            &mut |sent, result| self.record(sent, result),
        );
        let (value, _, ask) = match outcome {
            Ok(done) => done,
            Err(StructuredError::Provider(e)) => return Err(WritingError::Provider(e)),
            Err(StructuredError::Cancelled) => return Ok(None),
            Err(StructuredError::Unreadable { detail, .. }) => {
                return Err(WritingError::Classifier(unreadable(&detail)));
            }
        };
        if remembered != Some(ask)
            && let Err(e) = self.store.set_setting(&key, ask.as_str())
        {
            log::warn!("how the model answers in shape was not kept: {e}");
        }
        Ok(Some(value))
    }

    /// A run with tools, every step recorded; `progress` hears (calls made, calls at most).
    pub(crate) fn tools(
        &self,
        request: &ChatRequest,
        toolbox: &mut dyn Toolbox,
        limits: Limits,
        cancel: &CancelToken,
        progress: &mut dyn FnMut(u32, u32),
    ) -> Result<Run, WritingError> {
        progress(0, limits.steps);
        run_tools(
            &self.call.endpoint,
            request,
            toolbox,
            limits,
            cancel,
            &mut |step| {
                self.record(step.sent, step.result);
                progress(step.number, step.limit);
            },
        )
        .map_err(|f| WritingError::Provider(f.error))
    }

    /// A reply in prose (`None`: stopped).
    pub(crate) fn text(
        &self,
        request: &ChatRequest,
        cancel: &CancelToken,
    ) -> Result<Option<String>, WritingError> {
        let result = providers::stream_chat(&self.call.endpoint, request, cancel, &mut |_| {});
        self.record(request, &result);
        match result {
            Ok(c) if c.finish == providers::Finish::Cancelled => Ok(None),
            Ok(c) => Ok(Some(c.text)),
            Err(f) => Err(WritingError::Provider(f.error)),
        }
    }
}
