"""The stored article digests (migration 6; ``storyline.stories.digest`` says what they hold).

Written in the transaction that writes their articles; read by the story listing, which
computes a missing or outdated digest from its article and stores it then."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete

from storyline.model import Article
from storyline.store.schema import article_digests, chunks

if TYPE_CHECKING:
    from storyline.stories.digest import Digest

CHUNK = 500


def write(conn: Connection, articles: Iterable[Article]) -> None:
    """Compute and store the digests of ``articles``."""
    from storyline.stories.digest import digest_of

    store(conn, {a.id: digest_of(a) for a in articles})


def store(conn: Connection, digests: Mapping[str, Digest]) -> None:
    """Replace the stored digests of these articles (a delete and an insert: the same SQL on
    every dialect, and the rows of one batch are few)."""
    from storyline.stories.digest import DIGEST_VERSION

    rows = [{"article_id": k, "version": DIGEST_VERSION, "title_keys": d.title_json(),
             "sentences": d.sentence_blob(), "texts": d.texts_json()} for k, d in digests.items()]
    for chunk in chunks(rows, CHUNK):
        ids = [r["article_id"] for r in chunk]
        conn.execute(delete(article_digests).where(article_digests.c.article_id.in_(ids)))
        conn.execute(article_digests.insert(), chunk)
