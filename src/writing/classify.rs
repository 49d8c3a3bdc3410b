//! The classifier: after a narration, the Classifier task reads the newest entries and the world as
//! it stands and reports what changed (a change-set, as structured output); a sound one is applied
//! to the world in one transaction. Shared by the window (on a job) and `fabula generate`.

use super::WritingError;
use super::task::TaskCall;
use crate::domain::world_change::{Aliases, Applied, ChangeSet, apply_changes_named};
use crate::domain::{StoryId, Task, World, new_uuid};
use crate::jobs::CancelToken;
use crate::keys::KeyStore;
use crate::storage::Store;

/// Entries before the newest narration that the classifier sees.
const CONTEXT_ENTRIES: usize = 5;
/// Names of each kind listed in the prompt, so it reuses them instead of inventing twins.
const KNOWN_NAMES: usize = 60;

const INSTRUCTION: &str = "You keep track of the world of a story. Read the NEWEST NARRATION and report only what it changes: characters met or changed, places, items gained, lost, used or moved, quests and plot beats begun or resolved, where the protagonist is at its end, who is there, and how much story time it took. Use the names already known when the narration means them. Leave lists empty when nothing of that kind changed; never repeat what stays the same.";

fn known(world: &World) -> String {
    let names = |items: Vec<&str>| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items
                .into_iter()
                .take(KNOWN_NAMES)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let mut out = String::from("Known so far:\n");
    out.push_str(&format!(
        "- Characters: {}\n",
        names(world.characters.iter().map(|c| c.name.as_str()).collect())
    ));
    out.push_str(&format!(
        "- Places: {}{}\n",
        names(world.places.iter().map(|p| p.name.as_str()).collect()),
        world
            .current_place()
            .map(|p| format!(" (the protagonist is at {})", p.name))
            .unwrap_or_default()
    ));
    out.push_str(&format!(
        "- Carried: {}\n",
        names(
            world
                .items
                .iter()
                .filter(|i| i.is_carried())
                .map(|i| i.name.as_str())
                .collect()
        )
    ));
    out.push_str(&format!(
        "- Open quests and beats: {}\n",
        names(
            world
                .beats
                .iter()
                .filter(|b| b.status.is_open())
                .map(|b| b.title.as_str())
                .collect()
        )
    ));
    if let Some(me) = world.protagonist() {
        out.push_str(&format!("The protagonist is {}.\n", me.name));
    }
    out
}

/// Reads the newest narration of `story` and applies what it changed. Returns what was applied
/// (an empty summary when nothing changed) and the id it is kept under beside the narration. The world is read and written here, on the caller's
/// thread (a job's, in the window).
pub fn classify(
    store: &Store,
    keys: &dyn KeyStore,
    story_id: &StoryId,
    cancel: &CancelToken,
) -> Result<(Applied, Option<i64>), WritingError> {
    classify_with(store, keys, story_id, cancel, true).map(|(a, kept, _)| (a, kept))
}

/// As `classify`; with `apply` false the world is left as it is and the change-set is kept as
/// waiting for the writer's word (`Store::waiting_world_update`), beside the narration it
/// belongs to.
pub fn classify_with(
    store: &Store,
    keys: &dyn KeyStore,
    story_id: &StoryId,
    cancel: &CancelToken,
    apply: bool,
) -> Result<(Applied, Option<i64>, Option<crate::domain::EntryId>), WritingError> {
    let task = TaskCall::resolve(store, keys, Task::Classifier, story_id, cancel)?;
    let world = store.world(story_id)?;
    let recent = store.history_within(story_id, None, 6000)?;
    let Some((newest, before)) = recent.split_last() else {
        return Ok((Applied::default(), None, None));
    };
    let start = before.len().saturating_sub(CONTEXT_ENTRIES);
    let mut context = String::new();
    for item in &before[start..] {
        context.push_str(item.text.trim());
        context.push_str("\n\n");
    }
    let user = format!(
        "{}\nEARLIER:\n{}NEWEST NARRATION:\n{}",
        known(&world),
        context,
        newest.text.trim()
    );
    let request = task.request(INSTRUCTION, user, 0.2, 2000);
    let Some(changes) = task.shaped::<ChangeSet>(&request, "world_changes", cancel, &|detail| {
        format!("The world update could not be read ({detail}).")
    })?
    else {
        return Ok((Applied::default(), None, None));
    };
    changes
        .check()
        .map_err(|why| WritingError::Classifier(format!("The world update was refused: {why}")))?;
    let aliases = Aliases::from_lore(&store.lore(story_id)?);
    let applied = apply_changes_named(&world, &changes, &aliases, &mut new_uuid);
    if applied.is_nothing() {
        return Ok((applied, None, Some(newest.id.clone())));
    }
    let kept = if apply {
        store.keep_world_changes(story_id, &newest.id, &applied)?
    } else {
        store.record_pending_world_changes(story_id, &newest.id, &applied)?
    };
    Ok((applied, Some(kept), Some(newest.id.clone())))
}
