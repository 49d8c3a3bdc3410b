//! `fabula branch list|new|switch|rename|delete` and `fabula checkpoint list|new|delete`: a
//! story's tree from the shell, as the Branches panel has it.

use std::process::ExitCode;

use clap::Subcommand;

use crate::domain::{EntryId, StoryId};
use crate::storage::Store;

#[derive(Subcommand, Debug)]
pub enum BranchCommand {
    /// The story's branches: id, name, the entry each forks from, `*` on the one shown.
    List { story: String },
    /// A new branch forking after ENTRY_ID; the story then shows it. Prints its id.
    New {
        story: String,
        #[arg(long = "from")]
        from: String,
        /// Start the branch with this version (1-based) of the entry shown.
        #[arg(long)]
        alternative: Option<u32>,
        #[arg(long)]
        name: String,
    },
    /// Shows BRANCH (its id or name; `main` for the main line).
    Switch { story: String, branch: String },
    Rename {
        story: String,
        branch: String,
        name: String,
    },
    /// Moves BRANCH to the Trash (refused while other branches fork from it).
    Delete { story: String, branch: String },
}

#[derive(Subcommand, Debug)]
pub enum CheckpointCommand {
    List {
        story: String,
    },
    /// A named checkpoint at ENTRY_ID; prints its id.
    New {
        story: String,
        entry: String,
        #[arg(long)]
        name: String,
    },
    Delete {
        story: String,
        checkpoint: String,
    },
}

/// A branch named by id or by name (`main` for the main line).
fn branch_id(store: &Store, story: &StoryId, named: &str) -> anyhow::Result<Option<String>> {
    if named == "main" {
        return Ok(None);
    }
    store
        .branches(story)?
        .into_iter()
        .find(|b| b.id == named || b.name == named)
        .map(|b| Some(b.id))
        .ok_or_else(|| anyhow::anyhow!("The story has no branch “{named}”."))
}

/// Binds this run to a branch named by id or name (`generate --branch`).
pub fn pin_branch(store: &Store, story: &str, named: &str) -> anyhow::Result<()> {
    let story = StoryId::from(story);
    store.story_summary(&story)?;
    let id = branch_id(store, &story, named)?;
    store.pin_branch(id);
    Ok(())
}

pub fn branch(store: &Store, command: BranchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BranchCommand::List { story } => {
            let story = StoryId::from(story.as_str());
            store.story_summary(&story)?;
            let current = store.current_branch(&story)?;
            let mark = |b: Option<&str>| if current.as_deref() == b { "*" } else { " " };
            println!("{}\tmain\t(main line)\t", mark(None));
            for b in store.branches(&story)? {
                println!(
                    "{}\t{}\t{}\tfrom {}",
                    mark(Some(&b.id)),
                    b.id,
                    b.name,
                    b.fork_entry
                );
            }
        }
        BranchCommand::New {
            story,
            from,
            alternative,
            name,
        } => {
            let story = StoryId::from(story.as_str());
            store.story_summary(&story)?;
            let b = store.create_branch_with(
                &story,
                &EntryId::from(from.as_str()),
                alternative,
                &name,
            )?;
            println!("{}", b.id);
        }
        BranchCommand::Switch { story, branch } => {
            let story = StoryId::from(story.as_str());
            let id = branch_id(store, &story, &branch)?;
            store.switch_branch(&story, id.as_deref())?;
        }
        BranchCommand::Rename {
            story,
            branch,
            name,
        } => {
            let story = StoryId::from(story.as_str());
            let id = branch_id(store, &story, &branch)?
                .ok_or_else(|| anyhow::anyhow!("The main line has no name to change."))?;
            store.rename_branch(&story, &id, &name)?;
        }
        BranchCommand::Delete { story, branch } => {
            let story = StoryId::from(story.as_str());
            let id = branch_id(store, &story, &branch)?
                .ok_or_else(|| anyhow::anyhow!("The main line cannot be deleted."))?;
            store.trash_branch(&story, &id)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn checkpoint(store: &Store, command: CheckpointCommand) -> anyhow::Result<ExitCode> {
    match command {
        CheckpointCommand::List { story } => {
            let story = StoryId::from(story.as_str());
            store.story_summary(&story)?;
            for c in store.checkpoints(&story)? {
                println!(
                    "{}\t{}\tat {}\t{}",
                    c.id,
                    c.name,
                    c.entry,
                    c.preview.unwrap_or_default()
                );
            }
        }
        CheckpointCommand::New { story, entry, name } => {
            let story = StoryId::from(story.as_str());
            store.story_summary(&story)?;
            let c = store.create_checkpoint(&story, &EntryId::from(entry.as_str()), &name)?;
            println!("{}", c.id);
        }
        CheckpointCommand::Delete { story, checkpoint } => {
            let story = StoryId::from(story.as_str());
            store.delete_checkpoint(&story, &checkpoint)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
