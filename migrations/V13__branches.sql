-- A story's tree of branches and its checkpoints, the original's `branches` and `checkpoints`
-- sections as tables. A branch forks from an entry of its parent's line (NULL parent: the main
-- line) and owns the entries whose branch_id names it; creating one copies nothing. `extra`
-- keeps every key of a file's object Fabula does not model (a checkpoint's snapshots among
-- them), so a file goes through unchanged.
CREATE TABLE branches (
    story_id      TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    parent_id     TEXT,
    fork_entry_id TEXT NOT NULL,
    checkpoint_id TEXT,
    created_at    INTEGER NOT NULL,
    extra         TEXT,
    deleted_at    INTEGER,
    PRIMARY KEY (story_id, id)
);

CREATE TABLE checkpoints (
    story_id    TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    entry_id    TEXT NOT NULL,
    branch_id   TEXT,
    preview     TEXT,
    entry_count INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    extra       TEXT,
    deleted_at  INTEGER,
    PRIMARY KEY (story_id, id)
);

-- A lineage reads a branch's own entries by branch and position.
CREATE INDEX entries_by_branch ON entries (story_id, branch_id, position);

-- Stories imported before these tables kept the sections as text: their rows move in, the keys
-- not modelled kept in `extra`, so they show and export as before.
INSERT OR IGNORE INTO branches (story_id, id, name, parent_id, fork_entry_id, checkpoint_id,
    created_at, extra)
SELECT s.story_id, json_extract(j.value, '$.id'), COALESCE(json_extract(j.value, '$.name'), ''),
    json_extract(j.value, '$.parentBranchId'), COALESCE(json_extract(j.value, '$.forkEntryId'), ''),
    json_extract(j.value, '$.checkpointId'), COALESCE(json_extract(j.value, '$.createdAt'), 0),
    NULLIF(json_remove(j.value, '$.id', '$.storyId', '$.name', '$.parentBranchId',
        '$.forkEntryId', '$.checkpointId'), '{}')
FROM story_sections s, json_each(s.json) j
WHERE s.name = 'branches' AND json_valid(s.json) AND json_type(s.json) = 'array'
  AND json_type(j.value) = 'object' AND json_type(j.value, '$.id') = 'text';

INSERT OR IGNORE INTO checkpoints (story_id, id, name, entry_id, branch_id, preview, entry_count,
    created_at, extra)
SELECT s.story_id, json_extract(j.value, '$.id'), COALESCE(json_extract(j.value, '$.name'), ''),
    COALESCE(json_extract(j.value, '$.lastEntryId'), ''), json_extract(j.value, '$.branchId'),
    json_extract(j.value, '$.lastEntryPreview'), COALESCE(json_extract(j.value, '$.entryCount'), 0),
    COALESCE(json_extract(j.value, '$.createdAt'), 0),
    NULLIF(json_remove(j.value, '$.id', '$.storyId', '$.name', '$.lastEntryId',
        '$.lastEntryPreview', '$.entryCount'), '{}')
FROM story_sections s, json_each(s.json) j
WHERE s.name = 'checkpoints' AND json_valid(s.json) AND json_type(s.json) = 'array'
  AND json_type(j.value) = 'object' AND json_type(j.value, '$.id') = 'text';

DELETE FROM story_sections WHERE name = 'branches'
  AND story_id IN (SELECT story_id FROM branches);
DELETE FROM story_sections WHERE name = 'checkpoints'
  AND story_id IN (SELECT story_id FROM checkpoints);
