-- A narration the provider ended at its length limit (finish reason "length", "max_tokens" …):
-- the story view marks it and offers Continue. Kept per alternative, copied to the entry with the
-- text it shows, like content and reasoning.
ALTER TABLE entries ADD COLUMN cut_off INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entry_alternatives ADD COLUMN cut_off INTEGER NOT NULL DEFAULT 0;
