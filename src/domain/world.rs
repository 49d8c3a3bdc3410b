//! The story world: who is in it, the places, what lies where and who carries it, the quests and
//! turns of the plot, and the time in the story. Kept per story (and per branch, once branches
//! exist); the exchange format's own shapes are read and written in `world_wire`.

use serde_json::{Map, Value};

/// Whether someone is still part of the story.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CharacterStatus {
    #[default]
    Active,
    Inactive,
    Deceased,
}

impl CharacterStatus {
    pub const ALL: [CharacterStatus; 3] = [Self::Active, Self::Inactive, Self::Deceased];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Deceased => "deceased",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// How a character looks, in the words the original keeps (any other key it has is kept too).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Looks {
    pub face: Option<String>,
    pub hair: Option<String>,
    pub eyes: Option<String>,
    pub build: Option<String>,
    pub clothing: Option<String>,
    pub accessories: Option<String>,
    pub distinguishing: Option<String>,
    /// Keys beyond the seven, as they came.
    pub other: Map<String, Value>,
}

impl Looks {
    /// The seven keys with their labels, in the order the original shows them.
    pub const LABELS: [(&'static str, &'static str); 7] = [
        ("face", "Face"),
        ("hair", "Hair"),
        ("eyes", "Eyes"),
        ("build", "Build"),
        ("clothing", "Clothing"),
        ("accessories", "Accessories"),
        ("distinguishing", "Distinguishing"),
    ];

    pub fn field(&self, key: &str) -> Option<&String> {
        match key {
            "face" => self.face.as_ref(),
            "hair" => self.hair.as_ref(),
            "eyes" => self.eyes.as_ref(),
            "build" => self.build.as_ref(),
            "clothing" => self.clothing.as_ref(),
            "accessories" => self.accessories.as_ref(),
            "distinguishing" => self.distinguishing.as_ref(),
            _ => None,
        }
    }

    pub fn field_mut(&mut self, key: &str) -> Option<&mut Option<String>> {
        match key {
            "face" => Some(&mut self.face),
            "hair" => Some(&mut self.hair),
            "eyes" => Some(&mut self.eyes),
            "build" => Some(&mut self.build),
            "clothing" => Some(&mut self.clothing),
            "accessories" => Some(&mut self.accessories),
            "distinguishing" => Some(&mut self.distinguishing),
            _ => None,
        }
    }

