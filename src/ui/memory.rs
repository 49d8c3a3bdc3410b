//! What the view keeps between launches and between stories: the library's sort and filter, the
//! open side panel, where a story was read, and each story's half-typed action.

use super::{LibrarySort, SidePanel, ViewState};
use crate::domain::{ActionType, StoryId};
use crate::state::ViewMemory;

impl ViewState {
    /// The view as it is now, to be restored at the next launch.
    pub fn memory(&self, open: Option<&StoryId>) -> ViewMemory {
        let mut composers = self.composers.clone();
        if let Some(story) = &self.composer_story {
            stash(
                &mut composers,
                story,
                &self.composer.text,
                self.composer.action,
            );
        }
        ViewMemory {
            sort: match self.sort {
                LibrarySort::LastEdited => "edited".into(),
                LibrarySort::Title => "title".into(),
            },
            filter: self.filter.clone(),
            side: self.side.map(|s| s.label().to_owned()),
            open_story: open.map(|id| id.0.clone()),
            // At the end of the story, it opens at its end again (whatever has been added).
            top_entry: open
                .filter(|_| self.layout.is_scrolled_up())
                .map(|_| self.layout.top_entry()),
            composers: composers
                .into_iter()
                .map(|(id, (text, action))| (id, (text, action.label().to_owned())))
                .collect(),
        }
    }

    /// The view as it was when the window was last closed.
    pub fn restore(&mut self, memory: ViewMemory) {
        self.sort = match memory.sort.as_str() {
            "title" => LibrarySort::Title,
            _ => LibrarySort::LastEdited,
        };
        self.filter = memory.filter;
        self.side = memory
            .side
            .and_then(|label| SidePanel::ALL.into_iter().find(|s| s.label() == label));
        self.composers = memory
            .composers
            .into_iter()
            .map(|(id, (text, action))| {
                let action = ActionType::ALL
                    .into_iter()
                    .find(|a| a.label() == action)
                    .unwrap_or_default();
                (id, (text, action))
            })
            .collect();
        // The composer of the story on screen is taken from the map when it is first drawn.
        self.composer_story = None;
        self.pending_top = memory.open_story.map(StoryId).zip(memory.top_entry);
    }

    /// Each story keeps its own half-typed action: switching stories puts the composer's text
    /// away and brings back the other story's.
    pub(super) fn follow_story(&mut self, open: Option<&StoryId>) {
        if self.composer_story.as_ref() == open {
            return;
        }
        if let Some(old) = self.composer_story.take() {
            let text = std::mem::take(&mut self.composer.text);
            stash(&mut self.composers, &old, &text, self.composer.action);
        }
        if let Some(new) = open {
            let (text, action) = self.composers.remove(&new.0).unwrap_or_default();
            self.composer.text = text;
            self.composer.action = action;
            self.composer_story = Some(new.clone());
        }
    }
}

fn stash(
    composers: &mut std::collections::BTreeMap<String, (String, ActionType)>,
    story: &StoryId,
    text: &str,
    action: ActionType,
) {
    if text.trim().is_empty() && action == ActionType::default() {
        composers.remove(&story.0);
    } else {
        composers.insert(story.0.clone(), (text.to_owned(), action));
    }
}
