//! The world in the exchange format's shapes (the `characters`, `locations`, `items` and
//! `storyBeats` sections, and the story's `timeTracker`): read leniently, written as the original
//! writes them. A key Fabula does not model, or a modelled key whose value has a type Fabula does
//! not expect, is kept as it came and written back, so a file goes through unchanged.

use serde_json::{Map, Value};

use super::world::{
    Beat, BeatKind, BeatStatus, Character, CharacterStatus, INVENTORY, Item, Looks, Place,
    StoryTime,
};

/// One object being read: each modelled key is taken out as its type allows; what is left (with
/// anything of an unexpected type) is the row's `extra`.
pub(super) struct Reading {
    rest: Map<String, Value>,
}

impl Reading {
    pub(super) fn new(mut object: Map<String, Value>) -> Self {
        // The story's id is the story the row is stored under; it is written afresh.
        object.shift_remove("storyId");
        Self { rest: object }
    }

    /// Takes `key` when `read` accepts its value; a value it refuses stays in `rest`.
    pub(super) fn take<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(&Value) -> Option<T>,
    ) -> Option<T> {
        let value = self.rest.get(key)?;
        let taken = read(value)?;
        self.rest.shift_remove(key);
        Some(taken)
    }

    /// The value of `key`, left in place.
    pub(super) fn peek(&self, key: &str) -> Option<&Value> {
        self.rest.get(key)
    }

    /// A string, or `null` (taken as none).
    pub(super) fn text(&mut self, key: &str) -> Option<String> {
        self.take(key, |v| match v {
            Value::String(s) => Some(Some(s.clone())),
            Value::Null => Some(None),
            _ => None,
        })
        .flatten()
    }

    pub(super) fn flag(&mut self, key: &str) -> bool {
        self.take(key, Value::as_bool).unwrap_or(false)
    }

    pub(super) fn millis(&mut self, key: &str) -> Option<i64> {
        self.take(key, |v| match v {
            Value::Null => Some(None),
            // JavaScript writes whole numbers, but a float of one reads the same.
            v => v
                .as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some),
        })
        .flatten()
    }

    pub(super) fn strings(&mut self, key: &str) -> Vec<String> {
        self.take(key, |v| {
            v.as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        })
        .unwrap_or_default()
    }

    /// Any value but `null`, as JSON text.
    pub(super) fn json(&mut self, key: &str) -> Option<String> {
        self.take(key, |v| Some((!v.is_null()).then(|| v.to_string())))
            .flatten()
    }

    pub(super) fn extra(self) -> Option<String> {
        (!self.rest.is_empty()).then(|| Value::Object(self.rest).to_string())
    }
}

/// Writing one object: the modelled keys in the original's order, then the kept ones (which win,
/// since a kept modelled key is one whose value Fabula could not read).
pub(super) struct Writing(Map<String, Value>);

impl Writing {
    pub(super) fn new(id: &str, story_id: &str) -> Self {
        let mut map = Map::new();
        map.insert("id".into(), Value::from(id));
        map.insert("storyId".into(), Value::from(story_id));
        Self(map)
    }

    pub(super) fn put(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    pub(super) fn json(self, key: &str, text: &Option<String>) -> Self {
        let value = text
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Value::Null);
        self.put(key, value)
    }

    pub(super) fn finish(mut self, extra: &Option<String>, branch_id: &Option<String>) -> Value {
        self.0.insert(
            "branchId".into(),
            branch_id.clone().map_or(Value::Null, Value::from),
        );
        self.finish_kept(extra)
    }

    /// The object with the kept keys and no `branchId` of its own (a branch, a checkpoint).
    pub(super) fn finish_kept(mut self, extra: &Option<String>) -> Value {
        if let Some(Value::Object(kept)) =
            extra.as_deref().and_then(|t| serde_json::from_str(t).ok())
        {
            for (key, value) in kept {
                self.0.insert(key, value);
            }
        }
        Value::Object(self.0)
    }
}

fn opt(text: &Option<String>) -> Value {
    text.clone().map_or(Value::Null, Value::from)
}

