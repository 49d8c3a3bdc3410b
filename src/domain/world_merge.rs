//! Taking back or making again one world update after newer updates or hand edits came on top of
//! it: only what that update itself changed is touched, key by key, so nothing newer is lost.

use serde_json::{Map, Value};

use super::world::{StoryTime, WorldRow};
use super::world_wire::{row_from_wire, row_to_wire};

/// `current` moved from `from` to `to` where it still holds what `from` held; anything changed
/// since (by a newer update or by hand) stays as it is now. With `keep_scene`, which place is the
/// current one is left alone (the story has moved on since).
pub fn rebase(current: &WorldRow, from: &WorldRow, to: &WorldRow, keep_scene: bool) -> WorldRow {
    let (Value::Object(mut now), Value::Object(from), Value::Object(to)) =
        (row_to_wire(current), row_to_wire(from), row_to_wire(to))
    else {
        return current.clone();
    };
    let skip: &[&str] = if keep_scene { &["current"] } else { &[] };
    merge(&mut now, &from, &to, skip);
    row_from_wire(current.kind(), now)
}

fn merge(
    now: &mut Map<String, Value>,
    from: &Map<String, Value>,
    to: &Map<String, Value>,
    skip: &[&str],
) {
    let keys: Vec<&String> = from
        .keys()
        .chain(to.keys().filter(|k| !from.contains_key(*k)))
        .collect();
    for key in keys {
        if skip.contains(&key.as_str()) {
            continue;
        }
        let (was, becomes) = (from.get(key), to.get(key));
        if was == becomes {
            continue;
        }
        if let (
            Some(Value::Object(inner)),
            Some(Value::Object(was)),
            Some(Value::Object(becomes)),
        ) = (now.get_mut(key), was, becomes)
        {
            merge(inner, was, becomes, &[]);
            continue;
        }
        if now.get(key) != was {
            continue;
        }
        match becomes {
            Some(value) => {
                now.insert(key.clone(), value.clone());
            }
            None => {
                now.remove(key);
            }
        }
    }
}

/// The story time with the step from `from` to `to` added (or taken away, when going back), so
/// time that passed since stays passed.
pub fn shift_time(current: StoryTime, from: StoryTime, to: StoryTime) -> StoryTime {
    StoryTime::from_minutes(current.total_minutes() + to.total_minutes() - from.total_minutes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::world::{Character, Place};

    fn mira(description: &str, relationship: &str) -> WorldRow {
        WorldRow::Character(Box::new(Character {
            id: "c1".into(),
            name: "Mira".into(),
            description: Some(description.into()),
            relationship: Some(relationship.into()),
            ..Character::default()
        }))
    }

    #[test]
    fn taking_back_an_older_change_keeps_what_a_newer_one_changed() {
        let original = mira("an innkeeper", "stranger");
        let older = mira("an innkeeper with a scar", "stranger");
        let newer = mira("an innkeeper with a scar", "friend");
        let back = rebase(&newer, &older, &original, false);
        assert_eq!(back, mira("an innkeeper", "friend"));
        let again = rebase(&back, &original, &older, false);
        assert_eq!(again, newer);
    }

    #[test]
    fn a_key_changed_since_is_left_as_it_is_now() {
        let original = mira("an innkeeper", "stranger");
        let update = mira("a spy", "stranger");
        let edited_by_hand = mira("a retired spy", "stranger");
        assert_eq!(
            rebase(&edited_by_hand, &update, &original, false),
            edited_by_hand
        );
    }

    #[test]
    fn looks_are_merged_one_descriptor_at_a_time() {
        let with = |hair: Option<&str>, eyes: Option<&str>| {
            let mut c = Character {
                id: "c1".into(),
                name: "Mira".into(),
                ..Character::default()
            };
            c.looks.hair = hair.map(str::to_owned);
            c.looks.eyes = eyes.map(str::to_owned);
            WorldRow::Character(Box::new(c))
        };
        let back = rebase(
            &with(Some("red"), Some("green")),
            &with(Some("red"), None),
            &with(None, None),
            false,
        );
        assert_eq!(back, with(None, Some("green")));
    }

    #[test]
    fn the_scene_is_left_alone_when_the_story_moved_on() {
        let place = |current: bool| {
            WorldRow::Place(Place {
                id: "p1".into(),
                name: "Tavern".into(),
                current,
                ..Place::default()
            })
        };
        assert_eq!(
            rebase(&place(true), &place(true), &place(false), true),
            place(true)
        );
        assert_eq!(
            rebase(&place(true), &place(true), &place(false), false),
            place(false)
        );
    }

    #[test]
    fn time_steps_back_by_what_the_update_added() {
        let at = |minutes| StoryTime::from_minutes(minutes);
        assert_eq!(shift_time(at(200), at(180), at(60)), at(80));
        assert_eq!(shift_time(at(80), at(60), at(180)), at(200));
    }
}
