"""Templates, the filters they use, and the security headers every page is sent with.

Everything on these pages that came from an article (titles, text, outlet names, URLs, quotes) is
hostile input: autoescaping is on for every template and nothing from an article is marked safe."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LANG_NAMES = {"uk": "Українська", "ru": "Русский", "en": "English"}

# No script runs on these pages and nothing is loaded from elsewhere: a script that slipped into an
# article could neither execute nor phone home. Inline styles are refused too (the SVG timeline
# uses classes and presentation attributes only).
CSP = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "script-src 'none'",
        "connect-src 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        day=format_day,
        moment=format_moment,
        span=format_span,
        iso=lambda m: m.isoformat() if m else "",
        lang_name=lang_name,
        link=link_url,
        host=url_host,
        plural=plural,
        path=path_segment,
        langsort=lambda langs: sorted(langs, key=lang_rank),
    )
    return env


def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """Render ``template`` with ``context`` into a response carrying the security headers."""
    zone = display_zone(request)
    html = environment().get_template(template).render(request=request, zone=zone, **context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def display_zone(request: Request) -> tzinfo:
    """The newsroom's time zone (settings ``timezone``, Europe/Kyiv by default); UTC when unknown."""
    state = getattr(request.app.state, "storyline", None)
    settings = getattr(state, "settings", None)
    name = getattr(settings, "timezone", None) or "Europe/Kyiv"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


# -- filters -----------------------------------------------------------------------------------


def _local(moment: datetime, zone: tzinfo) -> datetime:
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(zone)


def format_day(moment: datetime | None, zone: tzinfo = UTC) -> str:
    if moment is None:
        return "undated"
    m = _local(moment, zone)
    return f"{m.day} {MONTHS[m.month - 1]} {m.year}"


def format_moment(moment: datetime | None, zone: tzinfo = UTC) -> str:
    if moment is None:
        return "undated"
    m = _local(moment, zone)
    return f"{m.day} {MONTHS[m.month - 1]} {m.year}, {m:%H:%M}"


def format_span(first: datetime | None, last: datetime | None, zone: tzinfo = UTC) -> str:
    """``9 Oct – 5 Nov 2025``; one day: ``9 Oct 2025``; nothing dated: ``undated``."""
    if first is None and last is None:
        return "undated"
    a, b = _local(first or last, zone), _local(last or first, zone)
    if a.date() == b.date():
        return format_day(a, zone)
    left = f"{a.day} {MONTHS[a.month - 1]}" + (f" {a.year}" if a.year != b.year else "")
    return f"{left} – {b.day} {MONTHS[b.month - 1]} {b.year}"


def lang_name(code: str | None) -> str:
    if not code:
        return "Unknown language"
    return LANG_NAMES.get(code, code.upper())


def lang_rank(code: str | None) -> tuple[int, str]:
    """uk, ru, en first (the order of the stream), any other language after them."""
    order = tuple(LANG_NAMES)
    return (order.index(code) if code in order else len(order), code or "")


def link_url(url: str | None) -> str | None:
    """``url`` when it may become a link: an absolute http(s) URL with a host; else None, so that
    ``javascript:``, ``data:`` and relative URLs from an article are shown as text only."""
    if not url or not isinstance(url, str):
        return None
    text = url.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or not parts.hostname:
        return None
    return text


def url_host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").removeprefix("www.")
    except ValueError:
        return ""


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def path_segment(value) -> str:
    """An id as one URL path segment: ids from input records may hold ``/``, ``?`` or ``#``."""
    return quote(str(value), safe="")
