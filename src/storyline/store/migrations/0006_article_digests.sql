-- Version 6: each article's digest (storyline.stories.digest): its title keys and its candidate
-- summary sentences (positions, lengths, hashed lemmas and entity keys in one blob, the texts
-- apart), computed once when the article is stored so that computing a story's listing facts
-- does not split and lemmatise every article of the story again. A row of another version, or
-- a missing one (articles stored before this step), is computed again when a story that holds
-- the article is next listed.

CREATE TABLE article_digests (
    article_id ${KEY} PRIMARY KEY,
    version    INTEGER NOT NULL,
    title_keys TEXT NOT NULL,
    sentences  ${BLOB} NOT NULL,
    texts      TEXT NOT NULL
)