/// A row's id: the file's, or (for a row with none) one made from its place in the section, so
/// the same file always gives the same ids.
fn id_of(reading: &mut Reading, section: &str, index: usize) -> String {
    reading
        .take("id", |v| {
            v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
        })
        .unwrap_or_else(|| format!("{section}-{index}"))
}

fn branch_of(reading: &mut Reading) -> Option<String> {
    reading.text("branchId")
}

pub fn character_from_wire(object: Map<String, Value>, index: usize) -> Character {
    let mut r = Reading::new(object);
    let id = id_of(&mut r, "character", index);
    let looks = r.take("visualDescriptors", |v| match v {
        Value::Object(map) => Some(looks_from_map(map.clone())),
        Value::Array(parts) => parts
            .iter()
            .map(|p| p.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(|parts| Looks::from_legacy_list(&parts)),
        Value::Null => Some(Looks::default()),
        _ => None,
    });
    Character {
        id,
        branch_id: branch_of(&mut r),
        name: r.text("name").unwrap_or_default(),
        description: r.text("description"),
        relationship: r.text("relationship"),
        traits: r.strings("traits"),
        looks: looks.unwrap_or_default(),
        portrait: r.text("portrait"),
        status: r
            .take("status", |v| v.as_str().and_then(CharacterStatus::parse))
            .unwrap_or_default(),
        metadata: r.json("metadata"),
        extra: r.extra(),
    }
}

/// The looks object as the original writes it: the seven keys read, any other kept in `other`.
pub fn looks_from_map(mut map: Map<String, Value>) -> Looks {
    let mut looks = Looks::default();
    for (key, _) in Looks::LABELS {
        if let Some(Value::String(text)) = map.get(key) {
            let text = text.clone();
            map.shift_remove(key);
            if let Some(slot) = looks.field_mut(key) {
                *slot = Some(text);
            }
        }
    }
    looks.other = map;
    looks
}

/// The looks as the original writes them: only the keys that have a value.
pub fn looks_to_wire(looks: &Looks) -> Value {
    let mut map = Map::new();
    for (key, _) in Looks::LABELS {
        if let Some(text) = looks.field(key) {
            map.insert(key.to_owned(), Value::from(text.as_str()));
        }
    }
    for (key, value) in &looks.other {
        map.insert(key.clone(), value.clone());
    }
    Value::Object(map)
}

pub fn character_to_wire(c: &Character, story_id: &str) -> Value {
    Writing::new(&c.id, story_id)
        .put("name", c.name.as_str())
        .put("description", opt(&c.description))
        .put("relationship", opt(&c.relationship))
        .put("traits", c.traits.clone())
        .put("visualDescriptors", looks_to_wire(&c.looks))
        .put("portrait", opt(&c.portrait))
        .put("status", c.status.as_str())
        .json("metadata", &c.metadata)
        .finish(&c.extra, &c.branch_id)
}

pub fn place_from_wire(object: Map<String, Value>, index: usize) -> Place {
    let mut r = Reading::new(object);
    Place {
        id: id_of(&mut r, "location", index),
        branch_id: branch_of(&mut r),
        name: r.text("name").unwrap_or_default(),
        description: r.text("description"),
        visited: r.flag("visited"),
        current: r.flag("current"),
        connections: r.strings("connections"),
        metadata: r.json("metadata"),
        extra: r.extra(),
    }
}

pub fn place_to_wire(p: &Place, story_id: &str) -> Value {
    Writing::new(&p.id, story_id)
        .put("name", p.name.as_str())
        .put("description", opt(&p.description))
        .put("visited", p.visited)
        .put("current", p.current)
        .put("connections", p.connections.clone())
        .json("metadata", &p.metadata)
        .finish(&p.extra, &p.branch_id)
}

pub fn item_from_wire(object: Map<String, Value>, index: usize) -> Item {
    let mut r = Reading::new(object);
    Item {
        id: id_of(&mut r, "item", index),
        branch_id: branch_of(&mut r),
        name: r.text("name").unwrap_or_default(),
        description: r.text("description"),
        quantity: r.take("quantity", Value::as_i64).unwrap_or(1),
        equipped: r.flag("equipped"),
        location: r
            .take("location", |v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| INVENTORY.to_owned()),
        metadata: r.json("metadata"),
        extra: r.extra(),
    }
}

pub fn item_to_wire(i: &Item, story_id: &str) -> Value {
    Writing::new(&i.id, story_id)
        .put("name", i.name.as_str())
        .put("description", opt(&i.description))
        .put("quantity", i.quantity)
        .put("equipped", i.equipped)
        .put("location", i.location.as_str())
        .json("metadata", &i.metadata)
        .finish(&i.extra, &i.branch_id)
}

pub fn beat_from_wire(object: Map<String, Value>, index: usize) -> Beat {
    let mut r = Reading::new(object);
    Beat {
        id: id_of(&mut r, "beat", index),
        branch_id: branch_of(&mut r),
        title: r.text("title").unwrap_or_default(),
        description: r.text("description"),
        kind: r
            .take("type", |v| v.as_str().and_then(BeatKind::parse))
            .unwrap_or_default(),
        status: r
            .take("status", |v| v.as_str().and_then(BeatStatus::parse))
            .unwrap_or_default(),
        triggered_at: r.millis("triggeredAt"),
        resolved_at: r.millis("resolvedAt"),
        metadata: r.json("metadata"),
        extra: r.extra(),
    }
}

pub fn beat_to_wire(b: &Beat, story_id: &str) -> Value {
    let ms = |t: Option<i64>| t.map_or(Value::Null, Value::from);
    Writing::new(&b.id, story_id)
        .put("title", b.title.as_str())
        .put("description", opt(&b.description))
        .put("type", b.kind.as_str())
        .put("status", b.status.as_str())
        .put("triggeredAt", ms(b.triggered_at))
        .put("resolvedAt", ms(b.resolved_at))
        .json("metadata", &b.metadata)
        .finish(&b.extra, &b.branch_id)
}

/// After a hand edit: the kept copies of modelled keys (values of an odd type a file had) give way
/// to what was typed, so the edit is what goes out.
pub fn forget_shadowed_keys(row: &mut super::world::WorldRow) {
    use super::world::WorldRow;
    let (extra, keys): (&mut Option<String>, &[&str]) = match row {
        WorldRow::Character(c) => (
            &mut c.extra,
            &[
                "name",
                "description",
                "relationship",
                "traits",
                "visualDescriptors",
                "portrait",
                "status",
            ],
        ),
        WorldRow::Place(p) => (
            &mut p.extra,
            &["name", "description", "visited", "current", "connections"],
        ),
        WorldRow::Item(i) => (
            &mut i.extra,
            &["name", "description", "quantity", "equipped", "location"],
        ),
        WorldRow::Beat(b) => (&mut b.extra, &["title", "description", "type", "status"]),
    };
    let Some(Value::Object(mut map)) = extra.as_deref().and_then(|t| serde_json::from_str(t).ok())
    else {
        return;
    };
    for key in keys {
        map.shift_remove(*key);
    }
    *extra = (!map.is_empty()).then(|| Value::Object(map).to_string());
}

/// What a change-set did, as JSON text for keeping beside the narration that caused it: each row
/// before and after in the exchange format's shape, and the story time before and after.
/// One row in the exchange format's shape, without the story it belongs to.
pub fn row_to_wire(row: &super::world::WorldRow) -> Value {
    use super::world::WorldRow;
    match row {
        WorldRow::Character(c) => character_to_wire(c, ""),
        WorldRow::Place(p) => place_to_wire(p, ""),
        WorldRow::Item(i) => item_to_wire(i, ""),
        WorldRow::Beat(b) => beat_to_wire(b, ""),
    }
}

/// A row of `kind` read from the exchange format's shape (as `row_to_wire` writes it).
pub fn row_from_wire(
    kind: super::world::WorldKind,
    object: Map<String, Value>,
) -> super::world::WorldRow {
    use super::world::{WorldKind, WorldRow};
    match kind {
        WorldKind::Character => WorldRow::Character(Box::new(character_from_wire(object, 0))),
        WorldKind::Place => WorldRow::Place(place_from_wire(object, 0)),
        WorldKind::Item => WorldRow::Item(item_from_wire(object, 0)),
        WorldKind::Beat => WorldRow::Beat(beat_from_wire(object, 0)),
    }
}

fn kind_word(kind: super::world::WorldKind) -> &'static str {
    use super::world::WorldKind;
    match kind {
        WorldKind::Character => "character",
        WorldKind::Place => "place",
        WorldKind::Item => "item",
        WorldKind::Beat => "beat",
    }
}

