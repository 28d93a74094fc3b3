"""Snippets: the window of an article's clean text that best covers the query, with the words
whose keys match a query key marked. Segments are raw text; whoever renders them escapes them.

A word matches when its lemma (read in its paragraph's language), its cognate key or, for a
capitalised word, its entity key is one of the query's keys of that field: the same keys the
index matched, so a marked word is always a reason the article was found.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from storyline.model import Paragraph
from storyline.nlp.entities import TOKEN_RE, alias_of, entity_key
from storyline.nlp.lemmas import lemma, token_lang
from storyline.search.analyse import QueryPlan
from storyline.search.keys import cognate_key, index_token
from storyline.search.results import Segment

WINDOW_CHARS = 240
# How far before the first marked word a window may start, to show its sentence's beginning.
LEAD_CHARS = 80
ELLIPSIS = "…"
# Past this many characters with a match in hand, a snippet stops looking for a better one
# (long articles: reading every paragraph was half of a search on the 10k benchmark store).
SCAN_CHARS = 4000
SENTENCE_END = re.compile(r"[.!?…](?:[\"»”)]*)\s+")


@dataclass(frozen=True, slots=True)
class Mark:
    start: int
    end: int
    words: frozenset[int]  # which query words this text word stands for


def snippet(paragraphs: Sequence[Paragraph], lang: str | None, plan: QueryPlan,
            width: int = WINDOW_CHARS) -> tuple[Segment, ...]:
    """The best window of ``paragraphs`` (the lead when nothing matches), as segments: the one
    with the most query words, then the earliest, then the one with the most marks."""
    best: tuple | None = None
    read = 0
    for index, paragraph in enumerate(paragraphs):
        marks = find_marks(paragraph.text, paragraph.lang or lang, plan)
        for anchor in marks:
            start = _window_start(paragraph.text, anchor.start)
            end = _window_end(paragraph.text, start + width)
            inside = [m for m in marks if m.start >= start and m.end <= end]
            covered = frozenset().union(*(m.words for m in inside))
            score = (len(covered), -index, len(inside), -start)
            if best is None or score > best[0]:
                best = (score, paragraph.text, start, end, inside)
        read += len(paragraph.text)
        if best is not None and (best[0][0] == len(plan.words) or read >= SCAN_CHARS):
            # No later paragraph can show more words (an earlier one wins a tie), or the text
            # read so far had a match and the rest of a long article is not worth the time.
            break
    if best is None:
        lead = next((p.text for p in paragraphs if p.text.strip()), "")
        return _segments(lead, 0, _window_end(lead, width), [])
    _, text, start, end, inside = best
    return _segments(text, start, end, inside)


def mark_text(text: str, lang: str | None, plan: QueryPlan) -> tuple[Segment, ...]:
    """All of ``text`` (a title) with its matching words marked."""
    return _segments(text, 0, len(text), find_marks(text, lang, plan))


def find_marks(text: str, lang: str | None, plan: QueryPlan) -> list[Mark]:
    lemmas, cognates, names = plan.keys["lemma"], plan.keys["cognate"], plan.keys["entity"]
    marks = []
    for match in TOKEN_RE.finditer(text):
        lemma_key, cognate, name_keys = token_keys(match.group(), lang)
        found = [lemmas.get(lemma_key), cognates.get(cognate) if cognate else None,
                 *(names.get(key) for key in name_keys)]
        words = [w for w in found if w]
        if words:
            marks.append(Mark(match.start(), match.end(), frozenset().union(*words)))
    return marks


@lru_cache(maxsize=100_000)
def token_keys(token: str, lang: str | None) -> tuple[str, str | None, tuple[str, ...]]:
    """(lemma key, cognate key, entity keys) of one word of text, as the index made them."""
    which = token_lang(token, lang)
    lemma_key = index_token(lemma(token, which)) if any(c.isalpha() for c in token) else ""
    names: tuple[str, ...] = ()
    if token[:1].isupper() or any(c.isdigit() for c in token):
        found = alias_of([token], which)
        names = tuple(k for k in (index_token(found[0]) if found else "",
                                  index_token(entity_key(token, "PER", which))) if k)
    return lemma_key, cognate_key(lemma_key) if lemma_key else None, names


def _window_start(text: str, anchor: int) -> int:
    if anchor <= LEAD_CHARS:
        return 0
    before = text[anchor - LEAD_CHARS:anchor]
    ends = list(SENTENCE_END.finditer(before))
    if ends:
        return anchor - LEAD_CHARS + ends[-1].end()
    space = text.find(" ", anchor - LEAD_CHARS // 2, anchor)
    return space + 1 if space >= 0 else anchor


def _window_end(text: str, end: int) -> int:
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", 0, end)
    return space if space > 0 else end


def _segments(text: str, start: int, end: int, marks: Sequence[Mark]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    position = start
    for mark in marks:
        if mark.start < position or mark.end > end:
            continue
        if mark.start > position:
            out.append(Segment(text[position:mark.start], False))
        out.append(Segment(text[mark.start:mark.end], True))
        position = mark.end
    if position < end:
        out.append(Segment(text[position:end], False))
    if start > 0:
        out.insert(0, Segment(ELLIPSIS, False))
    if end < len(text.rstrip()):
        out.append(Segment(ELLIPSIS, False))
    return _merged(out)


def _merged(segments: list[Segment]) -> tuple[Segment, ...]:
    """Neighbouring unmarked pieces as one segment."""
    out: list[Segment] = []
    for segment in segments:
        if out and not segment.match and not out[-1].match:
            out[-1] = Segment(out[-1].text + segment.text, False)
        elif segment.text:
            out.append(segment)
    return tuple(out)
