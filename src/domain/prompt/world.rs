//! The world block of the narrator's prompt: what matters now (the story time, where the
//! protagonist is, what they carry, the open quests), then the rest of the world that the recent
//! text names. Each list is bounded, so a world of thousands stays a paragraph.

use super::super::text::preview;
use super::super::world::{Character, World};

/// How many of each tier-1 list go in, and how many tier-2 mentions.
const MAX_CARRIED: usize = 20;
const MAX_QUESTS: usize = 10;
const MAX_MENTIONED: usize = 12;
/// Descriptions are cut to this many characters.
const DESCRIPTION_CHARS: usize = 200;

const HEADER: &str = "Where things stand:";

fn with_description(name: &str, description: Option<&String>) -> String {
    match description.map(|d| d.trim()).filter(|d| !d.is_empty()) {
        Some(d) => format!("{name}: {}", preview(d, DESCRIPTION_CHARS)),
        None => name.to_owned(),
    }
}

fn character_line(c: &Character) -> String {
    let mut line = with_description(&c.name, c.description.as_ref());
    if !c.traits.is_empty() {
        line.push_str(&format!(" ({})", c.traits.join(", ")));
    }
    let looks = c.looks.summary();
    if !looks.is_empty() {
        line.push_str(&format!(". Looks: {looks}"));
    }
    line
}

/// The recent text, lowercased, with the set of its words: a name is looked for in full only when
/// its first word is among them, so a world of thousands costs a lookup each.
struct Recent {
    text: String,
    words: std::collections::HashSet<String>,
}

impl Recent {
    fn new(parts: &[&str]) -> Self {
        let text = parts.join("\n").to_lowercase();
        let words = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        Self { text, words }
    }

    /// Whether `name` stands in the text as a whole word or phrase (anywhere, for a name in a
    /// script without spaces).
    fn names(&self, name: &str) -> bool {
        let name = name.trim();
        let Some(first) = name
            .split(|c: char| !c.is_alphanumeric())
            .find(|w| !w.is_empty())
        else {
            return false;
        };
        // Chinese and Japanese write without spaces: a name there is found anywhere.
        let spaced = !first
            .chars()
            .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}'));
        if spaced && !self.words.contains(&first.to_lowercase()) {
            return false;
        }
        let name = name.to_lowercase();
        let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let text = self.text.as_str();
        let mut from = 0;
        while let Some(at) = text[from..].find(&name) {
            let start = from + at;
            let end = start + name.len();
            if !spaced
                || (!word(text[..start].chars().next_back()) && !word(text[end..].chars().next()))
            {
                return true;
            }
            from = end;
        }
        false
    }
}

