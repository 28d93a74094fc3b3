"""What a story's headline and summary need of one article, computed once when it is stored.

A story's listing facts are chosen from all its articles, and a story that keeps growing is
computed again with every batch that touches it. Splitting each article into sentences and
lemmatising them on every one of those passes made the cost of a batch grow with the size of the
stories it touched (docs/benchmarks.md, the 100k stream). The digest is the part of that work
that depends on the article alone: its title keys and its candidate sentences, each with its
position, length, lemmas, entity keys and whether it is mostly quotation. What depends on the
story (the weights of its terms, the length bounds of ``[summary]``) is applied when the story is
computed, so the headline and summary are those computed from the full articles.

The sentences are columns (numpy arrays), lemmas and entity keys as 64-bit hashes: a summary
weighs every sentence of a story, and summing weights over arrays is what keeps that cheap for a
story of thousands of articles. The texts are parsed only for the few sentences a summary
examines. A sentence's language is its article's: ``summarise`` only takes sentences from
articles in the summary's language, and from paragraphs in it or of unknown language."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from storyline.model import Article

# Bump when what ``digest_of`` computes changes: stored digests of another version are
# computed again from their articles when a story that holds them is next listed.
DIGEST_VERSION = 1

_HEADER = 3  # int64: sentences, lemma keys, entity keys
OWN = object()  # the article's own language


@lru_cache(maxsize=200_000)
def key_hash(key: str) -> int:
    """A stable 64-bit hash of a lemma or entity key (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def hashes(keys: Iterable[str]) -> np.ndarray:
    """The sorted distinct hashes of ``keys``."""
    return np.unique(np.fromiter((key_hash(k) for k in keys), dtype=np.uint64))


@dataclass(eq=False, slots=True)
class Digest:
    title_keys: frozenset[str]
    positions: np.ndarray  # int32: each sentence's index among its article's sentences in its language
    lengths: np.ndarray  # int32: characters of each text
    quote_only: np.ndarray  # bool
    lemma_bounds: np.ndarray  # int32, n + 1: sentence i's lemma hashes are lemma_keys[b[i]:b[i+1]]
    lemma_keys: np.ndarray  # uint64, sorted within each sentence
    entity_bounds: np.ndarray
    entity_keys: np.ndarray  # uint64: keys of the article's entities whose surface form it holds
    # The texts (spaces collapsed, as a summary shows them), or their JSON until first asked for.
    _texts: Sequence[str] | str = field(repr=False, default=())

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def texts(self) -> Sequence[str]:
        if isinstance(self._texts, str):
            self._texts = tuple(json.loads(self._texts))
        return self._texts

    def lemmas(self, i: int) -> frozenset[int]:
        return frozenset(self.lemma_keys[self.lemma_bounds[i]:self.lemma_bounds[i + 1]].tolist())

    def __eq__(self, other) -> bool:
        if not isinstance(other, Digest):
            return NotImplemented
        arrays = ("positions", "lengths", "quote_only", "lemma_bounds", "lemma_keys",
                  "entity_bounds", "entity_keys")
        return (self.title_keys == other.title_keys and tuple(self.texts) == tuple(other.texts)
                and all(np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays))

    # -- stored form: title keys and texts as JSON, the columns as one binary blob --------------

    def title_json(self) -> str:
        return json.dumps(sorted(self.title_keys), ensure_ascii=False, separators=(",", ":"))

    def texts_json(self) -> str:
        return json.dumps(list(self.texts), ensure_ascii=False, separators=(",", ":"))

    def sentence_blob(self) -> bytes:
        n, m, e = len(self.positions), len(self.lemma_keys), len(self.entity_keys)
        parts = [np.array([n, m, e], dtype=np.int64), self.lemma_keys, self.entity_keys,
                 self.positions, self.lengths, self.quote_only.astype(np.int32),
                 self.lemma_bounds, self.entity_bounds]
        return b"".join(np.ascontiguousarray(p).tobytes() for p in parts)

    @classmethod
    def stored(cls, title_keys: str, sentences: bytes, texts: str) -> Digest:
        # Two views of the blob and slices of them: a story's articles are read by the thousand.
        n, m, e = (int(x) for x in np.frombuffer(sentences, dtype=np.int64, count=_HEADER))
        wide = np.frombuffer(sentences, dtype=np.uint64, count=_HEADER + m + e)
        keys = wide[_HEADER:]
        narrow = np.frombuffer(sentences, dtype=np.int32, offset=8 * (_HEADER + m + e))
        cuts = np.cumsum([0, n, n, n, n + 1, n + 1])
        positions, lengths, quotes, lemma_bounds, entity_bounds = (
            narrow[cuts[i]:cuts[i + 1]] for i in range(5))
        return cls(frozenset(json.loads(title_keys)), positions, lengths, quotes.astype(bool),
                   lemma_bounds, keys[:m], entity_bounds, keys[m:], texts)


def digest_of(article: Article, lang: str | None | object = OWN) -> Digest:
    """The digest of ``article``, its sentences those of ``lang`` (default: its own language)."""
    return _columns(title_keys(article), _sentences(article, article.lang if lang is OWN else lang))


def title_keys(article: Article) -> frozenset[str]:
    """Lemmas of the title and keys of the entities whose surface form it contains."""
    from storyline.nlp.lemmas import lemmatise

    title = article.title or ""
    keys = set(lemmatise(title, article.lang)) if title else set()
    keys.update(_entities_in(article, title.casefold()))
    return frozenset(keys)


def _sentences(article: Article, lang: str | None) -> list[tuple[str, int, list[str], set[str], bool]]:
    """The sentences of paragraphs in ``lang`` (or of unknown language), lemmatised as ``lang``,
    except those that repeat the title."""
    from razdel import sentenize

    from storyline.nlp.lemmas import lemmatise
    from storyline.stories.summary import is_quote_only

    title = " ".join((article.title or "").split()).casefold().rstrip(".")
    quotes = [q.text for q in article.quotes if q.text]
    out = []
    position = 0
    for paragraph in article.paragraphs:
        if paragraph.lang not in (None, lang):
            continue
        for sent in sentenize(paragraph.text):
            text = " ".join(sent.text.split())
            index, position = position, position + 1
            folded = text.casefold()
            if folded.rstrip(".") == title:
                continue
            out.append((text, index, lemmatise(text, lang), _entities_in(article, folded),
                        is_quote_only(text, quotes)))
    return out


def _columns(keys: frozenset[str], sentences: list) -> Digest:
    lemma_sets = [hashes(s[2]) for s in sentences]
    entity_sets = [hashes(s[3]) for s in sentences]

    def bounds(sets: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([[0], np.cumsum([len(s) for s in sets], dtype=np.int64)]).astype(np.int32)

    def joined(sets: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(sets).astype(np.uint64) if sets else np.zeros(0, dtype=np.uint64)

    return Digest(
        keys,
        np.array([s[1] for s in sentences], dtype=np.int32),
        np.array([len(s[0]) for s in sentences], dtype=np.int32),
        np.array([s[4] for s in sentences], dtype=bool),
        bounds(lemma_sets),
        joined(lemma_sets),
        bounds(entity_sets),
        joined(entity_sets),
        tuple(s[0] for s in sentences),
    )


def _entities_in(article: Article, folded: str) -> set[str]:
    return {e.key for e in article.entities if e.key and e.text and e.text.casefold() in folded}
