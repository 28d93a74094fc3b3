"""The order in which a batch's articles are clustered. Online clustering follows time: an event
grows as it happened and closes when the stream has moved past it. An article without a date of
its own has no place in that order; put last, it found its own event closed and joined a later
event of the same story (the sample corpus's two undated reports did, docs/evaluation.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from storyline.model import Article


def clustering_order(articles: Sequence[Article], vectors: Sequence[np.ndarray]) -> list[int]:
    """Indices of ``articles`` in clustering order: dated articles by time, and each undated one
    right after the dated article of the batch whose vector is nearest its own, which is most
    often a report of the same event. Its time stays unknown (the event model gives it no
    closeness in time); only its turn changes. Without a dated article, undated ones keep
    their order."""
    dated = sorted((i for i, a in enumerate(articles) if a.published is not None),
                   key=lambda i: (_utc(articles[i].published), articles[i].id))
    undated = [i for i, a in enumerate(articles) if a.published is None]
    if not dated or not undated:
        return dated + undated
    matrix = np.vstack([np.asarray(vectors[i], dtype=np.float32) for i in dated])
    queries = np.vstack([np.asarray(vectors[i], dtype=np.float32) for i in undated])
    nearest = np.argmax(queries @ matrix.T, axis=1)
    after: dict[int, list[int]] = {}
    for i, anchor in zip(undated, nearest, strict=True):
        after.setdefault(int(anchor), []).append(i)
    order: list[int] = []
    for position, i in enumerate(dated):
        order.append(i)
        order.extend(after.get(position, ()))
    return order


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
