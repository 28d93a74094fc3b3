"""What the local and Dask engines share: inputs go to the workers in chunks, a bounded number
at a time, and come back in the order they went, whichever worker finishes first."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING

from storyline.engines import Engine
from storyline.engines.work import ChunkResult
from storyline.errors import StorylineError
from storyline.model import RawDocument, Rejection
from storyline.settings import Settings

if TYPE_CHECKING:
    from storyline.cluster.engine import StoryEngine
    from storyline.engines import Processed

# Inputs per task: enough that pickling and scheduling (~1 ms a task on Dask) stay small next to
# the ~50 ms an article takes, few enough that every worker gets work on a small input.
CHUNK_SIZE = 50
# Chunks in flight per worker: one being processed and one waiting, so no worker idles while the
# driver collects; the bound keeps memory flat however many inputs there are.
CHUNKS_PER_WORKER = 2


class ParallelEngine(Engine, ABC):
    """Subclasses say how a chunk is submitted and how its result (or a lost worker) comes back."""

    def __init__(self, workers: int, chunk_size: int = CHUNK_SIZE):
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size!r}")
        self.workers = workers
        self.chunk_size = chunk_size

    def run(self, items: Iterable[RawDocument | Rejection], settings: Settings,
            clustering: StoryEngine | None = None) -> Iterator[Processed]:
        model = clustering.embedder.name if clustering else None
        pending: deque = deque()
        stream = iter(items)
        while chunk := list(islice(stream, self.chunk_size)):
            pending.append(self._send(chunk, settings, clustering))
            if len(pending) >= CHUNKS_PER_WORKER * max(self.workers, 1) + 1:
                yield from self._receive(*pending.popleft(), model)
        while pending:
            yield from self._receive(*pending.popleft(), model)

    def _send(self, chunk: list, settings: Settings, clustering: StoryEngine | None):
        docs = [item for item in chunk if isinstance(item, RawDocument)]
        if not docs:
            return chunk, docs, None
        # Inputs stored unchanged keep their assignments; a vector for them would be thrown away.
        skip = frozenset(clustering.unchanged(docs)) if clustering else frozenset()
        return chunk, docs, self._submit(settings, docs, clustering is not None, skip)

    def _receive(self, chunk: list, docs: list[RawDocument], future,
                 model: str | None) -> Iterator[Processed]:
        if future is None:
            yield from ((item, None) for item in chunk)
            return
        result: ChunkResult = self._result(future, docs)
        if result.model != model:
            raise StorylineError(f"the workers embed with {result.model!r}, this process with {model!r}",
                                 hint="install the same storyline and model versions on the workers")
        done = zip(result.items, result.vectors, strict=True)
        for item in chunk:
            # Rejections from the reader never went to a worker; they keep their place.
            yield (item, None) if isinstance(item, Rejection) else next(done)

    @abstractmethod
    def _submit(self, settings: Settings, docs: list[RawDocument], embed: bool, skip: frozenset[str]):
        """Start ``work.process_chunk`` on a worker; return its future."""

    @abstractmethod
    def _result(self, future, docs: list[RawDocument]) -> ChunkResult:
        """The chunk's result, or a StorylineError naming ``docs`` when the workers are lost."""


def chunk_name(docs: list[RawDocument]) -> str:
    """The inputs of a chunk, for an error message: the first and the last."""
    if len(docs) == 1:
        return docs[0].origin
    return f"{docs[0].origin} … {docs[-1].origin} ({len(docs)} inputs)"
