//! Manuscript exports: Markdown (title, a metadata header, entries with actions marked, an optional
//! lorebook appendix) and the same as plain text.

use std::fmt::Write as _;

use crate::domain::{EntryKind, StoryBundle, StoryMode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Markdown,
    Plain,
}

fn date(ms: i64) -> String {
    // Days since the epoch to a civil date (proleptic Gregorian), without a time crate.
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{:02}-{:02}", if m <= 2 { y + 1 } else { y }, m, d)
}

/// The story as a manuscript. Actions (or directions) are marked so they read apart from the prose.
pub fn export(bundle: &StoryBundle, flavour: Flavour, with_lore: bool) -> String {
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
    facts.push(format!("started {}", date(story.created_at)));
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

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::date(0), "1970-01-01");
        assert_eq!(super::date(1_700_000_000_000), "2023-11-14");
        assert_eq!(super::date(951_782_400_000), "2000-02-29");
    }
}
