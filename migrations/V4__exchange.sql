-- The exchange format (.avt): fields we do not model yet are kept so a round trip loses nothing.

-- Unknown keys of the exchange objects, as a JSON object (NULL when there were none).
ALTER TABLE stories ADD COLUMN extra TEXT;
ALTER TABLE entries ADD COLUMN extra TEXT;
ALTER TABLE lore_entries ADD COLUMN extra TEXT;
-- Unknown keys inside a lore entry's `injection` object.
ALTER TABLE lore_entries ADD COLUMN injection_extra TEXT;

-- Whole top-level sections of an imported file kept verbatim (characters, locations, items,
-- storyBeats, chapters, checkpoints, branches, embeddedImages, currentBgImage, and any unknown key).
CREATE TABLE story_sections (
    story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    json     TEXT NOT NULL,
    PRIMARY KEY (story_id, name)
);
