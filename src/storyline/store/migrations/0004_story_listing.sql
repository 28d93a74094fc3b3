-- Version 4: the story listing. One row per story with its rank score and what a listing shows
-- of it (storyline.stories.listing computes them), rewritten in the transaction that changes
-- the story and backfilled when the step runs, so that a page of ranked stories is a range of
-- one index instead of ranking every story of the store on every request.
--
-- score is the story's rank at the store's reference time (its newest article, kept in
-- story_listing_meta); when that moves, the scores still moved by recency are updated (settled
-- = 0; a settled score no longer changes at float precision). rank_last is the originals' last
-- publication ('' when none), the tie-break after the score; span_first/span_last are the
-- story's own first and last article, what since/until filter on.

CREATE TABLE story_listing (
    story_id    ${KEY} PRIMARY KEY,
    score       DOUBLE PRECISION NOT NULL,
    settled     INTEGER NOT NULL,
    rank_last   ${KEY} NOT NULL,
    span_first  ${KEY},
    span_last   ${KEY},
    measures    TEXT NOT NULL,
    facts       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- The listing's order exactly: ORDER BY score DESC, rank_last DESC, story_id LIMIT n OFFSET m
-- walks this index and stops after n + m rows that pass the filters.
CREATE INDEX ix_story_listing_rank ON story_listing (score DESC, rank_last DESC, story_id);
CREATE INDEX ix_story_listing_unsettled ON story_listing (story_id) WHERE settled = 0;
CREATE INDEX ix_story_listing_span_last ON story_listing (span_last);

-- Language and outlet filters: probed by story while walking the rank index; the second index
-- lets PostgreSQL's planner start from a rare value instead.
CREATE TABLE story_listing_langs (
    story_id    ${KEY} NOT NULL,
    lang        ${KEY} NOT NULL,
    PRIMARY KEY (story_id, lang)
);
CREATE INDEX ix_story_listing_langs_lang ON story_listing_langs (lang, story_id);

CREATE TABLE story_listing_outlets (
    story_id    ${KEY} NOT NULL,
    outlet      ${KEY} NOT NULL,
    PRIMARY KEY (story_id, outlet)
);
CREATE INDEX ix_story_listing_outlets_outlet ON story_listing_outlets (outlet, story_id);

-- 'reference': the time the scores are computed for; 'params': what computed the facts (a
-- listing computed by other code or parameters is rebuilt when the store opens).
CREATE TABLE story_listing_meta (
    name        ${KEY} PRIMARY KEY,
    value       TEXT NOT NULL
);
