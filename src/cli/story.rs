//! `fabula story new`, `fabula generate` and `fabula lore`: the writing loop without a window, through
//! the same pipeline the Generate button uses.

use std::io::Write;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use crate::domain::{
    ActionType, EntryKind, InjectionMode, LoreEntry, LoreId, LoreKind, NewStory, Pov, StoryId,
    StoryMode, Tense, compose_input,
};
use crate::jobs::CancelToken;
use crate::providers::Delta;
use crate::storage::Store;
use crate::writing::{self, Ending, Lorebook, Target, WritingError};

#[derive(Subcommand, Debug)]
pub enum StoryCommand {
    /// Create a story; prints its id.
    New {
        #[arg(long)]
        title: String,
        #[arg(long, value_enum, default_value_t = ModeArg::Adventure)]
        mode: ModeArg,
        #[arg(long, value_enum, default_value_t = PovArg::Second)]
        pov: PovArg,
        #[arg(long, value_enum, default_value_t = TenseArg::Present)]
        tense: TenseArg,
        #[arg(long, default_value = "")]
        genre: String,
        #[arg(long, default_value = "")]
        description: String,
        /// The protagonist's name (used by third-person actions).
        #[arg(long, default_value = "")]
        protagonist: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum LoreCommand {
    /// Add a lorebook entry to a story; prints its id.
    Add {
        story: String,
        name: String,
        #[arg(long, value_enum, default_value_t = LoreKindArg::Character)]
        kind: LoreKindArg,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long, default_value = "")]
        hidden: String,
        /// Other names, comma-separated.
        #[arg(long, value_delimiter = ',')]
        aliases: Vec<String>,
        /// Extra trigger words, comma-separated.
        #[arg(long, value_delimiter = ',')]
        keywords: Vec<String>,
        #[arg(long, value_enum, default_value_t = InjectionArg::Keyword)]
        injection: InjectionArg,
        #[arg(long, default_value_t = 0)]
        priority: i64,
    },
    /// List a story's lorebook, tab-separated.
    List { story: String },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModeArg {
    Adventure,
    Creative,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PovArg {
    First,
    Second,
    Third,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TenseArg {
    Past,
    Present,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ActionArg {
    Do,
    Say,
    Think,
    Story,
    Free,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LoreKindArg {
    Character,
    Location,
    Item,
    Faction,
    Concept,
    Event,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum InjectionArg {
    Always,
    Keyword,
    Never,
}

pub fn story(store: &Store, command: StoryCommand) -> Result<ExitCode, String> {
    match command {
        StoryCommand::New {
            title,
            mode,
            pov,
            tense,
            genre,
            description,
            protagonist,
        } => {
            let story = store
                .create_story(&NewStory {
                    title,
                    mode: match mode {
                        ModeArg::Adventure => StoryMode::Adventure,
                        ModeArg::Creative => StoryMode::CreativeWriting,
                    },
                    pov: match pov {
                        PovArg::First => Pov::First,
                        PovArg::Second => Pov::Second,
                        PovArg::Third => Pov::Third,
                    },
                    tense: match tense {
                        TenseArg::Past => Tense::Past,
                        TenseArg::Present => Tense::Present,
                    },
                    genre,
                    description,
                    protagonist,
                })
                .map_err(|e| e.to_string())?;
            println!("{}", story.id);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `fabula generate STORY [--action A] TEXT…`: stores the action, streams the narration to stdout
/// (reasoning to stderr) and stores it. The draft on disk is updated every second while streaming,
/// so Ctrl+C (which ends the process) leaves the text so far as a draft to keep in the window.
pub fn generate(
    store: &mut Store,
    story: &str,
    action: ActionArg,
    text: &str,
) -> Result<ExitCode, String> {
    let story_id = StoryId::from(story);
    let summary = store.story_summary(&story_id).map_err(|e| e.to_string())?;
    let story = summary.story;
    let action = match (story.mode, action) {
        (StoryMode::CreativeWriting, _) | (_, ActionArg::Free) => ActionType::Free,
        (_, ActionArg::Do) => ActionType::Do,
        (_, ActionArg::Say) => ActionType::Say,
        (_, ActionArg::Think) => ActionType::Think,
        (_, ActionArg::Story) => ActionType::Story,
    };
    if let Some(composed) = compose_input(
        action,
        story.pov,
        story.protagonist.as_deref().unwrap_or(""),
        text,
    ) {
        let kind = if action == ActionType::Story {
            EntryKind::Narration
        } else {
            EntryKind::UserAction
        };
        store
            .append_entry(&story_id, kind, &composed)
            .map_err(|e| e.to_string())?;
    }
    let lorebook = Lorebook::load(store, &story_id).map_err(|e| e.to_string())?;
    let cancel = CancelToken::new();
    let prepared = match writing::prepare(store, &story_id, Target::Next, &lorebook, &cancel) {
        Ok(p) => p,
        Err(e) => return Ok(fail(&e)),
    };
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let mut at_line_start = true;
    let outcome = writing::run(store, &prepared, &cancel, &mut |delta| match delta {
        Delta::Text(t) => {
            // The model's leading blank lines are not part of the narration.
            let t = if at_line_start { t.trim_start() } else { t };
            at_line_start &= t.is_empty();
            let _ = stdout.write_all(t.as_bytes());
            let _ = stdout.flush();
        }
        Delta::Reasoning(r) => {
            let _ = stderr.write_all(r.as_bytes());
            let _ = stderr.flush();
        }
    });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return Ok(fail(&e)),
    };
    let _ = writeln!(stdout);
    match outcome.ending {
        Ending::Written(id) => {
            eprintln!(
                "entry={id} first_token_ms={} total_ms={} prompt_tokens={} completion_tokens={}",
                outcome.first_token_ms.map_or("-".into(), |v| v.to_string()),
                outcome.total_ms,
                outcome.prompt_tokens.map_or("-".into(), |v| v.to_string()),
                outcome
                    .completion_tokens
                    .map_or("-".into(), |v| v.to_string()),
            );
            Ok(ExitCode::SUCCESS)
        }
        Ending::Cancelled => Err("Stopped; the text so far was kept as a draft.".into()),
        Ending::Failed(error) => {
            eprintln!(
                "fabula: {} The text so far was kept as a draft; your action is in the story.",
                crate::domain::end_sentence(&error.to_string())
            );
            Ok(ExitCode::from(error.kind().exit_code()))
        }
    }
}

/// Prints why the generation could not start; provider errors keep `provider check`'s exit codes.
fn fail(e: &WritingError) -> ExitCode {
    eprintln!("fabula: {e}");
    match e {
        WritingError::Provider(p) => ExitCode::from(p.kind().exit_code()),
        _ => ExitCode::FAILURE,
    }
}

pub fn lore(store: &Store, command: LoreCommand) -> Result<ExitCode, String> {
    match command {
        LoreCommand::Add {
            story,
            name,
            kind,
            description,
            hidden,
            aliases,
            keywords,
            injection,
            priority,
        } => {
            let story_id = StoryId::from(story.as_str());
            store.story_summary(&story_id).map_err(|e| e.to_string())?;
            let saved = store
                .save_lore(&LoreEntry {
                    id: LoreId::new(),
                    story_id,
                    name,
                    kind: match kind {
                        LoreKindArg::Character => LoreKind::Character,
                        LoreKindArg::Location => LoreKind::Location,
                        LoreKindArg::Item => LoreKind::Item,
                        LoreKindArg::Faction => LoreKind::Faction,
                        LoreKindArg::Concept => LoreKind::Concept,
                        LoreKindArg::Event => LoreKind::Event,
                    },
                    description,
                    hidden_info: hidden,
                    aliases,
                    keywords,
                    mode: match injection {
                        InjectionArg::Always => InjectionMode::Always,
                        InjectionArg::Keyword => InjectionMode::Keyword,
                        InjectionArg::Never => InjectionMode::Never,
                    },
                    priority,
                    ..LoreEntry::default()
                })
                .map_err(|e| e.to_string())?;
            println!("{}", saved.id);
            Ok(ExitCode::SUCCESS)
        }
        LoreCommand::List { story } => {
            let story_id = StoryId::from(story.as_str());
            store.story_summary(&story_id).map_err(|e| e.to_string())?;
            let entries = store.lore(&story_id).map_err(|e| e.to_string())?;
            if entries.is_empty() {
                println!("This story's lorebook is empty.");
            }
            for e in entries {
                println!(
                    "{}\t{}\t{}\t{}\tpriority {}\t{}",
                    e.id,
                    e.name,
                    e.kind.as_str(),
                    e.mode.as_str(),
                    e.priority,
                    [e.aliases.join(", "), e.keywords.join(", ")]
                        .iter()
                        .filter(|s| !s.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" · ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
