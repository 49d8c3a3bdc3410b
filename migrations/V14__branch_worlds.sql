-- Each branch's world, lorebook and fork are read through its lineage.
-- `by_hand`: a kept world update the writer made by hand (1 an edit, 2 a row put in the Trash),
--   tied to the branch it was made on (`branch_id`) and the last entry that branch showed then
--   (`entry_id`, '' before any), so it stays on that branch and on those forked after it;
--   `row_key` ("kind:id") names the row a Trash update put away, so restoring it finds it.
ALTER TABLE world_change_sets ADD COLUMN by_hand INTEGER NOT NULL DEFAULT 0;
ALTER TABLE world_change_sets ADD COLUMN branch_id TEXT;
ALTER TABLE world_change_sets ADD COLUMN row_key TEXT;

-- A branch from the original's file carries its own full copy of the world and lorebook (the
-- original deep-copies them when it branches): on its lineage the rows tagged with it stand in
-- for its ancestors'. Fabula's own branches copy nothing and inherit (and never tag world rows;
-- their lore entries are tagged with the branch they were written on).
ALTER TABLE branches ADD COLUMN own_world INTEGER NOT NULL DEFAULT 0;
UPDATE branches SET own_world = 1 WHERE EXISTS (
    SELECT 1 FROM world_characters w WHERE w.story_id = branches.story_id AND w.branch_id = branches.id
    UNION ALL SELECT 1 FROM world_places w WHERE w.story_id = branches.story_id AND w.branch_id = branches.id
    UNION ALL SELECT 1 FROM world_items w WHERE w.story_id = branches.story_id AND w.branch_id = branches.id
    UNION ALL SELECT 1 FROM world_beats w WHERE w.story_id = branches.story_id AND w.branch_id = branches.id);

-- A lore entry edited or deleted on a branch that inherited it: the branch's own copy names the
-- entry it stands in for (a deletion is a copy with deleted_at set), the ancestor's left as it is.
ALTER TABLE lore_entries ADD COLUMN shadows TEXT;
CREATE INDEX lore_entries_shadowing ON lore_entries (shadows) WHERE shadows IS NOT NULL;

-- A branch made from a narration's other alternative starts with its own copy of that entry
-- showing it: `replaces` names the entry it stands in for on the branch's lineage.
ALTER TABLE entries ADD COLUMN replaces TEXT;
CREATE INDEX entries_replacing ON entries (replaces) WHERE replaces IS NOT NULL;