pub fn applied_to_json(applied: &super::world_change::Applied) -> String {
    use super::world::WorldRow;
    let row = |r: &WorldRow| -> Value {
        serde_json::json!({"kind": kind_word(r.kind()), "row": row_to_wire(r)})
    };
    let time = |t: StoryTime| serde_json::json!([t.years, t.days, t.hours, t.minutes]);
    serde_json::json!({
        "rows": applied.rows.iter().map(|(before, after)| serde_json::json!({
            "before": before.as_ref().map(row),
            "after": row(after),
        })).collect::<Vec<_>>(),
        "time": applied.time.map(|(b, a)| serde_json::json!([time(b), time(a)])),
        "summary": applied.summary,
    })
    .to_string()
}

/// The change-set `applied_to_json` wrote, or `None` for text it did not write.
pub fn applied_from_json(text: &str) -> Option<super::world_change::Applied> {
    use super::world::{WorldKind, WorldRow};
    let value: Value = serde_json::from_str(text).ok()?;
    let row = |v: &Value| -> Option<WorldRow> {
        let object = v.get("row")?.as_object()?.clone();
        let word = v.get("kind")?.as_str()?;
        let kind = WorldKind::ALL.into_iter().find(|k| kind_word(*k) == word)?;
        Some(row_from_wire(kind, object))
    };
    let time = |v: &Value| -> Option<StoryTime> {
        let parts = v.as_array()?;
        let n = |i: usize| parts.get(i).and_then(Value::as_i64);
        Some(StoryTime {
            years: n(0)?,
            days: n(1)?,
            hours: n(2)?,
            minutes: n(3)?,
        })
    };
    let mut rows = Vec::new();
    for pair in value.get("rows")?.as_array()? {
        let before = match pair.get("before") {
            Some(Value::Null) | None => None,
            Some(v) => Some(row(v)?),
        };
        rows.push((before, row(pair.get("after")?)?));
    }
    let time = match value.get("time") {
        Some(Value::Array(pair)) => Some((time(pair.first()?)?, time(pair.get(1)?)?)),
        _ => None,
    };
    Some(super::world_change::Applied {
        rows,
        time,
        summary: value
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    })
}

