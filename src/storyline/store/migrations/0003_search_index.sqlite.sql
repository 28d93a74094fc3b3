-- Version 3 (SQLite): full-text search over normalised keys (storyline.search builds them).
-- FTS5 needs an integer rowid per document; an explicit INTEGER PRIMARY KEY, because VACUUM
-- may renumber an implicit rowid and would silently point the index at other articles.
-- The rows are filled by Python in the same transaction as the articles (and backfilled for
-- the articles already stored when this step runs), so the index never drifts from them.

CREATE TABLE search_documents (
    doc_id      INTEGER PRIMARY KEY,
    article_id  TEXT NOT NULL UNIQUE
);

-- Every column holds space-separated keys made only of letters and digits, so the tokenizer
-- just splits on spaces; diacritics stay (й is not и) to match PostgreSQL exactly.
CREATE VIRTUAL TABLE search_fts USING fts5(
    title, body, cognates, entities,
    tokenize = 'unicode61 remove_diacritics 0'
);
