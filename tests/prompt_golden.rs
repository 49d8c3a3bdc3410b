//! Golden prompts: the narrator request for both modes × 3 points of view × 2 tenses, compared with
//! files under tests/golden/. `UPDATE_GOLDEN=1 cargo test --test prompt_golden` rewrites them after a
//! deliberate change; review the diff before committing.

use fabula::domain::{
    EntryId, EntryKind, HistoryItem, InjectionMode, LoreEntry, LoreKind, LoreMatcher,
    NarrationLength, Pov, PromptInput, PromptPack, Story, StoryId, StoryMode, StorySettings, Tense,
    assemble, count_tokens,
};

fn story(mode: StoryMode, pov: Pov, tense: Tense) -> Story {
    Story {
        id: StoryId::from("story-1"),
        title: "The Salt Road".into(),
        description: Some("A caravan crosses a desert that remembers.".into()),
        genre: Some("Fantasy".into()),
        mode,
        pov,
        tense,
        protagonist: (pov == Pov::Third).then(|| "Mara".to_owned()),
        created_at: 0,
        updated_at: 0,
    }
}

fn history(mode: StoryMode) -> Vec<HistoryItem> {
    let texts: &[(EntryKind, &str)] = match mode {
        StoryMode::Adventure => &[
            (
                EntryKind::Narration,
                "The caravan stops at the well of Qasr.",
            ),
            (
                EntryKind::UserAction,
                "I ask the guide about the Salt Witch.",
            ),
            (
                EntryKind::Narration,
                "The guide spits into the sand and says nothing.",
            ),
            (EntryKind::UserAction, "I draw water from the well."),
        ],
        StoryMode::CreativeWriting => &[
            (
                EntryKind::Narration,
                "The caravan stopped at the well of Qasr.",
            ),
            (
                EntryKind::UserAction,
                "Introduce the Salt Witch through rumour only.",
            ),
            (EntryKind::Narration, "Nobody said her name after dark."),
            (
                EntryKind::UserAction,
                "Mara goes to the well alone at night.",
            ),
        ],
    };
    texts
        .iter()
        .enumerate()
        .map(|(i, (kind, text))| HistoryItem {
            id: EntryId::from(format!("e{i}").as_str()),
            kind: *kind,
            text: (*text).to_owned(),
            tokens: count_tokens(text),
        })
        .collect()
}

fn lore() -> Vec<LoreEntry> {
    vec![
        LoreEntry {
            name: "Salt Witch".into(),
            description: "A figure of caravan legend said to drown travellers in dry sand.".into(),
            hidden_info: "She is the guide's mother.".into(),
            aliases: vec!["the Witch".into()],
            priority: 5,
            ..LoreEntry::default()
        },
        LoreEntry {
            name: "Qasr".into(),
            description: "An oasis town around a single deep well.".into(),
            kind: LoreKind::Location,
            mode: InjectionMode::Keyword,
            priority: 1,
            ..LoreEntry::default()
        },
        LoreEntry {
            name: "Ostrava".into(),
            description: "A port city far to the north.".into(),
            ..LoreEntry::default()
        },
    ]
}

