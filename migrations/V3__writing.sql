-- The writing loop: token counts per entry, the lorebook, streaming drafts and the prompt inspector's log.

-- NULL until counted; filled when an entry is written or first needed for a prompt.
ALTER TABLE entries ADD COLUMN token_count INTEGER;

CREATE TABLE lore_entries (
    id              TEXT PRIMARY KEY NOT NULL,
    story_id        TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('character', 'location', 'item', 'faction', 'concept', 'event')),
    description     TEXT NOT NULL DEFAULT '',
    hidden_info     TEXT,
    -- JSON arrays of strings.
    aliases         TEXT NOT NULL DEFAULT '[]',
    keywords        TEXT NOT NULL DEFAULT '[]',
    injection_mode  TEXT NOT NULL DEFAULT 'keyword' CHECK (injection_mode IN ('always', 'keyword', 'never')),
    priority        INTEGER NOT NULL DEFAULT 0,
    -- The exchange format's other lore fields, kept so a round trip loses nothing.
    state           TEXT,
    adventure_state TEXT,
    creative_state  TEXT,
    first_mentioned TEXT,
    last_mentioned  TEXT,
    mention_count   INTEGER NOT NULL DEFAULT 0,
    created_by      TEXT NOT NULL DEFAULT 'user',
    lore_management_blacklisted INTEGER NOT NULL DEFAULT 0,
    branch_id       TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER
);

CREATE INDEX lore_entries_by_story ON lore_entries (story_id, deleted_at, priority);

-- At most one narration in flight (or left over) per story. Written every second while streaming,
-- so a crash loses at most the last second of text.
CREATE TABLE drafts (
    story_id        TEXT PRIMARY KEY NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    -- NULL: a new narration at the end of the story; otherwise the entry being regenerated.
    target_entry_id TEXT,
    content         TEXT NOT NULL DEFAULT '',
    reasoning       TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL CHECK (state IN ('streaming', 'cancelled', 'failed')),
    error           TEXT,
    model           TEXT,
    started_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- The prompt inspector: exact requests (no keys) and raw replies of the latest generations.
CREATE TABLE generation_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    story_id   TEXT,
    task       TEXT NOT NULL,
    provider   TEXT NOT NULL,
    model      TEXT NOT NULL,
    url        TEXT NOT NULL,
    request    TEXT NOT NULL,
    response   TEXT NOT NULL DEFAULT '',
    reasoning  TEXT NOT NULL DEFAULT '',
    usage      TEXT,
    budget     TEXT,
    lore       TEXT,
    outcome    TEXT NOT NULL,
    error      TEXT,
    created_at INTEGER NOT NULL
);

CREATE INDEX generation_log_by_story ON generation_log (story_id, id);
