//! Manuscript exports: Markdown (title, a metadata header, entries with actions marked, an optional
//! lorebook appendix) and the same as plain text.

use std::fmt::Write as _;

use crate::domain::{EntryKind, StoryBundle, StoryMode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Markdown,
    Plain,
}

/// The story as a manuscript. Actions (or directions) are marked so they read apart from the prose;
/// dates are the writer's own (their time zone).
pub fn export(bundle: &StoryBundle, flavour: Flavour, with_lore: bool) -> String {
    let zone = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    export_in(bundle, flavour, with_lore, &zone)
}

/// As `export`, with dates in `zone`.
pub fn export_in(
    bundle: &StoryBundle,
    flavour: Flavour,
    with_lore: bool,
    zone: &jiff::tz::TimeZone,
) -> String {
    let story = &bundle.story;
    let md = flavour == Flavour::Markdown;
    let mut out = String::new();
    if md {
        let _ = writeln!(out, "# {}\n", story.title);
    } else {
        let _ = writeln!(
            out,
            "{}\n{}\n",
            story.title,
            "=".repeat(story.title.chars().count().max(3))
        );
    }
    let mut facts = vec![
        story.mode.label().to_owned(),
        story.pov.label().to_owned(),
        story.tense.label().to_owned(),
    ];
    if let Some(genre) = story.genre.as_deref().filter(|g| !g.is_empty()) {
        facts.push(genre.to_owned());
    }
    facts.push(format!(
        "started {}",
        crate::domain::when::day(story.created_at, zone)
    ));
    let _ = writeln!(
        out,
        "{}",
        if md {
            format!("*{}*", facts.join(" · "))
        } else {
            facts.join(" · ")
        }
    );
    if let Some(description) = story.description.as_deref().filter(|d| !d.is_empty()) {
        let _ = writeln!(
            out,
            "\n{}",
            if md {
                format!("> {description}")
            } else {
                description.to_owned()
            }
        );
    }
    let _ = writeln!(out);
    let action_label = match story.mode {
        StoryMode::Adventure => "Action",
        StoryMode::CreativeWriting => "Direction",
    };
    for entry in &bundle.entries {
        let text = entry.content.trim();
        match entry.kind {
            EntryKind::UserAction if md => {
                let _ = writeln!(
                    out,
                    "> **{action_label}:** {}\n",
                    text.replace('\n', "\n> ")
                );
            }
            EntryKind::UserAction => {
                let _ = writeln!(out, "[{action_label}] {text}\n");
            }
            EntryKind::System | EntryKind::Retry if md => {
                let _ = writeln!(out, "*{}*\n", text);
            }
            _ => {
                let _ = writeln!(out, "{text}\n");
            }
        }
    }
    if with_lore && !bundle.lore.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            if md {
                "## Lorebook\n"
            } else {
                "Lorebook\n--------\n"
            }
        );
        for l in &bundle.lore {
            let e = &l.entry;
            let name = if md {
                format!("**{}**", e.name)
            } else {
                e.name.clone()
            };
            let _ = writeln!(
                out,
                "{name} ({}): {}\n",
                e.kind.label(),
                e.description.trim()
            );
        }
    }
    out.trim_end().to_owned() + "\n"
}