/// The block, or an empty string for an empty world. `recent` is the input and the last entries,
/// whose mentions bring in tier 2.
pub fn world_block(world: &World, recent: &[&str]) -> String {
    if world.is_empty() {
        return String::new();
    }
    let mut lines = vec![HEADER.to_owned()];
    if let Some(time) = world.time {
        lines.push(format!("- Story time: {}", time.describe()));
    }
    let here = world.current_place();
    if let Some(place) = here {
        lines.push(format!(
            "- Current place: {}",
            with_description(&place.name, place.description.as_ref())
        ));
    }
    if let Some(me) = world.protagonist() {
        lines.push(format!("- The protagonist: {}", character_line(me)));
    }
    let carried: Vec<String> = world
        .items
        .iter()
        .filter(|i| i.is_carried())
        .take(MAX_CARRIED)
        .map(|i| {
            let mut s = i.name.clone();
            if i.quantity != 1 {
                s.push_str(&format!(" ×{}", i.quantity));
            }
            if i.equipped {
                s.push_str(" (equipped)");
            }
            s
        })
        .collect();
    if !carried.is_empty() {
        lines.push(format!("- Carrying: {}", carried.join("; ")));
    }
    let quests: Vec<String> = world
        .beats
        .iter()
        .filter(|b| b.status.is_open())
        .take(MAX_QUESTS)
        .map(|b| {
            format!(
                "{} [{}]",
                with_description(&b.title, b.description.as_ref()),
                b.kind.label().to_lowercase()
            )
        })
        .collect();
    if !quests.is_empty() {
        lines.push("- Open threads:".to_owned());
        lines.extend(quests.into_iter().map(|q| format!("  - {q}")));
    }

    // Tier 2: the rest of the world, when the recent text names it.
    let text = Recent::new(recent);
    let mut mentioned = Vec::new();
    for c in world
        .characters
        .iter()
        .filter(|c| !c.is_protagonist() && text.names(&c.name))
    {
        mentioned.push(format!("{} (character)", character_line(c)));
    }
    for p in world
        .places
        .iter()
        .filter(|p| !p.current && text.names(&p.name))
    {
        mentioned.push(format!(
            "{} (place)",
            with_description(&p.name, p.description.as_ref())
        ));
    }
    for i in world
        .items
        .iter()
        .filter(|i| !i.is_carried() && text.names(&i.name))
    {
        let at = world
            .places
            .iter()
            .find(|p| p.id == i.location)
            .map_or(i.location.as_str(), |p| p.name.as_str());
        mentioned.push(format!(
            "{} (item, at {at})",
            with_description(&i.name, i.description.as_ref())
        ));
    }
    if !mentioned.is_empty() {
        lines.push("- Also named lately:".to_owned());
        lines.extend(
            mentioned
                .into_iter()
                .take(MAX_MENTIONED)
                .map(|m| format!("  - {m}")),
        );
    }
    if lines.len() == 1 {
        return String::new();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Beat, BeatStatus, Item, Place, StoryTime};

    fn world() -> World {
        World {
            characters: vec![
                Character {
                    id: "c1".into(),
                    name: "Wren".into(),
                    relationship: Some("self".into()),
                    traits: vec!["stubborn".into()],
                    ..Character::default()
                },
                Character {
                    id: "c2".into(),
                    name: "Mira".into(),
                    description: Some("The harbourmaster.".into()),
                    ..Character::default()
                },
                Character {
                    id: "c3".into(),
                    name: "Ol".into(),
                    ..Character::default()
                },
            ],
            places: vec![
                Place {
                    id: "p1".into(),
                    name: "Lamp room".into(),
                    current: true,
                    ..Place::default()
                },
                Place {
                    id: "p2".into(),
                    name: "Harbour".into(),
                    ..Place::default()
                },
            ],
            items: vec![
                Item {
                    id: "i1".into(),
                    name: "Brass key".into(),
                    equipped: true,
                    ..Item::default()
                },
                Item {
                    id: "i2".into(),
                    name: "Net".into(),
                    location: "p2".into(),
                    ..Item::default()
                },
            ],
            beats: vec![
                Beat {
                    id: "b1".into(),
                    title: "The answering light".into(),
                    status: BeatStatus::Active,
                    ..Beat::default()
                },
                Beat {
                    id: "b2".into(),
                    title: "Done and dusted".into(),
                    status: BeatStatus::Completed,
                    ..Beat::default()
                },
            ],
            time: Some(StoryTime {
                years: 0,
                days: 2,
                hours: 5,
                minutes: 30,
            }),
        }
    }

    #[test]
    fn what_matters_now_always_goes_in_and_the_rest_when_named() {
        let block = world_block(
            &world(),
            &["Mira waves from the harbour. Old nets hang there."],
        );
        assert_eq!(
            block,
            "Where things stand:
- Story time: Day 3, 05:30
- Current place: Lamp room
- The protagonist: Wren (stubborn)
- Carrying: Brass key (equipped)
- Open threads:
  - The answering light [event]
- Also named lately:
  - Mira: The harbourmaster. (character)
  - Harbour (place)"
        );
        assert!(
            !block.contains("Done and dusted"),
            "resolved beats stay out"
        );
        assert!(!block.contains("Ol ("), "“Old” does not name Ol");
        assert!(!block.contains("Net"), "“nets” does not name the Net");
        assert_eq!(world_block(&World::default(), &["anything"]), "");
        let mut cjk = world();
        cjk.characters[1].name = "美羅".into();
        assert!(
            world_block(&cjk, &["港で美羅が手を振る。"]).contains("美羅"),
            "no spaces needed"
        );
    }
}
