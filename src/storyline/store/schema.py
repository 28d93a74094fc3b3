"""The tables as SQLAlchemy Core sees them, and how an Article or Rejection maps to a row.

The DDL lives in the numbered migration steps; these ``Table`` objects describe the latest
schema for queries (a test compares them with the migrated database so they cannot drift).
Dates are ISO 8601 text so a published time keeps its exact UTC offset; JSON is text so what
is written is what is read back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import Column, Double, Integer, LargeBinary, MetaData, Table, Text

from storyline.errors import StoreError
from storyline.model import Article, Entity, Paragraph, Quote, RawDocument, Rejection
from storyline.store.base import ClusterRow

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("applied_at", Text, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Text, primary_key=True),
    # The input exactly as the user gave it.
    Column("raw_id", Text, nullable=False),
    Column("raw_format", Text, nullable=False),
    Column("raw_content", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("raw_fields", Text, nullable=False),
    Column("crawled_at", Text),
    Column("encoding", Text),
    # What the pipeline derived from it.
    Column("title", Text),
    Column("source", Text),
    Column("url", Text),
    Column("published", Text),
    Column("published_key", Text),
    Column("lang", Text),
    Column("paragraphs", Text, nullable=False),
    Column("removed", Text, nullable=False),
    Column("event_id", Text),
    Column("story_id", Text),
    Column("duplicate_of", Text),
    Column("entities", Text, nullable=False),
    # Bookkeeping.
    Column("fingerprint", Text, nullable=False),
    Column("ingested_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    # Version 2: analysis, and the raw input's own hash.
    Column("lemmas", Text, nullable=False),
    Column("quotes", Text, nullable=False),
    Column("raw_fingerprint", Text),
)

clusters = Table(
    "clusters",
    metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("parent_id", Text),
    Column("size", Integer, nullable=False),
    Column("articles", Integer, nullable=False),
    Column("first_key", Text),
    Column("last_key", Text),
    Column("state", Text, nullable=False),
    Column("vector_sum", LargeBinary, nullable=False),
    Column("updated_at", Text, nullable=False),
)

article_vectors = Table(
    "article_vectors",
    metadata,
    Column("article_id", Text, primary_key=True),
    Column("model", Text, primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)

article_signatures = Table(
    "article_signatures",
    metadata,
    Column("article_id", Text, primary_key=True),
    Column("time_key", Text),
    Column("signature", LargeBinary, nullable=False),
)

key_frequencies = Table(
    "key_frequencies",
    metadata,
    Column("key", Text, primary_key=True),
    Column("documents", Integer, nullable=False),
)

# Version 4: the story listing (storyline.store.listing).
story_listing = Table(
    "story_listing",
    metadata,
    Column("story_id", Text, primary_key=True),
    Column("score", Double, nullable=False),
    Column("settled", Integer, nullable=False),
    Column("rank_last", Text, nullable=False),
    Column("span_first", Text),
    Column("span_last", Text),
    Column("measures", Text, nullable=False),
    Column("facts", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

story_listing_langs = Table(
    "story_listing_langs",
    metadata,
    Column("story_id", Text, primary_key=True),
    Column("lang", Text, primary_key=True),
)

story_listing_outlets = Table(
    "story_listing_outlets",
    metadata,
    Column("story_id", Text, primary_key=True),
    Column("outlet", Text, primary_key=True),
)

story_listing_meta = Table(
    "story_listing_meta",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# Version 6: what listing a story needs of each article (storyline.stories.digest).
article_digests = Table(
    "article_digests",
    metadata,
    Column("article_id", Text, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("title_keys", Text, nullable=False),
    Column("sentences", LargeBinary, nullable=False),
    Column("texts", Text, nullable=False),
)

rejections = Table(
    "rejections",
    metadata,
    Column("origin", Text, primary_key=True),
    Column("reason", Text, primary_key=True),
    Column("detail", Text, nullable=False),
    Column("raw_id", Text),
    Column("raw_format", Text),
    Column("raw_content", Text),
    Column("raw_origin", Text),
    Column("raw_fields", Text),
    Column("crawled_at", Text),
    Column("encoding", Text),
    Column("fingerprint", Text, nullable=False),
    Column("rejected_at", Text, nullable=False),
)

# Columns whose values make up the fingerprint: everything the user gave or the pipeline
# derived, nothing the store itself stamps.
_BOOKKEEPING = {"fingerprint", "ingested_at", "updated_at", "rejected_at"}
ARTICLE_CONTENT = tuple(c.name for c in articles.columns if c.name not in _BOOKKEEPING)
REJECTION_CONTENT = tuple(c.name for c in rejections.columns if c.name not in _BOOKKEEPING)


def now_text() -> str:
    return datetime.now(UTC).isoformat()


def article_to_row(article: Article) -> dict:
    """The ``articles`` row for ``article`` without the time stamps; raises StoreError."""
    if not isinstance(article, Article):
        raise StoreError(f"expected an Article, got {type(article).__name__}: {article!r:.80}")
    if not isinstance(article.id, str) or not article.id:
        raise StoreError(f"an article id must be a non-empty string, got {article.id!r}")
    raw = article.raw
    where = f"article {article.id!r}"
    row = {
        "id": article.id,
        **_raw_columns(raw, where),
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "published": _date_text(article.published),
        "published_key": utc_key(article.published),
        "lang": article.lang,
        "paragraphs": _json([{"text": p.text, "lang": p.lang} for p in article.paragraphs], where),
        "removed": _json([list(pair) for pair in article.removed], where),
        "event_id": article.event_id,
        "story_id": article.story_id,
        "duplicate_of": article.duplicate_of,
        "entities": _json(
            [{"text": e.text, "type": e.type, "key": e.key} for e in article.entities], where
        ),
        "lemmas": _json(list(article.lemmas), where),
        "quotes": _json(
            [{"text": q.text, "speaker": q.speaker, "speaker_key": q.speaker_key}
             for q in article.quotes], where
        ),
    }
    row["raw_fingerprint"] = raw_fingerprint(article.raw)
    row["fingerprint"] = fingerprint(row, ARTICLE_CONTENT)
    return row


def row_to_article(row) -> Article:
    """The article of a row; a row read without the raw input (``raw_content``, ``raw_fields``,
    ``removed``), as story listings read them, gives an empty raw document and removed list."""
    m = row._mapping
    raw = RawDocument(
        id=m["raw_id"],
        format=m["raw_format"],
        content=m.get("raw_content", ""),
        origin=m["origin"],
        fields=json.loads(m.get("raw_fields", "{}")),
        crawled_at=_parse_date(m["crawled_at"]),
        encoding=m["encoding"],
    )
    return Article(
        id=m["id"],
        raw=raw,
        title=m["title"],
        source=m["source"],
        url=m["url"],
        published=_parse_date(m["published"]),
        lang=m["lang"],
        paragraphs=[Paragraph(p["text"], p["lang"]) for p in json.loads(m["paragraphs"])],
        removed=[tuple(pair) for pair in json.loads(m.get("removed", "[]"))],
        event_id=m["event_id"],
        story_id=m["story_id"],
        duplicate_of=m["duplicate_of"],
        entities=[Entity(e["text"], e["type"], e["key"]) for e in json.loads(m["entities"])],
        lemmas=json.loads(m["lemmas"]),
        quotes=[Quote(q["text"], q["speaker"], q["speaker_key"]) for q in json.loads(m["quotes"])],
    )


# What a story listing reads of an article whose digest is current: no text, no analysis.
LISTED = ("id", "raw_id", "raw_format", "origin", "crawled_at", "encoding", "title", "source", "url",
          "published", "lang", "event_id", "story_id", "duplicate_of")


def row_to_listed_article(row) -> Article:
    """The article of a row of the ``LISTED`` columns: text, analysis and raw input empty."""
    raw = RawDocument(id=row.raw_id, format=row.raw_format, content="", origin=row.origin,
                      fields={}, crawled_at=_parse_date(row.crawled_at), encoding=row.encoding)
    return Article(id=row.id, raw=raw, title=row.title, source=row.source, url=row.url,
                   published=_parse_date(row.published), lang=row.lang, event_id=row.event_id,
                   story_id=row.story_id, duplicate_of=row.duplicate_of)


def rejection_to_row(rejection: Rejection) -> dict:
    if not isinstance(rejection, Rejection):
        raise StoreError(f"expected a Rejection, got {type(rejection).__name__}")
    if not rejection.origin or not rejection.reason:
        raise StoreError(
            f"a rejection needs an origin and a reason, got {rejection.origin!r}, "
            f"{rejection.reason!r}"
        )
    where = f"rejection {rejection.origin!r}"
    if rejection.raw is None:
        raw_columns = dict.fromkeys(
            (
                "raw_id",
                "raw_format",
                "raw_content",
                "raw_origin",
                "raw_fields",
                "crawled_at",
                "encoding",
            )
        )
    else:
        raw_columns = _raw_columns(rejection.raw, where)
        # The rejection's origin is the key; the raw document keeps its own, usually the same.
        raw_columns["raw_origin"] = raw_columns.pop("origin")
    row = {
        "origin": rejection.origin,
        "reason": rejection.reason,
        "detail": rejection.detail,
        **raw_columns,
    }
    row["fingerprint"] = fingerprint(row, REJECTION_CONTENT)
    return row


def row_to_rejection(row) -> Rejection:
    m = row._mapping
    raw = None
    if m["raw_format"] is not None:
        raw = RawDocument(
            id=m["raw_id"],
            format=m["raw_format"],
            content=m["raw_content"],
            origin=m["raw_origin"],
            fields=json.loads(m["raw_fields"]),
            crawled_at=_parse_date(m["crawled_at"]),
            encoding=m["encoding"],
        )
    return Rejection(origin=m["origin"], reason=m["reason"], detail=m["detail"], raw=raw)


def raw_fingerprint(raw: RawDocument) -> str:
    """A hash of what the user gave (content, fields, origin): the same input, the same hash,
    whatever the pipeline derived from it."""
    row = _raw_columns(raw, f"article {raw.id!r}")
    return fingerprint(row, tuple(sorted(row)))


def fingerprint(row: dict, columns: tuple[str, ...]) -> str:
    """A hash of the row's content columns: equal content, equal fingerprint."""
    values = [row.get(name) for name in columns]
    blob = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _raw_columns(raw: RawDocument, where: str) -> dict:
    if not isinstance(raw, RawDocument):
        raise StoreError(f"{where}: raw must be a RawDocument, got {type(raw).__name__}")
    if not isinstance(raw.content, str):
        raise StoreError(f"{where}: raw content must be text, got {type(raw.content).__name__}")
    return {
        "raw_id": raw.id,
        "raw_format": raw.format,
        "raw_content": raw.content,
        "origin": raw.origin,
        # sort_keys: the same record with its keys in another order is the same input.
        "raw_fields": _json(raw.fields, where, sort_keys=True),
        "crawled_at": _date_text(raw.crawled_at),
        "encoding": raw.encoding,
    }


def _json(value, where: str, *, sort_keys: bool = False) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"{where}: cannot store {value!r:.120} as JSON: {exc}",
            hint="raw fields and derived lists must hold only JSON values (str, number, "
            "bool, None, list, dict)",
        ) from None


def _date_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise StoreError(f"expected a datetime or None, got {type(value).__name__}: {value!r}")
    return value.isoformat()


def _parse_date(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def from_key(key: str | None) -> datetime | None:
    """The UTC time of a ``utc_key`` (None for None or '')."""
    return datetime.fromisoformat(key).replace(tzinfo=UTC) if key else None


def row_to_cluster(row) -> ClusterRow:
    return ClusterRow(row.id, row.kind, row.parent_id, row.size, row.articles, from_key(row.first_key),
                      from_key(row.last_key), json.loads(row.state), bytes(row.vector_sum))


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size``: what one statement reads or writes at a time."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def utc_key(value: datetime | None) -> str | None:
    """Fixed-width UTC text, so text order is time order. A naive time is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
