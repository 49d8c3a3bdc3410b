//! `fabula world`: a story's world printed (as text, or as the exchange format's JSON) and edited
//! by hand from the shell, through the same store calls as the World panel.

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::domain::world_wire::{beat_to_wire, character_to_wire, item_to_wire, place_to_wire};
use crate::domain::{
    Beat, BeatStatus, Character, Item, Place, StoryId, World, WorldKind, WorldRow, new_uuid,
};
use crate::storage::Store;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum WorldKindArg {
    Character,
    Place,
    Item,
    Quest,
}

impl WorldKindArg {
    fn kind(self) -> WorldKind {
        match self {
            Self::Character => WorldKind::Character,
            Self::Place => WorldKind::Place,
            Self::Item => WorldKind::Item,
            Self::Quest => WorldKind::Beat,
        }
    }
}

/// What to change; a field left out stays as it is.
#[derive(clap::Args, Debug, Default)]
pub struct WorldFields {
    /// A new name (a quest's title).
    #[arg(long = "name")]
    pub rename: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// A place: the protagonist is there now.
    #[arg(long)]
    pub current: bool,
    /// A character: this is the protagonist.
    #[arg(long)]
    pub protagonist: bool,
    /// An item: how many.
    #[arg(long)]
    pub quantity: Option<i64>,
    /// A quest: pending, active, completed or failed.
    #[arg(long)]
    pub status: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum WorldCommand {
    /// Add a character, place, item or quest; prints its id.
    Add {
        kind: WorldKindArg,
        name: String,
        #[command(flatten)]
        fields: WorldFields,
    },
    /// Change a row (by the id `fabula world STORY_ID` prints).
    Edit {
        kind: WorldKindArg,
        id: String,
        #[command(flatten)]
        fields: WorldFields,
    },
    /// Move a row to the Trash.
    Remove { kind: WorldKindArg, id: String },
}

/// `fabula world STORY_ID [--json] [add|edit|remove …]`.
pub fn world(
    store: &Store,
    story: &str,
    json_out: bool,
    command: Option<WorldCommand>,
) -> anyhow::Result<ExitCode> {
    let story = StoryId::from(story);
    store.story_summary(&story)?;
    match command {
        None => {
            let world = store.world(&story)?;
            if json_out {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&as_json(&world, &story))?
                );
            } else {
                print!("{}", as_text(&world));
            }
        }
        Some(WorldCommand::Add { kind, name, fields }) => {
            let row = blank(kind.kind(), name);
            let row = apply(row, &fields)?;
            store.save_world_row(&story, &row)?;
            println!("{}", row.id());
        }
        Some(WorldCommand::Edit { kind, id, fields }) => {
            let Some(row) = store.world_row(&story, kind.kind(), &id)? else {
                anyhow::bail!(
                    "This story has no {} with the id {id}.",
                    kind.kind().label().to_lowercase()
                );
            };
            let mut row = apply(row, &fields)?;
            crate::domain::world_wire::forget_shadowed_keys(&mut row);
            store.save_world_row(&story, &row)?;
        }
        Some(WorldCommand::Remove { kind, id }) => {
            store.trash_world_row(&story, kind.kind(), &id)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn blank(kind: WorldKind, name: String) -> WorldRow {
    let id = new_uuid();
    match kind {
        WorldKind::Character => WorldRow::Character(Box::new(Character {
            id,
            name,
            ..Character::default()
        })),
        WorldKind::Place => WorldRow::Place(Place {
            id,
            name,
            ..Place::default()
        }),
        WorldKind::Item => WorldRow::Item(Item {
            id,
            name,
            ..Item::default()
        }),
        WorldKind::Beat => WorldRow::Beat(Beat {
            id,
            title: name,
            kind: crate::domain::BeatKind::Quest,
            status: BeatStatus::Active,
            ..Beat::default()
        }),
    }
}

fn apply(mut row: WorldRow, f: &WorldFields) -> anyhow::Result<WorldRow> {
    let described = f.description.clone();
    match &mut row {
        WorldRow::Character(c) => {
            if let Some(n) = &f.rename {
                c.name.clone_from(n);
            }
            if described.is_some() {
                c.description = described;
            }
            if f.protagonist {
                c.relationship = Some("self".into());
            }
        }
        WorldRow::Place(p) => {
            if let Some(n) = &f.rename {
                p.name.clone_from(n);
            }
            if described.is_some() {
                p.description = described;
            }
            if f.current {
                p.current = true;
                p.visited = true;
            }
        }
        WorldRow::Item(i) => {
            if let Some(n) = &f.rename {
                i.name.clone_from(n);
            }
            if described.is_some() {
                i.description = described;
            }
            if let Some(q) = f.quantity {
                i.quantity = q;
            }
        }
        WorldRow::Beat(b) => {
            if let Some(n) = &f.rename {
                b.title.clone_from(n);
            }
            if described.is_some() {
                b.description = described;
            }
            if let Some(s) = &f.status {
                b.status = BeatStatus::parse(s).ok_or_else(|| {
                    anyhow::anyhow!(
                        "A quest's status is pending, active, completed or failed, not “{s}”."
                    )
                })?;
            }
        }
    }
    Ok(row)
}

/// The world as the exchange format's sections (what `--json` prints).
fn as_json(world: &World, story: &StoryId) -> Value {
    let id = story.as_str();
    json!({
        "characters": world.characters.iter().map(|c| character_to_wire(c, id)).collect::<Vec<_>>(),
        "locations": world.places.iter().map(|p| place_to_wire(p, id)).collect::<Vec<_>>(),
        "items": world.items.iter().map(|i| item_to_wire(i, id)).collect::<Vec<_>>(),
        "storyBeats": world.beats.iter().map(|b| beat_to_wire(b, id)).collect::<Vec<_>>(),
        "timeTracker": world.time.map(|t| json!({
            "years": t.years, "days": t.days, "hours": t.hours, "minutes": t.minutes
        })),
    })
}

fn as_text(world: &World) -> String {
    let mut out = String::new();
    if let Some(time) = world.time {
        out.push_str(&format!("Time\t{}\n", time.describe()));
    }
    for c in &world.characters {
        let role = if c.is_protagonist() {
            "protagonist"
        } else {
            c.status.as_str()
        };
        out.push_str(&format!("character\t{}\t{}\t{role}\n", c.id, c.name));
    }
    for p in &world.places {
        let here = if p.current {
            "current"
        } else if p.visited {
            "visited"
        } else {
            ""
        };
        out.push_str(&format!("place\t{}\t{}\t{here}\n", p.id, p.name));
    }
    for i in &world.items {
        out.push_str(&format!(
            "item\t{}\t{}\t×{}\t{}\n",
            i.id, i.name, i.quantity, i.location
        ));
    }
    for b in &world.beats {
        out.push_str(&format!(
            "quest\t{}\t{}\t{}\n",
            b.id,
            b.title,
            b.status.as_str()
        ));
    }
    out
}
