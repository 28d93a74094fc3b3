"""Near-duplicate articles: MinHash signatures of word shingles, candidates from LSH (datasketch).

A duplicate is linked to its *original* (the earliest-added article it matches) and is not indexed
itself, so a copy of a copy maps to the same original and the index holds one entry per distinct text.
Signatures are small fixed-size integer arrays; the store keeps them (``signature_bytes``) so the index
is rebuilt at startup from ``entries()`` without re-reading any text.

Shingles are word n-grams of normalised text (lowercase, punctuation dropped, whitespace folded), so
re-formatting, quote styles and punctuation edits do not hide a copy. Text in another language shares
no shingles with the original and is never a duplicate; translations are the event clusterer's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime

import numpy as np
from datasketch import MinHash, MinHashLSH

# Pinned explicitly: datasketch 2.0 refuses to guess the scheme of stored hash values, and a
# different scheme or seed would make stored signatures silently incomparable.
_SCHEME = "affine32"
_SEED = 1
# uint64 as the store expects (affine32 values fit in 32 bits; the wider type keeps the stored format
# independent of the datasketch scheme)
_DTYPE = np.uint64
# LSH only proposes candidates; each is verified by its estimated Jaccard. Missing a true duplicate
# costs more than checking a false candidate, so the banding leans towards recall.
_LSH_WEIGHTS = (0.3, 0.7)

_NON_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> list[str]:
    """Lowercase words with punctuation stripped; ``ё`` folded to ``е`` (spelled either way in ru)."""
    return _NON_WORD.sub(" ", text.lower().replace("ё", "е")).split()


def shingles(text: str, size: int) -> set[str]:
    """Word ``size``-grams; a text shorter than ``size`` words is one shingle (all its words)."""
    words = normalise(text)
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


class DuplicateIndex:
    """Incremental near-duplicate detector.

    ``add`` returns the id of the original an article duplicates (estimated Jaccard of shingle sets
    >= ``threshold``), or None when it is new. State: originals in the LSH with their signatures,
    duplicates in a map to their original."""

    def __init__(self, threshold: float = 0.8, num_perm: int = 128, shingle_size: int = 5):
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not 0.0 < threshold <= 1.0
        ):
            raise ValueError(f"threshold must be a number in (0, 1], got {threshold!r}")
        if isinstance(num_perm, bool) or not isinstance(num_perm, int) or not 16 <= num_perm <= 1024:
            raise ValueError(f"num_perm must be a whole number in [16, 1024], got {num_perm!r}")
        if isinstance(shingle_size, bool) or not isinstance(shingle_size, int) or not 1 <= shingle_size <= 20:
            raise ValueError(f"shingle_size must be a whole number in [1, 20], got {shingle_size!r}")
        self.threshold = float(threshold)
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self._template = MinHash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME)
        self._lsh = MinHashLSH(
            threshold=self.threshold, num_perm=num_perm, weights=_LSH_WEIGHTS, prepickle=False
        )
        self._order: dict[str, int] = {}  # every id -> insertion number (earliest original wins)
        self._signatures: dict[str, np.ndarray] = {}  # every id, duplicates too (to promote one)
        self._duplicate_of: dict[str, str] = {}
        self._times: dict[str, datetime] = {}  # the dated ids, for retire_before
        self._counter = 0

    @property
    def signature_version(self) -> str:
        """Changes whenever signatures would: store it beside them and rebuild when it differs."""
        return f"minhash-{_SCHEME}-s{_SEED}-p{self.num_perm}-w{self.shingle_size}-v1"

    def __repr__(self) -> str:
        return (
            f"DuplicateIndex(threshold={self.threshold}, num_perm={self.num_perm}, "
            f"shingle_size={self.shingle_size}, size={len(self)})"
        )

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._order

    # ------------------------------------------------------------ signatures

    def signature(self, text: str) -> np.ndarray:
        """MinHash of the text's shingles: ``num_perm`` uint64 values (``.tobytes()`` to store)."""
        minhash = self._template.copy()
        items = shingles(text, self.shingle_size)
        if items:
            minhash.update_batch([item.encode("utf-8") for item in items])
        return minhash.hashvalues.astype(_DTYPE, copy=True)

    def signature_from_bytes(self, data: bytes) -> np.ndarray:
        return self._check_signature(np.frombuffer(data, dtype=_DTYPE).copy())

    def _check_signature(self, signature) -> np.ndarray:
        array = np.asarray(signature)
        if array.shape != (self.num_perm,):
            raise ValueError(f"signature must have shape ({self.num_perm},), got {array.shape}")
        return array.astype(_DTYPE, copy=False)

    def _minhash(self, signature: np.ndarray) -> MinHash:
        # Reuse the template's permutations: generating them again costs more than the lookup.
        return MinHash(
            seed=_SEED, hashvalues=signature, permutations=self._template.permutations, scheme=_SCHEME
        )

    def _is_empty(self, signature: np.ndarray) -> bool:
        # A text without words: all values stay at the maximum; it matches every other empty text.
        return bool(np.all(signature == self._template.hashvalues))

    def _resolve(self, text: str | None, signature) -> np.ndarray:
        if (text is None) == (signature is None):
            raise ValueError("give exactly one of text or signature")
        if text is not None:
            return self.signature(text)
        if isinstance(signature, bytes | bytearray | memoryview):
            return self.signature_from_bytes(bytes(signature))
        return self._check_signature(signature)

    # ------------------------------------------------------------ queries and updates

    def find(self, text: str | None = None, signature=None) -> list[tuple[str, float]]:
        """Originals whose estimated Jaccard with the text is >= threshold, most similar first."""
        signature = self._resolve(text, signature)
        if self._is_empty(signature) or self._lsh.is_empty():
            return []
        found = []
        for key in self._lsh.query(self._minhash(signature)):
            jaccard = float(np.count_nonzero(self._signatures[key] == signature)) / self.num_perm
            if jaccard >= self.threshold:
                found.append((key, jaccard))
        found.sort(key=lambda pair: (-pair[1], self._order[pair[0]]))
        return found

    def add(self, article_id: str, text: str | None = None, signature=None,
            time: datetime | None = None) -> str | None:
        """Index one article; return the id of the original it duplicates, or None if it is new.
        ``time`` (its publication) lets ``retire_before`` forget it once it is old.

        Adding an id again changes nothing and returns its earlier answer (re-ingest is idempotent)."""
        if not isinstance(article_id, str) or not article_id:
            raise ValueError(f"article_id must be a non-empty str, got {article_id!r}")
        signature = self._resolve(text, signature)
        if article_id in self._order:
            return self._duplicate_of.get(article_id)
        original = self.original_of(signature)
        self._record(article_id, signature, original)
        if time is not None:
            self._times[article_id] = time
        return original

    def original_of(self, signature: np.ndarray) -> str | None:
        """The earliest-added original the signature matches, without indexing it."""
        matches = self.find(signature=signature)
        return min(matches, key=lambda pair: self._order[pair[0]])[0] if matches else None

    def oldest(self) -> datetime | None:
        return min(self._times.values(), default=None)

    def retire_before(self, moment: datetime) -> list[str]:
        """Forget the articles dated before ``moment`` (undated ones stay) and return their ids.
        The rest are indexed again in their order, so the index equals one rebuilt from the
        store's remaining signatures (a resumed run finds the duplicates an unbroken one does)."""
        old = {a for a, t in self._times.items() if t < moment}
        if not old:
            return []
        keep = [(a, self._signatures[a], self._times.get(a))
                for a in sorted(self._order, key=self._order.get) if a not in old]
        self._lsh = MinHashLSH(
            threshold=self.threshold, num_perm=self.num_perm, weights=_LSH_WEIGHTS, prepickle=False
        )
        self._order, self._signatures, self._duplicate_of, self._times = {}, {}, {}, {}
        for article_id, signature, time in keep:
            self.add(article_id, signature=signature, time=time)
        return sorted(old)

    def _record(self, article_id: str, signature: np.ndarray, original: str | None) -> None:
        self._order[article_id] = self._counter
        self._counter += 1
        self._signatures[article_id] = signature
        if original is not None:
            self._duplicate_of[article_id] = original
        elif not self._is_empty(signature):
            self._lsh.insert(article_id, self._minhash(signature), check_duplication=False)

    def duplicate_of(self, article_id: str) -> str | None:
        if article_id not in self._order:
            raise KeyError(article_id)
        return self._duplicate_of.get(article_id)

    def remove(self, article_id: str) -> dict[str, str | None]:
        """Forget an article. Returns the new ``duplicate_of`` of every article whose link changed.

        Removing an original promotes its earliest duplicate to original (None in the result) and
        re-links the other duplicates to it, so the store can update them."""
        if article_id not in self._order:
            raise KeyError(article_id)
        del self._order[article_id]
        del self._signatures[article_id]
        self._times.pop(article_id, None)
        if self._duplicate_of.pop(article_id, None) is not None:
            return {}
        if article_id in self._lsh.keys:
            self._lsh.remove(article_id)
        orphans = sorted((d for d, o in self._duplicate_of.items() if o == article_id), key=self._order.get)
        if not orphans:
            return {}
        heir, *rest = orphans
        del self._duplicate_of[heir]
        self._lsh.insert(heir, self._minhash(self._signatures[heir]), check_duplication=False)
        for other in rest:
            self._duplicate_of[other] = heir
        return {heir: None, **dict.fromkeys(rest, heir)}

    # ------------------------------------------------------------ persistence

    def entries(self) -> Iterator[tuple[str, bytes, str | None]]:
        """``(id, signature bytes, duplicate_of)`` in insertion order: what the store keeps."""
        for article_id in sorted(self._order, key=self._order.get):
            yield article_id, self._signatures[article_id].tobytes(), self._duplicate_of.get(article_id)

    @classmethod
    def from_entries(
        cls,
        entries: Iterable[tuple[str, bytes | np.ndarray, str | None]],
        threshold: float = 0.8,
        num_perm: int = 128,
        shingle_size: int = 5,
    ) -> DuplicateIndex:
        """Rebuild from stored entries in insertion order, keeping their stored links as they are."""
        index = cls(threshold=threshold, num_perm=num_perm, shingle_size=shingle_size)
        for article_id, signature, original in entries:
            signature = index._resolve(None, signature)
            if article_id in index._order:
                raise ValueError(f"entry {article_id!r} appears twice")
            if original is not None and original not in index._order:
                raise ValueError(
                    f"entry {article_id!r} is a duplicate of {original!r}, which comes later or is missing"
                )
            # A stored link may point at a duplicate (older data); follow it to the original.
            original = index._duplicate_of.get(original, original) if original is not None else None
            index._record(article_id, signature, original)
        return index

    def to_state(self) -> dict:
        """Plain data (JSON/pickle-able besides bytes): parameters and entries."""
        return {
            "version": self.signature_version,
            "threshold": self.threshold,
            "num_perm": self.num_perm,
            "shingle_size": self.shingle_size,
            "entries": list(self.entries()),
        }

    @classmethod
    def from_state(cls, state: dict) -> DuplicateIndex:
        params = {key: state[key] for key in ("threshold", "num_perm", "shingle_size")}
        expected = cls(**params).signature_version
        if state.get("version") != expected:
            raise ValueError(f"stored signatures are {state.get('version')!r}, this index makes {expected!r}")
        return cls.from_entries(state["entries"], **params)
