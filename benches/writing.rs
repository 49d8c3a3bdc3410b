//! The writing loop's budgets: assembling the narrator prompt for a 10,000-entry story with a
//! 5,000-entry lorebook, rebuilding the lorebook matcher, and reading the prompt's history from SQLite.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fabula::domain::{
    EntryId, EntryKind, HistoryItem, InjectionMode, LoreEntry, LoreKind, LoreMatcher, Pov,
    PromptInput, PromptPack, Story, StoryId, StoryMode, StorySettings, Tense, assemble,
    count_tokens,
};
use fabula::storage::{DataPaths, Store};

fn story() -> Story {
    Story {
        id: StoryId::from("bench"),
        title: "Bench".into(),
        description: Some("A long story.".into()),
        genre: Some("Fantasy".into()),
        mode: StoryMode::Adventure,
        pov: Pov::Second,
        tense: Tense::Present,
        protagonist: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn history(entries: usize) -> Vec<HistoryItem> {
    (0..entries)
        .map(|i| {
            let kind = if i % 2 == 0 {
                EntryKind::UserAction
            } else {
                EntryKind::Narration
            };
            let text = if kind == EntryKind::UserAction {
                format!("I ask Keeper{} about the light ({i}).", i % 5000)
            } else {
                fabula::cli::seed_text(i)
            };
            HistoryItem {
                id: EntryId::from(format!("e{i}").as_str()),
                kind,
                tokens: count_tokens(&text),
                text,
            }
        })
        .collect()
}

fn lorebook(entries: usize) -> Vec<LoreEntry> {
    (0..entries)
        .map(|i| LoreEntry {
            name: format!("Keeper{i}"),
            kind: LoreKind::Character,
            description: format!(
                "Keeper number {i} of the northern lights, who remembers every ship."
            ),
            aliases: vec![format!("the {i}th keeper")],
            keywords: vec![format!("lamp{i}")],
            mode: if i % 50 == 0 {
                InjectionMode::Always
            } else {
                InjectionMode::Keyword
            },
            priority: (i % 7) as i64,
            ..LoreEntry::default()
        })
        .collect()
}

/// A large world: 1,000 characters, 500 places, 2,000 items, 300 beats, some named in the story.
fn big_world() -> fabula::domain::World {
    use fabula::domain::{Beat, BeatStatus, Character, Item, Place, StoryTime, World};
    World {
        characters: (0..1000)
            .map(|i| Character {
                id: format!("c{i}"),
                name: format!("Keeper{i}"),
                description: Some(format!(
                    "Keeper {i}, who tends a lamp on the northern coast."
                )),
                relationship: (i == 0).then(|| "self".to_owned()),
                traits: vec!["watchful".into(), "stubborn".into()],
                ..Character::default()
            })
            .collect(),
        places: (0..500)
            .map(|i| Place {
                id: format!("p{i}"),
                name: format!("Cove {i}"),
                current: i == 7,
                description: Some("A grey inlet under cliffs.".into()),
                ..Place::default()
            })
            .collect(),
        items: (0..2000)
            .map(|i| Item {
                id: format!("i{i}"),
                name: format!("Lamp part {i}"),
                location: if i % 10 == 0 {
                    "inventory".into()
                } else {
                    format!("p{}", i % 500)
                },
                ..Item::default()
            })
            .collect(),
        beats: (0..300)
            .map(|i| Beat {
                id: format!("b{i}"),
                title: format!("Relight lamp {i}"),
                status: if i % 3 == 0 {
                    BeatStatus::Active
                } else {
                    BeatStatus::Completed
                },
                ..Beat::default()
            })
            .collect(),
        time: Some(StoryTime {
            years: 1,
            days: 40,
            hours: 3,
            minutes: 5,
        }),
    }
}

fn assembly(c: &mut Criterion) {
    let story = story();
    let history = history(10_000);
    let lore = lorebook(5_000);
    let matcher = LoreMatcher::new(&lore);
    let pack = PromptPack::default();
    let settings = StorySettings::new();
    let world = big_world();
    let chapters: Vec<fabula::domain::chapter::Chapter> = (1..=300)
        .map(|n| fabula::domain::chapter::Chapter {
            id: format!("c{n}"),
            number: n,
            title: Some(format!("Chapter title {n}")),
            summary: format!(
                "In chapter {n} the keeper climbs the stair, trims the wick, logs the ships that \
                 pass and argues with the harbour master about the fog bell; a stranger asks \
                 after the old lamp and leaves a coin on the sill."
            ),
            ..Default::default()
        })
        .map(|c| fabula::domain::chapter::Chapter {
            // As the store reads them: counted when saved.
            prompt_tokens: Some(count_tokens(&c.prompt_text())),
            ..c
        })
        .collect();
    let empty_world = fabula::domain::World::default();
    // One assembly over the 10k-entry story and 5k lore entries, with this world and these chapters.
    let assembled = |world: &fabula::domain::World,
                     chapters: &[fabula::domain::chapter::Chapter]| {
        assemble(&PromptInput {
            story: &story,
            settings: &settings,
            pack: &pack,
            lore: &lore,
            matcher: &matcher,
            history: &history,
            context_window: 128_000,
            max_output: 1024,
            count_tokens: &count_tokens,
            continuing: false,
            world,
            chapters,
            recalled: None,
        })
        .map(|p| p.user.len())
    };
    let mut group = c.benchmark_group("prompt");
    group.bench_function("assemble: 10k entries, 5k lore, 128k window", |b| {
        b.iter(|| assembled(&empty_world, &[]))
    });
    group.bench_function(
        "assemble: 10k entries, 5k lore, world of 1k characters, 500 places, 2k items, 300 beats",
        |b| b.iter(|| assembled(&world, &[])),
    );
    group.bench_function(
        "assemble: 10k entries, 5k lore, 300 chapter summaries",
        |b| b.iter(|| assembled(&empty_world, &chapters)),
    );
    group.bench_function("rebuild matcher: 5k lore entries", |b| {
        b.iter(|| LoreMatcher::new(&lore))
    });
    group.finish();
}

fn history_from_sqlite(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tmp");
    let paths = DataPaths {
        dir: dir.path().join("data"),
    };
    paths.ensure().expect("data dir");
    let mut store = Store::open(&paths.database()).expect("store");
    let id = StoryId(fabula::cli::seed(&mut store, 10_000, Some("Bench")).expect("seed"));
    // Token counts are filled on first use; the budget is for the usual, warm case.
    store.history_within(&id, None, 10_000_000).expect("warm");
    c.bench_function(
        "prompt history from SQLite: 10k entries, 127k tokens",
        |b| b.iter(|| store.history_within(&id, None, 127_000).map(|h| h.len())),
    );
}

/// The world as the prompt and the World panel read it, and one hand edit, on the large world.
fn world_in_sqlite(c: &mut Criterion) {
    use fabula::domain::{Item, WorldRow};
    let dir = tempfile::tempdir().expect("tmp");
    let paths = DataPaths {
        dir: dir.path().join("data"),
    };
    paths.ensure().expect("data dir");
    let mut store = Store::open(&paths.database()).expect("store");
    let id = StoryId(fabula::cli::seed(&mut store, 10, Some("World")).expect("seed"));
    let world = big_world();
    for c in world.characters {
        store
            .save_world_row(&id, &WorldRow::Character(Box::new(c)))
            .expect("character");
    }
    for p in world.places {
        store
            .save_world_row(&id, &WorldRow::Place(p))
            .expect("place");
    }
    for i in world.items {
        store.save_world_row(&id, &WorldRow::Item(i)).expect("item");
    }
    for b in world.beats {
        store.save_world_row(&id, &WorldRow::Beat(b)).expect("beat");
    }
    let mut group = c.benchmark_group("world");
    // A change-set as a narration brings one: two characters, a move, three items, a quest, time.
    let changes: fabula::domain::world_change::ChangeSet = serde_json::from_str(
        r#"{"characters":[{"name":"Keeper12","description":"Older now.","relationship":null,"traits":["tired"],"status":null},
                          {"name":"Mira","description":"New in town.","relationship":"friend","traits":null,"status":null}],
            "places":[],
            "items":[{"name":"Lamp part 3","description":null,"quantity":2,"equipped":null,"location":"inventory"},
                     {"name":"Rope","description":null,"quantity":1,"equipped":null,"location":"inventory"},
                     {"name":"Lamp part 10","description":null,"quantity":null,"equipped":null,"location":"Cove 3"}],
            "beats":[{"title":"Relight lamp 3","description":null,"kind":null,"status":"completed"}],
            "scene":{"current_place":"Cove 12","present":["Mira"],"time_passed":"2 hours"}}"#,
    )
    .expect("change-set");
    let world_now = store.world(&id).expect("world");
    group.bench_function(
        "apply a change-set to the world of 3,800 rows (in memory)",
        |b| {
            let mut n = 0u64;
            b.iter(|| {
                fabula::domain::world_change::apply_changes(&world_now, &changes, &mut || {
                    n += 1;
                    format!("bench-{n}")
                })
            })
        },
    );
    let mut n = 0u64;
    let applied = fabula::domain::world_change::apply_changes(&world_now, &changes, &mut || {
        n += 1;
        format!("bench-{n}")
    });
    group.bench_function(
        "write and revert a change-set in the world of 3,800 rows",
        |b| {
            b.iter(|| {
                store.apply_world_changes(&id, &applied, false)?;
                store.apply_world_changes(&id, &applied, true)
            })
        },
    );
    group.bench_function("read the world of 3,800 rows from SQLite", |b| {
        b.iter(|| store.world(&id).map(|w| w.items.len()))
    });
    let mut n = 0u64;
    group.bench_function("save one item into the world of 3,800 rows", |b| {
        b.iter(|| {
            n += 1;
            store.save_world_row(
                &id,
                &WorldRow::Item(Item {
                    id: "i-bench".into(),
                    name: format!("Rope {n}"),
                    ..Item::default()
                }),
            )
        })
    });
    group.finish();
}

fn tokenizer_first_use(c: &mut Criterion) {
    let mut group = c.benchmark_group("tokenizer");
    group.sample_size(10);
    group.bench_function("o200k_base tables built from the vocabulary", |b| {
        b.iter(|| fabula::domain::build_o200k_tables().map(|t| t.num_tokens()))
    });
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("o200k_base.tables");
    let tables = fabula::domain::build_o200k_tables().expect("tables");
    fabula::storage::write_tables(&path, &tables).expect("cache");
    group.bench_function("o200k_base tables read from the cache file", |b| {
        b.iter(|| fabula::storage::read_tables(&path).map(|t| t.num_tokens()))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = assembly, history_from_sqlite, world_in_sqlite, tokenizer_first_use
}
criterion_main!(benches);