    /// "Hair: cropped, Eyes: grey": the filled-in parts, for prompts and one-line views.
    pub fn summary(&self) -> String {
        Self::LABELS
            .iter()
            .filter_map(|(key, label)| {
                self.field(key)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| format!("{label}: {}", v.trim()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Older files keep the looks as a list of strings (`["Hair: cropped", "a scar"]`): a part
    /// that opens with one of the seven labels goes to that key, and what is left describes the
    /// character's distinguishing marks, as the original reads such a list.
    pub fn from_legacy_list(parts: &[String]) -> Self {
        let mut looks = Self::default();
        let mut loose = Vec::new();
        for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            let labelled = Self::LABELS.iter().find_map(|(key, label)| {
                let (head, rest) = part.split_once(':')?;
                head.trim()
                    .eq_ignore_ascii_case(label)
                    .then(|| (*key, rest.trim()))
            });
            match labelled {
                Some((key, value)) if !value.is_empty() => {
                    if let Some(slot) = looks.field_mut(key) {
                        match slot {
                            Some(existing) => {
                                existing.push_str(", ");
                                existing.push_str(value);
                            }
                            None => *slot = Some(value.to_owned()),
                        }
                    }
                }
                _ => loose.push(part),
            }
        }
        if !loose.is_empty() {
            let joined = loose.join(", ");
            looks.distinguishing = Some(match looks.distinguishing.take() {
                Some(existing) => format!("{existing}, {joined}"),
                None => joined,
            });
        }
        looks
    }
}

/// Someone in the story; the protagonist is the one whose relationship is "self".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Character {
    pub id: String,
    pub branch_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub relationship: Option<String>,
    pub traits: Vec<String>,
    pub looks: Looks,
    /// A data URL (the original's) or a picture's id, once pictures come.
    pub portrait: Option<String>,
    pub status: CharacterStatus,
    /// The original's metadata object, as JSON text.
    pub metadata: Option<String>,
    /// Keys Fabula does not model, as a JSON object.
    pub extra: Option<String>,
}

impl Character {
    pub fn is_protagonist(&self) -> bool {
        self.relationship.as_deref() == Some("self")
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Place {
    pub id: String,
    pub branch_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub visited: bool,
    /// Where the protagonist is now (one place at a time).
    pub current: bool,
    /// Ids of the places reachable from here.
    pub connections: Vec<String>,
    pub metadata: Option<String>,
    pub extra: Option<String>,
}

/// Where an item is: carried, or lying at a place (its id or name).
pub const INVENTORY: &str = "inventory";

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub id: String,
    pub branch_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub quantity: i64,
    pub equipped: bool,
    /// `INVENTORY`, or the place where it lies.
    pub location: String,
    pub metadata: Option<String>,
    pub extra: Option<String>,
}

impl Default for Item {
    fn default() -> Self {
        Self {
            id: String::new(),
            branch_id: None,
            name: String::new(),
            description: None,
            quantity: 1,
            equipped: false,
            location: INVENTORY.to_owned(),
            metadata: None,
            extra: None,
        }
    }
}

impl Item {
    pub fn is_carried(&self) -> bool {
        self.location == INVENTORY
    }
}

/// What kind of turn of the story a beat is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BeatKind {
    Milestone,
    Quest,
    Revelation,
    #[default]
    Event,
    PlotPoint,
}

impl BeatKind {
    pub const ALL: [BeatKind; 5] = [
        Self::Milestone,
        Self::Quest,
        Self::Revelation,
        Self::Event,
        Self::PlotPoint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Milestone => "milestone",
            Self::Quest => "quest",
            Self::Revelation => "revelation",
            Self::Event => "event",
            Self::PlotPoint => "plot_point",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Milestone => "Milestone",
            Self::Quest => "Quest",
            Self::Revelation => "Revelation",
            Self::Event => "Event",
            Self::PlotPoint => "Plot point",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BeatStatus {
    #[default]
    Pending,
    Active,
    Completed,
    Failed,
}

impl BeatStatus {
    pub const ALL: [BeatStatus; 4] = [Self::Pending, Self::Active, Self::Completed, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Still to be resolved: what the narrator keeps in mind.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Active)
    }
}

/// A quest, a milestone, a revelation: a turn of the story worth remembering.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Beat {
    pub id: String,
    pub branch_id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub kind: BeatKind,
    pub status: BeatStatus,
    /// Unix ms.
    pub triggered_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub metadata: Option<String>,
    pub extra: Option<String>,
}

/// Time in the story, as the original counts it: years, days, hours and minutes since it began.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoryTime {
    pub years: i64,
    pub days: i64,
    pub hours: i64,
    pub minutes: i64,
}

const MINUTES_PER_DAY: i64 = 24 * 60;
const DAYS_PER_YEAR: i64 = 365;

impl StoryTime {
    pub fn total_minutes(self) -> i64 {
        ((self.years * DAYS_PER_YEAR + self.days) * 24 + self.hours) * 60 + self.minutes
    }

    pub fn from_minutes(total: i64) -> Self {
        let total = total.max(0);
        let days_total = total / MINUTES_PER_DAY;
        let rest = total % MINUTES_PER_DAY;
        Self {
            years: days_total / DAYS_PER_YEAR,
            days: days_total % DAYS_PER_YEAR,
            hours: rest / 60,
            minutes: rest % 60,
        }
    }

    /// This time moved on by `minutes` (carried into hours, days and years).
    pub fn advanced(self, minutes: i64) -> Self {
        Self::from_minutes(self.total_minutes().saturating_add(minutes))
    }

    /// "Day 3, 05:30" (and "Year 2, …" once a year has passed): days count from 1, as a reader
    /// would say them.
    pub fn describe(self) -> String {
        let clock = format!("{:02}:{:02}", self.hours, self.minutes);
        if self.years > 0 {
            format!("Year {}, day {}, {clock}", self.years + 1, self.days + 1)
        } else {
            format!("Day {}, {clock}", self.days + 1)
        }
    }
}

/// Everything known of one story's world.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct World {
    pub characters: Vec<Character>,
    pub places: Vec<Place>,
    pub items: Vec<Item>,
    pub beats: Vec<Beat>,
    pub time: Option<StoryTime>,
}

impl World {
    pub fn protagonist(&self) -> Option<&Character> {
        self.characters.iter().find(|c| c.is_protagonist())
    }

    pub fn current_place(&self) -> Option<&Place> {
        self.places.iter().find(|p| p.current)
    }

    pub fn is_empty(&self) -> bool {
        self.characters.is_empty()
            && self.places.is_empty()
            && self.items.is_empty()
            && self.beats.is_empty()
            && self.time.is_none()
    }
}

/// The kinds of thing the world holds, as the World panel's tabs and the Trash name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WorldKind {
    Character,
    Place,
    Item,
    Beat,
}

