-- Chapters: long-term memory. A chapter closes a run of a story's entries (start to end, by id)
-- and holds its summary, which the narrator reads instead of those entries. The columns are the
-- original app's chapter fields; `extra` keeps any key of a file's chapter Fabula does not model,
-- so a file goes through unchanged. Story time at the start and end is the tracker's JSON text.
CREATE TABLE chapters (
    story_id       TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    branch_id      TEXT,
    number         INTEGER NOT NULL,
    title          TEXT,
    start_entry_id TEXT NOT NULL,
    end_entry_id   TEXT NOT NULL,
    entry_count    INTEGER NOT NULL,
    summary        TEXT NOT NULL,
    start_time     TEXT,
    end_time       TEXT,
    keywords       TEXT NOT NULL DEFAULT '[]',
    characters     TEXT NOT NULL DEFAULT '[]',
    places         TEXT NOT NULL DEFAULT '[]',
    plot_threads   TEXT NOT NULL DEFAULT '[]',
    tone           TEXT,
    -- Tokens of the chapter as the prompt tells it (heading and summary), counted when saved.
    prompt_tokens  INTEGER,
    extra          TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted_at     INTEGER,
    PRIMARY KEY (story_id, id)
);

CREATE INDEX chapters_by_number ON chapters (story_id, deleted_at, number);
