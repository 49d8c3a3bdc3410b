-- Lorebook changes the lore agent proposes, waiting for the writer's word: nothing in the
-- lorebook changes until one is accepted. `action` is create, update, merge or delete;
-- `targets` the JSON list of the lore ids it touches (for a merge, the one kept first);
-- `draft` the entry as it would be after (JSON). An accepted one keeps `before` (the entries as
-- they were, JSON) and `created` (the new entry's id), so Undo can put the lorebook back.
CREATE TABLE lore_proposals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    story_id    TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'merge', 'delete')),
    targets     TEXT NOT NULL DEFAULT '[]',
    draft       TEXT,
    reason      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    before      TEXT,
    created     TEXT,
    created_at  INTEGER NOT NULL,
    decided_at  INTEGER
);

CREATE INDEX lore_proposals_by_story ON lore_proposals (story_id, status, id);