impl WorldKind {
    pub const ALL: [WorldKind; 4] = [Self::Character, Self::Place, Self::Item, Self::Beat];

    /// The exchange format's section for this kind.
    pub fn section(self) -> &'static str {
        match self {
            Self::Character => "characters",
            Self::Place => "locations",
            Self::Item => "items",
            Self::Beat => "storyBeats",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Character => "Character",
            Self::Place => "Place",
            Self::Item => "Item",
            Self::Beat => "Quest or beat",
        }
    }
}

/// What a lore entry or a world row in the Trash is (the Trash lists them with the entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PieceKind {
    Lore,
    World(WorldKind),
    /// A branch of the story (its own entries go and come back with it).
    Branch,
}

impl PieceKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Lore => "Lore entry",
            Self::World(kind) => kind.label(),
            Self::Branch => "Branch",
        }
    }
}

/// A lore entry or a row of the world the writer put in the Trash, with its story.
#[derive(Clone, Debug, PartialEq)]
pub struct TrashedPiece {
    pub story_id: super::StoryId,
    pub story_title: String,
    pub kind: PieceKind,
    pub id: String,
    pub name: String,
    pub deleted_at: i64,
}

/// One row of the world as a hand edit changes it.
#[derive(Clone, Debug, PartialEq)]
pub enum WorldRow {
    Character(Box<Character>),
    Place(Place),
    Item(Item),
    Beat(Beat),
}

impl WorldRow {
    pub fn kind(&self) -> WorldKind {
        match self {
            WorldRow::Character(_) => WorldKind::Character,
            WorldRow::Place(_) => WorldKind::Place,
            WorldRow::Item(_) => WorldKind::Item,
            WorldRow::Beat(_) => WorldKind::Beat,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            WorldRow::Character(c) => &c.id,
            WorldRow::Place(p) => &p.id,
            WorldRow::Item(i) => &i.id,
            WorldRow::Beat(b) => &b.id,
        }
    }

    /// What the row is called (a beat's title).
    pub fn name(&self) -> &str {
        match self {
            WorldRow::Character(c) => &c.name,
            WorldRow::Place(p) => &p.name,
            WorldRow::Item(i) => &i.name,
            WorldRow::Beat(b) => &b.title,
        }
    }

    /// The branch the row is tagged with (`None`: the main line, or inherited by every branch).
    pub fn branch_id(&self) -> Option<&str> {
        match self {
            WorldRow::Character(c) => c.branch_id.as_deref(),
            WorldRow::Place(p) => p.branch_id.as_deref(),
            WorldRow::Item(i) => i.branch_id.as_deref(),
            WorldRow::Beat(b) => b.branch_id.as_deref(),
        }
    }

    pub fn with_branch(mut self, branch: Option<String>) -> Self {
        match &mut self {
            WorldRow::Character(c) => c.branch_id = branch,
            WorldRow::Place(p) => p.branch_id = branch,
            WorldRow::Item(i) => i.branch_id = branch,
            WorldRow::Beat(b) => b.branch_id = branch,
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn story_time_carries_minutes_into_hours_days_and_years() {
        let t = StoryTime {
            years: 0,
            days: 2,
            hours: 5,
            minutes: 30,
        };
        assert_eq!(t.advanced(45).describe(), "Day 3, 06:15");
        assert_eq!(t.advanced(24 * 60).days, 3);
        let late = StoryTime {
            years: 0,
            days: 364,
            hours: 23,
            minutes: 50,
        }
        .advanced(20);
        assert_eq!(
            (late.years, late.days, late.hours, late.minutes),
            (1, 0, 0, 10)
        );
        assert_eq!(late.describe(), "Year 2, day 1, 00:10");
        assert_eq!(StoryTime::from_minutes(-5), StoryTime::default());
    }

    #[test]
    fn a_legacy_list_of_looks_is_read_as_the_original_reads_it() {
        let looks = Looks::from_legacy_list(&[
            "Hair: cropped, grey at the temples".into(),
            "eyes: sea-green".into(),
            "a scar across the chin".into(),
            "Hair: tied back".into(),
            "".into(),
            "tall".into(),
        ]);
        assert_eq!(
            looks.hair.as_deref(),
            Some("cropped, grey at the temples, tied back")
        );
        assert_eq!(looks.eyes.as_deref(), Some("sea-green"));
        assert_eq!(
            looks.distinguishing.as_deref(),
            Some("a scar across the chin, tall")
        );
        assert_eq!(
            looks.summary(),
            "Hair: cropped, grey at the temples, tied back, Eyes: sea-green, Distinguishing: a scar across the chin, tall"
        );
    }
}
