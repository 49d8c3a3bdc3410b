//! Wire form to bundle and back: the checks a file must pass, and the sections Fabula models.

use super::*;

/// Checks and converts a parsed file.
pub fn from_wire(file: AvtFile) -> Result<StoryBundle, FormatError> {
    check_version(&file.version)?;
    let mut story = story_from_wire(&file.story)?;
    let mut check = EntryCheck::new(&story.id);
    let mut entries = file
        .entries
        .into_iter()
        .map(|e| check.entry(e))
        .collect::<Result<Vec<_>, _>>()?;
    check.finish()?;
    entries.sort_by_key(|e| e.position);
    story.protagonist = protagonist(&file.sections);
    let lore = lore_from_wire(file.lorebook_entries, &mut check.seen, &story.id)?;
    Ok(StoryBundle {
        story,
        entries,
        lore,
        sections: sections_from_wire(file.sections),
    })
}

pub(super) fn check_version(version: &str) -> Result<(), FormatError> {
    let major = version.split('.').next().unwrap_or("");
    if major == "1" {
        Ok(())
    } else {
        Err(FormatError::Invalid(format!(
            "This file is version {version}; Fabula reads version 1 files."
        )))
    }
}

/// The story as stored, without its protagonist (named in the `characters` section).
pub(super) fn story_from_wire(story: &AvtStory) -> Result<BundleStory, FormatError> {
    if story.id.trim().is_empty() {
        return Err(FormatError::Invalid("The story has no id.".into()));
    }
    let mode = StoryMode::parse(&story.mode).ok_or_else(|| {
        FormatError::Invalid(format!(
            "The story's mode “{}” is neither adventure nor creative-writing.",
            story.mode
        ))
    })?;
    let setting = |key: &str| {
        story
            .settings
            .as_ref()
            .and_then(|s| s.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let pov = setting("pov")
        .and_then(|p| Pov::parse(&p))
        .unwrap_or_default();
    let tense = setting("tense")
        .and_then(|t| Tense::parse(&t))
        .unwrap_or_default();
    Ok(BundleStory {
        id: StoryId(story.id.clone()),
        title: story.title.clone(),
        description: story.description.clone(),
        genre: story.genre.clone(),
        template_id: story.template_id.clone(),
        mode,
        pov,
        tense,
        protagonist: None,
        settings: json_text(&story.settings),
        memory_config: json_text(&story.memory_config),
        retry_state: json_text(&story.retry_state),
        style_review_state: json_text(&story.style_review_state),
        time_tracker: json_text(&story.time_tracker),
        current_branch_id: story.current_branch_id.clone(),
        created_at: story.created_at,
        updated_at: story.updated_at,
        extra: extra_text(&story.extra),
    })
}

/// The original marks the protagonist as the character whose relationship is "self".
pub(super) fn protagonist(sections: &Map<String, Value>) -> Option<String> {
    sections
        .get("characters")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("relationship").and_then(Value::as_str) == Some("self"))
        })
        .and_then(|c| c.get("name").and_then(Value::as_str))
        .map(str::to_owned)
}

/// The checks each entry must pass, one entry at a time: ids present and unique, of this story,
/// of a known kind, and (once all are read) every parent among them.
pub(super) struct EntryCheck {
    story_id: String,
    pub(super) seen: HashSet<String>,
    count: usize,
    /// Parents not yet seen when their child was read.
    ahead: Vec<(String, String)>,
}

impl EntryCheck {
    pub(super) fn new(story_id: &StoryId) -> Self {
        Self {
            story_id: story_id.0.clone(),
            seen: HashSet::new(),
            count: 0,
            ahead: Vec::new(),
        }
    }

