"""Response shapes, for the OpenAPI document and to check what the endpoints return.

Stories and events are rendered by ``storyline.stories.render`` (its docstring is the reference
for every field); the models here only declare that shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorInfo(BaseModel):
    code: str = Field(description="Machine-readable: not_found, invalid_request, unauthorized, ...")
    message: str = Field(description="One line for a person.")
    detail: Any = Field(None, description="Validation problems, a hint, the retry delay, or null.")


class ErrorResponse(BaseModel):
    error: ErrorInfo


class StoryListItem(BaseModel):
    rank: int
    id: str
    score: float
    headline: str | None
    headline_lang: str | None
    first: str | None = Field(description="ISO 8601 time of the first dated article.")
    last: str | None
    events: int
    articles: int
    outlets: list[str]
    languages: list[str]
    ranking: dict[str, Any] = Field(description="{score, parts, explanation, reference}")


class StoryList(BaseModel):
    stories: list[StoryListItem]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last page.")


class ArticleRef(BaseModel):
    id: str
    title: str | None
    source: str | None
    published: str | None
    url: str | None
    lang: str | None
    event_id: str | None
    duplicate_of: str | None


class TimelineEvent(BaseModel):
    id: str
    headline: str | None
    headline_lang: str | None
    first: str | None
    last: str | None
    articles: int
    outlets: list[str]
    languages: list[str]


class EntityItem(BaseModel):
    key: str
    type: str
    mentions: int = Field(description="Articles naming the entity.")
    display: str
    forms: dict[str, str] = Field(description="Surface form per language.")


class QuoteItem(BaseModel):
    text: str
    article_id: str
    lang: str | None


class SpeakerItem(BaseModel):
    speaker: str | None
    speaker_key: str | None
    names: dict[str, str]
    quotes: list[QuoteItem]


class SharedEntity(BaseModel):
    key: str
    display: str


class Explanation(BaseModel):
    text: str
    basis: Literal["events", "articles"]
    units: int
    shared_entities: list[SharedEntity]
    shared_terms: list[str]
    mean_cosine: float | None


class Counts(BaseModel):
    articles: int
    duplicates: int
    outlets: int
    languages: int
    events: int


class ClusterDetail(BaseModel):
    id: str
    headline: dict[str, Any] | None = Field(
        description="{text, lang, article_id, preferred_lang, fallback, score, penalties, method}")
    summary: dict[str, Any] = Field(
        description="{text, lang, preferred_lang, fallback, method, sentences}")
    first: str | None
    last: str | None
    counts: Counts
    outlets: list[str]
    languages: list[str]
    articles: dict[str, list[ArticleRef]] = Field(description="Articles by language.")
    entities: list[EntityItem]
    quotes: list[SpeakerItem] = Field(description="Quotes by speaker, most quoted first.")
    explanation: Explanation = Field(description="Why these articles are together.")


class StoryDetail(ClusterDetail):
    ranking: dict[str, Any]
    timeline: list[TimelineEvent] = Field(description="Events by first date.")


class EventDetail(ClusterDetail):
    story_id: str | None


class EntityRecord(BaseModel):
    text: str
    type: str
    key: str


class ParagraphItem(BaseModel):
    text: str
    lang: str | None


class ArticleQuote(BaseModel):
    text: str
    speaker: str | None
    speaker_key: str | None


class ArticleDetail(BaseModel):
    """The exported article of the contract, plus its paragraphs and quotes."""

    id: str
    url: str | None
    source: str | None
    title: str | None
    published: str | None
    lang: str | None
    text: str = Field(description="Clean body: paragraphs joined by blank lines.")
    event_id: str | None
    story_id: str | None
    duplicate_of: str | None
    entities: list[EntityRecord]
    paragraphs: list[ParagraphItem]
    quotes: list[ArticleQuote]


class RecordStatus(BaseModel):
    index: int = Field(description="Position of the record in the request.")
    id: str | None
    status: Literal["ingested", "updated", "unchanged", "rejected"]
    reason: str | None = Field(None, description="Why a record was rejected (bad_record, too_short, ...).")
    detail: str | None = None
    event_id: str | None = None
    story_id: str | None = None
    duplicate_of: str | None = None


class IngestResponse(BaseModel):
    results: list[RecordStatus]
    counts: dict[str, int] = Field(description="Records per status.")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    store: str = Field(description="Store backend: sqlite or postgresql.")
    schema_version: int | None
    articles: int
    writes: Literal["token", "local", "disabled"]


class Segment(BaseModel):
    text: str
    match: bool


class ArticleHit(BaseModel):
    id: str
    title: str | None
    source: str | None
    lang: str | None
    published: str | None
    url: str | None
    event_id: str | None
    story_id: str | None
    score: float
    snippet: list[Segment] = Field(description="The snippet as segments; match=true for query terms.")
    title_snippet: list[Segment] = Field(description="The title as segments.")
    duplicate_of: str | None
    matched_by: list[str] = Field(
        description="How the article was found: text (the full-text index), meaning (the stored "
                    "vectors), event (another report of the same event matched).")


class StoryHit(BaseModel):
    id: str
    headline: str | None
    headline_lang: str | None
    score: float
    articles: int = Field(description="Matching articles in the story.")
    size: int = Field(description="Every article of the story.")
    langs: list[str] = Field(description="Languages of the matching articles.")
    outlets: list[str] = Field(description="Outlets of the matching articles.")
    article_ids: list[str] = Field(description="The matching articles, best first.")


class SearchResponse(BaseModel):
    query: str
    total: int = Field(description="Articles matching, before paging.")
    limit: int
    offset: int
    terms: list[str] = Field(description="The normalised terms the query searched for.")
    relaxed: bool = Field(description="No article had every word: articles with some are shown.")
    dense_model: str | None = Field(description="Embedder whose vectors found articles by meaning.")
    articles: list[ArticleHit]
    stories: list[StoryHit]


_ERROR_TEXT = {
    401: "Missing or wrong API token",
    403: "Writes disabled (no token configured), or a tokenless write from elsewhere",
    404: "No such id",
    413: "Request body too large",
    415: "Body is neither JSON nor JSON Lines",
    422: "Invalid parameters or body",
    429: "Too many write requests",
    500: "Internal error",
    503: "Store unavailable",
}


def errors(*codes: int) -> dict:
    """The ``responses`` of a route: each status with the one error shape (500 and 503 always)."""
    return {code: {"model": ErrorResponse, "description": _ERROR_TEXT[code]}
            for code in (*codes, 500, 503)}
