"""HTML pages: the front page of ranked stories, a story, an article, and search.

The app factory mounts ``router`` and serves ``STATIC`` at ``/static``; pages read the store the app
holds. Query parameters are checked here rather than by FastAPI's validation, so that a bad link
gets a page that looks like the site instead of a JSON error."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from storyline.api.deps import StoreDep
from storyline.errors import NotFound, StorylineError
from storyline.store.base import Store
from storyline.stories import list_stories, story_view
from storyline.stories.view import StorySummary, event_view
from storyline.web import timeline
from storyline.web.render import STATIC, display_zone, page

router = APIRouter()

PER_PAGE = 10
MAX_PAGE = 1000
SEARCH_PER_PAGE = 20
MAX_QUERY = 300
LANG = re.compile(r"[a-z]{2,3}")
# Filter choices offered; any other two- or three-letter code still works from a typed URL.
LANGS = ("uk", "ru", "en")
QUOTES_SHOWN = 3
SPEAKERS_SHOWN = 8
# Per language on a story page; a story of hundreds of articles folds the rest away.
ARTICLES_SHOWN = 25
OUTLETS_SHOWN = 4

TITLES = {400: "Bad request", 404: "Not found", 405: "Not allowed", 422: "Bad request",
          429: "Too many requests", 500: "Something went wrong", 503: "The store is unavailable"}

__all__ = ["STATIC", "render_error", "router"]


class BadRequest(StorylineError):
    """A query parameter a page cannot use."""


def render_error(request: Request, status: int, code: str, message: str) -> Response:
    """The site's error page, for the app's handlers (paths no route matches, failures)."""
    title = TITLES.get(status, "Something went wrong")
    return page(request, "error.html", status, code=status, title=title, message=message, hint=None)


def _error(request: Request, exc: StorylineError, hint: str | None = None) -> Response:
    """``hint`` replaces the library's, which speaks of CLI commands."""
    status, title = (404, "Not found") if isinstance(exc, NotFound) else (400, "Bad request")
    return page(
        request, "error.html", status, code=status, title=title, message=str(exc), hint=hint or exc.hint
    )


def _lang(value: str | None) -> str | None:
    if value is None or value == "" or value == "all":
        return None
    if not LANG.fullmatch(value):
        raise BadRequest(f"not a language code: {value[:20]!r}", hint="use uk, ru or en")
    return value


def _page_number(value: str | None) -> int:
    if value is None or value == "":
        return 1
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_PAGE:
        raise BadRequest(f"not a page number: {value[:20]!r}", hint=f"pages are numbered 1 to {MAX_PAGE}")
    return int(value)


# -- front page --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FrontItem:
    rank: int
    story: StorySummary
    line: str | None  # one summary sentence, in the headline's language when there is one
    line_lang: str | None


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def front_page(
    request: Request,
    store: StoreDep,
    lang: str | None = None,
    page_no: str | None = Query(None, alias="page"),
):
    try:
        chosen = _lang(lang)
        number = _page_number(page_no)
    except BadRequest as exc:
        return _error(request, exc)
    offset = (number - 1) * PER_PAGE
    # One more than the page holds tells whether a next page exists without counting every story.
    ranked = list_stories(store, limit=PER_PAGE + 1, lang=chosen, offset=offset)
    shown = ranked[:PER_PAGE]
    if number > 1 and not shown:
        return _error(request, NotFound(f"there is no page {number} of stories", hint="the first page is /"))
    items = [FrontItem(offset + i + 1, story, story.line, story.line_lang) for i, story in enumerate(shown)]
    return page(
        request,
        "front.html",
        items=items,
        lang=chosen,
        langs=LANGS,
        page_no=number,
        has_next=len(ranked) > PER_PAGE,
        outlets_shown=OUTLETS_SHOWN,
        total_articles=store.count_articles() if not shown else None,
    )


# -- a story -----------------------------------------------------------------------------------


