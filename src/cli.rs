//! Headless subcommands: list stories, back up, seed synthetic stories for benchmarks and demos.

use std::io::Write;
use std::path::Path;

use crate::domain::{EntryKind, NewStory, Pov, StoryMode};
use crate::storage::{DataPaths, Store, StoreError};

/// `fabula list`: one line per story, tab-separated, for people and scripts alike.
pub fn list(store: &Store, out: &mut dyn Write) -> Result<(), String> {
    let stories = store.list_stories().map_err(|e| e.to_string())?;
    if stories.is_empty() {
        writeln!(out, "No stories yet.").map_err(|e| e.to_string())?;
        return Ok(());
    }
    for s in stories {
        writeln!(
            out,
            "{}\t{}\t{}\t{} entries\t{} words",
            s.story.id,
            s.story.title,
            s.story.mode.as_str(),
            s.entry_count,
            s.word_count
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `fabula backup [--to FILE]`: a consistent online copy, by default into the backup folder.
pub fn backup(store: &Store, paths: &DataPaths, to: Option<&Path>) -> Result<String, StoreError> {
    match to {
        Some(dest) => {
            store.backup_to(dest)?;
            Ok(dest.display().to_string())
        }
        None => Ok(store
            .create_backup(paths, "-manual")?
            .path
            .display()
            .to_string()),
    }
}

/// Sentences mixed to make synthetic entries of realistic, varied length.
const SEED_SENTENCES: [&str; 8] = [
    "The lantern swung in the wind, throwing long shadows across the wet cobblestones.",
    "Somewhere below, the sea muttered against the rocks as if it remembered an old grievance.",
    "You notice a narrow door half hidden behind the ivy, its brass handle worn smooth.",
    "Mara hesitated, then stepped forward, her boots loud on the boards.",
    "A bell rang twice in the distance, and the gulls fell silent all at once.",
    "The keeper's logbook lay open on the table, its last entry written in a trembling hand.",
    "Rain began again, soft at first, then steady enough to drown every other sound.",
    "Nothing in the room had moved, yet everything felt subtly rearranged.",
];

/// Text of synthetic entry `i`: a deterministic mix of one to six sentences.
pub fn seed_text(i: usize) -> String {
    let sentences = 1 + (i * 7 + 3) % 6;
    (0..sentences)
        .map(|k| SEED_SENTENCES[(i + k * 3) % SEED_SENTENCES.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// `fabula dev seed`: a story of `entries` synthetic entries, written in one transaction.
pub fn seed(store: &mut Store, entries: usize, title: Option<&str>) -> Result<String, StoreError> {
    let story = store.create_story(&NewStory {
        title: title.unwrap_or("Seeded story").to_owned(),
        mode: StoryMode::Adventure,
        pov: Pov::Second,
        genre: "Benchmark".into(),
        description: format!("{entries} synthetic entries"),
        ..NewStory::default()
    })?;
    let texts: Vec<(EntryKind, String)> = (0..entries)
        .map(|i| {
            let kind = if i % 2 == 0 {
                EntryKind::UserAction
            } else {
                EntryKind::Narration
            };
            let text = if kind == EntryKind::UserAction {
                format!("I look around ({}).", i + 1)
            } else {
                seed_text(i)
            };
            (kind, text)
        })
        .collect();
    store.append_entries(&story.id, texts.iter().map(|(k, t)| (*k, t.as_str())))?;
    Ok(story.id.0)
}
