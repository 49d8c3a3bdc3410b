//! Finding text: across the library through the full-text index (newest first, a page at a
//! time, with a snippet), and within one story by reading its entries (every match in story
//! order, for Find's next and previous). Entries in the Trash, and stories in it, are not found.

use super::{Result, Store};
use crate::domain::search::{SearchHit, SearchQuery, marked_snippet};
use crate::domain::{EntryId, StoryId};

/// How many characters of text a hit shows around its match.
const SNIPPET_CHARS: usize = 120;

impl Store {
    /// The newest `limit` entries of the library (or of `story`) holding every term of `query`.
    pub fn search_entries(
        &self,
        query: &SearchQuery,
        story: Option<&StoryId>,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let scanned: Vec<&str> = query.scanned_terms().collect();
        let story = story.map(StoryId::as_str);
        let (narrow, narrowing) = narrowed(scanned.iter().copied(), 2);
        let index_expression = query.index_expression();
        let sql = match &index_expression {
            // The index walks its matches newest first; the words too short for it are checked
            // on what it finds.
            Some(_) => "SELECT e.story_id, s.title, e.id, e.position, e.content
                 FROM entries_search
                 JOIN entries e ON e.rowid = entries_search.rowid
                 JOIN stories s ON s.id = e.story_id
                 WHERE entries_search MATCH ?2 AND e.deleted_at IS NULL
                   AND s.deleted_at IS NULL AND (?1 IS NULL OR e.story_id = ?1)
                 ORDER BY entries_search.rowid DESC"
                .to_owned(),
            // Every word is shorter than the index can look up: the entries are read newest
            // first, narrowed in SQL where it gets the case right, then checked exactly.
            None => format!(
                "SELECT e.story_id, s.title, e.id, e.position, e.content
                 FROM entries e JOIN stories s ON s.id = e.story_id
                 WHERE e.deleted_at IS NULL AND s.deleted_at IS NULL
                   AND (?1 IS NULL OR e.story_id = ?1){narrow}
                 ORDER BY e.rowid DESC"
            ),
        };
        let mut bound: Vec<&dyn rusqlite::ToSql> = vec![&story];
        match &index_expression {
            Some(expression) => bound.push(expression),
            None => bound.extend(narrowing.iter().map(|v| v as &dyn rusqlite::ToSql)),
        }
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let mut rows = stmt.query(bound.as_slice()).map_err(|e| self.err(e))?;
        let mut hits = Vec::new();
        while hits.len() < limit {
            let Some(row) = rows.next().map_err(|e| self.err(e))? else {
                break;
            };
            let content: String = row.get(4).map_err(|e| self.err(e))?;
            // The index's own match folds accents, which the exact check does not: only the
            // words it did not look up are checked.
            if !scanned.is_empty() && !query.all_in(&content) {
                continue;
            }
            let found = hit(row, marked_snippet(query, &content, SNIPPET_CHARS));
            hits.push(found.map_err(|e| self.err(e))?);
        }
        Ok(hits)
    }

    /// Every live entry of `story` holding every term of `query`, in story order (for Find).
    pub fn find_in_story(&self, story: &StoryId, query: &SearchQuery) -> Result<Vec<EntryId>> {
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let (narrow, values) = narrowed(query.terms.iter().map(String::as_str), 2);
        // Find looks through the branch the story shows.
        let (on_line, line_values) = self.on_current_line(story, 2 + values.len())?;
        let sql = format!(
            "SELECT id, content FROM entries WHERE story_id = ?1 AND deleted_at IS NULL{narrow}{on_line}
             ORDER BY position, rowid"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let story = story.as_str();
        let mut bound: Vec<&dyn rusqlite::ToSql> = vec![&story];
        bound.extend(values.iter().map(|v| v as &dyn rusqlite::ToSql));
        bound.extend(line_values.iter().map(|v| v as &dyn rusqlite::ToSql));
        let mut rows = stmt.query(bound.as_slice()).map_err(|e| self.err(e))?;
        let mut found = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let content = row.get_ref(1).map_err(|e| self.err(e))?;
            let text = content.as_str().unwrap_or("");
            if query.all_in(text) {
                let id: String = row.get(0).map_err(|e| self.err(e))?;
                found.push(EntryId::from(id.as_str()));
            }
        }
        Ok(found)
    }
}

/// SQL conditions on `e.content`/`content` narrowing a scan for `terms` (numbered from `first`),
/// with the values they take.
fn narrowed<'a>(terms: impl Iterator<Item = &'a str>, first: usize) -> (String, Vec<String>) {
    use crate::domain::search::Narrowing;
    let mut sql = String::new();
    let mut values = Vec::new();
    for term in terms {
        let n = first + values.len();
        match SearchQuery::narrowing(term) {
            Some(Narrowing::Like(pattern)) => {
                sql.push_str(&format!(" AND content LIKE ?{n} ESCAPE '\\'"));
                values.push(pattern);
            }
            Some(Narrowing::Contains(text)) => {
                sql.push_str(&format!(" AND instr(content, ?{n}) > 0"));
                values.push(text);
            }
            None => {}
        }
    }
    (sql, values)
}

fn hit(row: &rusqlite::Row<'_>, snippet: String) -> rusqlite::Result<SearchHit> {
    let story: String = row.get(0)?;
    let entry: String = row.get(2)?;
    Ok(SearchHit {
        story_id: StoryId::from(story.as_str()),
        story_title: row.get(1)?,
        entry_id: EntryId::from(entry.as_str()),
        position: row.get(3)?,
        snippet,
    })
}

/// The index's triggers cost a bulk write of a story's entries (an import, a sync) most of its
/// time: each one makes every row's INSERT a multi-write statement with its own statement
/// journal. Such a write takes the story out of the index and the triggers off, inside its
/// transaction (no other connection sees them missing; a rollback restores both), then puts the
/// story's rows back in one statement with `Unindexed::reindex`.
pub(super) struct Unindexed {
    triggers: Vec<String>,
}

const SEARCH_TRIGGERS: [&str; 3] = [
    "entries_search_insert",
    "entries_search_delete",
    "entries_search_update",
];

pub(super) fn unindex_story(
    tx: &rusqlite::Transaction<'_>,
    story: &StoryId,
) -> rusqlite::Result<Unindexed> {
    tx.execute(
        "INSERT INTO entries_search (entries_search, rowid, content)
         SELECT 'delete', rowid, content FROM entries WHERE story_id = ?1",
        [story.as_str()],
    )?;
    let mut triggers = Vec::new();
    for name in SEARCH_TRIGGERS {
        let sql: String = tx.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [name],
            |r| r.get(0),
        )?;
        tx.execute_batch(&format!("DROP TRIGGER {name}"))?;
        triggers.push(sql);
    }
    Ok(Unindexed { triggers })
}

impl Unindexed {
    /// Indexes the entries of `stories` (the one written, and any copy it made) and puts the
    /// triggers back.
    pub(super) fn reindex(
        self,
        tx: &rusqlite::Transaction<'_>,
        stories: &[&StoryId],
    ) -> rusqlite::Result<()> {
        for story in stories {
            tx.execute(
                "INSERT INTO entries_search (rowid, content)
                 SELECT rowid, content FROM entries WHERE story_id = ?1",
                [story.as_str()],
            )?;
        }
        for sql in self.triggers {
            tx.execute_batch(&format!("{sql};"))?;
        }
        Ok(())
    }
}

impl Store {
    /// The index's own integrity check against the entries it indexes (for tests and repair).
    pub fn check_search_index(&self) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO entries_search (entries_search, rank) VALUES ('integrity-check', 1)",
                [],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}