@router.get("/stories/{story_id}", response_class=HTMLResponse, include_in_schema=False)
def story_page(request: Request, store: StoreDep, story_id: str, lang: str | None = None):
    try:
        reading = _lang(lang)
        view = story_view(store, story_id, reading, embed=False)
    except NotFound as exc:
        # An event id leads to its story, scrolled to the event.
        events = store.load_clusters("event", ids=[story_id])
        if events and events[0].parent_id:
            return RedirectResponse(f"/stories/{events[0].parent_id}#{story_id}", status_code=303)
        return _error(request, exc, "a story merged into a larger one keeps no page of its own")
    except BadRequest as exc:
        return _error(request, exc)
    zone = display_zone(request)
    numbers = {e.id: i + 1 for i, e in enumerate(_dated_first(view.timeline))}
    return page(
        request,
        "story.html",
        view=view,
        lang=reading,
        langs=LANGS,
        wide=timeline.layout(view.timeline, zone, timeline.WIDE),
        narrow=timeline.layout(view.timeline, zone, timeline.NARROW),
        event_numbers=numbers,
        sources={a.id: a.source for refs in view.articles_by_lang.values() for a in refs},
        why=_first_clause(view.explanation.text),
        quotes_shown=QUOTES_SHOWN,
        speakers_shown=SPEAKERS_SHOWN,
        articles_shown=ARTICLES_SHOWN,
    )


def _first_clause(text: str) -> str:
    """The explanation's counts; the page draws what follows them (shared names, terms, cosine)
    as chips and a meter instead of one long sentence."""
    head = text.split("; ", 1)[0].rstrip(".")
    return head + "."


def _dated_first(events):
    # The same order the timeline draws them in: dated events by date, then undated ones.
    return [e for e in events if e.first is not None] + [e for e in events if e.first is None]


# -- an article --------------------------------------------------------------------------------


@router.get("/articles/{article_id:path}", response_class=HTMLResponse, include_in_schema=False)
def article_page(request: Request, store: StoreDep, article_id: str):
    try:
        article = store.get_article(article_id)
    except NotFound as exc:
        return _error(request, exc, "search finds articles by their words")
    event = None
    if article.event_id:
        try:
            event = event_view(store, article.event_id, article.lang, embed=False)
        except NotFound:
            event = None
    story_row = None
    if article.story_id:
        rows = store.load_clusters("story", ids=[article.story_id])
        story_row = rows[0] if rows else None
    siblings = []
    if event is not None:
        siblings = [a for refs in event.articles_by_lang.values() for a in refs if a.id != article.id]
    return page(
        request,
        "article.html",
        article=article,
        event=event,
        story_row=story_row,
        siblings=siblings,
    )


# -- search ------------------------------------------------------------------------------------


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search_page(
    request: Request,
    store: StoreDep,
    q: str | None = None,
    lang: str | None = None,
    page_no: str | None = Query(None, alias="page"),
):
    text = " ".join((q or "").split())
    try:
        chosen = _lang(lang)
        number = _page_number(page_no)
        if len(text) > MAX_QUERY:
            raise BadRequest(f"the search is {len(text)} characters long; at most {MAX_QUERY} are allowed")
        results = _search(store, text, chosen, number) if text else None
    except StorylineError as exc:
        return _error(request, exc)
    if results is not None and number > 1 and not results.articles:
        missing = NotFound(f"there is no page {number} of results", hint="go back to the first page")
        return _error(request, missing)
    pages = -(-results.total // SEARCH_PER_PAGE) if results is not None else 0
    return page(
        request,
        "search.html",
        q=text,
        lang=chosen,
        langs=LANGS,
        results=results,
        page_no=number,
        pages=pages,
        offset=(number - 1) * SEARCH_PER_PAGE,
    )


def _search(store: Store, text: str, lang: str | None, number: int):
    # Imported here: the search index is optional to the other pages.
    from storyline.search import SearchQuery, search

    query = SearchQuery(
        text, langs=(lang,) if lang else (), limit=SEARCH_PER_PAGE, offset=(number - 1) * SEARCH_PER_PAGE
    )
    return search(store, query)
