"""Plain-text pages (what a scraper saves): find the header (outlet, date, title) and the article
among the site's boilerplate. The header is read only from the top of the page, so a date from a
"latest news" list further down never becomes the article's date."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from storyline.clean.boilerplate import Line, split_lines, walk
from storyline.clean.dates import parse_date_line
from storyline.clean.rules import Rules, load_rules

# Which signature wins when a page names its outlet in several ways.
SOURCE_PRIORITY = ("attribution", "header", "editorial", "subscribe", "copyright")
_TITLE_MIN_CHARS = 15
_OUTLET_HEADER_MAX_WORDS = 4
_HEADLINE_MIN_WORDS = 5
_BREADCRUMB_SEPARATORS = re.compile(r"\s+[|·›»]\s+")


@dataclass(slots=True)
class CleanPage:
    paragraphs: list[str]
    title: str | None = None
    source: str | None = None
    published: datetime | None = None
    removed: list[tuple[str, str]] = field(default_factory=list)


def clean_page(text: str, crawled_at: datetime | None = None, timezone: str = "Europe/Kyiv",
               rules: Rules | None = None) -> CleanPage:
    rules = rules or load_rules()
    lines = split_lines(text)
    sources: list[tuple[str, str]] = []
    header_end = _first_prose(lines, rules)
    title_line = _repeated_title(lines, rules, header_end)
    published = None
    outlet = _outlet_header(lines, rules, header_end)
    if outlet:
        lines[0].label = "source:header"
        sources.append(("header", outlet))
    date_line = _header_date(lines, rules, header_end)
    if date_line is not None:
        published = parse_date_line(date_line.norm, crawled_at, timezone)
        date_line.label = "dateline" if published else None
    if title_line is None:
        title_line = _first_headline(lines[:header_end], rules)
    title = title_line.text if title_line else None
    if title_line is not None:
        title_line.label = "title"
    found = walk(lines, rules, title_line.norm if title_line else None)
    sources.extend(found.sources)
    paragraphs = [ln.text for ln in lines if ln.kept]
    if title is None and paragraphs:
        title = _first_sentence(paragraphs[0], rules)
    return CleanPage(
        paragraphs=paragraphs,
        title=title,
        source=_best_source(sources),
        published=published,
        removed=[(ln.text, ln.label) for ln in lines if not ln.kept],
    )


def _repeated_title(lines: list[Line], rules: Rules, header_end: int) -> Line | None:
    """Sites print the headline again and again (in breadcrumbs, share boxes, related lists):
    a headline-like line of the header seen twice or more is the title. (A headline repeated
    only in lists further down is another article's.)"""
    counts = Counter(ln.norm.casefold() for ln in lines
                     if len(ln.norm) >= _TITLE_MIN_CHARS and rules.is_headline(ln.norm)
                     and not rules.is_date_line(ln.norm) and not rules.drop_rule(ln.norm)
                     and not rules.block_rule(ln.norm))
    in_header = {ln.norm.casefold() for ln in lines[:header_end]}
    repeated = [key for key, n in counts.most_common() if n >= 2 and key in in_header]
    if not repeated:
        return None
    top = counts[repeated[0]]
    best = next(key for key in repeated if counts[key] == top)
    return next(ln for ln in lines if ln.norm.casefold() == best)


def _first_prose(lines: list[Line], rules: Rules) -> int:
    for i, ln in enumerate(lines):
        if rules.is_prose(ln.norm) and not _is_boilerplate(ln, rules):
            return i
    return len(lines)


def _is_boilerplate(line: Line, rules: Rules) -> bool:
    return bool(rules.drop_rule(line.norm) or rules.block_rule(line.norm)
                or rules.link_rule(line.norm) or rules.source_in(line.norm))


def _outlet_header(lines: list[Line], rules: Rules, header_end: int) -> str | None:
    """The site's name on the first line: alone, with its date line or a real headline under it
    ("Інтерфакс-Україна" / "06:50 31.12.2021"), or first in a breadcrumb
    ("Новостной Меридиан · Экономика")."""
    if len(lines) < 2 or header_end == 0:
        return None
    first = lines[0].norm
    if rules.drop_rule(first) == "breadcrumb":
        return _BREADCRUMB_SEPARATORS.split(first)[0].strip()
    if not _looks_like_a_name(first) or not rules.is_headline(first) \
            or rules.is_date_line(first) or _is_boilerplate(lines[0], rules):
        return None
    if rules.is_date_line(lines[1].norm):
        return first
    for line in lines[1:min(header_end, 4)]:
        if len(line.norm.split()) >= _HEADLINE_MIN_WORDS and rules.is_headline(line.norm) \
                and not _is_boilerplate(line, rules):
            return first
    return None


def _looks_like_a_name(text: str) -> bool:
    """"Гомін", "Українська правда", "Pontic Dispatch", "Інтерфакс-Україна": one or two words, or
    up to four capitalised ones; a short headline ("Мости відновлять до зими") has lower-case words."""
    words = [w for w in text.split() if any(ch.isalpha() for ch in w)]
    if not words or len(words) > _OUTLET_HEADER_MAX_WORDS:
        return False
    return len(words) <= 2 or all(w[0].isupper() or not w[0].isalpha() for w in words)


def _header_date(lines: list[Line], rules: Rules, header_end: int) -> Line | None:
    """The article's own date: a date line in the header, or a few lines below it, before any
    list of other news begins."""
    limit = max(header_end, 0) + rules.body.header_lines
    for i, ln in enumerate(lines[: min(limit, len(lines))]):
        if ln.label is not None:
            continue
        if rules.block_rule(ln.norm) or (i >= header_end and rules.link_rule(ln.norm)):
            return None
        if rules.is_date_line(ln.norm):
            if i >= header_end and i > 0 and _list_context(lines, i, rules):
                return None
            return ln
    return None


def _list_context(lines: list[Line], i: int, rules: Rules) -> bool:
    """A date line that is one of several headline/date pairs is a news list, not a header."""
    later = lines[i + 1: i + 4]
    return sum(rules.is_date_line(ln.norm) for ln in later) >= 1


def _first_headline(header: list[Line], rules: Rules) -> Line | None:
    for ln in header:
        if ln.label is None and len(ln.norm) >= _TITLE_MIN_CHARS and rules.is_headline(ln.norm) \
                and not rules.is_date_line(ln.norm) and not _is_boilerplate(ln, rules):
            return ln
    return None


def _first_sentence(paragraph: str, rules: Rules) -> str:
    limit = rules.body.headline_max_chars
    for end, ch in enumerate(paragraph):
        if ch in ".!?…" and end >= _TITLE_MIN_CHARS:
            return paragraph[: end + 1]
    return paragraph if len(paragraph) <= limit else paragraph[:limit].rsplit(" ", 1)[0] + "…"


def _best_source(sources: list[tuple[str, str]]) -> str | None:
    for rule in SOURCE_PRIORITY:
        for found_rule, name in sources:
            if found_rule == rule and name:
                return name
    return None
