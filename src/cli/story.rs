//! `fabula story new`, `fabula generate` and `fabula lore`: the writing loop without a window, through
//! the same pipeline the Generate button uses.

use std::io::Write;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use crate::domain::{
    ActionType, EntryKind, InjectionMode, LoreEntry, LoreId, LoreKind, NewStory, Pov, StoryId,
    StoryMode, Target, Tense, compose_input,
};
use crate::jobs::CancelToken;
use crate::providers::Delta;
use crate::storage::Store;
use crate::writing::{self, Ending, Lorebook, WritingError};

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

/// What `generate` does with a draft an earlier run left (interrupted, failed or stopped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DraftArg {
    /// Add the draft to the story first; the narrator then goes on from it.
    Keep,
    /// Drop the draft (it stays in the prompt inspector's log).
    Discard,
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

pub fn story(store: &Store, command: StoryCommand) -> anyhow::Result<ExitCode> {
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
            let story = store.create_story(&NewStory {
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
            })?;
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
    on_draft: Option<DraftArg>,
    classify: bool,
) -> anyhow::Result<ExitCode> {
    let story_id = StoryId::from(story);
    let summary = store.story_summary(&story_id)?;
    let story = summary.story;
    settle_draft(store, &story_id, on_draft)?;
    let action = match (story.mode, action) {
        (StoryMode::CreativeWriting, _) | (_, ActionArg::Free) => ActionType::Free,
        (_, ActionArg::Do) => ActionType::Do,
        (_, ActionArg::Say) => ActionType::Say,
        (_, ActionArg::Think) => ActionType::Think,
        (_, ActionArg::Story) => ActionType::Story,
    };
    let settings = store.story_settings(&story_id)?;
    let voice = crate::domain::Voice::of(&story, &settings);
    if let Some(composed) = compose_input(action, &voice, text) {
        let kind = if action == ActionType::Story {
            EntryKind::Narration
        } else {
            EntryKind::UserAction
        };
        store.append_entry(&story_id, kind, &composed)?;
    }
    let (cancel, _watch) = ctrl_c_cancels()?;
    let code = narrate(store, &story_id, Target::Next, &cancel)?;
    if code == ExitCode::SUCCESS && classify && store.story_settings(&story_id)?.track_world {
        update_world(store, &story_id, &cancel);
    }
    if code == ExitCode::SUCCESS {
        check_chapter(store, &story_id, &cancel);
    }
    Ok(code)
}

/// `fabula regenerate`: another alternative of a narration (the last one when none is named),
/// written from only what came before it, exactly as the Regenerate button does.
pub fn regenerate(
    store: &mut Store,
    story: &str,
    entry: Option<&str>,
    on_draft: Option<DraftArg>,
) -> anyhow::Result<ExitCode> {
    let story_id = StoryId::from(story);
    store.story_summary(&story_id)?;
    settle_draft(store, &story_id, on_draft)?;
    let entry = match entry {
        Some(id) => crate::domain::EntryId::from(id),
        None => store
            .entry_rows(&story_id)?
            .iter()
            .rev()
            .find(|r| r.kind == EntryKind::Narration)
            .map(|r| r.id.clone())
            .ok_or_else(|| anyhow::anyhow!("The story has no narration to write again."))?,
    };
    let (cancel, _watch) = ctrl_c_cancels()?;
    narrate(store, &story_id, Target::Regenerate(entry), &cancel)
}

/// Streams the narration for `target` to stdout (reasoning to stderr) and stores it.
/// The same world update the window runs after a narration, waited for; its outcome is one line
/// on stderr (a failure is a warning: the narration is stored either way).
fn update_world(store: &Store, story_id: &StoryId, cancel: &CancelToken) {
    match writing::classify(store, &crate::keys::OsKeyStore, story_id, cancel) {
        Ok((applied, _)) if applied.summary.is_empty() => eprintln!("world: no change"),
        Ok((applied, _)) => eprintln!("world: {}", applied.summary),
        Err(e) => eprintln!("fabula: warning: The world was not updated: {e}"),
    }
}

/// The chapter check the window runs after a narration, waited for; one line on stderr when a
/// chapter closed (a failure is a warning: the narration is stored either way).
fn check_chapter(store: &Store, story_id: &StoryId, cancel: &CancelToken) {
    match writing::chapter_check(store, &crate::keys::OsKeyStore, story_id, cancel) {
        Ok(None) => {}
        Ok(Some(c)) => eprintln!("memory: {} closed ({} entries)", c.heading(), c.entry_count),
        Err(e) => eprintln!("fabula: warning: The chapter was not closed: {e}"),
    }
}

/// Ctrl+C (or SIGTERM) stops the run the way Stop does in the window, keeping the text so far as
/// a draft, also where the shell started Fabula with SIGINT ignored. The token is cancelled while
/// the returned watch lives.
pub(super) fn ctrl_c_cancels() -> anyhow::Result<(CancelToken, crate::jobs::Periodic)> {
    let cancel = CancelToken::new();
    let stop = super::sync::stop_requested();
    let watched = cancel.clone();
    let watch =
        crate::jobs::Periodic::start("ctrl-c", std::time::Duration::from_millis(100), move || {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                watched.cancel();
            }
        })?;
    Ok((cancel, watch))
}

