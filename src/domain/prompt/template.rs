//! The template language of prompt packs: text with {{placeholders}}, checked against the names a\ntemplate may use, rendered with lines whose placeholders are all empty left out.

use std::fmt;

/// A template that cannot be rendered, said so the editor can show it next to the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    Unknown { name: String, line: usize },
    Unclosed { line: usize },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unknown { name, line } => write!(
                f,
                "Line {line}: {{{{{name}}}}} is not a placeholder this template knows."
            ),
            TemplateError::Unclosed { line } => {
                write!(
                    f,
                    "Line {line}: a placeholder opened with {{{{ is never closed."
                )
            }
        }
    }
}

impl std::error::Error for TemplateError {}

enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

fn pieces(line: &str, line_no: usize) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find("{{") {
        out.push(Piece::Text(&rest[..open]));
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or(TemplateError::Unclosed { line: line_no })?;
        out.push(Piece::Placeholder(after[..close].trim()));
        rest = &after[close + 2..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// Checks that every placeholder is known, without rendering.
pub fn check_template(template: &str, known: &[&str]) -> Result<(), TemplateError> {
    for (n, line) in template.lines().enumerate() {
        for piece in pieces(line, n + 1)? {
            if let Piece::Placeholder(name) = piece
                && !known.contains(&name)
            {
                return Err(TemplateError::Unknown {
                    name: name.to_owned(),
                    line: n + 1,
                });
            }
        }
    }
    Ok(())
}

/// Fills the placeholders. A line whose placeholders are all empty is left out, so "Tone: {{tone}}"
/// disappears for a story without a tone instead of leaving a dangling label.
pub fn render_template(
    template: &str,
    known: &[&str],
    value: &dyn Fn(&str) -> String,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() * 2);
    let mut blank_run = false;
    for (n, line) in template.lines().enumerate() {
        let mut rendered = String::with_capacity(line.len());
        let (mut placeholders, mut empty) = (0, 0);
        for piece in pieces(line, n + 1)? {
            match piece {
                Piece::Text(t) => rendered.push_str(t),
                Piece::Placeholder(name) => {
                    if !known.contains(&name) {
                        return Err(TemplateError::Unknown {
                            name: name.to_owned(),
                            line: n + 1,
                        });
                    }
                    let v = value(name);
                    placeholders += 1;
                    if v.trim().is_empty() {
                        empty += 1;
                    }
                    rendered.push_str(&v);
                }
            }
        }
        if placeholders > 0 && placeholders == empty {
            continue;
        }
        // Dropped lines must not leave runs of blank lines behind.
        let blank = rendered.trim().is_empty();
        if blank && blank_run {
            continue;
        }
        blank_run = blank;
        out.push_str(&rendered);
        out.push('\n');
    }
    Ok(out.trim_end().to_owned())
}