/// The story's `timeTracker` (JSON text), when it holds numbers.
pub fn story_time_from_wire(text: Option<&str>) -> Option<StoryTime> {
    let value: Value = serde_json::from_str(text?).ok()?;
    let part = |key: &str| value.get(key).and_then(Value::as_i64).unwrap_or(0);
    value.as_object()?;
    Some(StoryTime {
        years: part("years"),
        days: part("days"),
        hours: part("hours"),
        minutes: part("minutes"),
    })
}

/// The `timeTracker` text for `time`, keeping any other key `previous` had.
pub fn story_time_to_wire(time: StoryTime, previous: Option<&str>) -> String {
    let mut map = previous
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    for (key, value) in [
        ("years", time.years),
        ("days", time.days),
        ("hours", time.hours),
        ("minutes", time.minutes),
    ] {
        map.insert(key.into(), Value::from(value));
    }
    Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn a_character_goes_through_unchanged_with_the_keys_fabula_does_not_model() {
        let original = json!({
            "id": "c1", "storyId": "s1", "name": "Wren", "description": "The new keeper.",
            "relationship": "self", "traits": ["stubborn", "curious"],
            "visualDescriptors": {"hair": "cropped", "tattoos": "an anchor"},
            "portrait": null, "status": "active", "metadata": {"source": "ai"},
            "branchId": null, "translatedName": null, "translatedDescription": "Die Neue."
        });
        let c = character_from_wire(object(original.clone()), 0);
        assert_eq!(c.name, "Wren");
        assert!(c.is_protagonist());
        assert_eq!(c.looks.hair.as_deref(), Some("cropped"));
        assert_eq!(c.metadata.as_deref(), Some(r#"{"source":"ai"}"#));
        assert_eq!(character_to_wire(&c, "s1"), original);
        // Written under another story (a copy), only the story's id changes.
        assert_eq!(character_to_wire(&c, "s2")["storyId"], "s2");
    }

    #[test]
    fn values_of_an_unexpected_type_are_kept_as_they_came() {
        let odd = json!({
            "id": "i1", "storyId": "s1", "name": "Rope", "description": null,
            "quantity": "a coil", "equipped": "yes", "location": "inventory",
            "metadata": null, "branchId": "b2"
        });
        let item = item_from_wire(object(odd.clone()), 0);
        assert_eq!((item.quantity, item.equipped), (1, false));
        assert_eq!(item.branch_id.as_deref(), Some("b2"));
        assert_eq!(
            item_to_wire(&item, "s1"),
            odd,
            "written back as it was read"
        );
    }

    #[test]
    fn places_beats_and_legacy_looks_read_as_the_original_writes_them() {
        let place = json!({
            "id": "l1", "storyId": "s", "name": "Lamp room", "description": "Glass.",
            "visited": true, "current": true, "connections": ["l2"], "metadata": null, "branchId": null
        });
        let p = place_from_wire(object(place.clone()), 0);
        assert!(p.current && p.visited);
        assert_eq!(place_to_wire(&p, "s"), place);

        let beat = json!({
            "id": "b1", "storyId": "s", "title": "The answering light", "description": null,
            "type": "plot_point", "status": "completed", "triggeredAt": 1738600075000.0,
            "resolvedAt": null, "metadata": null, "branchId": null
        });
        let b = beat_from_wire(object(beat), 0);
        assert_eq!(
            (b.kind, b.status),
            (BeatKind::PlotPoint, BeatStatus::Completed)
        );
        assert_eq!(b.triggered_at, Some(1_738_600_075_000));

        let legacy = character_from_wire(
            object(json!({"name": "Old", "visualDescriptors": ["Hair: white", "a limp"]})),
            3,
        );
        assert_eq!(
            legacy.id, "character-3",
            "a row without an id gets a stable one"
        );
        assert_eq!(legacy.looks.hair.as_deref(), Some("white"));
        assert_eq!(legacy.looks.distinguishing.as_deref(), Some("a limp"));
        assert_eq!(
            character_to_wire(&legacy, "s")["visualDescriptors"],
            json!({"hair": "white", "distinguishing": "a limp"})
        );
    }

    #[test]
    fn a_change_set_kept_as_json_reads_back_the_same() {
        use crate::domain::world::{Character, Item, WorldRow};
        use crate::domain::world_change::Applied;
        let applied = Applied {
            rows: vec![
                (
                    None,
                    WorldRow::Character(Box::new(Character {
                        id: "c9".into(),
                        name: "Mira".into(),
                        traits: vec!["kind".into()],
                        ..Character::default()
                    })),
                ),
                (
                    Some(WorldRow::Item(Item {
                        id: "i1".into(),
                        name: "Key".into(),
                        ..Item::default()
                    })),
                    WorldRow::Item(Item {
                        id: "i1".into(),
                        name: "Key".into(),
                        quantity: 0,
                        ..Item::default()
                    }),
                ),
            ],
            time: Some((StoryTime::default(), StoryTime::default().advanced(120))),
            summary: "+ Mira (character)".into(),
        };
        let back = applied_from_json(&applied_to_json(&applied)).expect("reads");
        assert_eq!(back, applied);
        assert_eq!(applied_from_json("{}"), None);
        assert_eq!(applied_from_json("not json"), None);
    }

    #[test]
    fn story_time_keeps_the_tracker_keys_it_does_not_know() {
        let text = r#"{"years":0,"days":2,"hours":5,"minutes":30,"calendar":"lunar"}"#;
        let time = story_time_from_wire(Some(text)).expect("time");
        assert_eq!(time.days, 2);
        let moved = story_time_to_wire(time.advanced(30), Some(text));
        let v: Value = serde_json::from_str(&moved).expect("json");
        assert_eq!(
            (v["hours"].as_i64(), v["minutes"].as_i64()),
            (Some(6), Some(0))
        );
        assert_eq!(v["calendar"], "lunar");
        assert_eq!(story_time_from_wire(Some("null")), None);
        assert_eq!(story_time_from_wire(None), None);
    }
}
