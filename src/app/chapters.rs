//! Chapters closed on a job: the check after each narration, "End chapter here" and
//! "Re-summarize". The story is never held for them; what they did is one status line, and a
//! failure is a note (the check runs again after the next narration).

use super::FabulaApp;
use crate::domain::chapter::Chapter;
use crate::domain::{EntryId, StoryId};
use crate::storage::Store;
use crate::writing::{self, WritingError};

/// The Memory task's job (one at a time).
pub(super) const MEMORY: &str = "memory";

/// What the Memory job was asked to do.
#[derive(Clone, Debug)]
enum MemoryWork {
    /// After a narration, on the branch it was written on.
    Check(Option<String>),
    EndAt(EntryId),
    Resummarize(String),
}

impl MemoryWork {
    fn label(&self) -> &'static str {
        match self {
            MemoryWork::Check(_) => "Closing a chapter",
            MemoryWork::EndAt(_) => "Closing the chapter",
            MemoryWork::Resummarize(_) => "Summarising the chapter again",
        }
    }
}

type MemoryDone = (StoryId, MemoryWork, Result<Option<Chapter>, WritingError>);

impl FabulaApp {
    /// Whether the Memory task is at work (for tests and the Memory panel).
    pub fn is_closing_chapter(&self) -> bool {
        self.jobs.is_running(MEMORY)
    }

    /// After a narration: a chapter is closed if the story's memory settings say one is due.
    /// On `branch`, the one the narration was written on.
    pub(super) fn start_chapter_check(
        &mut self,
        store: &Store,
        story: &StoryId,
        branch: Option<String>,
    ) {
        if self.jobs.is_running(MEMORY) {
            // The one running reads the story as it is; the next narration checks again.
            return;
        }
        self.start_memory(store, story, MemoryWork::Check(branch));
    }

    pub(super) fn end_chapter_here(&mut self, store: &Store, entry: EntryId) {
        if let Some(story) = self.open_story_id() {
            self.start_memory(store, &story, MemoryWork::EndAt(entry));
        }
    }

    pub(super) fn resummarize_chapter(&mut self, store: &Store, chapter: String) {
        if let Some(story) = self.open_story_id() {
            self.start_memory(store, &story, MemoryWork::Resummarize(chapter));
        }
    }

    fn start_memory(&mut self, store: &Store, story: &StoryId, work: MemoryWork) {
        if self.jobs.is_running(MEMORY) {
            self.state.info(
                "The Memory task is still at work on a chapter; try again when it is done.",
                false,
            );
            return;
        }
        let path = store.path().to_owned();
        let story = story.clone();
        let keys = self.keys.clone();
        let waker = self.waker();
        let asked = !matches!(work, MemoryWork::Check(_));
        let label = work.label();
        let started = self.jobs.start(
            MEMORY,
            label,
            waker,
            move |cx| {
                let outcome = Store::open_worker(&path)
                    .map_err(WritingError::from)
                    .and_then(|store| {
                        let cancel = cx.cancel_token();
                        match &work {
                            MemoryWork::Check(branch) => {
                                store.pin_branch(branch.clone());
                                writing::chapter_check(&store, keys.as_ref(), &story, cancel)
                            }
                            MemoryWork::EndAt(entry) => writing::end_chapter_at(
                                &store,
                                keys.as_ref(),
                                &story,
                                entry,
                                cancel,
                            ),
                            MemoryWork::Resummarize(id) => {
                                writing::resummarize(&store, keys.as_ref(), &story, id, cancel)
                            }
                        }
                    });
                cx.send((story, work, outcome));
            },
            Self::on_memory_done,
            |_: &mut FabulaApp| {},
        );
        match started {
            Ok(()) => {
                self.state.writing.memory_work = Some(label);
                if asked {
                    self.state.info(format!("{label}…"), false);
                }
            }
            Err(e) => self
                .state
                .error(format!("The Memory task could not start: {e}")),
        }
    }

    fn on_memory_done(&mut self, (story, work, outcome): MemoryDone) {
        self.state.writing.memory_work = None;
        match (work, outcome) {
            (_, Ok(None)) => {}
            (MemoryWork::Resummarize(_), Ok(Some(chapter))) => {
                self.state
                    .info(format!("{} has a new summary.", chapter.heading()), false);
            }
            (_, Ok(Some(chapter))) => {
                // A closed chapter is what the lore agent reviews the lorebook against.
                if let Some(store) = self.store.take() {
                    self.start_lore_agent(&store, &story, Some(chapter.id.clone()));
                    self.store = Some(store);
                }
                self.state.info(
                    format!(
                        "{} closed: its {} are remembered as a summary (Memory panel).",
                        chapter.heading(),
                        crate::domain::count_of(
                            u64::try_from(chapter.entry_count).unwrap_or(0),
                            "entry",
                            "entries"
                        )
                    ),
                    false,
                );
            }
            (MemoryWork::Check(_), Err(e)) => self.state.info(
                format!(
                    "The chapter was not closed: {} It is tried again after the next narration.",
                    crate::domain::end_sentence(&e.to_string())
                ),
                false,
            ),
            (_, Err(e)) => self.state.error(format!(
                "The Memory task failed: {}",
                crate::domain::end_sentence(&e.to_string())
            )),
        }
        self.reload_world_of(&story);
    }
}
