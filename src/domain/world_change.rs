//! What the classifier says changed in the world after a narration (a change-set), how it is
//! checked (refused whole when it is not sound), applied to the world (names matched without
//! regard to case; something updated that is not known yet is added, not dropped), and said back
//! to the writer in one line.

use serde::Deserialize;

use super::world::{
    Beat, BeatKind, BeatStatus, Character, CharacterStatus, INVENTORY, Item, Place, StoryTime,
    World, WorldRow,
};

/// More than this many changes of one kind in one narration is not a reading of it.
pub const MAX_CHANGES: usize = 50;
const MAX_TEXT: usize = 2_000;

#[derive(Clone, Debug, Default, PartialEq, Deserialize, schemars::JsonSchema)]
pub struct CharacterChange {
    /// The character's name as the story uses it.
    #[schemars(length(max = 80))]
    pub name: String,
    /// One or two sentences.
    #[schemars(length(max = 200))]
    pub description: Option<String>,
    /// How they stand to the protagonist ("friend", "rival", …).
    #[schemars(length(max = 80))]
    pub relationship: Option<String>,
    #[schemars(length(max = 10), inner(length(max = 40)))]
    pub traits: Option<Vec<String>>,
    /// "active", "inactive" or "deceased".
    #[schemars(extend("enum" = ["active", "inactive", "deceased", null]))]
    pub status: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, schemars::JsonSchema)]
pub struct PlaceChange {
    #[schemars(length(max = 80))]
    pub name: String,
    /// One or two sentences.
    #[schemars(length(max = 200))]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, schemars::JsonSchema)]
pub struct ItemChange {
    #[schemars(length(max = 80))]
    pub name: String,
    /// One or two sentences.
    #[schemars(length(max = 200))]
    pub description: Option<String>,
    /// How many there are now (0: used up or lost).
    #[schemars(range(min = 0, max = 1_000_000))]
    pub quantity: Option<i64>,
    pub equipped: Option<bool>,
    /// "inventory" when the protagonist carries it, or the name of the place where it lies.
    #[schemars(length(max = 80))]
    pub location: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, schemars::JsonSchema)]
pub struct BeatChange {
    #[schemars(length(max = 120))]
    pub title: String,
    /// One or two sentences.
    #[schemars(length(max = 200))]
    pub description: Option<String>,
    /// "milestone", "quest", "revelation", "event" or "plot_point".
    #[schemars(extend("enum" = ["milestone", "quest", "revelation", "event", "plot_point", null]))]
    pub kind: Option<String>,
    /// "pending", "active", "completed" or "failed".
    #[schemars(extend("enum" = ["pending", "active", "completed", "failed", null]))]
    pub status: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, schemars::JsonSchema)]
pub struct SceneChange {
    /// Where the protagonist is at the end of the narration, when it says.
    #[schemars(length(max = 80))]
    pub current_place: Option<String>,
    /// Who is there with them.
    #[schemars(length(max = 20), inner(length(max = 80)))]
    pub present: Vec<String>,
    /// How much story time the narration took: "none", "15 minutes", "2 hours" or "1 day".
    #[schemars(extend("enum" = ["none", "15 minutes", "2 hours", "1 day"]))]
    pub time_passed: String,
}

/// Everything a narration changed, as the classifier reports it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, schemars::JsonSchema)]
pub struct ChangeSet {
    #[schemars(length(max = 12))]
    pub characters: Vec<CharacterChange>,
    #[schemars(length(max = 12))]
    pub places: Vec<PlaceChange>,
    #[schemars(length(max = 12))]
    pub items: Vec<ItemChange>,
    #[schemars(length(max = 12))]
    pub beats: Vec<BeatChange>,
    pub scene: SceneChange,
}

/// The minutes a `time_passed` names, or `None` for a value not among the four.
fn minutes_of(step: &str) -> Option<i64> {
    match step.trim().to_lowercase().as_str() {
        "" | "none" => Some(0),
        "15 minutes" | "+15 min" | "15 min" => Some(15),
        "2 hours" | "+2 h" | "2 h" => Some(120),
        "1 day" | "+1 day" => Some(24 * 60),
        _ => None,
    }
}

