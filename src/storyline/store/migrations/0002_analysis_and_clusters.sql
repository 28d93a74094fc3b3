-- Version 2: text analysis on articles; events, stories and what online clustering keeps
-- between runs (vectors, near-duplicate signatures, document frequencies).

ALTER TABLE articles ADD COLUMN lemmas TEXT NOT NULL DEFAULT '[]';
ALTER TABLE articles ADD COLUMN quotes TEXT NOT NULL DEFAULT '[]';
-- A hash of the raw input alone: re-ingesting the same input is recognised before clustering.
ALTER TABLE articles ADD COLUMN raw_fingerprint TEXT;

CREATE INDEX ix_articles_raw_fingerprint ON articles (raw_fingerprint);

-- An event or story: its running summary (members, key counts, outlets, time span) as JSON
-- and the sum of its members' vectors, so that it can reopen where it stopped.
CREATE TABLE clusters (
    id          ${KEY} PRIMARY KEY,
    kind        TEXT NOT NULL,
    parent_id   TEXT,
    size        INTEGER NOT NULL,
    articles    INTEGER NOT NULL,
    first_key   ${KEY},
    last_key    ${KEY},
    state       TEXT NOT NULL,
    vector_sum  ${BLOB} NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE INDEX ix_clusters_kind_last ON clusters (kind, last_key);
CREATE INDEX ix_clusters_parent ON clusters (parent_id);

CREATE TABLE article_vectors (
    article_id  ${KEY} NOT NULL,
    model       ${KEY} NOT NULL,
    vector      ${BLOB} NOT NULL,
    PRIMARY KEY (article_id, model)
);

CREATE TABLE article_signatures (
    article_id  ${KEY} PRIMARY KEY,
    time_key    ${KEY},
    signature   ${BLOB} NOT NULL
);

CREATE INDEX ix_article_signatures_time ON article_signatures (time_key);

CREATE TABLE key_frequencies (
    key         ${KEY} PRIMARY KEY,
    documents   INTEGER NOT NULL
);
