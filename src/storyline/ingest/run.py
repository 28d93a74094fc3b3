"""Ingest: read inputs, run the pipeline, write the store in batches, count what happened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storyline.engines import Engine
from storyline.ingest.readers import read_inputs
from storyline.model import Article, RawDocument, Rejection
from storyline.settings import Settings
from storyline.store.base import Store

if TYPE_CHECKING:
    from storyline.cluster.profile import Embedded

# Articles are clustered (in time order) and stored this many at a time: large enough that a
# directory read in any order reaches the clustering roughly in time order, small enough that
# an interrupted run redoes little.
BATCH_SIZE = 1000


@dataclass
class IngestSummary:
    counts: Counter = field(default_factory=Counter)  # ingested / updated / unchanged
    rejected: Counter = field(default_factory=Counter)  # reason -> count

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())

    def line(self) -> str:
        parts = [f"{self.counts['ingested']} ingested", f"{self.counts['updated']} updated",
                 f"{self.counts['unchanged']} unchanged", f"{self.total_rejected} rejected"]
        if self.rejected:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in self.rejected.most_common())
            parts[-1] += f" ({reasons})"
        return ", ".join(parts)


def ingest(paths: Iterable[str], store: Store, settings: Settings | None = None, *,
           on_rejection: Callable[[Rejection], None] | None = None,
           on_item: Callable[[], None] | None = None, stdin=None,
           engine: Engine | None = None) -> IngestSummary:
    """Ingest everything under ``paths`` into ``store``. A bad input is reported through
    ``on_rejection``, kept in the store's rejections, and never stops the batch. ``engine``
    (storyline.engines.open_engine) runs the per-article stages; default: in this process."""
    settings = settings or Settings()
    items = read_inputs(paths, crawled_at=settings.crawled_at, stdin=stdin,
                        max_bytes=settings.max_document_bytes)
    return ingest_documents(items, store, settings, on_rejection=on_rejection, on_item=on_item,
                            engine=engine)


def ingest_documents(items: Iterable[RawDocument | Rejection], store: Store,
                     settings: Settings | None = None, *,
                     on_rejection: Callable[[Rejection], None] | None = None,
                     on_item: Callable[[], None] | None = None,
                     engine: Engine | None = None) -> IngestSummary:
    """Ingest documents already read (by a reader, a feed, an evaluation's dataset loader)."""
    settings = settings or Settings()
    engine = engine or Engine()
    writer = BatchWriter(store, settings)
    clustering = writer.clustering
    summary = IngestSummary()
    batch: list[Article] = []
    vectors: dict[str, Embedded] = {}  # computed by the engine's workers

    def flush() -> None:
        summary.counts.update(writer.save(batch, vectors))
        batch.clear()
        vectors.clear()

    # Whatever the engine, items come in input order, so the batches (and so the stories) are
    # the same as in one process.
    for item, vector in engine.run(_unique_ids(items), settings, clustering):
        if on_item:
            on_item()
        if isinstance(item, Rejection):
            summary.rejected[item.reason] += 1
            store.add_rejection(item)
            if on_rejection:
                on_rejection(item)
            continue
        batch.append(item)
        if vector is not None:
            vectors[item.id] = vector
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return summary


class BatchWriter:
    """Clusters and saves batches of articles. Another process (a watcher, a second ingest, the
    API) may write the same store: each batch is clustered and saved in the store's writer turn,
    on the clustering state as the store has it, reloaded when someone else saved since."""

    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.clustering = story_engine(store, settings)
        self._generation: int | None = None  # of the state the clustering holds in memory

    def save(self, articles: list[Article], vectors: dict[str, Embedded] | None = None):
        if self.clustering is None:
            return self.store.save_batch(articles)
        with self.store.writer_turn() as generation:
            if self._generation is not None and generation != self._generation:
                self.clustering.reload()
            counts = self.store.save_batch(articles, self.clustering.add(articles, vectors))
            self._generation = self.store.clustering_generation()
        return counts


def story_engine(store: Store, settings: Settings):
    """The clustering engine over ``store``, or None when ``settings`` turn clustering off."""
    if not settings.cluster:
        return None
    from storyline.cluster.engine import StoryEngine

    return StoryEngine(store, settings)


def _unique_ids(items: Iterable[RawDocument | Rejection]) -> Iterator[RawDocument | Rejection]:
    """Two different inputs in one run must not claim one id: the second is refused, not merged."""
    seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, RawDocument):
            first = seen.setdefault(item.id, item.origin)
            if first != item.origin:
                yield Rejection(item.origin, "duplicate_id",
                                f"id {item.id!r} is already taken by {first}; rename the file "
                                f"or give the record its own id", raw=item)
                continue
        yield item
