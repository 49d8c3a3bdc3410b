//! The `fabula` binary: parses the command line, sets up logging and the data folder, then runs
//! the window or a headless subcommand.
// No panics on input: unwrap, expect and panic are for tests (and proven invariants, each
// allowed where it stands, with its reason).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};

use fabula::app::{FabulaApp, Launch, run_gui};
use fabula::domain::StoryId;
use fabula::storage::{DataPaths, InstanceLock, Store};

#[derive(Parser)]
#[command(
    name = "fabula",
    version,
    about = "AI-assisted interactive fiction and story writing"
)]
struct Cli {
    /// Where stories, settings and backups live (default: the platform's data folder).
    #[arg(long, env = "FABULA_DATA_DIR", global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Open the window, print `first_frame_ms=<n>` once the first frame is painted, and exit.
    #[arg(long)]
    quit_after_first_frame: bool,
    /// Open this story (by id) when the window opens.
    #[arg(long, value_name = "STORY_ID")]
    open: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print the stories in the library.
    List,
    /// Write a backup of the database (into the backups folder unless --to is given).
    Backup {
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
    /// Check for a newer release (exit 10 when one exists) or install it.
    Update {
        /// Only report current and latest version.
        #[arg(long)]
        check: bool,
        /// Install without asking.
        #[arg(long)]
        yes: bool,
        /// Consider pre-releases too.
        #[arg(long)]
        pre: bool,
    },
    /// Manage API profiles and check providers.
    Provider {
        #[command(subcommand)]
        command: fabula::cli::ProviderCommand,
    },
    /// Create stories.
    Story {
        #[command(subcommand)]
        command: fabula::cli::StoryCommand,
    },
    /// Store an action and stream the narrator's reply, exactly as the Generate button does.
    Generate {
        story: String,
        #[arg(long, value_enum, default_value_t = fabula::cli::ActionArg::Do)]
        action: fabula::cli::ActionArg,
        /// What to do with a draft an earlier run left unfinished (asked when not given).
        #[arg(long, value_enum, value_name = "keep|discard")]
        draft: Option<fabula::cli::DraftArg>,
        /// Skip the world update that follows the narration.
        #[arg(long)]
        no_classify: bool,
        /// Write on this branch (its id or name; `main` for the main line) instead of the one
        /// the story shows; what the story shows is left as it is.
        #[arg(long)]
        branch: Option<String>,
        /// The action or direction; empty continues the story.
        #[arg(trailing_var_arg = true)]
        text: Vec<String>,
    },
    /// Write a narration again (the story's last one unless ENTRY_ID names another): a new
    /// alternative, streamed, exactly as the Regenerate button does.
    Regenerate {
        story: String,
        entry: Option<String>,
        /// What to do with a draft an earlier run left unfinished (asked when not given).
        #[arg(long, value_enum, value_name = "keep|discard")]
        draft: Option<fabula::cli::DraftArg>,
    },
    /// Write a story as an .avt exchange file (the original app's format), Markdown or plain text.
    Export {
        story: String,
        #[arg(long, value_enum, default_value_t = fabula::cli::ExportFormat::Avt)]
        format: fabula::cli::ExportFormat,
        /// Where to write (default: the title, in the current folder).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Add the lorebook at the end (Markdown and text).
        #[arg(long)]
        lore: bool,
        /// Replace the file if it exists (without it, an existing file is left alone).
        #[arg(long)]
        force: bool,
    },
    /// Read an .avt exchange file into the library; prints the story's id.
    Import {
        file: PathBuf,
        /// When the story is already here: keep both, or replace yours (it goes to the Trash).
        #[arg(long, value_enum)]
        on_conflict: Option<fabula::cli::ConflictArg>,
    },
    /// Sync stories with other devices on the local network (this app or the original).
    Sync {
        #[command(subcommand)]
        command: fabula::cli::SyncCommand,
    },
    /// Manage a story's lorebook.
    Lore {
        #[command(subcommand)]
        command: fabula::cli::LoreCommand,
    },
    /// Print a story's world (characters, places, items, quests, time) or change it.
    World {
        story: String,
        /// Print it as the exchange format's JSON sections.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<fabula::cli::WorldCommand>,
    },
    /// Print a story's chapters and their summaries.
    Chapters {
        story: String,
        /// Print them as the exchange format's JSON section.
        #[arg(long)]
        json: bool,
    },
    /// A story's branches: list, new (from any entry), switch, rename, delete.
    Branch {
        #[command(subcommand)]
        command: fabula::cli::BranchCommand,
    },
    /// A story's checkpoints: list, new, delete.
    Checkpoint {
        #[command(subcommand)]
        command: fabula::cli::CheckpointCommand,
    },
    /// Close a chapter by hand, or write a chapter's summary again (the Memory task).
    Chapter {
        #[command(subcommand)]
        command: fabula::cli::ChapterCommand,
    },
    /// Find text in every story (or one), newest first; exits 1 when nothing is found.
    Search {
        /// Words to find (all of them, any case); "quoted words" are found as a phrase.
        query: Vec<String>,
        /// Only in this story.
        #[arg(long)]
        story: Option<String>,
        /// How many entries to print at most.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Developer tools.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
}

#[derive(Subcommand)]
enum DevCommand {
    /// Create a synthetic story for benchmarks and demos; prints its id.
    Seed {
        #[arg(long, default_value_t = 1000)]
        entries: usize,
        #[arg(long)]
        title: Option<String>,
    },
}

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    match run(cli, started) {
        Ok(code) => code,
        Err(error) => {
            // `:#` says the context, then what caused it: "Could not open the window: …".
            eprintln!("fabula: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, started: Instant) -> anyhow::Result<ExitCode> {
    let paths = match DataPaths::resolve(cli.data_dir).and_then(|p| p.ensure().map(|()| p)) {
        Ok(paths) => paths,
        Err(e) => {
            fabula::diagnostics::init(None);
            return Err(e.into());
        }
    };
    fabula::diagnostics::init(Some(&paths.dir));
    fabula::storage::use_tokenizer_cache();
    if let Some(Command::Update { check, yes, pre }) = cli.command {
        return fabula::cli::update(check, yes, pre);
    }
    let Some(command) = cli.command else {
        let lock = InstanceLock::acquire(&paths)?;
        // On a full disk or a read-only file the window still opens, to read and copy out.
        let opened = Store::open_for_reading(&paths.database());
        if let Err(e) = &opened {
            eprintln!("fabula: {e}");
        }
        let launch = Launch {
            started,
            quit_after_first_frame: cli.quit_after_first_frame,
            open_story: cli.open.as_deref().map(StoryId::from),
            auto_backup: !cli.quit_after_first_frame,
            update_check: !cli.quit_after_first_frame,
        };
        let local = (!cli.quit_after_first_frame).then(FabulaApp::default_local_servers);
        let mut app = FabulaApp::new(paths, opened, launch)
            .with_lock(lock)
            .with_local_servers(local);
        match fabula::update::UpdateConfig::for_this_build(false) {
            Ok(config) => app = app.with_update_config(config),
            Err(e) => log::warn!("updates unavailable: {e}"),
        }
        let healthy = run_gui(app)
            // eframe's error holds the window system's handles, which cannot cross threads.
            .map_err(|e| anyhow::anyhow!("Could not open the window: {e}"))?;
        return Ok(if healthy {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    };
    let reads_only = matches!(
        command,
        Command::List
            | Command::Backup { .. }
            | Command::Export { .. }
            | Command::Search { .. }
            | Command::Chapters { .. }
    );
    let mut store = if reads_only {
        Store::open_for_reading(&paths.database())
    } else {
        Store::open(&paths.database())
    }?;
    match command {
        Command::List => fabula::cli::list(&store, &mut std::io::stdout().lock())?,
        Command::Backup { to } => {
            let written = fabula::cli::backup(&store, &paths, to.as_deref())
                .context("The backup was not written")?;
            println!("Backup written to {written}");
        }
        Command::Update { .. } => {}
        Command::Provider { command } => return fabula::cli::provider(&mut store, command),
        Command::Story { command } => return fabula::cli::story(&store, command),
        Command::Generate {
            story,
            action,
            draft,
            no_classify,
            branch,
            text,
        } => {
            if let Some(branch) = &branch {
                fabula::cli::pin_branch(&store, &story, branch)?;
            }
            return fabula::cli::generate(
                &mut store,
                &story,
                action,
                &text.join(" "),
                draft,
                !no_classify,
            );
        }
        Command::Regenerate {
            story,
            entry,
            draft,
        } => return fabula::cli::regenerate(&mut store, &story, entry.as_deref(), draft),
        Command::Lore { command } => return fabula::cli::lore(&store, command),
        Command::World {
            story,
            json,
            command,
        } => return fabula::cli::world(&store, &story, json, command),
        Command::Export {
            story,
            format,
            output,
            lore,
            force,
        } => return fabula::cli::export(&store, &story, format, output, lore, force),
        Command::Sync { command } => return fabula::cli::sync(&mut store, &paths, command),
        Command::Chapters { story, json } => return fabula::cli::chapters(&store, &story, json),
        Command::Chapter { command } => return fabula::cli::chapter(&store, command),
        Command::Branch { command } => return fabula::cli::branch(&store, command),
        Command::Checkpoint { command } => return fabula::cli::checkpoint(&store, command),
        Command::Search {
            query,
            story,
            limit,
            json,
        } => return fabula::cli::search(&store, &query.join(" "), story.as_deref(), limit, json),
        Command::Import { file, on_conflict } => {
            return fabula::cli::import(&mut store, &file, on_conflict);
        }
        Command::Dev {
            command: DevCommand::Seed { entries, title },
        } => {
            let id = fabula::cli::seed(&mut store, entries, title.as_deref())?;
            println!("{id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
