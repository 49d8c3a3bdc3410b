-- The story world: characters, places, items and story beats, as the exchange format's sections
-- `characters`, `locations`, `items` and `storyBeats` carry them. Ids are the file's, unique within
-- a story (a copy keeps them, as the original's own copies do). `position` keeps the file's order;
-- `extra` holds the keys Fabula does not model, as a JSON object, so nothing is lost on the way
-- through. Every row names the branch it belongs to (NULL: the story's main line).
CREATE TABLE world_characters (
    story_id     TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    branch_id    TEXT,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT,
    -- "self" marks the protagonist.
    relationship TEXT,
    traits       TEXT NOT NULL DEFAULT '[]',
    -- face, hair, eyes, build, clothing, accessories, distinguishing (and any other key).
    visual       TEXT NOT NULL DEFAULT '{}',
    portrait     TEXT,
    status       TEXT NOT NULL DEFAULT 'active',
    metadata     TEXT,
    extra        TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER,
    PRIMARY KEY (story_id, id)
);

CREATE TABLE world_places (
    story_id    TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    branch_id   TEXT,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    visited     INTEGER NOT NULL DEFAULT 0,
    current     INTEGER NOT NULL DEFAULT 0,
    -- Ids of the places one can go to from here, as a JSON array.
    connections TEXT NOT NULL DEFAULT '[]',
    metadata    TEXT,
    extra       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER,
    PRIMARY KEY (story_id, id)
);

CREATE TABLE world_items (
    story_id    TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    branch_id   TEXT,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    quantity    INTEGER NOT NULL DEFAULT 1,
    equipped    INTEGER NOT NULL DEFAULT 0,
    -- "inventory", or the place (id or name) where it lies.
    location    TEXT NOT NULL DEFAULT 'inventory',
    metadata    TEXT,
    extra       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER,
    PRIMARY KEY (story_id, id)
);

CREATE TABLE world_beats (
    story_id     TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    branch_id    TEXT,
    position     INTEGER NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT,
    kind         TEXT NOT NULL DEFAULT 'event',
    status       TEXT NOT NULL DEFAULT 'pending',
    triggered_at INTEGER,
    resolved_at  INTEGER,
    metadata     TEXT,
    extra        TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER,
    PRIMARY KEY (story_id, id)
);
