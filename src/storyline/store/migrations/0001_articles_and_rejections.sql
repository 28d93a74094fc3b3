-- Version 1: articles (raw input beside everything derived from it) and rejections.
-- Portable SQL for SQLite and PostgreSQL. ${KEY} is a text type that sorts by code point on
-- every dialect, so keyset paging and ORDER BY agree whatever the server's collation is.
-- Dates are ISO 8601 text: it keeps the exact UTC offset the article gave; published_key is
-- the same instant in UTC, fixed width, so it sorts and indexes correctly.
-- JSON columns are text: what is written is what is read back.

CREATE TABLE articles (
    id            ${KEY} PRIMARY KEY,
    raw_id        TEXT NOT NULL,
    raw_format    TEXT NOT NULL,
    raw_content   TEXT NOT NULL,
    origin        TEXT NOT NULL,
    raw_fields    TEXT NOT NULL,
    crawled_at    TEXT,
    encoding      TEXT,
    title         TEXT,
    source        TEXT,
    url           TEXT,
    published     TEXT,
    published_key ${KEY},
    lang          TEXT,
    paragraphs    TEXT NOT NULL,
    removed       TEXT NOT NULL,
    event_id      TEXT,
    story_id      TEXT,
    duplicate_of  TEXT,
    entities      TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    ingested_at   TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE INDEX ix_articles_published ON articles (published_key, id);
CREATE INDEX ix_articles_source ON articles (source);
CREATE INDEX ix_articles_lang ON articles (lang);
CREATE INDEX ix_articles_event_id ON articles (event_id);
CREATE INDEX ix_articles_story_id ON articles (story_id);
CREATE INDEX ix_articles_duplicate_of ON articles (duplicate_of);

CREATE TABLE rejections (
    origin       ${KEY} NOT NULL,
    reason       ${KEY} NOT NULL,
    detail       TEXT NOT NULL,
    raw_id       TEXT,
    raw_format   TEXT,
    raw_content  TEXT,
    raw_origin   TEXT,
    raw_fields   TEXT,
    crawled_at   TEXT,
    encoding     TEXT,
    fingerprint  TEXT NOT NULL,
    rejected_at  TEXT NOT NULL,
    PRIMARY KEY (origin, reason)
);

CREATE INDEX ix_rejections_reason ON rejections (reason);
