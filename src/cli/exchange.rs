//! `fabula export` and `fabula import`: .avt exchange files, Markdown and plain text.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;

use crate::domain::{FileFormat, OnConflict, StoryId};
use crate::formats::{ProgressReader, write_story_file_streamed};
use crate::storage::{Store, StoreError};
use crate::transfer::{self, ImportError};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    Avt,
    Md,
    Txt,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ConflictArg {
    /// Import a copy with new ids and "(imported)" after the title.
    KeepBoth,
    /// Make the story the file's version; what it changes or removes goes to the Trash first.
    Replace,
}

pub fn export(
    store: &Store,
    story: &str,
    format: ExportFormat,
    out: Option<PathBuf>,
    lore: bool,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let format = match format {
        ExportFormat::Avt => FileFormat::Avt,
        ExportFormat::Md => FileFormat::Markdown,
        ExportFormat::Txt => FileFormat::Text,
    };
    let id = StoryId::from(story);
    let path = store
        .stream_story(&id, |head, rows| {
            let path = out.clone().unwrap_or_else(|| {
                PathBuf::from(format!(
                    "{}.{}",
                    crate::domain::file_stem(&head.story.title),
                    format.extension()
                ))
            });
            if !force && path.exists() {
                anyhow::bail!(
                    "{} exists already; pass --force to replace it, or -o to write elsewhere.",
                    path.display()
                );
            }
            write_story_file_streamed(head, rows, format, lore, &path)
                .map(|()| path.clone())
                .with_context(|| format!("{} could not be written", path.display()))
        })
        .context("The story could not be exported")??;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

fn conflict_rule(on_conflict: Option<ConflictArg>) -> OnConflict {
    match on_conflict {
        None => OnConflict::Refuse,
        Some(ConflictArg::KeepBoth) => OnConflict::KeepBoth,
        Some(ConflictArg::Replace) => OnConflict::Replace,
    }
}

/// A refusal says which flag decides.
fn refusal(message: &str) -> String {
    format!("{message} (pass --on-conflict keep-both or --on-conflict replace)")
}

/// Stores an `.avt` story as it is read, under the command line's conflict rule; one from the
/// network (`spooled`) is copied to a file first (see `transfer::import_avt_spooled`).
pub(super) fn import_stream(
    store: &mut Store,
    reader: impl Read,
    on_conflict: Option<ConflictArg>,
    source: &str,
    spooled: bool,
) -> anyhow::Result<crate::storage::Imported> {
    let rule = conflict_rule(on_conflict);
    let imported = if spooled {
        transfer::import_avt_spooled(store, reader, rule)
    } else {
        transfer::import_avt(store, reader, rule)
    };
    imported.map_err(|e| match e {
        ImportError::Store(StoreError::Conflict(message))
        | ImportError::Conflict { message, .. } => anyhow::anyhow!(refusal(&message)),
        ImportError::Store(e) => e.into(),
        ImportError::Format(e) => anyhow::Error::new(e).context(source.to_owned()),
    })
}

pub fn import(
    store: &mut Store,
    file: &Path,
    on_conflict: Option<ConflictArg>,
) -> anyhow::Result<ExitCode> {
    let opened = std::fs::File::open(file)
        .with_context(|| format!("{} could not be opened", file.display()))?;
    let size = opened.metadata().map(|m| m.len()).unwrap_or(0);
    // Progress on stderr for files over a few MB; small ones are done before it would show.
    let show = size > 4 << 20;
    let reader = ProgressReader::new(opened, 1 << 20, |done| {
        if show && size > 0 {
            eprint!("\rreading {}%", done * 100 / size);
        }
    });
    let imported = import_stream(
        store,
        reader,
        on_conflict,
        &file.display().to_string(),
        false,
    );
    if show {
        eprintln!();
    }
    let imported = imported?;
    if let Some(old) = &imported.replaced {
        eprintln!("The story you had is in the Trash as {old}.");
    } else if imported.updated {
        eprintln!(
            "The story was here already; the file only added to it, so nothing went to the Trash."
        );
    }
    println!("{}", imported.story);
    eprintln!(
        "Imported “{}” ({}).",
        imported.title,
        crate::domain::count_of(imported.entries as u64, "entry", "entries")
    );
    Ok(ExitCode::SUCCESS)
}
