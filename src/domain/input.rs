//! The adventure input's action types and the prefixes the original app puts before them.

use super::story::Pov;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ActionType {
    #[default]
    Do,
    Say,
    Think,
    Story,
    Free,
}

impl ActionType {
    pub const ALL: [ActionType; 5] = [
        ActionType::Do,
        ActionType::Say,
        ActionType::Think,
        ActionType::Story,
        ActionType::Free,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ActionType::Do => "Do",
            ActionType::Say => "Say",
            ActionType::Think => "Think",
            ActionType::Story => "Story",
            ActionType::Free => "Free",
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            ActionType::Do => "What do you do?",
            ActionType::Say => "What do you say?",
            ActionType::Think => "What do you think?",
            ActionType::Story => "What happens next?",
            ActionType::Free => "Write anything…",
        }
    }
}

/// Turns what the user typed into the entry text: `open the door` becomes `I open the door.`,
/// a Say becomes `I say, "…"`. First and second person speak as "I" (the reader is the
/// protagonist); third person uses the protagonist's name. Returns `None` for blank input.
pub fn compose_input(action: ActionType, pov: Pov, protagonist: &str, raw: &str) -> Option<String> {
    let text = raw.trim();
    if text.is_empty() {
        return None;
    }
    let name = match pov {
        Pov::First | Pov::Second => "I",
        Pov::Third if protagonist.trim().is_empty() => "The protagonist",
        Pov::Third => protagonist.trim(),
    };
    let third = pov == Pov::Third;
    Some(match action {
        ActionType::Do => {
            let body = strip_subject(text, name);
            let body = lowercase_first_unless_name(body, name);
            end_with_punctuation(&format!("{name} {body}"))
        }
        ActionType::Say => {
            let verb = if third { "says" } else { "say" };
            format!(
                "{name} {verb}, \"{}\"",
                end_with_punctuation(strip_quotes(text))
            )
        }
        ActionType::Think => {
            let verb = if third {
                "thinks to themselves"
            } else {
                "think to myself"
            };
            format!(
                "{name} {verb}, \"{}\"",
                end_with_punctuation(strip_quotes(text))
            )
        }
        ActionType::Story | ActionType::Free => text.to_owned(),
    })
}

/// `I open` typed into a Do box must not become `I I open`.
fn strip_subject<'a>(text: &'a str, name: &str) -> &'a str {
    text.strip_prefix(name)
        .and_then(|rest| rest.strip_prefix(' '))
        .map(str::trim_start)
        .unwrap_or(text)
}

fn lowercase_first_unless_name(text: &str, name: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        // Keep "I" and proper nouns such as the protagonist's own name as typed.
        Some(first)
            if first.is_uppercase() && !text.starts_with("I ") && !text.starts_with(name) =>
        {
            let second_is_upper = chars.clone().next().is_some_and(char::is_uppercase);
            if second_is_upper {
                text.to_owned()
            } else {
                first.to_lowercase().chain(chars).collect()
            }
        }
        _ => text.to_owned(),
    }
}

fn strip_quotes(text: &str) -> &str {
    let quotes: &[char] = &['"', '“', '”', '\''];
    text.trim_matches(quotes).trim()
}

fn end_with_punctuation(text: &str) -> String {
    let ends = ['.', '!', '?', '…', '"', '”', ')', '*'];
    if text.ends_with(ends) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn do_in_first_and_second_person_speaks_as_i() {
        assert_eq!(
            compose_input(ActionType::Do, Pov::Second, "", "Open the door").as_deref(),
            Some("I open the door.")
        );
        assert_eq!(
            compose_input(ActionType::Do, Pov::First, "", "I draw my sword!").as_deref(),
            Some("I draw my sword!")
        );
    }

    #[test]
    fn third_person_uses_the_protagonists_name() {
        assert_eq!(
            compose_input(ActionType::Do, Pov::Third, "Mara", "climbs the wall").as_deref(),
            Some("Mara climbs the wall.")
        );
        assert_eq!(
            compose_input(ActionType::Say, Pov::Third, "Mara", "\"Who goes there?\"").as_deref(),
            Some("Mara says, \"Who goes there?\"")
        );
        assert_eq!(
            compose_input(ActionType::Think, Pov::Third, "Mara", "this is a trap").as_deref(),
            Some("Mara thinks to themselves, \"this is a trap.\"")
        );
    }

    #[test]
    fn say_and_think_in_first_person() {
        assert_eq!(
            compose_input(ActionType::Say, Pov::First, "", "hello").as_deref(),
            Some("I say, \"hello.\"")
        );
        assert_eq!(
            compose_input(ActionType::Think, Pov::Second, "", "odd").as_deref(),
            Some("I think to myself, \"odd.\"")
        );
    }

    #[test]
    fn story_and_free_are_verbatim_and_blank_is_nothing() {
        assert_eq!(
            compose_input(ActionType::Story, Pov::Third, "Mara", " The rain stops ").as_deref(),
            Some("The rain stops")
        );
        assert_eq!(compose_input(ActionType::Free, Pov::First, "", "   "), None);
    }
}