    pub(super) fn entry(&mut self, e: AvtEntry) -> Result<BundleEntry, FormatError> {
        self.count += 1;
        let i = self.count;
        let where_ = || format!("Entry {i} ({})", e.id);
        if e.id.trim().is_empty() {
            return Err(FormatError::Invalid(format!("Entry {i} has no id.")));
        }
        if !self.seen.insert(e.id.clone()) {
            return Err(FormatError::Invalid(format!(
                "{} appears twice in the file.",
                where_()
            )));
        }
        if e.story_id != self.story_id {
            return Err(FormatError::Invalid(format!(
                "{} belongs to another story ({}).",
                where_(),
                e.story_id
            )));
        }
        let kind = EntryKind::parse(&e.kind).ok_or_else(|| {
            FormatError::Invalid(format!("{} has an unknown type “{}”.", where_(), e.kind))
        })?;
        if let Some(parent) = &e.parent_id
            && !self.seen.contains(parent)
        {
            self.ahead.push((e.id.clone(), parent.clone()));
        }
        Ok(BundleEntry {
            id: EntryId(e.id),
            kind,
            content: e.content,
            parent_id: e.parent_id,
            position: e.position,
            created_at: e.created_at,
            updated_at: e.created_at,
            metadata: json_text(&e.metadata),
            branch_id: e.branch_id,
            reasoning: e.reasoning,
            translated_content: e.translated_content,
            translation_language: e.translation_language,
            original_input: e.original_input,
            extra: extra_text(&e.extra),
        })
    }

    pub(super) fn finish(&self) -> Result<(), FormatError> {
        match self
            .ahead
            .iter()
            .find(|(_, parent)| !self.seen.contains(parent))
        {
            Some((id, parent)) => Err(FormatError::Invalid(format!(
                "Entry {id} points to a parent entry {parent} that is not in the file."
            ))),
            None => Ok(()),
        }
    }
}

/// The lorebook; its ids must differ from each other and from the entries' (`seen`).
pub(super) fn lore_from_wire(
    lorebook: Option<Vec<AvtLore>>,
    seen: &mut HashSet<String>,
    story_id: &StoryId,
) -> Result<Vec<BundleLore>, FormatError> {
    let mut lore = Vec::new();
    for (i, l) in lorebook.into_iter().flatten().enumerate() {
        let where_ = || format!("Lore entry {} ({})", i + 1, l.name);
        if !seen.insert(l.id.clone()) {
            return Err(FormatError::Invalid(format!(
                "{} reuses the id {}.",
                where_(),
                l.id
            )));
        }
        let kind = LoreKind::parse(&l.kind).ok_or_else(|| {
            FormatError::Invalid(format!("{} has an unknown type “{}”.", where_(), l.kind))
        })?;
        let mode = InjectionMode::parse(&l.injection.mode).ok_or_else(|| {
            FormatError::Invalid(format!(
                "{} has an unknown injection mode “{}”.",
                where_(),
                l.injection.mode
            ))
        })?;
        lore.push(BundleLore {
            entry: LoreEntry {
                id: LoreId(l.id),
                story_id: story_id.clone(),
                name: l.name,
                kind,
                description: l.description,
                hidden_info: l.hidden_info.unwrap_or_default(),
                aliases: l.aliases,
                keywords: l.injection.keywords,
                mode,
                priority: l.injection.priority,
                created_at: l.created_at,
                updated_at: l.updated_at,
            },
            state: json_text(&l.state),
            adventure_state: json_text(&l.adventure_state),
            creative_state: json_text(&l.creative_state),
            first_mentioned: json_text(&l.first_mentioned),
            last_mentioned: json_text(&l.last_mentioned),
            mention_count: l.mention_count,
            created_by: l.created_by,
            blacklisted: l.lore_management_blacklisted,
            branch_id: l.branch_id,
            extra: extra_text(&l.extra),
            injection_extra: extra_text(&l.injection.extra),
        });
    }

    Ok(lore)
}

pub(super) fn sections_from_wire(sections: Map<String, Value>) -> Vec<(String, String)> {
    sections
        .into_iter()
        .filter(|(k, _)| !MODELED.contains(&k.as_str()))
        .map(|(k, v)| (k, v.to_string()))
        .collect()
}