fn narrate(
    store: &mut Store,
    story_id: &StoryId,
    target: Target,
    cancel: &CancelToken,
) -> anyhow::Result<ExitCode> {
    let story_id = story_id.clone();
    let lorebook = Lorebook::load(store, &story_id)?;
    let keys = crate::keys::OsKeyStore;
    // Recall failing never stops the narration: a warning, and it goes on without it.
    let recalled = match writing::recall(store, &keys, &story_id, &target, cancel, &mut |_, _| {}) {
        Ok(Some(r)) => {
            eprintln!(
                "recall: {} from past chapters ({} calls)",
                crate::domain::count_of(r.text.lines().count() as u64, "line", "lines"),
                r.calls
            );
            Some(r.text)
        }
        Ok(None) => None,
        Err(e) => {
            eprintln!("fabula: warning: Nothing was recalled from past chapters: {e}");
            None
        }
    };
    let prepared = match writing::prepare_recalled(
        store,
        &keys,
        &story_id,
        target,
        &lorebook,
        cancel,
        recalled.as_deref(),
    ) {
        Ok(p) => p,
        Err(e) => return Ok(fail(&e)),
    };
    // stdout and stderr are locked per write, never across the run: the draft saver and the
    // logger on other threads write to them too, and the run waits for the saver at its end.
    let mut at_line_start = true;
    let outcome = writing::run(store, &prepared, cancel, &mut |delta| match delta {
        Delta::Text(t) => {
            // The model's leading blank lines are not part of the narration.
            let t = if at_line_start { t.trim_start() } else { t };
            at_line_start &= t.is_empty();
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(t.as_bytes());
            let _ = stdout.flush();
        }
        Delta::Reasoning(r) => {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(r.as_bytes());
            let _ = stderr.flush();
        }
    });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return Ok(fail(&e)),
    };
    println!();
    if let Some(problem) = &outcome.draft_problem {
        eprintln!(
            "fabula: warning: the draft could not be kept on disk while streaming ({})",
            crate::domain::end_sentence(problem).trim_end_matches('.')
        );
    }
    if let Some(note) = writing::skipped_note(outcome.skipped) {
        eprintln!("fabula: warning: {note}");
    }
    let nothing_came = outcome.text.trim().is_empty();
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
        Ending::Cancelled if nothing_came => {
            Err(anyhow::anyhow!("Stopped before any text arrived."))
        }
        Ending::Cancelled => Err(anyhow::anyhow!(
            "Stopped; the text so far was kept as a draft."
        )),
        Ending::Failed(error) => {
            let kept = if nothing_came {
                "No text arrived"
            } else {
                "The text so far was kept as a draft"
            };
            eprintln!(
                "fabula: {} {kept}; your action is in the story.",
                crate::domain::end_sentence(&error.to_string())
            );
            Ok(ExitCode::from(error.kind().exit_code()))
        }
        Ending::Unsaved(reason) => {
            let rescued = rescue(store.path(), &story_id, &outcome.text);
            Err(anyhow::anyhow!(
                "The narration could not be stored: {} {rescued}",
                crate::domain::end_sentence(&reason)
            ))
        }
    }
}

/// A draft left by an earlier run is the writer's text: it is never dropped without being asked.
fn settle_draft(
    store: &mut Store,
    story_id: &StoryId,
    on_draft: Option<DraftArg>,
) -> anyhow::Result<()> {
    let Some(draft) = store.draft(story_id)? else {
        return Ok(());
    };
    if draft.content.trim().is_empty() {
        return Ok(store.discard_draft(story_id)?);
    }
    match on_draft {
        None => {
            let words = crate::domain::count_words(&draft.content);
            let preview = crate::domain::preview(&draft.content, 80);
            Err(anyhow::anyhow!(
                "This story has a draft of {words} words from an earlier run that was not finished (“{preview}”). \
                 Run again with --draft keep to add it to the story (the narrator then goes on from it), \
                 --draft discard to drop it, or open the story in the window to read it first."
            ))
        }
        Some(DraftArg::Discard) => Ok(store.discard_draft(story_id)?),
        Some(DraftArg::Keep) => {
            let content = draft.content.trim();
            match &draft.target {
                None => drop(store.finish_narration(story_id, content, &draft.reasoning, false)?),
                Some(entry) => {
                    drop(store.add_alternative(entry, content, &draft.reasoning, false)?)
                }
            }
            Ok(())
        }
    }
}

/// Puts a narration the database would not take into a text file (beside the database, else in the
/// temporary folder) and says where; it is also on stdout already.
fn rescue(database: &std::path::Path, story: &StoryId, text: &str) -> String {
    let name = format!("fabula-unsaved-{story}-{}.txt", crate::domain::now_ms());
    let places = [
        database.parent().map(|dir| dir.join(&name)),
        Some(std::env::temp_dir().join(&name)),
    ];
    for path in places.into_iter().flatten() {
        let written = crate::storage::owner_only_file()
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()));
        match written {
            Ok(()) => {
                return format!(
                    "It was printed above and saved to {}; add it with the window's Add (Ctrl+Shift+Enter) once the problem is fixed.",
                    path.display()
                );
            }
            Err(_) => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    "It was printed above (no file could be written either): copy it from there.".into()
}

/// Prints why the generation could not start; provider errors keep `provider check`'s exit codes.
fn fail(e: &WritingError) -> ExitCode {
    eprintln!("fabula: {e}");
    match e {
        WritingError::Provider(p) => ExitCode::from(p.kind().exit_code()),
        _ => ExitCode::FAILURE,
    }
}

pub fn lore(store: &Store, command: LoreCommand) -> anyhow::Result<ExitCode> {
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
            store.story_summary(&story_id)?;
            let saved = store.save_lore(&LoreEntry {
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
            })?;
            println!("{}", saved.id);
            Ok(ExitCode::SUCCESS)
        }
        LoreCommand::List { story } => {
            let story_id = StoryId::from(story.as_str());
            store.story_summary(&story_id)?;
            let entries = store.lore(&story_id)?;
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
