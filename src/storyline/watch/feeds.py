"""RSS/Atom documents -> the entries the watcher follows, each with a stable article id."""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser

# The root element of RSS 2.0, Atom and RSS 1.0, after an optional BOM, XML declaration and
# comments.
_FEED_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:rdf)[\s/>]", re.S)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    id: str  # the article id: the same entry gets the same id on every poll and in every run
    link: str
    title: str | None = None
    published: str | None = None  # ISO 8601, UTC
    source: str | None = None  # the feed's own title
    summary: str | None = None  # HTML: the entry's full content if the feed has it, else its summary


class NotAFeed(Exception):
    """The document is neither RSS nor Atom (or too broken to read)."""


def entry_id(key: str) -> str:
    """A guid or link -> an article id. Hashed because guids are URLs or arbitrary strings of any
    length; prefixed so that a watched article is told from a file's or a record's at a glance."""
    return "web_" + hashlib.sha256(key.strip().encode("utf-8")).hexdigest()[:16]


def looks_like_feed(content: bytes, content_type: str) -> bool:
    """Whether a fetched document is to be read as a feed (else it is an article page). The root
    element decides first: many servers send RSS as text/html, and XHTML pages as +xml."""
    if _FEED_ROOT.search(content[:2048].lower()):
        return True
    if "html" in content_type:
        return False
    return any(kind in content_type for kind in ("rss", "atom", "/xml", "+xml"))


def parse_feed(content: bytes, url: str) -> list[FeedEntry]:
    """Entries of a feed in document order; raises NotAFeed with the parser's complaint."""
    parsed = feedparser.parse(content, response_headers={"content-location": url})
    if not parsed.get("version"):
        problem = parsed.get("bozo_exception")
        raise NotAFeed(f"not RSS or Atom ({problem})" if problem else "not RSS or Atom")
    source = _text(parsed.feed.get("title"))
    entries = []
    for item in parsed.entries:
        link = _text(item.get("link"))
        if not link:
            continue  # nothing to fetch and nothing a reader could open
        entries.append(FeedEntry(
            id=entry_id(_text(item.get("id")) or link),
            link=link,
            title=_text(item.get("title")),
            published=_when(item.get("published_parsed") or item.get("updated_parsed")),
            source=source,
            summary=_content(item),
        ))
    return entries


def _content(item) -> str | None:
    for block in item.get("content") or ():
        if _text(block.get("value")):
            return block["value"]
    return _text(item.get("summary"))


def _when(parsed) -> str | None:
    if not parsed:
        return None
    # feedparser normalises every feed date to a UTC struct_time.
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()


def _text(value) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