/// The settings object as the file carries it, with the point of view and tense Fabula may have
/// changed. A story without settings keeps `null` unless they differ from the defaults.
pub(super) fn settings_value(story: &BundleStory) -> Option<Value> {
    let mut settings = parse_json(&story.settings);
    match &mut settings {
        Some(Value::Object(map)) => {
            map.insert("pov".into(), Value::from(story.pov.as_str()));
            map.insert("tense".into(), Value::from(story.tense.as_str()));
        }
        _ if story.pov != Pov::default() || story.tense != Tense::default() => {
            settings = Some(serde_json::json!({
                "pov": story.pov.as_str(),
                "tense": story.tense.as_str(),
            }));
        }
        _ => {}
    }
    settings
}

/// Converts a bundle to the wire form this build writes (version 1.8.0, every listed section).
pub fn to_wire(bundle: &StoryBundle) -> AvtFile {
    into_wire(bundle.clone())
}

/// As `to_wire`, taking the bundle so the texts move instead of being copied (a story can be
/// hundreds of megabytes).
pub fn into_wire(bundle: StoryBundle) -> AvtFile {
    let settings = settings_value(&bundle.story);
    let story = bundle.story;
    let id = story.id.0;
    let entries = bundle
        .entries
        .into_iter()
        .map(|e| entry_to_wire(e, &id))
        .collect();
    let lore = bundle
        .lore
        .into_iter()
        .map(|l| {
            let kind = l.entry.kind.as_str().to_owned();
            AvtLore {
                id: l.entry.id.0,
                story_id: id.clone(),
                name: l.entry.name,
                state: parse_json(&l.state).or_else(|| Some(serde_json::json!({ "type": kind }))),
                kind,
                description: l.entry.description,
                hidden_info: Some(l.entry.hidden_info).filter(|h| !h.is_empty()),
                aliases: l.entry.aliases,
                adventure_state: parse_json(&l.adventure_state),
                creative_state: parse_json(&l.creative_state),
                injection: AvtInjection {
                    mode: l.entry.mode.as_str().to_owned(),
                    keywords: l.entry.keywords,
                    priority: l.entry.priority,
                    extra: parse_extra(&l.injection_extra),
                },
                first_mentioned: parse_json(&l.first_mentioned),
                last_mentioned: parse_json(&l.last_mentioned),
                mention_count: l.mention_count,
                created_by: l.created_by,
                created_at: l.entry.created_at,
                updated_at: l.entry.updated_at,
                lore_management_blacklisted: l.blacklisted,
                branch_id: l.branch_id,
                extra: parse_extra(&l.extra),
            }
        })
        .collect();
    let mut sections: Map<String, Value> = bundle
        .sections
        .into_iter()
        .filter_map(|(k, v)| Some((k, serde_json::from_str(&v).ok()?)))
        .collect();
    for key in LISTED_ARRAYS {
        sections
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
    }
    for key in LISTED_NULLABLE {
        sections.entry((*key).to_owned()).or_insert(Value::Null);
    }
    AvtFile {
        version: WRITE_VERSION.to_owned(),
        exported_at: now_ms(),
        story: AvtStory {
            id,
            title: story.title,
            description: story.description,
            genre: story.genre,
            template_id: story.template_id,
            mode: story.mode.as_str().to_owned(),
            created_at: story.created_at,
            updated_at: story.updated_at,
            settings,
            memory_config: parse_json(&story.memory_config),
            retry_state: parse_json(&story.retry_state),
            style_review_state: parse_json(&story.style_review_state),
            time_tracker: parse_json(&story.time_tracker),
            current_branch_id: story.current_branch_id,
            extra: parse_extra(&story.extra),
        },
        entries,
        lorebook_entries: Some(lore),
        sections,
    }
}

pub(super) fn entry_to_wire(e: BundleEntry, story_id: &str) -> AvtEntry {
    AvtEntry {
        id: e.id.0,
        story_id: story_id.to_owned(),
        kind: e.kind.as_str().to_owned(),
        content: e.content,
        parent_id: e.parent_id,
        position: e.position,
        created_at: e.created_at,
        metadata: parse_json(&e.metadata),
        branch_id: e.branch_id,
        reasoning: e.reasoning.filter(|r| !r.is_empty()),
        translated_content: e.translated_content,
        translation_language: e.translation_language,
        original_input: e.original_input,
        extra: parse_extra(&e.extra),
    }
}
