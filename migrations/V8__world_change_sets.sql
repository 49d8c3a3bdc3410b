-- What each world update did, tied to the narration text that caused it: the entry and the
-- alternative shown when it was made. When that text is no longer what the story shows (another
-- alternative chosen, the entry deleted or undone) the update is taken back; when it is shown
-- again, the update is made again. `applied` holds each row before and after, as JSON.
CREATE TABLE world_change_sets (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    story_id       TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    entry_id       TEXT NOT NULL,
    alternative_id TEXT,
    applied        TEXT NOT NULL,
    summary        TEXT NOT NULL,
    in_effect      INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL
);

CREATE INDEX world_change_sets_by_entry ON world_change_sets (entry_id, id);
