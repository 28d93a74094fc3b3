"""GET /api/stories (ranked, paged, filtered), /api/stories/{id} and /api/events/{id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from storyline.api.deps import (
    Lang,
    Limit,
    Offset,
    Outlet,
    Since,
    StateDep,
    StoreDep,
    Until,
    cached_json,
    check_range,
    lang_of,
    moment,
)
from storyline.api.schemas import EventDetail, StoryDetail, StoryList, errors
from storyline.stories.render import story_to_dict, summary_to_dict
from storyline.stories.view import event_view, list_stories, story_view

router = APIRouter(prefix="/api", tags=["stories"])

ClusterId = Annotated[str, Path(min_length=1, max_length=200)]
ReaderLang = Annotated[str | None, Query(
    min_length=2, max_length=8, pattern=r"^[A-Za-z-]+$",
    description="Reader's language for headline and summary (default: the story's main one).")]


@router.get("/stories", response_model=StoryList, responses=errors(422))
def get_stories(state: StateDep, store: StoreDep, limit: Limit = 20, offset: Offset = 0,
                lang: Lang = None, since: Since = None, until: Until = None,
                outlet: Outlet = None) -> Response:
    """Stories, best first: outlets, languages, articles, recency and velocity.

    Filters: `lang` (an article in it; headlines in it too), `since` (a last article on or
    after), `until` (a first article on or before), `outlet` (an article from it)."""
    start, end = moment(since, "since"), moment(until, "until", end_of_day=True)
    check_range(start, end)
    lang, outlet = lang_of(lang), " ".join(outlet.split()).casefold() if outlet else None

    def page() -> dict:
        # One more than asked for tells whether a next page exists.
        items = list_stories(store, limit + 1, lang=lang, since=start, until=end, outlet=outlet,
                             offset=offset)
        return {
            "stories": [summary_to_dict(item, rank)
                        for rank, item in enumerate(items[:limit], offset + 1)],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if len(items) > limit else None,
        }

    return cached_json(state, ("stories", limit, offset, lang, start, end, outlet), StoryList, page)


@router.get("/stories/{story_id}", response_model=StoryDetail, responses=errors(404, 422))
def get_story(state: StateDep, store: StoreDep, story_id: ClusterId,
              lang: ReaderLang = None) -> Response:
    """One story: headline, summary, ranking, timeline of events, articles by language,
    entities, quotes by speaker, and why its articles are together."""
    lang = lang_of(lang)
    return cached_json(state, ("story", story_id, lang), StoryDetail,
                       lambda: story_to_dict(story_view(store, story_id, lang=lang)))


@router.get("/events/{event_id}", response_model=EventDetail, responses=errors(404, 422))
def get_event(state: StateDep, store: StoreDep, event_id: ClusterId,
              lang: ReaderLang = None) -> Response:
    """One event of a story: headline, summary, articles by language, entities, quotes."""
    lang = lang_of(lang)
    return cached_json(state, ("event", event_id, lang), EventDetail,
                       lambda: story_to_dict(event_view(store, event_id, lang=lang)))
