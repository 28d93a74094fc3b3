"""An extractive summary of a story or event: 2-4 sentences from its articles in one language.

Sentences (razdel) are scored by centrality (lexical: the story's top terms and entities they
carry; with an embedder, also the cosine to the story's centroid), by position (the lead of an
article states the news) and lose points when they are all quotation. Near-repeats of a chosen
sentence are skipped. The chosen sentences are shown in time order. Sizes and weights are data
(``data/stories.toml``, ``[summary]``)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from storyline.model import Article
from storyline.nlp.embed import Embedder
from storyline.stories.headline import majority_lang
from storyline.stories.params import section

# Text between quotation marks of the three languages' typographies.
QUOTED = re.compile(r"«[^»]*»|“[^”]*”|„[^“”]*[“”]|\"[^\"]*\"")


@dataclass(frozen=True, slots=True)
class SummarySentence:
    text: str
    article_id: str
    published: datetime | None
    position: int  # sentence index in its article (0: the lead)
    score: float

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "article_id": self.article_id,
            "published": self.published.isoformat() if self.published else None,
            "position": self.position,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True, slots=True)
class Summary:
    sentences: tuple[SummarySentence, ...]
    lang: str | None
    preferred_lang: str | None
    method: str = "lexical"  # "lexical" or "vectors" (lexical and cosine to the centroid)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    @property
    def fallback(self) -> bool:
        return self.preferred_lang is not None and self.lang != self.preferred_lang

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "lang": self.lang,
            "preferred_lang": self.preferred_lang,
            "fallback": self.fallback,
            "method": self.method,
            "sentences": [s.to_dict() for s in self.sentences],
        }


@dataclass(slots=True)
class _Candidate:
    text: str
    article: Article
    position: int
    lemmas: frozenset[str]
    entities: frozenset[str]
    quote_only: bool
    score: float = 0.0
    vector: np.ndarray | None = field(default=None, repr=False)


def summarise(
    articles: Sequence[Article],
    lang: str | None = None,
    *,
    top_terms: Mapping[str, float] | None = None,
    top_entities: Mapping[str, float] | None = None,
    centroid: np.ndarray | None = None,
    embedder: Embedder | None = None,
) -> Summary:
    """Summarise ``articles`` in ``lang`` (default: their main language; when none of them is in
    ``lang``, their main language is used and ``Summary.fallback`` says so).

    ``top_terms``/``top_entities`` weigh lemmas and entity keys (default: counted over the
    articles). With ``embedder`` and ``centroid`` (a unit vector in the embedder's space) the best
    candidates are re-ranked by cosine to the centroid."""
    conf = section("summary")
    originals = [a for a in articles if not a.duplicate_of] or list(articles)
    main = majority_lang(a.lang for a in originals)
    preferred = lang or main
    pool = [a for a in originals if a.lang == preferred]
    used = preferred
    if not pool:
        used = main
        pool = [a for a in originals if a.lang == main] or originals
    terms = _weights(top_terms or Counter(k for a in pool for k in set(a.lemmas)), conf["top_terms"])
    ents = _weights(
        top_entities or Counter(k for a in pool for k in {e.key for e in a.entities}), conf["top_entities"]
    )
    candidates = _candidates(pool, used, conf)
    if not candidates:
        return Summary((), used, preferred)
    _score(candidates, terms, ents, conf)
    method = "lexical"
    if embedder is not None and centroid is not None:
        candidates.sort(key=lambda c: -c.score)
        candidates = candidates[: int(conf["embed_candidates"])]
        matrix = embedder.embed([c.text for c in candidates])
        for cand, row in zip(candidates, matrix, strict=True):
            cand.vector = row
            cand.score += float(conf["vector_weight"]) * float(np.dot(row, centroid))
        method = "vectors"
    chosen = _select(candidates, conf)
    oldest = datetime.max.replace(tzinfo=UTC)
    chosen.sort(
        key=lambda c: (_utc(c.article.published) if c.article.published else oldest, c.article.id, c.position)
    )
    sentences = tuple(
        SummarySentence(c.text, c.article.id, c.article.published, c.position, c.score) for c in chosen
    )
    return Summary(sentences, used, preferred, method)


def is_quote_only(sentence: str, quotes: Sequence[str] = ()) -> bool:
    """True when most of the sentence is quotation: it reports what someone said, not the news."""
    text = sentence.strip()
    if not text:
        return False
    quoted = sum(len(m.group()) for m in QUOTED.finditer(text))
    quoted = max([quoted] + [len(q) for q in quotes if len(q) >= 20 and q in text])
    return quoted >= 0.6 * len(text) or (text[0] in "—–-" and quoted > 0)


def _candidates(pool: Sequence[Article], lang: str | None, conf: dict) -> list[_Candidate]:
    from razdel import sentenize

    from storyline.nlp.lemmas import lemmatise

    out: list[_Candidate] = []
    for article in pool:
        title = " ".join((article.title or "").split()).casefold()
        quotes = [q.text for q in article.quotes if q.text]
        position = 0
        for paragraph in article.paragraphs:
            if paragraph.lang not in (None, lang):
                continue
            for sent in sentenize(paragraph.text):
                text = " ".join(sent.text.split())
                index, position = position, position + 1
                if not conf["min_sentence_chars"] <= len(text) <= conf["max_sentence_chars"]:
                    continue
                if text.casefold().rstrip(".") == title.rstrip("."):
                    continue
                folded = text.casefold()
                entities = frozenset(
                    e.key for e in article.entities if e.key and e.text and e.text.casefold() in folded
                )
                out.append(
                    _Candidate(
                        text,
                        article,
                        index,
                        frozenset(lemmatise(text, lang)),
                        entities,
                        is_quote_only(text, quotes),
                    )
                )
    return out


def _score(candidates: list[_Candidate], terms: dict[str, float], ents: dict[str, float], conf: dict) -> None:
    raw = []
    for cand in candidates:
        mass = sum(terms.get(k, 0.0) for k in cand.lemmas) + sum(ents.get(k, 0.0) for k in cand.entities)
        # Per sqrt(length): a long sentence collects more keys without being more central.
        raw.append(mass / math.sqrt(max(len(cand.lemmas), 4)))
    best = max(raw) or 1.0
    for cand, value in zip(candidates, raw, strict=True):
        cand.score = (
            float(conf["centrality_weight"]) * value / best
            + float(conf["position_weight"]) / (1 + cand.position)
            - float(conf["quote_penalty"]) * cand.quote_only
        )


def _select(candidates: list[_Candidate], conf: dict) -> list[_Candidate]:
    chosen: list[_Candidate] = []
    length = 0
    for cand in sorted(candidates, key=lambda c: (-c.score, c.article.id, c.position)):
        if len(chosen) >= conf["max_sentences"] or (
            len(chosen) >= conf["min_sentences"] and length >= conf["target_chars"]
        ):
            break
        if any(_repeats(cand, other, conf) for other in chosen):
            continue
        # A quotation only fills a summary that would otherwise be too short.
        if cand.quote_only and len(chosen) >= conf["min_sentences"]:
            continue
        chosen.append(cand)
        length += len(cand.text) + 1
    return chosen


def _repeats(a: _Candidate, b: _Candidate, conf: dict) -> bool:
    if a.text.casefold() == b.text.casefold():
        return True
    union = a.lemmas | b.lemmas
    if union and len(a.lemmas & b.lemmas) / len(union) >= conf["max_overlap"]:
        return True
    if a.vector is not None and b.vector is not None:
        return float(np.dot(a.vector, b.vector)) >= conf["max_cosine"]
    return False


def _weights(counts: Mapping[str, float], limit: int) -> dict[str, float]:
    top = Counter(counts).most_common(int(limit))
    if not top:
        return {}
    peak = float(top[0][1]) or 1.0
    return {key: float(n) / peak for key, n in top}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
