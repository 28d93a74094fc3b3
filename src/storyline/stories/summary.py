"""An extractive summary of a story or event: 2-4 sentences from its articles in one language.

Sentences (razdel) are scored by centrality (lexical: the story's top terms and entities they
carry; with an embedder, also the cosine to the story's centroid), by position (the lead of an
article states the news) and lose points when they are all quotation. Near-repeats of a chosen
sentence are skipped. The chosen sentences are shown in time order. Sizes and weights are data
(``data/stories.toml``, ``[summary]``)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from storyline.model import Article
from storyline.nlp.embed import Embedder
from storyline.stories.digest import Digest, digest_of, key_hash
from storyline.stories.headline import majority_lang
from storyline.stories.params import section
from storyline.utc import as_utc

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
    lemmas: frozenset[int]  # hashes (storyline.stories.digest.key_hash)
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
    digests: Mapping[str, Digest] | None = None,
) -> Summary:
    """Summarise ``articles`` in ``lang`` (default: their main language; when none of them is in
    ``lang``, their main language is used and ``Summary.fallback`` says so).

    ``top_terms``/``top_entities`` weigh lemmas and entity keys (default: counted over the
    articles). With ``embedder`` and ``centroid`` (a unit vector in the embedder's space) the best
    candidates are re-ranked by cosine to the centroid. ``digests`` (article id -> its stored
    ``Digest``) spare splitting and lemmatising the articles' sentences again."""
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
    table = _Sentences(pool, [_digest(a, used, digests) for a in pool], conf)
    if not len(table):
        return Summary((), used, preferred)
    scores = table.scores(terms, ents, conf)
    method = "lexical"
    if embedder is not None and centroid is not None:
        top = np.argsort(-scores, kind="stable")[: int(conf["embed_candidates"])]
        candidates = [table.candidate(int(i), float(scores[i])) for i in top]
        matrix = embedder.embed([c.text for c in candidates])
        for cand, row in zip(candidates, matrix, strict=True):
            cand.vector = row
            cand.score += float(conf["vector_weight"]) * float(np.dot(row, centroid))
        ranked = sorted(candidates, key=lambda c: (-c.score, c.article.id, c.position))
        method = "vectors"
    else:
        ranked = (table.candidate(int(i), float(scores[i])) for i in table.ranking(scores))
    chosen = _select(ranked, conf)
    oldest = datetime.max.replace(tzinfo=UTC)
    chosen.sort(key=lambda c: (as_utc(c.article.published) if c.article.published else oldest,
                               c.article.id, c.position))
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


def _digest(article: Article, lang: str | None, digests: Mapping[str, Digest] | None) -> Digest:
    stored = digests.get(article.id) if digests else None
    # A digest holds the sentences of its article's own language, which is the summary's for
    # every article of the pool (see ``summarise``); the check keeps that an invariant.
    if stored is not None and article.lang == lang:
        return stored
    return digest_of(article, lang)


class _Sentences:
    """The candidate sentences of a pool of articles as columns: those of a summary's length."""

    def __init__(self, pool: Sequence[Article], digests: Sequence[Digest], conf: dict):
        self.pool, self.digests = pool, digests
        sizes = [len(d) for d in digests]
        lengths = _joined([d.lengths for d in digests], np.int32)
        keep = (lengths >= conf["min_sentence_chars"]) & (lengths <= conf["max_sentence_chars"])
        owner = np.repeat(np.arange(len(pool)), np.array(sizes, dtype=np.int64))
        first = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])[:-1]
        self.owner = owner[keep]  # index into pool
        self.local = (np.arange(len(owner)) - first[owner])[keep]  # index in its digest
        self.positions = _joined([d.positions for d in digests], np.int32)[keep]
        self.quote_only = _joined([d.quote_only for d in digests], bool)[keep]
        self._lemmas = _keys(digests, keep, "lemma_bounds", "lemma_keys")
        self._entities = _keys(digests, keep, "entity_bounds", "entity_keys")

    def __len__(self) -> int:
        return len(self.owner)

    def scores(self, terms: dict[str, float], ents: dict[str, float], conf: dict) -> np.ndarray:
        lemma_mass, counts = _mass(*self._lemmas, terms)
        entity_mass, _ = _mass(*self._entities, ents)
        # Per sqrt(length): a long sentence collects more keys without being more central.
        raw = (lemma_mass + entity_mass) / np.sqrt(np.maximum(counts, 4))
        best = float(raw.max()) or 1.0
        return (
            float(conf["centrality_weight"]) * raw / best
            + float(conf["position_weight"]) / (1 + self.positions)
            - float(conf["quote_penalty"]) * self.quote_only
        )

    def ranking(self, scores: np.ndarray) -> np.ndarray:
        """Indices by score, then article id, then position (a stable order for ties)."""
        id_rank = np.empty(len(self.pool), dtype=np.int64)
        id_rank[sorted(range(len(self.pool)), key=lambda i: self.pool[i].id)] = np.arange(len(self.pool))
        return np.lexsort((self.positions, id_rank[self.owner], -scores))

    def candidate(self, i: int, score: float) -> _Candidate:
        digest, local = self.digests[self.owner[i]], int(self.local[i])
        return _Candidate(
            digest.texts[local], self.pool[self.owner[i]], int(self.positions[i]), digest.lemmas(local),
            bool(self.quote_only[i]), score,
        )


def _joined(parts: Sequence[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


def _keys(digests: Sequence[Digest], keep: np.ndarray, bounds: str, keys: str
          ) -> tuple[np.ndarray, np.ndarray]:
    """The kept sentences' keys, joined, and where each sentence's keys start (n + 1 bounds)."""
    counts = _joined([np.diff(getattr(d, bounds)) for d in digests], np.int64)
    values = _joined([getattr(d, keys) for d in digests], np.uint64)
    if not keep.all():
        values = values[np.repeat(keep, counts)]
        counts = counts[keep]
    return np.concatenate([[0], np.cumsum(counts)]), values


def _mass(bounds: np.ndarray, keys: np.ndarray, weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's sum of the weights of its keys, and its count of keys."""
    counts = np.diff(bounds)
    sums = np.zeros(len(counts))
    if not weights or not len(keys):
        return sums, counts
    table = sorted((key_hash(k), w) for k, w in weights.items())
    known = np.array([h for h, _ in table], dtype=np.uint64)
    value = np.array([w for _, w in table], dtype=np.float64)
    at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    found = np.where(known[at] == keys, value[at], 0.0)
    filled = counts > 0
    if filled.any():
        sums[filled] = np.add.reduceat(found, bounds[:-1][filled])
    return sums, counts


def _select(ranked: Iterable[_Candidate], conf: dict) -> list[_Candidate]:
    chosen: list[_Candidate] = []
    length = 0
    for cand in ranked:
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
