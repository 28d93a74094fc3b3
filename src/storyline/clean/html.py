"""HTML page -> article body paragraphs and metadata (title, outlet, publication time, URL).

trafilatura finds the main text; storyline adds what a news pipeline needs on top of it:
full publication timestamps (trafilatura's own ``date`` is a day), the outlet name, the canonical
URL, and its uk/ru/en line-level boilerplate rules on the extracted paragraphs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml import etree
from trafilatura.metadata import extract_title
from trafilatura.utils import load_html

from storyline.clean.boilerplate import strip_boilerplate

# Measured on the 181 pages of the Scrapinghub article-extraction benchmark
# (`storyline eval extract`): favor_precision lifts body F1 from 0.960 to 0.965, mostly by
# leaving out "related articles" and caption blocks; favor_recall, deduplicate, fast, and
# dropping tables all score lower. Comments are not the article.
TRAFILATURA_OPTIONS: dict[str, object] = {
    "favor_precision": True,
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "include_formatting": False,
}
# Precision mode sometimes keeps a stray block (a reprint notice) instead of the article. When its
# body is short, the balanced mode is tried too and wins if it finds several times more text
# (F1 0.965 -> 0.969 on the benchmark; thresholds 300-1500 chars score the same).
FALLBACK_OPTIONS: dict[str, object] = {**TRAFILATURA_OPTIONS, "favor_precision": False}
FALLBACK_BELOW_CHARS = 600
FALLBACK_MIN_GAIN = 3.0

# <meta> keys (property, name or itemprop; lower case) that carry the publication time, most
# trusted first. Modification times are deliberately absent: an update is not the publication.
PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "published_time",
    "article:published",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "article.published",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dcterms.created",
    "dc.date",
    "date",
)
SITE_NAME_META = ("og:site_name", "application-name", "twitter:site")
TITLE_META = ("og:title", "twitter:title")
URL_META = ("og:url", "twitter:url")

_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
# libxml2 stops building the tree 255 elements deep and drops what lies deeper (browsers keep it,
# flattened). Wrappers that must be closed explicitly and carry no structure of their own are
# left out beyond this depth, so the text inside them is kept.
_MAX_WRAPPER_DEPTH = 100
_WRAPPER_TAG = re.compile(
    r"<(/?)(div|span|section|font|blockquote|center|b|i|u|em|strong|small|big|main|aside)\b[^>]*>",
    re.IGNORECASE)
_SPACES = re.compile(r"\s+")
# /2021/12/07/ or /2021-12-07- in a URL path.
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?=[/-]|\D|$)")
# A publication date outside this range is a parsing accident, not a date.
_YEARS = range(1990, 2100)


@dataclass(frozen=True, slots=True)
class HtmlExtract:
    """What one HTML page yields. Empty ``paragraphs`` means no article body was found."""

    paragraphs: list[str]
    title: str | None = None
    source: str | None = None
    published: datetime | None = None
    url: str | None = None
    # (line, rule) pairs the boilerplate rules dropped from the extracted body.
    removed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def extract_html(html: str, url: str | None = None) -> HtmlExtract:
    """Extract the article body and metadata from one page.

    ``url`` is where the page came from; it resolves a relative canonical link and is the
    fallback for ``url`` and (via its host name) ``source``. Never raises on bad markup: a page
    with no recognisable article gives empty ``paragraphs``.
    """
    if not isinstance(html, str):
        raise TypeError(f"html must be str, got {type(html).__name__}")
    tree = load_html(flatten_deep_nesting(html)) if html.strip() else None
    if tree is None:
        return HtmlExtract(paragraphs=[], url=url, source=_host(url))

    page = _PageMeta(tree)
    # trafilatura copies a tree it is given, so ``tree`` is parsed once and stays intact.
    document = trafilatura.bare_extraction(tree, url=url, **TRAFILATURA_OPTIONS)
    body = (document.text if document is not None else None) or ""
    if len(body) < FALLBACK_BELOW_CHARS:
        fallback = trafilatura.bare_extraction(tree, url=url, **FALLBACK_OPTIONS)
        other = (fallback.text if fallback is not None else None) or ""
        if len(other) >= FALLBACK_MIN_GAIN * max(len(body), 1):
            body = other
    title = page.title()
    paragraphs, repeated = drop_title(split_paragraphs(body), title)
    kept, removed = strip_boilerplate(paragraphs)

    page_url = page.canonical_url(url) or url
    return HtmlExtract(
        paragraphs=kept,
        title=title,
        source=page.source() or _host(page_url),
        published=page.published(page_url),
        url=page_url,
        removed=repeated + removed,
    )


def flatten_deep_nesting(html: str, max_depth: int = _MAX_WRAPPER_DEPTH) -> str:
    """Drop wrapper tags (div, span, b...) nested deeper than ``max_depth``, with their closing
    tags; the text inside stays where it was. Ordinary pages are returned unchanged."""
    if html.count("<") <= max_depth:
        return html
    depth = 0
    dropped: dict[str, int] = {}
    parts: list[str] = []
    last = 0
    changed = False
    for match in _WRAPPER_TAG.finditer(html):
        closing, name = match.group(1), match.group(2).lower()
        if not closing:
            if depth >= max_depth:
                dropped[name] = dropped.get(name, 0) + 1
                parts.append(html[last:match.start()])
                last, changed = match.end(), True
                continue
            depth += 1
        elif dropped.get(name):
            dropped[name] -= 1
            parts.append(html[last:match.start()])
            last, changed = match.end(), True
        elif depth:
            depth -= 1
    if not changed:
        return html
    parts.append(html[last:])
    return "".join(parts)


def split_paragraphs(text: str) -> list[str]:
    """One paragraph per non-blank line of trafilatura's text, inner white space folded."""
    out = []
    for line in text.splitlines():
        folded = _SPACES.sub(" ", line).strip()
        if folded:
            out.append(folded)
    return out


