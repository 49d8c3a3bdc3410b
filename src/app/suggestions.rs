//! The suggested next actions after a narration: asked for on a job (started and answered on the
//! UI thread here), shown under the composer.

use super::FabulaApp;
use super::writing::SUGGESTIONS;
use crate::domain::StoryId;
use crate::state::SuggestionStatus;
use crate::storage::Store;
use crate::writing;

impl FabulaApp {
    pub(super) fn start_suggestions(&mut self, store: &Store, story: &StoryId) {
        let path = store.path().to_owned();
        let story = story.clone();
        let keys = self.keys.clone();
        if self.jobs.is_running(SUGGESTIONS) {
            // Those for an earlier turn are of no use now; this turn goes without.
            self.jobs.cancel(SUGGESTIONS);
            return;
        }
        let waker = self.waker();
        let started = self.jobs.start(
            SUGGESTIONS,
            "Suggestions",
            waker,
            move |cx| {
                let outcome = Store::open_worker(&path)
                    .map_err(writing::WritingError::from)
                    .and_then(|store| {
                        writing::suggest(&store, keys.as_ref(), &story, cx.cancel_token())
                    });
                cx.send(outcome);
            },
            Self::on_suggestions,
            Self::on_suggestions_end,
        );
        match started {
            Ok(()) => {
                self.state.writing.suggestions_status = SuggestionStatus::Loading;
            }
            Err(e) => {
                self.state.writing.suggestions_status = SuggestionStatus::Failed(e.to_string());
            }
        }
    }

    fn on_suggestions(&mut self, outcome: std::result::Result<Vec<String>, writing::WritingError>) {
        self.state.writing.suggestions_status = match outcome {
            Ok(list) => {
                self.state.writing.suggestions = list;
                SuggestionStatus::Idle
            }
            Err(error) => SuggestionStatus::Failed(error.to_string()),
        };
    }

    fn on_suggestions_end(&mut self) {
        if self.state.writing.suggestions_status == SuggestionStatus::Loading {
            self.state.writing.suggestions_status = SuggestionStatus::Idle;
        }
    }
}
