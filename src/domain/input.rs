//! The adventure input's action types and the prefixes the original app puts before them.

use super::story::{Pov, Tense};
use super::story_settings::Pronouns;
use super::verbs::{VerbForm, conjugate_leading_verb, inflect};

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

/// Who an action is told as: the story's point of view and tense, the protagonist's name and
/// pronouns, and whether actions go in exactly as typed.
#[derive(Clone, Copy, Debug)]
pub struct Voice<'a> {
    pub pov: Pov,
    pub tense: Tense,
    pub protagonist: &'a str,
    pub pronouns: &'a Pronouns,
    pub as_typed: bool,
}

impl<'a> Voice<'a> {
    /// The story's own voice: its person, tense and protagonist, and the settings' pronouns and
    /// "as typed" switch.
    pub fn of(
        story: &'a super::story::Story,
        settings: &'a super::story_settings::StorySettings,
    ) -> Self {
        Voice {
            pov: story.pov,
            tense: story.tense,
            protagonist: story.protagonist.as_deref().unwrap_or(""),
            pronouns: &settings.pronouns,
            as_typed: settings.actions_as_typed,
        }
    }

    fn verb_form(&self) -> VerbForm {
        match (self.pov, self.tense) {
            (_, Tense::Past) => VerbForm::Past,
            (Pov::Third, Tense::Present) => VerbForm::ThirdPresent,
            _ => VerbForm::Base,
        }
    }
}

