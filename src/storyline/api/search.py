"""GET /api/search: morphology-aware, cross-lingual search over articles and stories."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import StringConstraints

from storyline.api.deps import (
    Limit,
    Offset,
    Since,
    StateDep,
    StoreDep,
    Until,
    cached_json,
    check_range,
    moment,
)
from storyline.api.schemas import SearchResponse, errors

router = APIRouter(prefix="/api", tags=["search"])

LangCode = Annotated[str, StringConstraints(min_length=2, max_length=8, pattern=r"^[A-Za-z-]+$")]



@router.get("/search", response_model=SearchResponse, responses=errors(422))
def get_search(state: StateDep, store: StoreDep,
               q: Annotated[str, Query(min_length=1, max_length=500, description="The query.")],
               lang: Annotated[list[LangCode] | None, Query(
                   max_length=10, description="Languages to keep (repeat for several).")] = None,
               outlet: Annotated[list[str] | None, Query(
                   max_length=20, description="Outlets to keep (repeat for several).")] = None,
               since: Since = None, until: Until = None,
               limit: Limit = 20, offset: Offset = 0) -> Response:
    """Articles and stories matching `q` in any language ("Путин" finds "Путіна" and "Putin"),
    best first; each article hit has a snippet as segments, `match` marking the query's terms."""
    from storyline.search import SearchQuery, search

    start, end = moment(since, "since"), moment(until, "until", end_of_day=True)
    check_range(start, end)
    query = SearchQuery(
        q,
        langs=tuple(x.strip().lower() for x in lang or () if x.strip()),
        outlets=tuple(x.strip() for x in outlet or () if x.strip()),
        since=start,
        until=end,
        limit=limit,
        offset=offset,
    )
    key = ("search", q, query.langs, query.outlets, start, end, limit, offset)
    return cached_json(state, key, SearchResponse,
                       lambda: _answer(q, limit, offset, search(store, query)))


def _answer(q: str, limit: int, offset: int, results) -> dict:
    return {
        "query": q,
        "total": results.total,
        "limit": limit,
        "offset": offset,
        "terms": list(results.terms),
        "relaxed": results.relaxed,
        "dense_model": results.dense_model,
        "articles": [_article_hit(hit) for hit in results.articles],
        "stories": [_story_hit(hit) for hit in results.stories],
    }


def _article_hit(hit) -> dict:
    return {
        "id": hit.id,
        "title": hit.title,
        "source": hit.source,
        "lang": hit.lang,
        "published": _iso(hit.published),
        "url": hit.url,
        "event_id": hit.event_id,
        "story_id": hit.story_id,
        "score": round(float(hit.score), 4),
        "snippet": _segments(hit.snippet),
        "title_snippet": _segments(hit.title_snippet),
        "duplicate_of": hit.duplicate_of,
        "matched_by": list(hit.matched_by),
    }


def _segments(segments) -> list[dict]:
    return [{"text": s.text, "match": bool(s.match)} for s in segments]


def _story_hit(hit) -> dict:
    return {
        "id": hit.id,
        "headline": hit.headline,
        "headline_lang": hit.headline_lang,
        "score": round(float(hit.score), 4),
        "articles": hit.articles,
        "size": hit.size,
        "langs": list(hit.langs),
        "outlets": list(hit.outlets),
        "article_ids": list(hit.article_ids),
    }


def _iso(value) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value
