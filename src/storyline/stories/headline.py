"""A story's or event's headline: a member title that is representative (closest to the cluster's
centroid, or sharing most of its top entities and terms) and not clickbait, in the reader's
language when the cluster has a title in it.

Clickbait patterns and their penalties are data (``data/stories.toml``, ``[headline]``)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from storyline.model import Article
from storyline.store.base import ClusterRow
from storyline.stories.digest import Digest, title_keys
from storyline.stories.params import section


@dataclass(frozen=True, slots=True)
class TitleCandidate:
    """One member title; ``keys`` are its lemmas and entity keys (for the lexical fallback)."""

    article_id: str
    title: str
    lang: str | None
    keys: frozenset[str] = frozenset()
    duplicate: bool = False

    def __post_init__(self):
        if not self.article_id:
            raise ValueError(f"a title candidate needs an article id, got {self.article_id!r}")


@dataclass(frozen=True, slots=True)
class Headline:
    text: str
    lang: str | None
    article_id: str
    preferred_lang: str | None  # what the reader asked for (or the cluster's main language)
    score: float
    penalties: tuple[str, ...] = field(default=())  # clickbait signs the chosen title still has
    method: str = "centroid"  # "centroid" (vectors) or "overlap" (entities and terms)

    @property
    def fallback(self) -> bool:
        """True when no title was in the preferred language and another language's was used."""
        return self.preferred_lang is not None and self.lang != self.preferred_lang

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "lang": self.lang,
            "article_id": self.article_id,
            "preferred_lang": self.preferred_lang,
            "fallback": self.fallback,
            "score": round(self.score, 4),
            "penalties": list(self.penalties),
            "method": self.method,
        }


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, float, re.Pattern], ...]:
    patterns = []
    for name, (penalty, regex) in section("headline")["patterns"].items():
        try:
            patterns.append((name, float(penalty), re.compile(regex, re.IGNORECASE)))
        except re.error as exc:
            raise ValueError(f"headline pattern {name!r} is not a valid expression: {exc}") from None
    return tuple(patterns)


def clickbait_penalties(title: str) -> list[tuple[str, float]]:
    """The clickbait signs of a title with their penalties (empty for a plain news title)."""
    conf = section("headline")
    found = [(name, penalty) for name, penalty, regex in _patterns() if regex.search(title)]
    letters = [c for c in title if c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) >= conf["all_caps_share"]:
        found.append(("all_caps", float(conf["all_caps_penalty"])))
    length = len(title.strip())
    if length < conf["min_chars"]:
        found.append(("too_short", float(conf["short_penalty"])))
    elif length > conf["max_chars"]:
        found.append(("too_long", float(conf["long_penalty"])))
    return found


def candidates_from_articles(
    articles: Iterable[Article], digests: Mapping[str, Digest] | None = None
) -> list[TitleCandidate]:
    """The titled articles' candidates; a stored digest gives an article's title keys."""
    out = []
    for a in articles:
        if not (a.title and a.title.strip()):
            continue
        digest = digests.get(a.id) if digests else None
        keys = digest.title_keys if digest is not None else title_keys(a)
        out.append(TitleCandidate(a.id, " ".join(a.title.split()), a.lang, keys, bool(a.duplicate_of)))
    return out


def majority_lang(langs: Iterable[str | None]) -> str | None:
    """The most common language; ties go to the alphabetically first, so output is stable."""
    counts = Counter(x for x in langs if x)
    if not counts:
        return None
    return min(counts, key=lambda lang: (-counts[lang], lang))


