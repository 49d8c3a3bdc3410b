-- A kept draft (a stopped or failed narration) is the branch's it was written on: another
-- branch shown does not offer it.
ALTER TABLE drafts ADD COLUMN branch_id TEXT;
