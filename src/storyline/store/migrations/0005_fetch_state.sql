-- Version 5: what `storyline watch` remembers about each URL it polls. A feed keeps the ETag and
-- Last-Modified of its last complete poll (sent back as If-None-Match / If-Modified-Since); an
-- article page it has finished with (stored, rejected, or given up on for good) has done = 1,
-- so it is never fetched again even when it did not become an article.

CREATE TABLE fetch_state (
    url           ${KEY} PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    done          INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL
)