#[test]
fn narrator_prompts_match_the_golden_files() {
    let pack = PromptPack::default();
    let lore = lore();
    let matcher = LoreMatcher::new(&lore);
    let settings = StorySettings {
        tone: "Wry, dusty, patient".into(),
        themes: vec!["memory".into(), "debt".into()],
        length: NarrationLength::Short,
        ..StorySettings::new()
    };
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for mode in StoryMode::ALL {
        for pov in Pov::ALL {
            for tense in Tense::ALL {
                let story = story(mode, pov, tense);
                let history = history(mode);
                let prompt = assemble(&PromptInput {
                    story: &story,
                    settings: &settings,
                    pack: &pack,
                    lore: &lore,
                    matcher: &matcher,
                    history: &history,
                    context_window: 8192,
                    max_output: 1024,
                    count_tokens: &count_tokens,
                    continuing: false,
                    world: &fabula::domain::World::default(),
                    chapters: &[],
                    recalled: None,
                })
                .expect("the default templates render");
                let text = format!(
                    "=== system ===\n{}\n=== user ===\n{}\n=== budget ===\n{:?}\n",
                    prompt.system, prompt.user, prompt.budget
                );
                let name = format!("{}-{}-{}.txt", mode.as_str(), pov.as_str(), tense.as_str());
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/golden")
                    .join(&name);
                if update {
                    std::fs::write(&path, &text).expect("write golden file");
                    continue;
                }
                let expected = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{name}: {e} (run with UPDATE_GOLDEN=1 once)"));
                if expected != text {
                    mismatches.push(format!(
                        "{name}:\n--- expected\n{expected}\n--- got\n{text}"
                    ));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn history_is_cut_from_the_oldest_end_and_the_input_always_stays() {
    let pack = PromptPack::default();
    let story = story(StoryMode::Adventure, Pov::Second, Tense::Present);
    let history = history(StoryMode::Adventure);
    let settings = StorySettings::new();
    let matcher = LoreMatcher::new(&[]);
    let full = |window: usize| {
        assemble(&PromptInput {
            story: &story,
            settings: &settings,
            pack: &pack,
            lore: &[],
            matcher: &matcher,
            history: &history,
            context_window: window,
            max_output: 100,
            count_tokens: &count_tokens,
            continuing: false,
            world: &fabula::domain::World::default(),
            chapters: &[],
            recalled: None,
        })
        .expect("renders")
    };
    let roomy = full(8192);
    assert!(roomy.cut.is_empty());
    assert!(roomy.user.starts_with("[NARRATIVE] The caravan stops"));
    // Just enough for the system prompt, the input and the newest older entry.
    let tight_window = roomy.budget.system + roomy.budget.input + history[2].tokens + 2 + 100;
    let tight = full(tight_window);
    assert_eq!(tight.cut, vec![EntryId::from("e0"), EntryId::from("e1")]);
    assert_eq!(
        (tight.budget.entries_sent, tight.budget.entries_left_out),
        (2, 2),
        "the newest older entry and the input went in"
    );
    assert_eq!(roomy.budget.entries_left_out, 0);
    assert!(tight.user.starts_with("[NARRATIVE] The guide spits"));
    assert!(
        tight
            .user
            .contains("[ACTION] I draw water from the well.\n\nContinue the narrative:")
    );
    assert!(tight.budget.used() <= tight_window);
}

/// A story with a world: what matters now, and the rest of the world the recent text names, in
/// the system prompt with its own part of the budget.
#[test]
fn a_world_goes_into_the_prompt_as_the_golden_file_has_it() {
    use fabula::domain::{Beat, BeatKind, BeatStatus, Character, Item, Place, StoryTime, World};
    let world = World {
        characters: vec![
            Character {
                id: "c1".into(),
                name: "Mara".into(),
                relationship: Some("self".into()),
                traits: vec!["patient".into(), "thirsty".into()],
                ..Character::default()
            },
            Character {
                id: "c2".into(),
                name: "The guide".into(),
                description: Some("Leads the caravan; speaks little.".into()),
                ..Character::default()
            },
            Character {
                id: "c3".into(),
                name: "Ostrava merchant".into(),
                ..Character::default()
            },
        ],
        places: vec![Place {
            id: "p1".into(),
            name: "Well of Qasr".into(),
            description: Some("A stone ring around black water.".into()),
            current: true,
            visited: true,
            ..Place::default()
        }],
        items: vec![
            Item {
                id: "i1".into(),
                name: "Waterskin".into(),
                quantity: 2,
                ..Item::default()
            },
            Item {
                id: "i2".into(),
                name: "Curved knife".into(),
                equipped: true,
                ..Item::default()
            },
        ],
        beats: vec![Beat {
            id: "b1".into(),
            title: "Find the Salt Witch".into(),
            kind: BeatKind::Quest,
            status: BeatStatus::Active,
            ..Beat::default()
        }],
        time: Some(StoryTime {
            years: 0,
            days: 11,
            hours: 22,
            minutes: 15,
        }),
    };
    let story = story(StoryMode::Adventure, Pov::Third, Tense::Past);
    let history = history(StoryMode::Adventure);
    let pack = PromptPack::default();
    let matcher = LoreMatcher::new(&[]);
    let settings = StorySettings::new();
    let prompt = assemble(&PromptInput {
        story: &story,
        settings: &settings,
        pack: &pack,
        lore: &[],
        matcher: &matcher,
        history: &history,
        context_window: 8192,
        max_output: 1024,
        count_tokens: &count_tokens,
        continuing: false,
        world: &world,
        chapters: &[],
        recalled: None,
    })
    .expect("renders");
    assert!(
        prompt.budget.world > 0,
        "the world has its part of the budget"
    );
    let text = format!(
        "=== system ===\n{}\n=== user ===\n{}\n=== budget ===\n{:?}\n",
        prompt.system, prompt.user, prompt.budget
    );
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/adventure-world.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("write golden file");
        return;
    }
    let expected =
        std::fs::read_to_string(&path).expect("golden file (run with UPDATE_GOLDEN=1 once)");
    assert_eq!(expected, text);
}

/// The chapters' summaries stand before the recent text as the story so far; in a window too
/// small for all of them the oldest goes first, and the budget says so.
#[test]
fn chapter_summaries_go_in_as_the_story_so_far_oldest_cut_first() {
    use fabula::domain::chapter::Chapter;
    let chapter = |number: i64, title: &str, summary: &str| Chapter {
        id: format!("c{number}"),
        number,
        title: Some(title.into()),
        summary: summary.into(),
        ..Chapter::default()
    };
    let long = "Mara crosses the salt flats by night, trades her lantern for a map, loses the map \
                to the wind, and follows the gulls instead until the sea shows grey ahead. "
        .repeat(20);
    let chapters = [
        chapter(1, "Salt", &long),
        chapter(
            2,
            "The Ferry",
            "Mara pays the ferryman in silver; he warns her of the chapel.",
        ),
        chapter(
            3,
            "The Chapel",
            "Inside the drowned chapel Mara finds the Salt Witch's mark.",
        ),
    ];
    let story = story(StoryMode::Adventure, Pov::Third, Tense::Past);
    let history = history(StoryMode::Adventure);
    let pack = PromptPack::default();
    let matcher = LoreMatcher::new(&[]);
    let settings = StorySettings::new();
    let world = fabula::domain::World::default();
    let assembled = |window: usize| {
        assemble(&PromptInput {
            story: &story,
            settings: &settings,
            pack: &pack,
            lore: &[],
            matcher: &matcher,
            history: &history,
            context_window: window,
            max_output: 256,
            count_tokens: &count_tokens,
            continuing: false,
            world: &world,
            chapters: &chapters,
            recalled: None,
        })
        .expect("renders")
    };
    let roomy = assembled(8192);
    assert_eq!(roomy.budget.chapters_left_out, 0);
    assert!(roomy.user.starts_with("[STORY SO FAR]\nChapter 1: Salt\n"));
    let tight = assembled(1100);
    assert_eq!(
        tight.budget.chapters_left_out, 1,
        "the long first chapter went first"
    );
    assert!(!tight.user.contains("Chapter 1: Salt"));
    assert!(tight.user.contains("Chapter 2: The Ferry") && tight.user.contains("Chapter 3:"));
    assert!(tight.budget.memory > 0);
    let text = format!(
        "=== user ===\n{}\n=== budget ===\n{:?}\n",
        tight.user, tight.budget
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/adventure-chapters.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("write golden file");
        return;
    }
    let expected =
        std::fs::read_to_string(&path).expect("golden file (run with UPDATE_GOLDEN=1 once)");
    assert_eq!(expected, text);
}

/// A template that names `{{story_so_far}}` has the summaries and what recall found there, in
/// the system prompt, and the history no longer opens with them.
#[test]
fn the_story_so_far_placeholder_puts_the_summaries_in_the_template() {
    use fabula::domain::chapter::Chapter;
    let chapters = [Chapter {
        id: "c1".into(),
        number: 1,
        title: Some("The Ferry".into()),
        summary: "Mara pays the ferryman in silver.".into(),
        ..Chapter::default()
    }];
    let story = story(StoryMode::Adventure, Pov::Third, Tense::Past);
    let history = history(StoryMode::Adventure);
    let mut pack = PromptPack::default();
    pack.adventure = format!(
        "{}\nEarlier in the story:\n{{{{story_so_far}}}}",
        pack.adventure
    );
    let matcher = LoreMatcher::new(&[]);
    let settings = StorySettings::new();
    let world = fabula::domain::World::default();
    let assembled = |pack: &PromptPack| {
        assemble(&PromptInput {
            story: &story,
            settings: &settings,
            pack,
            lore: &[],
            matcher: &matcher,
            history: &history,
            context_window: 8192,
            max_output: 256,
            count_tokens: &count_tokens,
            continuing: false,
            world: &world,
            chapters: &chapters,
            recalled: Some("Q (Chapter 1: The Ferry): What did Mara pay?\nA: Silver."),
        })
        .expect("renders")
    };
    let placed = assembled(&pack);
    assert!(
        placed.system.ends_with(
            "Earlier in the story:\n[STORY SO FAR]\nChapter 1: The Ferry\nMara pays the ferryman in silver.\n\n[RECALLED FROM EARLIER CHAPTERS]\nQ (Chapter 1: The Ferry): What did Mara pay?\nA: Silver."
        ),
        "{}",
        placed.system
    );
    assert!(!placed.user.contains("[STORY SO FAR]") && !placed.user.contains("Silver."));
    let default = assembled(&PromptPack::default());
    assert!(
        default
            .user
            .starts_with("[STORY SO FAR]\nChapter 1: The Ferry")
    );
    assert!(
        default
            .user
            .contains("[RECALLED FROM EARLIER CHAPTERS]\nQ (Chapter 1")
    );
    assert_eq!(
        placed.budget.memory, default.budget.memory,
        "the same part of the budget"
    );
}