/// Turns what the user typed into the entry text: `open the door` becomes `I open the door.`
/// (`Mara opens the door.` in the third person, `Mara opened the door.` in the past), a Say becomes
/// `I say, "…"`. First and second person speak as "I" (the reader is the protagonist); third
/// person uses the protagonist's name. English verbs are conjugated; text in other languages is
/// put after the name as typed. Returns `None` for blank input.
pub fn compose_input(action: ActionType, voice: &Voice<'_>, raw: &str) -> Option<String> {
    let text = raw.trim();
    if text.is_empty() {
        return None;
    }
    if voice.as_typed {
        return Some(text.to_owned());
    }
    let name = match voice.pov {
        Pov::First | Pov::Second => "I",
        Pov::Third if voice.protagonist.trim().is_empty() => "The protagonist",
        Pov::Third => voice.protagonist.trim(),
    };
    let form = voice.verb_form();
    let said = |base: &str| inflect(base, form);
    Some(match action {
        ActionType::Do => {
            let body = strip_subject(text, name);
            let body = if body.len() < text.len() {
                // The subject was typed too: the verb after it is the writer's own.
                body.to_owned()
            } else {
                conjugate_leading_verb(&lowercase_first_unless_name(body, name), form)
            };
            end_with_punctuation(&format!("{name} {body}"))
        }
        ActionType::Say => format!(
            "{name} {}, \"{}\"",
            said("say"),
            end_with_punctuation(strip_quotes(text))
        ),
        ActionType::Think => {
            let reflexive = match voice.pov {
                Pov::Third => voice.pronouns.reflexive(),
                Pov::First | Pov::Second => "myself",
            };
            format!(
                "{name} {} to {reflexive}, \"{}\"",
                said("think"),
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

    fn voice(pov: Pov, tense: Tense, protagonist: &'static str) -> Voice<'static> {
        Voice {
            pov,
            tense,
            protagonist,
            pronouns: &Pronouns::They,
            as_typed: false,
        }
    }

    fn compose(
        action: ActionType,
        pov: Pov,
        protagonist: &'static str,
        raw: &str,
    ) -> Option<String> {
        compose_input(action, &voice(pov, Tense::Present, protagonist), raw)
    }

    #[test]
    fn do_in_first_and_second_person_speaks_as_i() {
        assert_eq!(
            compose(ActionType::Do, Pov::Second, "", "Open the door").as_deref(),
            Some("I open the door.")
        );
        assert_eq!(
            compose(ActionType::Do, Pov::First, "", "I draw my sword!").as_deref(),
            Some("I draw my sword!")
        );
    }

    #[test]
    fn third_person_uses_the_protagonists_name() {
        assert_eq!(
            compose(ActionType::Do, Pov::Third, "Mara", "climbs the wall").as_deref(),
            Some("Mara climbs the wall.")
        );
        assert_eq!(
            compose(ActionType::Say, Pov::Third, "Mara", "\"Who goes there?\"").as_deref(),
            Some("Mara says, \"Who goes there?\"")
        );
        assert_eq!(
            compose(ActionType::Think, Pov::Third, "Mara", "this is a trap").as_deref(),
            Some("Mara thinks to themselves, \"this is a trap.\"")
        );
    }

    #[test]
    fn say_and_think_in_first_person() {
        assert_eq!(
            compose(ActionType::Say, Pov::First, "", "hello").as_deref(),
            Some("I say, \"hello.\"")
        );
        assert_eq!(
            compose(ActionType::Think, Pov::Second, "", "odd").as_deref(),
            Some("I think to myself, \"odd.\"")
        );
    }

    #[test]
    fn story_and_free_are_verbatim_and_blank_is_nothing() {
        assert_eq!(
            compose(ActionType::Story, Pov::Third, "Mara", " The rain stops ").as_deref(),
            Some("The rain stops")
        );
        assert_eq!(compose(ActionType::Free, Pov::First, "", "   "), None);
    }

    /// The golden table: Do, Say and Think in the three points of view and both tenses.
    #[test]
    fn actions_read_as_prose_in_every_point_of_view_and_tense() {
        let she = Pronouns::She;
        let cases: &[(Pov, Tense, ActionType, &str, &str)] = &[
            (
                Pov::First,
                Tense::Present,
                ActionType::Do,
                "dive toward the door",
                "I dive toward the door.",
            ),
            (
                Pov::First,
                Tense::Past,
                ActionType::Do,
                "dive toward the door",
                "I dove toward the door.",
            ),
            (
                Pov::Second,
                Tense::Present,
                ActionType::Do,
                "ring the bell",
                "I ring the bell.",
            ),
            (
                Pov::Second,
                Tense::Past,
                ActionType::Do,
                "ring the bell",
                "I rang the bell.",
            ),
            (
                Pov::Third,
                Tense::Present,
                ActionType::Do,
                "dive toward the door",
                "Mara dives toward the door.",
            ),
            (
                Pov::Third,
                Tense::Past,
                ActionType::Do,
                "dive toward the door",
                "Mara dove toward the door.",
            ),
            (
                Pov::Third,
                Tense::Present,
                ActionType::Do,
                "pick up the rusty key",
                "Mara picks up the rusty key.",
            ),
            (
                Pov::Third,
                Tense::Past,
                ActionType::Do,
                "pick up the rusty key",
                "Mara picked up the rusty key.",
            ),
            (
                Pov::Third,
                Tense::Past,
                ActionType::Do,
                "quickly stop the cart",
                "Mara quickly stopped the cart.",
            ),
            (
                Pov::Third,
                Tense::Present,
                ActionType::Do,
                "carry it home",
                "Mara carries it home.",
            ),
            (
                Pov::Third,
                Tense::Present,
                ActionType::Do,
                "Mara waits",
                "Mara waits.",
            ),
            (
                Pov::Third,
                Tense::Past,
                ActionType::Do,
                "walks to the jetty",
                "Mara walked to the jetty.",
            ),
            (
                Pov::Third,
                Tense::Present,
                ActionType::Do,
                "walks to the jetty",
                "Mara walks to the jetty.",
            ),
            (
                Pov::Third,
                Tense::Past,
                ActionType::Do,
                "opened the gate",
                "Mara opened the gate.",
            ),
            (
                Pov::First,
                Tense::Present,
                ActionType::Say,
                "hello",
                "I say, \"hello.\"",
            ),
            (
                Pov::First,
                Tense::Past,
                ActionType::Say,
                "hello",
                "I said, \"hello.\"",
            ),
            (
                Pov::Second,
                Tense::Past,
                ActionType::Say,
                "hello",
                "I said, \"hello.\"",
            ),
            (
                Pov::Third,
                Tense::Present,
                ActionType::Say,
                "hello",
                "Mara says, \"hello.\"",
            ),
            (
                Pov::Third,
                Tense::Past,
                ActionType::Say,
                "hello",
                "Mara said, \"hello.\"",
            ),
            (
                Pov::First,
                Tense::Present,
                ActionType::Think,
                "odd",
                "I think to myself, \"odd.\"",
            ),
            (
                Pov::Second,
                Tense::Past,
                ActionType::Think,
                "odd",
                "I thought to myself, \"odd.\"",
            ),
            (
                Pov::Third,
                Tense::Present,
                ActionType::Think,
                "odd",
                "Mara thinks to herself, \"odd.\"",
            ),
            (
                Pov::Third,
                Tense::Past,
                ActionType::Think,
                "odd",
                "Mara thought to herself, \"odd.\"",
            ),
            // Not English: after the name, as typed.
            (
                Pov::Third,
                Tense::Past,
                ActionType::Do,
                "ouvre la porte",
                "Mara ouvre la porte.",
            ),
            (
                Pov::Third,
                Tense::Present,
                ActionType::Do,
                "öffne die Tür",
                "Mara öffne die Tür.",
            ),
        ];
        for (pov, tense, action, typed, expected) in cases {
            let voice = Voice {
                pronouns: &she,
                ..voice(*pov, *tense, "Mara")
            };
            assert_eq!(
                compose_input(*action, &voice, typed).as_deref(),
                Some(*expected),
                "{pov:?} {tense:?} {action:?} {typed:?}"
            );
        }
    }

    #[test]
    fn as_typed_sends_the_words_alone_and_custom_pronouns_are_used() {
        let typed = Voice {
            as_typed: true,
            ..voice(Pov::Third, Tense::Past, "Mara")
        };
        assert_eq!(
            compose_input(ActionType::Do, &typed, " dive! ").as_deref(),
            Some("dive!")
        );
        let xe = Pronouns::Custom("xemself".into());
        let custom = Voice {
            pronouns: &xe,
            ..voice(Pov::Third, Tense::Present, "Ash")
        };
        assert_eq!(
            compose_input(ActionType::Think, &custom, "run").as_deref(),
            Some("Ash thinks to xemself, \"run.\"")
        );
        assert_eq!(Pronouns::parse(&xe.as_stored()), xe);
    }
}
