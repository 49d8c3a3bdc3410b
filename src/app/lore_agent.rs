//! The lore agent on a job: after a chapter closes, and when the writer asks from the lorebook
//! panel. What it proposes waits in the panel; the status says how many.

use super::FabulaApp;
use crate::domain::StoryId;
use crate::storage::Store;
use crate::writing::{self, LoreAgentRun, WritingError};

pub(super) const LORE_AGENT: &str = "lore-agent";

pub(super) enum LoreAgentEvent {
    Progress(u32, u32),
    Done(StoryId, Result<LoreAgentRun, WritingError>),
}

impl FabulaApp {
    /// Whether the lore agent is at work (for tests).
    pub fn is_reviewing_lore(&self) -> bool {
        self.jobs.is_running(LORE_AGENT)
    }

    /// Starts the lore agent over the chapter `chapter` (or the newest text).
    pub(super) fn start_lore_agent(
        &mut self,
        store: &Store,
        story: &StoryId,
        chapter: Option<String>,
    ) {
        if self.jobs.is_running(LORE_AGENT) {
            self.state.info(
                "The lore agent is already at work; its proposals will show here.",
                false,
            );
            return;
        }
        let path = store.path().to_owned();
        let story = story.clone();
        let keys = self.keys.clone();
        let waker = self.waker();
        let started = self.jobs.start(
            LORE_AGENT,
            "The lore agent",
            waker,
            move |cx| {
                let outcome = Store::open_worker(&path)
                    .map_err(WritingError::from)
                    .and_then(|store| {
                        writing::review_lore(
                            &store,
                            keys.as_ref(),
                            &story,
                            chapter.as_deref(),
                            cx.cancel_token(),
                            &mut |done, of| {
                                cx.send(LoreAgentEvent::Progress(done, of));
                            },
                        )
                    });
                cx.send(LoreAgentEvent::Done(story, outcome));
            },
            Self::on_lore_agent_event,
            |app: &mut FabulaApp| app.state.writing.lore_agent_work = None,
        );
        match started {
            Ok(()) => self.state.writing.lore_agent_work = Some((0, 1)),
            Err(e) => self
                .state
                .error(format!("The lore agent could not start: {e}")),
        }
    }

    fn on_lore_agent_event(&mut self, event: LoreAgentEvent) {
        match event {
            LoreAgentEvent::Progress(done, of) => {
                self.state.writing.lore_agent_work = Some((done, of));
            }
            LoreAgentEvent::Done(story, outcome) => {
                self.state.writing.lore_agent_work = None;
                match outcome {
                    Ok(run) if run.stopped => {}
                    // Nothing to decide: the status keeps what it says (a chapter just closed).
                    Ok(run) if run.proposed == 0 => {
                        log::info!("the lore agent proposes no changes: {}", run.summary);
                    }
                    Ok(run) => self.state.info(
                        format!(
                            "The lore agent proposes {}; {} in the Lorebook panel for your word.",
                            crate::domain::count_of(run.proposed as u64, "change", "changes"),
                            if run.proposed == 1 {
                                "it waits"
                            } else {
                                "they wait"
                            }
                        ),
                        false,
                    ),
                    Err(e) => self.state.info(
                        format!(
                            "The lore agent proposed nothing: {}",
                            crate::domain::end_sentence(&e.to_string())
                        ),
                        false,
                    ),
                }
                if let Some(store) = self.store.take() {
                    if let Err(e) = self.reload_lore(&store, &story) {
                        self.state.error(e.to_string());
                    }
                    self.store = Some(store);
                }
            }
        }
    }
}