def drop_title(
    paragraphs: list[str], title: str | None
) -> tuple[list[str], list[tuple[str, str]]]:
    """Leave out paragraphs that only repeat the headline (the <h1> trafilatura keeps)."""
    if not title:
        return paragraphs, []
    key = title.casefold()
    kept = [p for p in paragraphs if p.casefold() != key]
    return kept, [(p, "title") for p in paragraphs if p.casefold() == key]


def parse_timestamp(value: str) -> datetime | None:
    """An ISO 8601 / RFC 2822 / plain ``YYYY-MM-DD HH:MM`` string as a datetime, else None.

    The timezone is kept when the string gives one; a string without one gives a naive datetime.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text or not any(c.isdigit() for c in text):
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        candidates = (text.replace(" ", "T", 1), text.rstrip("Z") + "+00:00")
        for candidate in candidates:
            try:
                parsed = datetime.fromisoformat(candidate)
                break
            except ValueError:
                continue
        if parsed is None:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if parsed.year not in _YEARS:
        return None
    return parsed


class _PageMeta:
    """The page's own metadata: <meta>, <link rel=canonical>, JSON-LD, <time>. Read once."""

    def __init__(self, tree: etree._Element):
        self.tree = tree
        self.meta: dict[str, str] = {}
        for node in tree.iter("meta"):
            content = (node.get("content") or "").strip()
            if not content:
                continue
            for attr in ("property", "name", "itemprop"):
                key = (node.get(attr) or "").strip().lower()
                if key:
                    self.meta.setdefault(key, content)
        self.ld = list(_json_ld_objects(tree))

    def canonical_url(self, given: str | None) -> str | None:
        for node in self.tree.iter("link"):
            if "canonical" in (node.get("rel") or "").lower().split() and node.get("href"):
                return _absolute(node.get("href").strip(), given)
        for key in URL_META:
            if key in self.meta:
                return _absolute(self.meta[key], given)
        return None

    def title(self) -> str | None:
        for key in TITLE_META:
            if key in self.meta:
                return _fold(self.meta[key])
        for obj in self.ld:
            if isinstance(obj.get("headline"), str) and obj["headline"].strip():
                return _fold(obj["headline"])
        # trafilatura's heuristics: the single <h1>, then <title> without its " | Outlet" part.
        title = extract_title(self.tree)
        return _fold(title) if title else None

    def source(self) -> str | None:
        site_name = _fold(self.meta.get("og:site_name", ""))
        if site_name:
            # Some outlets put their home page URL there instead of a name.
            return _host(site_name) if "://" in site_name else site_name
        for obj in self.ld:
            publisher = obj.get("publisher")
            if isinstance(publisher, list) and publisher:
                publisher = publisher[0]
            if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
                name = _fold(publisher["name"])
                if name:
                    return name
        for key in SITE_NAME_META[1:]:
            value = _fold(self.meta.get(key, "")).lstrip("@")
            if value:
                return value
        return None

    def published(self, url: str | None) -> datetime | None:
        """The first trusted timestamp; a date-only one is upgraded by a later one with a time on
        the same day (og gives the day, <time> gives the hour). A date in the URL is the last
        resort; dates in the page text are not used: they mostly belong to "latest news" lists."""
        best: datetime | None = None
        best_has_time = False
        for raw in self._published_candidates():
            parsed = parse_timestamp(raw)
            if parsed is None:
                continue
            has_time = bool(_HAS_TIME.search(raw))
            if best is None:
                best, best_has_time = parsed, has_time
                if has_time:
                    return best
            elif has_time and not best_has_time and parsed.date() == best.date():
                return parsed
        if best is None and url:
            best = _url_date(url)
        return best

    def _published_candidates(self) -> Iterator[str]:
        for key in PUBLISHED_META:
            if key in self.meta:
                yield self.meta[key]
        for obj in self.ld:
            for key in ("datePublished", "dateCreated"):
                value = obj.get(key)
                if isinstance(value, str):
                    yield value
        for node in self.tree.iterfind(".//*[@itemprop='datePublished']"):
            value = node.get("datetime") or node.get("content")
            if value:
                yield value
        for node in self.tree.iterfind(".//time[@pubdate]"):
            value = node.get("datetime")
            if value:
                yield value
        # A <time> outside the article is more often a "latest news" list entry than the
        # article's own date; only the first one inside <article> counts.
        article = self.tree.find(".//article")
        if article is not None:
            node = article.find(".//time[@datetime]")
            if node is not None:
                yield node.get("datetime")


def _json_ld_objects(tree: etree._Element) -> Iterator[dict]:
    """Every dict in every JSON-LD block, flattening lists and @graph, in document order."""
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        raw = script.text or ""
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack[:0] = item
            elif isinstance(item, dict):
                yield item
                if isinstance(item.get("@graph"), list):
                    stack[:0] = item["@graph"]


def _url_date(url: str) -> datetime | None:
    match = _URL_DATE.search(urlsplit(url).path)
    if not match:
        return None
    try:
        found = datetime(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    return found if found.year in _YEARS else None


def _fold(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _absolute(href: str, base: str | None) -> str:
    return urljoin(base, href) if base else href


def _host(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    host = host.removeprefix("www.")
    return host or None


__all__ = [
    "FALLBACK_OPTIONS",
    "TRAFILATURA_OPTIONS",
    "HtmlExtract",
    "drop_title",
    "extract_html",
    "parse_timestamp",
    "split_paragraphs",
]