def choose_headline(
    candidates: Sequence[TitleCandidate],
    lang: str | None = None,
    *,
    vectors: Mapping[str, np.ndarray] | None = None,
    centroid: np.ndarray | None = None,
    top_keys: Sequence[str] = (),
) -> Headline | None:
    """The best title among ``candidates`` in ``lang`` (default: their main language); a title in
    another language only when none is in ``lang``. None when there are no titles at all.

    Representative means closest to ``centroid`` (default: the mean of the candidates' vectors)
    when ``vectors`` cover the candidates, else sharing most of ``top_keys``; the share of
    ``top_keys`` also breaks near-ties between vectors. Clickbait signs subtract penalties."""
    if not candidates:
        return None
    conf = section("headline")
    preferred = lang or majority_lang(c.lang for c in candidates if not c.duplicate)
    pool = [c for c in candidates if c.lang == preferred] or list(candidates)
    # A reprint's title is the original's; prefer originals when there are any.
    pool = [c for c in pool if not c.duplicate] or pool
    vectors = vectors or {}
    have_vectors = all(c.article_id in vectors for c in pool)
    if have_vectors and centroid is None:
        centroid = _mean([vectors[c.article_id] for c in candidates if c.article_id in vectors])
    method = "centroid" if have_vectors and centroid is not None else "overlap"
    top = [k for k in top_keys][: int(conf["top_keys"])]
    scored = []
    for cand in pool:
        share = _share(cand.keys, top)
        base = float(np.dot(vectors[cand.article_id], centroid)) if method == "centroid" else share
        bonus = float(conf["overlap_weight"]) * share if method == "centroid" else 0.0
        penalties = clickbait_penalties(cand.title)
        score = base + bonus - sum(p for _, p in penalties)
        scored.append((score, cand, tuple(name for name, _ in penalties)))
    # Stable choice: best score, then the shorter title, then the smaller id.
    score, best, penalties = min(scored, key=lambda s: (-s[0], len(s[1].title), s[1].article_id))
    return Headline(best.title, best.lang, best.article_id, preferred, score, penalties, method)


def cluster_headlines(
    articles: Sequence[Article],
    langs: Iterable[str | None],
    vectors: Mapping[str, np.ndarray],
    row: ClusterRow | None,
    digests: Mapping[str, Digest] | None = None,
) -> dict[str | None, Headline | None]:
    """The headline of a story or event for each reader language in ``langs`` (None: the
    cluster's main language). The one way every listing, page and answer headlines a cluster:
    closest to the centroid of its originals (the stored vector sum when their vectors are
    unknown), sharing the cluster's top entities and terms, not clickbait."""
    originals = [a for a in articles if not a.duplicate_of] or list(articles)
    centroid = centroid_of([vectors.get(a.id) for a in originals], row)
    candidates = candidates_from_articles(articles, digests)
    keys = top_keys_of(row)
    return {
        lang: choose_headline(candidates, lang, vectors=vectors, centroid=centroid, top_keys=keys)
        for lang in langs
    }


def cluster_headline(
    articles: Sequence[Article],
    lang: str | None,
    vectors: Mapping[str, np.ndarray],
    row: ClusterRow | None,
) -> Headline | None:
    return cluster_headlines(articles, [lang], vectors, row)[lang]


def top_keys_of(row: ClusterRow | None) -> list[str]:
    """The cluster's entity keys and terms, most counted first."""
    if row is None:
        return []
    counts = Counter(row.state.get("entities") or {}) + Counter(row.state.get("terms") or {})
    return [k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def centroid_of(rows: Sequence[np.ndarray | None], cluster: ClusterRow | None = None) -> np.ndarray | None:
    """Mean of the members' vectors (unit length); the cluster's stored sum when none are known."""
    present = [r for r in rows if r is not None]
    if present:
        total = np.sum(np.vstack(present), axis=0)
    elif cluster is not None and cluster.vector_sum:
        total = np.frombuffer(cluster.vector_sum, dtype=np.float32)
    else:
        return None
    norm = float(np.linalg.norm(total))
    return total / norm if norm and math.isfinite(norm) else None


def _share(keys: frozenset[str], top: Sequence[str]) -> float:
    if not top:
        return 0.0
    # A title names a handful of things: five or six of the cluster's top keys is full marks.
    return min(1.0, sum(1 for k in top if k in keys) / min(len(top), 6))


def _mean(rows: list[np.ndarray]) -> np.ndarray | None:
    if not rows:
        return None
    mean = np.mean(np.vstack(rows), axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else None
