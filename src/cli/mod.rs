//! Headless subcommands: list stories, back up, seed synthetic stories, manage and check providers,
//! create stories, generate narration and manage the lorebook.

mod branches;
mod chapters;
mod exchange;
mod provider;
mod search;
mod story;
mod sync;
mod world;

pub use branches::{BranchCommand, CheckpointCommand, branch, checkpoint, pin_branch};
pub use chapters::{ChapterCommand, chapter, chapters};
pub use exchange::{ConflictArg, ExportFormat, export, import};
pub use provider::{ProviderCommand, provider};
pub use search::search;
pub use story::{
    ActionArg, DraftArg, LoreCommand, StoryCommand, generate, lore, regenerate, story,
};
pub use sync::{SyncCommand, lan_address, sync};
pub use world::{WorldCommand, world};

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::domain::{EntryKind, NewStory, Pov, StoryMode};
use crate::storage::{DataPaths, Store, StoreError};
use crate::update::{self, CheckOutcome, UpdateConfig};

/// Exit code of `fabula update --check` when a newer version exists.
pub const EXIT_UPDATE_AVAILABLE: u8 = 10;

/// `fabula update [--check] [--yes] [--pre]`.
pub fn update(check_only: bool, yes: bool, pre: bool) -> anyhow::Result<ExitCode> {
    let config = UpdateConfig::for_this_build(pre)?;
    let outcome = update::check(&config)?;
    let available = match outcome {
        CheckOutcome::UpToDate { latest } => {
            println!("current={} latest={latest}", config.current_version);
            println!("Fabula is up to date.");
            return Ok(ExitCode::SUCCESS);
        }
        CheckOutcome::Available(available) => available,
    };
    println!(
        "current={} latest={}",
        config.current_version, available.version
    );
    if !available.notes.trim().is_empty() {
        println!("\n{}\n", available.notes.trim());
    }
    if check_only {
        return Ok(ExitCode::from(EXIT_UPDATE_AVAILABLE));
    }
    if let Some(reason) = config.disabled_reason() {
        anyhow::bail!("Updates are disabled in this build: {reason}");
    }
    if !yes {
        print!("Install Fabula {}? [y/N] ", available.version);
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing was changed.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    update::install(
        &config,
        &available,
        |done, total| match total {
            Some(total) if total > 0 => eprint!("\rdownloading {}%", done * 100 / total),
            _ => eprint!("\rdownloading {} KB", done / 1024),
        },
        Arc::new(AtomicBool::new(false)),
    )?;
    eprintln!();
    println!("Installed Fabula {}. Restart to use it.", available.version);
    Ok(ExitCode::SUCCESS)
}

/// `fabula list`: one line per story, tab-separated, for people and scripts alike.
pub fn list(store: &Store, out: &mut dyn Write) -> anyhow::Result<()> {
    let stories = store.list_stories()?;
    if stories.is_empty() {
        writeln!(out, "No stories yet.")?;
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
        )?;
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
