//! `fabula search`: text found in the library (or one story), newest first, as lines or JSON.

use std::process::ExitCode;

use serde_json::json;

use crate::domain::StoryId;
use crate::domain::search::{MARK_END, MARK_START, SearchQuery};
use crate::storage::Store;

/// Prints the newest `limit` entries holding every word of `query`: one line each (story title,
/// entry id, the text around the match with the match in [brackets]), or a JSON array.
pub fn search(
    store: &Store,
    query: &str,
    story: Option<&str>,
    limit: usize,
    json_out: bool,
) -> anyhow::Result<ExitCode> {
    let parsed = SearchQuery::parse(query);
    if parsed.is_empty() {
        anyhow::bail!("Give the text to search for.");
    }
    let story = story.map(StoryId::from);
    if let Some(story) = &story {
        store.story_summary(story)?;
    }
    let hits = store.search_entries(&parsed, story.as_ref(), limit)?;
    if json_out {
        let list: Vec<_> = hits
            .iter()
            .map(|h| {
                json!({
                    "storyId": h.story_id.as_str(),
                    "storyTitle": h.story_title,
                    "entryId": h.entry_id.as_str(),
                    "position": h.position,
                    "snippet": h.snippet.replace([MARK_START, MARK_END], ""),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for h in &hits {
            let snippet = h.snippet.replace(MARK_START, "[").replace(MARK_END, "]");
            println!("{}\t{}\t{}", h.story_title, h.entry_id.as_str(), snippet);
        }
        if hits.is_empty() {
            eprintln!("Nothing found for “{query}”.");
        }
    }
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
