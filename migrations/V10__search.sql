-- Full-text search over what the entries show. The index reads its text from `entries` (external
-- content, so the text is not stored twice) and is kept in step by triggers, so every way an
-- entry is written (typing, generation, alternatives, import, sync) is indexed without the code
-- that writes it knowing. Trigrams find any run of three or more characters in any script,
-- Chinese and Japanese included, which have no spaces between words. The link is the entries'
-- rowid: the library is never VACUUMed (backups copy pages), so rowids stay put.
CREATE VIRTUAL TABLE entries_search USING fts5(
    content,
    content = 'entries',
    content_rowid = 'rowid',
    tokenize = 'trigram remove_diacritics 1'
);

INSERT INTO entries_search (entries_search) VALUES ('rebuild');

CREATE TRIGGER entries_search_insert AFTER INSERT ON entries BEGIN
    INSERT INTO entries_search (rowid, content) VALUES (new.rowid, new.content);
END;

CREATE TRIGGER entries_search_delete AFTER DELETE ON entries BEGIN
    INSERT INTO entries_search (entries_search, rowid, content)
    VALUES ('delete', old.rowid, old.content);
END;

CREATE TRIGGER entries_search_update AFTER UPDATE OF content ON entries BEGIN
    INSERT INTO entries_search (entries_search, rowid, content)
    VALUES ('delete', old.rowid, old.content);
    INSERT INTO entries_search (rowid, content) VALUES (new.rowid, new.content);
END;
