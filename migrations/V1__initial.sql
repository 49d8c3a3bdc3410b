-- Fabula's first schema, modelled on the .avt exchange shapes (text UUID ids, Unix-ms times).
-- Shipped migrations are never edited: add V2__… instead.

CREATE TABLE stories (
    id                 TEXT PRIMARY KEY NOT NULL,
    title              TEXT NOT NULL,
    description        TEXT,
    genre              TEXT,
    template_id        TEXT,
    mode               TEXT NOT NULL CHECK (mode IN ('adventure', 'creative-writing')),
    pov                TEXT NOT NULL DEFAULT 'second' CHECK (pov IN ('first', 'second', 'third')),
    tense              TEXT NOT NULL DEFAULT 'present' CHECK (tense IN ('past', 'present')),
    protagonist        TEXT,
    -- The exchange format's other story objects, kept as JSON so nothing is lost on a round trip.
    settings           TEXT,
    memory_config      TEXT,
    retry_state        TEXT,
    style_review_state TEXT,
    time_tracker       TEXT,
    current_branch_id  TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    deleted_at         INTEGER,
    -- Kept by triggers so the library never scans entries.
    entry_count        INTEGER NOT NULL DEFAULT 0,
    word_count         INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX stories_by_updated ON stories (deleted_at, updated_at);

CREATE TABLE entries (
    id                   TEXT PRIMARY KEY NOT NULL,
    story_id             TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL CHECK (kind IN ('user_action', 'narration', 'system', 'retry')),
    content              TEXT NOT NULL,
    parent_id            TEXT,
    position             INTEGER NOT NULL,
    branch_id            TEXT,
    metadata             TEXT,
    reasoning            TEXT,
    translated_content   TEXT,
    translation_language TEXT,
    original_input       TEXT,
    -- The chosen alternative (swipe); NULL means the entry's own content.
    active_alternative_id TEXT,
    char_count           INTEGER NOT NULL,
    word_count           INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    deleted_at           INTEGER
);

-- Covers the story view's row index (no content read) and the append's MAX(position).
CREATE INDEX entries_by_story_position
    ON entries (story_id, position, deleted_at, kind, char_count, id);

-- Alternative texts of one entry (regenerations, "swipes").
CREATE TABLE entry_alternatives (
    id         TEXT PRIMARY KEY NOT NULL,
    entry_id   TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    content    TEXT NOT NULL,
    reasoning  TEXT,
    metadata   TEXT,
    created_at INTEGER NOT NULL
);

CREATE INDEX entry_alternatives_by_entry ON entry_alternatives (entry_id, created_at);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TRIGGER entries_count_insert AFTER INSERT ON entries
WHEN NEW.deleted_at IS NULL
BEGIN
    UPDATE stories SET entry_count = entry_count + 1, word_count = word_count + NEW.word_count,
        updated_at = MAX(updated_at, NEW.updated_at)
    WHERE id = NEW.story_id;
END;

CREATE TRIGGER entries_count_update AFTER UPDATE OF content, word_count, deleted_at ON entries
BEGIN
    UPDATE stories
    SET entry_count = entry_count
            - (OLD.deleted_at IS NULL) + (NEW.deleted_at IS NULL),
        word_count = word_count
            - CASE WHEN OLD.deleted_at IS NULL THEN OLD.word_count ELSE 0 END
            + CASE WHEN NEW.deleted_at IS NULL THEN NEW.word_count ELSE 0 END,
        updated_at = MAX(updated_at, NEW.updated_at)
    WHERE id = NEW.story_id;
END;

CREATE TRIGGER entries_count_delete AFTER DELETE ON entries
WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE stories SET entry_count = entry_count - 1, word_count = word_count - OLD.word_count
    WHERE id = OLD.story_id;
END;
