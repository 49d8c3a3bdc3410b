//! `fabula chapters`: a story's chapters with their summaries, as text or as the exchange
//! format's JSON section.

use std::process::ExitCode;

use crate::domain::StoryId;
use crate::domain::chapter::chapter_to_wire;
use crate::storage::Store;

pub fn chapters(store: &Store, story: &str, json_out: bool) -> anyhow::Result<ExitCode> {
    let story = StoryId::from(story);
    store.story_summary(&story)?;
    let chapters = store.chapters(&story)?;
    if json_out {
        let rows: Vec<_> = chapters
            .iter()
            .map(|c| chapter_to_wire(c, story.as_str()))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if chapters.is_empty() {
        eprintln!("The story has no chapters yet.");
    }
    for c in &chapters {
        println!(
            "{}\t{} entries\t{} … {}",
            c.heading(),
            c.entry_count,
            c.start_entry.as_str(),
            c.end_entry.as_str()
        );
        println!("{}\n", c.summary.trim());
    }
    Ok(ExitCode::SUCCESS)
}
