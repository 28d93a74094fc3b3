"""The order in which a batch's articles are clustered. Online clustering follows time: an event
grows as it happened and closes when the stream has moved past it. An article without a date of
its own has no place in that order; put last, it found its own event closed and joined a later
event of the same story (the sample corpus's two undated reports did, docs/evaluation.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from storyline.model import Article
from storyline.utc import as_utc

T = TypeVar("T")


def clustering_order(articles: Sequence[Article], vectors: Sequence[np.ndarray]) -> list[int]:
    """Indices of ``articles`` in clustering order: dated articles by time; an undated article
    whose nearest article of the batch (by vector) is dated comes right after that one, as it is
    most often a report of the same event; the other undated articles come last, together, as
    before (where they find each other: BSNLP's undated reports are whole runs of two topics).
    The time of an undated article stays unknown to the event model; only its turn changes."""
    dated = sorted((i for i, a in enumerate(articles) if a.published is not None),
                   key=lambda i: (as_utc(articles[i].published), articles[i].id))
    undated = [i for i, a in enumerate(articles) if a.published is None]
    if not dated or not undated:
        return dated + undated
    everyone = dated + undated
    matrix = np.vstack([np.asarray(vectors[i], dtype=np.float32) for i in everyone])
    similarity = matrix[len(dated):] @ matrix.T
    similarity[np.arange(len(undated)), len(dated) + np.arange(len(undated))] = -np.inf
    nearest = np.argmax(similarity, axis=1)
    after: dict[int, list[int]] = {}
    last: list[int] = []
    for i, position in zip(undated, nearest, strict=True):
        (after.setdefault(int(position), []) if position < len(dated) else last).append(i)
    order: list[int] = []
    for position, i in enumerate(dated):
        order.append(i)
        order.extend(after.get(position, ()))
    return order + last


def in_clustering_order(articles: Sequence[Article], vectors: Sequence[np.ndarray],
                        latents: Sequence[T]) -> tuple[list[Article], list[np.ndarray], list[T]]:
    """``articles`` and, index for index, their vectors and latent terms, in clustering order."""
    order = clustering_order(articles, vectors)
    return [articles[i] for i in order], [vectors[i] for i in order], [latents[i] for i in order]
