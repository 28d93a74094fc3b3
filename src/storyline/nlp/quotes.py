"""Quotations and who said them, for uk, ru and en news text.

A quote is text in «...», "...", “...” or „...“ of at least ``min_words`` words. Its speaker comes
from the words around it (verbs, pronouns and phrases per language in ``data/quotes.toml``):

- after it:  "...", - сказав Лавров / "...", – заявила прес-секретар ... Емілі Горн / "...," Psaki said
- before it: Лавров заявив: "..." / Путін заявив, що ... "..." / according to Psaki, "..."
- a pronoun (сказала вона) points back to the last person named before the quote;
- an impersonal verb (йдеться у заяві Білого дому) names a document or its issuer.

The speaker is an entity mention near the verb, a person first; its key is the entity key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from storyline.errors import ConfigError
from storyline.model import Entity, Paragraph, Quote
from storyline.nlp.entities import Mention, find_mentions
from storyline.nlp.lemmas import lemma, text_lang, token_lang

QUOTE_RE = re.compile(r"«([^«»]+)»|\"([^\"]+)\"|“([^”“]+)”|„([^“”„]+)[“”]")
DASH_START = re.compile(r"^\s*[,.]?\s*[-–—]\s+|^\s*,\s+")
SENTENCE_BREAK = re.compile(r"[.!?…](?=\s|$)")
WORD_RE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
SPEAKER_ORDER = {"PER": 0, "ORG": 1, "LOC": 2, "MISC": 3}


@dataclass(frozen=True, slots=True)
class QuoteData:
    min_words: int
    window: int
    verbs: dict[str, tuple[str, ...]]
    impersonal: dict[str, tuple[str, ...]]
    according: dict[str, tuple[str, ...]]
    according_pronoun: dict[str, tuple[str, ...]]
    pronouns: dict[str, frozenset[str]]


@lru_cache(maxsize=1)
def load_data() -> QuoteData:
    raw = tomllib.loads(resources.files("storyline.nlp").joinpath("data/quotes.toml").read_text("utf-8"))
    min_words, window = int(raw["min_words"]), int(raw["window"])
    if min_words < 1 or window < 10:
        raise ConfigError(f"quotes.toml: need min_words >= 1 and window >= 10, got {min_words}, {window}")
    return QuoteData(
        min_words,
        window,
        {k: tuple(v) for k, v in raw["verbs"].items()},
        {k: tuple(v) for k, v in raw["impersonal"].items()},
        {k: tuple(v) for k, v in raw["according"].items()},
        {k: tuple(v) for k, v in raw["according_pronoun"].items()},
        {k: frozenset(v) for k, v in raw["pronouns"].items()},
    )


def _has_verb(text: str, lang: str, data: QuoteData) -> re.Match | None:
    stems = data.verbs.get(lang, ())
    for match in WORD_RE.finditer(text.lower()):
        if match.group().startswith(stems):
            return match
    return None


def _pronoun(text: str, lang: str, data: QuoteData) -> bool:
    return any(w in data.pronouns.get(lang, ()) for w in WORD_RE.findall(text.lower()))


def _best(mentions: Sequence[Mention]) -> Mention | None:
    """A person over an organisation over a place; the earliest among equals."""
    return min(mentions, key=lambda m: (SPEAKER_ORDER.get(m.type, 9), m.start), default=None)


def _document(text: str, lang: str) -> str | None:
    """The document an impersonal attribution names: "у прес-релізі" -> "прес-реліз"."""
    match = re.search(r"\b(?:в|у|во|in)\s+([^\W\d_][\w-]*)", text)
    if not match:
        return None
    word = match.group(1)
    return lemma(word, token_lang(word, lang))


def _quote_lang(paragraph: Paragraph, lang: str | None) -> str:
    which = paragraph.lang or lang
    return which if which in ("uk", "ru", "en") else text_lang(paragraph.text)


def extract_quotes(
    paragraphs: Iterable[Paragraph],
    lang: str | None,
    entities: Sequence[Entity] | None = None,
    mentions: Sequence[Mention] | None = None,
) -> list[Quote]:
    """Quotes with speakers. ``entities`` (the article's, deduplicated) give each speaker its
    canonical surface form; ``mentions`` (from ``extract_mentions``) save finding them again."""
    data = load_data()
    paragraphs = list(paragraphs)
    by_paragraph: dict[int, list[Mention]] = {}
    if mentions is not None:
        for m in mentions:
            by_paragraph.setdefault(m.paragraph, []).append(m)
    canonical = {e.key: e.text for e in entities or ()}
    quotes: list[Quote] = []
    last_person: Mention | None = None
    for index, para in enumerate(paragraphs):
        which = _quote_lang(para, lang)
        text = para.text
        found = by_paragraph.get(index) if mentions is not None else find_mentions(text, which, index)
        found = sorted(found or [], key=lambda m: m.start)
        for match in QUOTE_RE.finditer(text):
            body = next(g for g in match.groups() if g is not None).strip().rstrip(",").strip()
            before_people = [m for m in found if m.type == "PER" and m.end <= match.start()]
            if before_people:
                last_person = before_people[-1]
            if len(body.split()) < data.min_words:
                continue
            speaker = _attribute(text, match, found, last_person, which, data)
            if isinstance(speaker, Mention):
                name = canonical.get(speaker.key, speaker.text)
                quotes.append(Quote(body, name, speaker.key))
            else:
                quotes.append(Quote(body, speaker, None))
        people = [m for m in found if m.type == "PER"]
        if people:
            last_person = people[-1]
    return quotes


def _attribute(
    text: str,
    match: re.Match,
    mentions: Sequence[Mention],
    last_person: Mention | None,
    lang: str,
    data: QuoteData,
) -> Mention | str | None:
    start, end = match.span()
    after = text[end : end + data.window]
    lead = DASH_START.match(after)
    # English puts the comma inside the quote: "...," Psaki said.
    if lead or match.group().rstrip('»"“”').rstrip().endswith((",", "?", "!")):
        skip = lead.end() if lead else 0
        # The attribution is the clause up to the next comma, sentence end or quote: "- сказала
        # вона на брифінгу, відповідаючи ... Лаврова" is about вона, not Лавров.
        cut = re.search(r"[,;]|[.!?…](?=\s|$)|[«\"“„]", after[skip:])
        limit = skip + (cut.start() if cut else len(after) - skip)
        clause = after[:limit]
        near = [m for m in mentions if end <= m.start and m.end <= end + limit]
        if any(w in clause.lower() for w in data.impersonal.get(lang, ())):
            wider = [m for m in mentions if end <= m.start < end + len(after)]
            return _best(near) or _document(clause, lang) or _best(wider)
        if _has_verb(clause, lang, data):
            return _best([m for m in near if m.type == "PER"]) or (
                last_person if _pronoun(clause, lang, data) else _best(near)
            )
    # the attribution before the quote, in the same sentence
    head = text[max(0, start - data.window) : start]
    breaks = list(SENTENCE_BREAK.finditer(head))
    offset = start - len(head) + (breaks[-1].end() if breaks else 0)
    clause = text[offset:start]
    near = [m for m in mentions if offset <= m.start and m.end <= start]
    if any(p in clause.lower() for p in data.according_pronoun.get(lang, ())):
        return last_person
    for phrase in data.according.get(lang, ()):
        at = clause.lower().find(phrase)
        if at >= 0:
            after_phrase = [m for m in near if m.start >= offset + at + len(phrase)]
            if after_phrase:
                return after_phrase[0]
    verb = _has_verb(clause, lang, data)
    if verb:
        verb_at = offset + verb.start()
        subjects = [m for m in near if m.type == "PER" and m.end <= verb_at] or [
            m for m in near if m.type == "PER"
        ]
        if subjects:
            return subjects[-1]
        if _pronoun(clause, lang, data):
            return last_person
        return _best(near)
    return None
