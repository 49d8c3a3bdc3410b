//! Entry texts for the rows on screen, loaded from the store a page at a time and kept in a bounded cache.

use std::collections::HashMap;

use crate::domain::{Entry, EntryId, EntryRow};
use crate::state::EntrySource;
use crate::storage::Store;

/// Rows loaded together when the view asks for one that is not cached.
const PAGE: usize = 48;
/// Past this many cached texts the cache starts over; the view needs only a screenful.
const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub struct EntryCache {
    entries: HashMap<EntryId, Entry>,
    pub last_error: Option<String>,
}

impl EntryCache {
    pub fn clear(&mut self) {
        self.entries.clear();
        self.last_error = None;
    }

    pub fn get(&self, id: &EntryId) -> Option<&Entry> {
        self.entries.get(id)
    }

    pub fn put(&mut self, entry: Entry) {
        self.entries.insert(entry.id.clone(), entry);
    }

    pub fn forget(&mut self, id: &EntryId) {
        self.entries.remove(id);
    }

    pub fn set_content(&mut self, id: &EntryId, content: &str) {
        if let Some(e) = self.entries.get_mut(id) {
            content.clone_into(&mut e.content);
        }
    }
}

/// What the story view reads entry texts through.
pub struct EntryLoader<'a> {
    pub store: Option<&'a Store>,
    pub cache: &'a mut EntryCache,
    pub rows: &'a crate::domain::RowIndex,
}

impl EntryLoader<'_> {
    fn load_page(&mut self, index: usize) {
        let Some(store) = self.store else { return };
        if self.cache.entries.len() > CAPACITY {
            self.cache.entries.clear();
        }
        // Load a little behind as well as ahead: scrolling up is as common as down.
        let start = index.saturating_sub(PAGE / 4);
        let end = (index + PAGE).min(self.rows.len());
        let missing: Vec<EntryId> = (start..end)
            .filter_map(|i| self.rows.id(i))
            .filter(|id| !self.cache.entries.contains_key(id))
            .collect();
        let missing: Vec<&EntryId> = missing.iter().collect();
        match store.entries_by_ids(&missing) {
            Ok(loaded) => {
                for entry in loaded {
                    self.cache.put(entry);
                }
            }
            Err(e) => self.cache.last_error = Some(e.to_string()),
        }
    }
}

impl EntrySource for EntryLoader<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn row(&self, index: usize) -> Option<EntryRow> {
        self.rows.get(index)
    }

    fn entry(&mut self, index: usize) -> Option<&Entry> {
        let id = self.rows.id(index)?;
        if !self.cache.entries.contains_key(&id) {
            self.load_page(index);
        }
        self.cache.entries.get(&id)
    }
}