impl ChangeSet {
    /// Refuses a change-set that cannot be a reading of one narration: unknown kinds or states,
    /// empty names, lists or texts past any sense. Nothing of a refused set is applied.
    pub fn check(&self) -> Result<(), String> {
        let lists = [
            ("characters", self.characters.len()),
            ("places", self.places.len()),
            ("items", self.items.len()),
            ("beats", self.beats.len()),
            ("present", self.scene.present.len()),
        ];
        if let Some((what, n)) = lists.iter().find(|(_, n)| *n > MAX_CHANGES) {
            return Err(format!(
                "{n} {what} changed in one narration (at most {MAX_CHANGES})."
            ));
        }
        let names = self
            .characters
            .iter()
            .map(|c| &c.name)
            .chain(self.places.iter().map(|p| &p.name))
            .chain(self.items.iter().map(|i| &i.name))
            .chain(self.beats.iter().map(|b| &b.title));
        for name in names {
            if name.trim().is_empty() {
                return Err("A change names nothing.".into());
            }
            if name.chars().count() > 200 {
                return Err("A name is longer than any name.".into());
            }
        }
        let texts = self
            .characters
            .iter()
            .filter_map(|c| c.description.as_ref())
            .chain(self.places.iter().filter_map(|p| p.description.as_ref()))
            .chain(self.items.iter().filter_map(|i| i.description.as_ref()))
            .chain(self.beats.iter().filter_map(|b| b.description.as_ref()));
        if texts.into_iter().any(|t| t.chars().count() > MAX_TEXT) {
            return Err(format!(
                "A description is longer than {MAX_TEXT} characters."
            ));
        }
        for c in &self.characters {
            if let Some(s) = &c.status
                && CharacterStatus::parse(s).is_none()
            {
                return Err(format!("“{s}” is not a character's status."));
            }
        }
        for b in &self.beats {
            if let Some(k) = &b.kind
                && BeatKind::parse(k).is_none()
            {
                return Err(format!("“{k}” is not a kind of story beat."));
            }
            if let Some(s) = &b.status
                && BeatStatus::parse(s).is_none()
            {
                return Err(format!("“{s}” is not a beat's status."));
            }
        }
        if self
            .items
            .iter()
            .any(|i| i.quantity.is_some_and(|q| !(0..=1_000_000).contains(&q)))
        {
            return Err("An item's quantity is out of range.".into());
        }
        if minutes_of(&self.scene.time_passed).is_none() {
            return Err(format!(
                "“{}” is not one of the time steps.",
                self.scene.time_passed
            ));
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.characters.is_empty()
            && self.places.is_empty()
            && self.items.is_empty()
            && self.beats.is_empty()
            && self.scene.current_place.is_none()
            && minutes_of(&self.scene.time_passed).unwrap_or(0) == 0
    }
}

/// What applying a change-set does: the rows to write (each with what it was before, `None` for
/// a new one), the story time after, and the line that tells the writer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    pub rows: Vec<(Option<WorldRow>, WorldRow)>,
    pub time: Option<(StoryTime, StoryTime)>,
    pub summary: String,
}

/// Other names of the story's people, places and things (the lorebook's aliases), so a change
/// that says "the innkeeper" finds Mira.
#[derive(Clone, Debug, Default)]
pub struct Aliases {
    canonical: std::collections::HashMap<String, String>,
}

impl Aliases {
    pub fn from_lore(entries: &[super::lore::LoreEntry]) -> Self {
        let mut canonical = std::collections::HashMap::new();
        for entry in entries {
            let name = entry.name.trim().to_lowercase();
            for alias in &entry.aliases {
                let alias = alias.trim().to_lowercase();
                if !alias.is_empty() && alias != name {
                    canonical.entry(alias).or_insert_with(|| name.clone());
                }
            }
        }
        Self { canonical }
    }

    fn canon(&self, name: &str) -> String {
        let key = name.trim().to_lowercase();
        self.canonical.get(&key).cloned().unwrap_or(key)
    }

    /// The same one, by name or other name, whatever the case.
    fn same(&self, a: &str, b: &str) -> bool {
        self.canon(a) == self.canon(b)
    }
}

fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl Applied {
    /// One line for each change, as a list to accept or reject them by: the rows, then the time.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .rows
            .iter()
            .map(|(before, after)| {
                let (name, kind) = (after.name(), after.kind().label().to_lowercase());
                match (before, after) {
                    (None, _) => format!("+ {name} ({kind})"),
                    (_, WorldRow::Place(p)) if p.current => {
                        format!("{name} is now the current place")
                    }
                    _ => format!("{name} ({kind}) changes"),
                }
            })
            .collect();
        if let Some((before, after)) = self.time {
            lines.push(format!(
                "Time moves on: {} → {}",
                before.describe(),
                after.describe()
            ));
        }
        lines
    }

    /// The part of the change-set at `index` of `lines()`, on its own.
    pub fn part(&self, index: usize) -> Option<Applied> {
        match self.rows.get(index) {
            Some(row) => Some(Applied {
                rows: vec![row.clone()],
                time: None,
                summary: self.lines().get(index).cloned().unwrap_or_default(),
            }),
            None if index == self.rows.len() => self.time.map(|time| Applied {
                rows: Vec::new(),
                time: Some(time),
                summary: self.lines().last().cloned().unwrap_or_default(),
            }),
            None => None,
        }
    }

    /// The change-set without the part at `index` of `lines()`.
    pub fn without(&self, index: usize) -> Applied {
        let mut rest = self.clone();
        if index < rest.rows.len() {
            rest.rows.remove(index);
        } else if index == rest.rows.len() {
            rest.time = None;
        }
        rest
    }

    pub fn is_nothing(&self) -> bool {
        self.rows.is_empty() && self.time.is_none()
    }
}

/// The change-set applied to `world`; `new_id` makes ids for what is new. `check` first.
pub fn apply_changes(
    world: &World,
    changes: &ChangeSet,
    new_id: &mut dyn FnMut() -> String,
) -> Applied {
    apply_changes_named(world, changes, &Aliases::default(), new_id)
}

