"""What a search takes and returns: plain frozen dataclasses (the CLI, the HTTP API and the web
page all build on these; fields are only ever added, never renamed)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from storyline.errors import InvalidQuery

MAX_LIMIT = 100
MAX_OFFSET = 10_000
MAX_QUERY_CHARS = 500


@dataclass(frozen=True)
class SearchQuery:
    text: str
    langs: tuple[str, ...] = ()  # filter: article language in these
    outlets: tuple[str, ...] = ()  # filter: article source (outlet) in these, case-insensitive
    since: datetime | None = None  # filter: published >= since
    until: datetime | None = None  # filter: published < until
    limit: int = 20
    offset: int = 0

    def checked(self) -> SearchQuery:
        """This query with its filters tidied (lowercase languages, UTC times); raises
        InvalidQuery for a blank text or a value out of range."""
        if not isinstance(self.text, str) or not self.text.strip():
            raise InvalidQuery("the search query is empty", hint='give some words, e.g. "Путін переговори"')
        if len(self.text) > MAX_QUERY_CHARS:
            raise InvalidQuery(f"the search query is {len(self.text)} characters long; "
                               f"at most {MAX_QUERY_CHARS} are allowed")
        _whole("limit", self.limit, 1, MAX_LIMIT)
        _whole("offset", self.offset, 0, MAX_OFFSET)
        since, until = _moment("since", self.since), _moment("until", self.until)
        if since and until and since >= until:
            raise InvalidQuery(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")
        return SearchQuery(self.text.strip(), _names("langs", self.langs, str.lower),
                           _names("outlets", self.outlets, str.strip), since, until,
                           self.limit, self.offset)


@dataclass(frozen=True)
class Segment:
    """A piece of text; ``match`` marks a word that matched the query. Raw text, never HTML."""

    text: str
    match: bool


@dataclass(frozen=True)
class ArticleHit:
    id: str
    title: str | None
    source: str | None
    lang: str | None
    published: datetime | None
    url: str | None
    event_id: str | None
    story_id: str | None
    score: float
    snippet: tuple[Segment, ...]
    title_snippet: tuple[Segment, ...] = ()  # the title with its matching words marked
    duplicate_of: str | None = None
    # How it was found: "text" (its words), "event" (it reports the event of a text match, in
    # another script), "meaning" (its vector is near the query's).
    matched_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoryHit:
    id: str
    headline: str
    score: float
    articles: int  # matching articles in this story
    langs: tuple[str, ...]  # of the matching articles
    outlets: tuple[str, ...]  # of the matching articles
    size: int = 0  # every article of the story
    article_ids: tuple[str, ...] = ()  # the matching articles, best first
    headline_lang: str | None = None


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    total: int
    articles: tuple[ArticleHit, ...]
    stories: tuple[StoryHit, ...]
    terms: tuple[str, ...]  # the normalised query keys used
    # True when no article had every word and the articles with some of them are shown.
    relaxed: bool = False
    # The embedder whose vectors found articles by meaning, or None (lexical only).
    dense_model: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready: datetimes as ISO 8601 text."""
        return _jsonable(asdict(self))


def _whole(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidQuery(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def _moment(name: str, value) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidQuery(f"{name} must be a datetime, got {type(value).__name__}: {value!r}")
    # A time without an offset is UTC, as everywhere in the store.
    return value.replace(tzinfo=UTC) if value.utcoffset() is None else value


def _names(name: str, values, tidy) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    if not all(isinstance(v, str) for v in values):
        raise InvalidQuery(f"{name} must be strings, got {values!r}")
    return tuple(dict.fromkeys(t for t in (tidy(v) for v in values) if t))


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
