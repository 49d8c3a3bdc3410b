-- Three things the world's bookkeeping needs to keep its word to the writer:
-- `taken_back`: an update the writer undid stays undone when its narration is shown again;
-- `pending`: an update waiting for the writer's word ("Ask before applying") is kept here, so it
--   survives switching stories and quitting;
-- `by_text`: a world row taken away because the text that made it went is not the writer's
--   deletion, so the Trash does not list it and emptying the Trash keeps it (it comes back with
--   its text).
ALTER TABLE world_change_sets ADD COLUMN taken_back INTEGER NOT NULL DEFAULT 0;
ALTER TABLE world_change_sets ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE world_characters ADD COLUMN by_text INTEGER NOT NULL DEFAULT 0;
ALTER TABLE world_places ADD COLUMN by_text INTEGER NOT NULL DEFAULT 0;
ALTER TABLE world_items ADD COLUMN by_text INTEGER NOT NULL DEFAULT 0;
ALTER TABLE world_beats ADD COLUMN by_text INTEGER NOT NULL DEFAULT 0;