/// As `apply_changes`, a name also matching through `aliases`.
pub fn apply_changes_named(
    world: &World,
    changes: &ChangeSet,
    aliases: &Aliases,
    new_id: &mut dyn FnMut() -> String,
) -> Applied {
    let mut applied = Applied::default();
    let mut said = Vec::new();
    let mut places: Vec<Place> = world.places.clone();

    for change in &changes.characters {
        let before = world
            .characters
            .iter()
            .find(|c| aliases.same(&c.name, &change.name));
        let mut c = before.cloned().unwrap_or_else(|| Character {
            id: new_id(),
            name: change.name.trim().to_owned(),
            ..Character::default()
        });
        if let Some(d) = &change.description {
            c.description = Some(d.clone());
        }
        if let Some(r) = &change.relationship
            && !c.is_protagonist()
        {
            c.relationship = Some(r.clone());
        }
        if let Some(t) = &change.traits {
            for trait_ in t {
                if !c.traits.iter().any(|x| same(x, trait_)) {
                    c.traits.push(trait_.clone());
                }
            }
        }
        if let Some(s) = change.status.as_deref().and_then(CharacterStatus::parse) {
            if s != c.status && s == CharacterStatus::Deceased {
                said.push(format!("{} died", c.name));
            }
            c.status = s;
        }
        if before.is_none() {
            said.push(format!("+ {} (character)", c.name));
        }
        if before != Some(&c) {
            applied.rows.push((
                before.map(|b| WorldRow::Character(Box::new(b.clone()))),
                WorldRow::Character(Box::new(c)),
            ));
        }
    }

    let mut place_rows: Vec<(Option<Place>, Place)> = Vec::new();
    let mut upsert_place = |name: &str, description: Option<&String>, places: &mut Vec<Place>| {
        let index = match places.iter().position(|p| aliases.same(&p.name, name)) {
            Some(i) => i,
            None => {
                places.push(Place {
                    id: new_id(),
                    name: name.trim().to_owned(),
                    ..Place::default()
                });
                places.len() - 1
            }
        };
        if let Some(d) = description {
            places[index].description = Some(d.clone());
        }
        index
    };
    for change in &changes.places {
        upsert_place(&change.name, change.description.as_ref(), &mut places);
    }
    if let Some(here) = changes
        .scene
        .current_place
        .as_deref()
        .filter(|h| !h.trim().is_empty())
    {
        let index = upsert_place(here, None, &mut places);
        let already = places[index].current;
        for (i, p) in places.iter_mut().enumerate() {
            p.current = i == index;
        }
        places[index].visited = true;
        if !already {
            said.push(format!("{} is now the current place", places[index].name));
        }
    }
    for p in &places {
        let before = world.places.iter().find(|b| b.id == p.id);
        if before.is_none() && !p.current {
            said.push(format!("+ {} (place)", p.name));
        }
        if before != Some(p) {
            place_rows.push((before.cloned(), p.clone()));
        }
    }
    applied.rows.extend(
        place_rows
            .into_iter()
            .map(|(b, a)| (b.map(WorldRow::Place), WorldRow::Place(a))),
    );

    for change in &changes.items {
        let before = world
            .items
            .iter()
            .find(|i| aliases.same(&i.name, &change.name));
        let mut item = before.cloned().unwrap_or_else(|| Item {
            id: new_id(),
            name: change.name.trim().to_owned(),
            ..Item::default()
        });
        if let Some(d) = &change.description {
            item.description = Some(d.clone());
        }
        if let Some(q) = change.quantity {
            item.quantity = q;
        }
        if let Some(at) = change.location.as_deref().filter(|l| !l.trim().is_empty()) {
            item.location = if same(at, INVENTORY) {
                INVENTORY.to_owned()
            } else {
                places
                    .iter()
                    .find(|p| aliases.same(&p.name, at))
                    .map_or_else(|| at.trim().to_owned(), |p| p.id.clone())
            };
        }
        if let Some(e) = change.equipped {
            item.equipped = e && item.is_carried();
        }
        let gained = item.is_carried() && before.is_none_or(|b| !b.is_carried());
        if gained {
            said.push(format!("+{} {}", item.quantity.max(1), item.name));
        } else if before.is_some_and(|b| b.is_carried()) && !item.is_carried() {
            said.push(format!("− {}", item.name));
        }
        if before != Some(&item) {
            applied.rows.push((
                before.map(|b| WorldRow::Item(b.clone())),
                WorldRow::Item(item),
            ));
        }
    }

    for change in &changes.beats {
        let before = world
            .beats
            .iter()
            .find(|b| aliases.same(&b.title, &change.title));
        let mut beat = before.cloned().unwrap_or_else(|| Beat {
            id: new_id(),
            title: change.title.trim().to_owned(),
            status: BeatStatus::Active,
            ..Beat::default()
        });
        if let Some(d) = &change.description {
            beat.description = Some(d.clone());
        }
        if let Some(k) = change.kind.as_deref().and_then(BeatKind::parse) {
            beat.kind = k;
        }
        if let Some(s) = change.status.as_deref().and_then(BeatStatus::parse) {
            if s != beat.status && !s.is_open() {
                said.push(format!("{} {}", beat.title, s.as_str()));
            }
            beat.status = s;
        }
        if before.is_none() {
            said.push(format!(
                "+ {} ({})",
                beat.title,
                beat.kind.label().to_lowercase()
            ));
        }
        if before != Some(&beat) {
            applied.rows.push((
                before.map(|b| WorldRow::Beat(b.clone())),
                WorldRow::Beat(beat),
            ));
        }
    }

    let minutes = minutes_of(&changes.scene.time_passed).unwrap_or(0);
    if minutes > 0 {
        let now = world.time.unwrap_or_default();
        applied.time = Some((now, now.advanced(minutes)));
        said.push(match minutes {
            15 => "15 minutes pass".to_owned(),
            120 => "two hours pass".to_owned(),
            _ => "a day passes".to_owned(),
        });
    }
    applied.summary = said.join(" · ");
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("new-{n}")
        }
    }

    fn world() -> World {
        World {
            characters: vec![Character {
                id: "c1".into(),
                name: "Wren".into(),
                relationship: Some("self".into()),
                ..Character::default()
            }],
            places: vec![Place {
                id: "p1".into(),
                name: "Lamp room".into(),
                current: true,
                ..Place::default()
            }],
            ..World::default()
        }
    }

    #[test]
    fn a_change_set_adds_moves_and_passes_time() {
        let changes = ChangeSet {
            characters: vec![CharacterChange {
                name: "Mira".into(),
                description: Some("The tavern keeper.".into()),
                ..CharacterChange::default()
            }],
            items: vec![ItemChange {
                name: "Rusty key".into(),
                location: Some("inventory".into()),
                ..ItemChange::default()
            }],
            scene: SceneChange {
                current_place: Some("the tavern".into()),
                present: vec!["Mira".into()],
                time_passed: "2 hours".into(),
            },
            ..ChangeSet::default()
        };
        changes.check().expect("sound");
        let applied = apply_changes(&world(), &changes, &mut ids());
        assert_eq!(
            applied.summary,
            "+ Mira (character) · the tavern is now the current place · +1 Rusty key · two hours pass"
        );
        let places: Vec<&Place> = applied
            .rows
            .iter()
            .filter_map(|(_, r)| match r {
                WorldRow::Place(p) => Some(p),
                _ => None,
            })
            .collect();
        assert_eq!(
            places.len(),
            2,
            "the lamp room is no longer current; the tavern is new"
        );
        assert!(places.iter().any(|p| p.name == "Lamp room" && !p.current));
        assert!(
            places
                .iter()
                .any(|p| p.name == "the tavern" && p.current && p.visited)
        );
        assert_eq!(applied.time.map(|(_, after)| after.hours), Some(2));
    }

    #[test]
    fn names_match_without_case_and_unknown_updates_are_added() {
        let changes = ChangeSet {
            characters: vec![CharacterChange {
                name: "WREN".into(),
                traits: Some(vec!["tired".into()]),
                relationship: Some("stranger".into()),
                ..CharacterChange::default()
            }],
            beats: vec![BeatChange {
                title: "Find the keeper".into(),
                status: Some("completed".into()),
                ..BeatChange::default()
            }],
            scene: SceneChange {
                time_passed: "none".into(),
                ..SceneChange::default()
            },
            ..ChangeSet::default()
        };
        let applied = apply_changes(&world(), &changes, &mut ids());
        let WorldRow::Character(wren) = &applied.rows[0].1 else {
            panic!("a character");
        };
        assert_eq!(wren.id, "c1", "the same Wren");
        assert!(
            wren.is_protagonist(),
            "the protagonist stays the protagonist"
        );
        assert_eq!(wren.traits, ["tired"]);
        assert!(
            applied.summary.contains("+ Find the keeper"),
            "{}",
            applied.summary
        );
    }

    #[test]
    fn a_name_matches_through_the_lorebook_aliases() {
        let mut world = world();
        world.characters.push(Character {
            id: "c2".into(),
            name: "Mira".into(),
            ..Character::default()
        });
        let lore = [crate::domain::LoreEntry {
            name: "Mira".into(),
            aliases: vec!["the Innkeeper".into()],
            ..crate::domain::LoreEntry::default()
        }];
        let changes = ChangeSet {
            characters: vec![CharacterChange {
                name: "the innkeeper".into(),
                description: Some("Keeps the tavern.".into()),
                ..CharacterChange::default()
            }],
            scene: SceneChange {
                time_passed: "none".into(),
                ..SceneChange::default()
            },
            ..ChangeSet::default()
        };
        let applied = apply_changes_named(&world, &changes, &Aliases::from_lore(&lore), &mut ids());
        let WorldRow::Character(mira) = &applied.rows[0].1 else {
            panic!("a character");
        };
        assert_eq!(
            (mira.id.as_str(), mira.name.as_str()),
            ("c2", "Mira"),
            "no twin"
        );
        assert_eq!(applied.summary, "", "an update, not a newcomer");
        let plain = apply_changes(&world, &changes, &mut ids());
        assert!(
            plain.summary.contains("+ the innkeeper"),
            "without aliases it is new"
        );
    }

    #[test]
    fn an_unsound_change_set_is_refused_whole() {
        let base = ChangeSet {
            scene: SceneChange {
                time_passed: "none".into(),
                ..SceneChange::default()
            },
            ..ChangeSet::default()
        };
        let mut bad = base.clone();
        bad.beats.push(BeatChange {
            title: "x".into(),
            kind: Some("subplot".into()),
            ..BeatChange::default()
        });
        assert!(bad.check().unwrap_err().contains("subplot"));
        let mut bad = base.clone();
        bad.characters = vec![
            CharacterChange {
                name: "A".into(),
                ..CharacterChange::default()
            };
            51
        ];
        assert!(bad.check().is_err());
        let mut bad = base.clone();
        bad.scene.time_passed = "a fortnight".into();
        assert!(bad.check().is_err());
        let mut bad = base;
        bad.items.push(ItemChange {
            name: " ".into(),
            ..ItemChange::default()
        });
        assert!(bad.check().is_err());
    }
}
