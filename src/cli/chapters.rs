//! `fabula chapters`: a story's chapters with their summaries, as text or as the exchange
//! format's JSON section; `fabula chapter end|resummarize`: the Memory task run by hand.

use std::process::ExitCode;

use clap::Subcommand;

use crate::domain::chapter::{Chapter, chapter_to_wire};
use crate::domain::{EntryId, StoryId};
use crate::storage::Store;
use crate::writing;

#[derive(Subcommand, Debug)]
pub enum ChapterCommand {
    /// Close a chapter from the last one's end up to ENTRY_ID (inclusive) and summarise it.
    End { story: String, entry: String },
    /// Write a chapter's summary again from its entries (CHAPTER: its id or its number).
    Resummarize { story: String, chapter: String },
}

/// `fabula chapter end|resummarize`: prints the chapter as `fabula chapters` does.
pub fn chapter(store: &Store, command: ChapterCommand) -> anyhow::Result<ExitCode> {
    let (cancel, _watch) = super::story::ctrl_c_cancels()?;
    let keys = crate::keys::OsKeyStore;
    let done = match command {
        ChapterCommand::End { story, entry } => {
            let story = StoryId::from(story.as_str());
            store.story_summary(&story)?;
            let entry = EntryId::from(entry.as_str());
            writing::end_chapter_at(store, &keys, &story, &entry, &cancel)?
        }
        ChapterCommand::Resummarize { story, chapter } => {
            let story = StoryId::from(story.as_str());
            store.story_summary(&story)?;
            let id = store
                .chapters(&story)?
                .into_iter()
                .find(|c| c.id == chapter || c.number.to_string() == chapter)
                .map(|c| c.id)
                .ok_or_else(|| anyhow::anyhow!("The story has no chapter {chapter}."))?;
            writing::resummarize(store, &keys, &story, &id, &cancel)?
        }
    };
    match done {
        Some(c) => {
            print_chapter(&c);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("Stopped; nothing was changed.");
            Ok(ExitCode::from(130))
        }
    }
}

fn print_chapter(c: &Chapter) {
    println!(
        "{}\t{} entries\t{} … {}",
        c.heading(),
        c.entry_count,
        c.start_entry.as_str(),
        c.end_entry.as_str()
    );
    println!("{}\n", c.summary.trim());
}

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
        print_chapter(c);
    }
    Ok(ExitCode::SUCCESS)
}
