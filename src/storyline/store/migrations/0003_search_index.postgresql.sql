-- Version 3 (PostgreSQL): full-text search over normalised keys (storyline.search builds them).
-- The document is a tsvector literal written by Python (weights: A title, B entity keys,
-- C body lemmas, D uk/ru cognate keys), not to_tsvector: the server's parser and locale then
-- cannot split or fold a key differently from SQLite's FTS5.
-- The rows are filled in the same transaction as the articles (and backfilled for the
-- articles already stored when this step runs), so the index never drifts from them.

CREATE TABLE search_documents (
    article_id  ${KEY} PRIMARY KEY,
    document    tsvector NOT NULL
);

-- Kept in the row (compressed) rather than out of line in TOAST: with the documents out of
-- line the table looks tiny, the planner reads it all instead of using the GIN index, and
-- every document is fetched and decompressed (measured on 10k articles: 87 ms a query with a
-- sequential scan, 7.6 ms with the index).
ALTER TABLE search_documents ALTER COLUMN document SET STORAGE MAIN;

CREATE INDEX ix_search_documents_document ON search_documents USING GIN (document);
