//! Searching text on jobs, so typing in a search box never waits for the database: one search
//! runs at a time, and when it ends while the box says something else, the newest text is
//! searched next (the ones typed in between are skipped).

use super::FabulaApp;
use crate::domain::search::SearchQuery;
use crate::domain::{EntryId, StoryId};
use crate::state::LIBRARY_HITS;
use crate::storage::{Store, StoreError};

const SEARCH: &str = "search";
const FIND: &str = "find";

type Searched = (
    String,
    Result<Vec<crate::domain::search::SearchHit>, StoreError>,
);
type Found = (StoryId, String, Result<Vec<EntryId>, StoreError>);

impl FabulaApp {
    /// Whether a search or a Find is still running (for tests).
    pub fn is_searching(&self) -> bool {
        self.jobs.is_running(SEARCH) || self.jobs.is_running(FIND)
    }

    pub(super) fn search_text(&mut self, query: String) {
        let search = &mut self.state.search;
        search.query = query.clone();
        if SearchQuery::parse(&query).is_empty() {
            search.hits.clear();
            search.found_for = query;
            search.error = None;
            return;
        }
        if self.jobs.is_running(SEARCH) {
            return;
        }
        let path = self.paths.database();
        let started = self.jobs.start(
            SEARCH,
            "The search",
            self.waker(),
            move |cx| {
                let hits = Store::open_worker(&path).and_then(|store| {
                    store.search_entries(&SearchQuery::parse(&query), None, LIBRARY_HITS)
                });
                cx.send((query, hits));
            },
            |app: &mut FabulaApp, (query, hits): Searched| {
                let search = &mut app.state.search;
                match hits {
                    Ok(hits) => {
                        search.hits = hits;
                        search.error = None;
                    }
                    Err(e) => search.error = Some(format!("The search failed: {e}")),
                }
                search.found_for = query;
            },
            |app: &mut FabulaApp| {
                let search = &app.state.search;
                if search.query != search.found_for {
                    app.search_text(search.query.clone());
                }
            },
        );
        if let Err(e) = started {
            self.state.search.error = Some(e.to_string());
        }
    }

    pub(super) fn find_in_story(&mut self, query: String) {
        let Some(story) = self.open_story_id() else {
            return;
        };
        let find = &mut self.state.writing.find;
        if find.story.as_ref() != Some(&story) {
            find.matches.clear();
            find.found_for.clear();
        }
        find.story = Some(story.clone());
        find.query = query.clone();
        if SearchQuery::parse(&query).is_empty() {
            find.matches.clear();
            find.found_for = query;
            find.error = None;
            return;
        }
        if self.jobs.is_running(FIND) {
            return;
        }
        let path = self.paths.database();
        let started = self.jobs.start(
            FIND,
            "Find",
            self.waker(),
            move |cx| {
                let found = Store::open_worker(&path)
                    .and_then(|store| store.find_in_story(&story, &SearchQuery::parse(&query)));
                cx.send((story, query, found));
            },
            |app: &mut FabulaApp, (story, query, found): Found| {
                let find = &mut app.state.writing.find;
                if find.story.as_ref() != Some(&story) {
                    return;
                }
                match found {
                    Ok(matches) => {
                        find.matches = matches;
                        find.error = None;
                    }
                    Err(e) => find.error = Some(format!("Find failed: {e}")),
                }
                find.found_for = query;
            },
            |app: &mut FabulaApp| {
                let find = &app.state.writing.find;
                if find.query != find.found_for && find.story == app.open_story_id() {
                    app.find_in_story(find.query.clone());
                }
            },
        );
        if let Err(e) = started {
            self.state.writing.find.error = Some(e.to_string());
        }
    }
}
