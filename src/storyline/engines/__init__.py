"""Execution engines for ingest: where the per-article stages run.

- ``serial`` (default): everything in this process, one input after another.
- ``local``: a pool of worker processes on this machine (``engines.local``).
- ``dask``: the workers of a Dask cluster, started here or reached at a scheduler's address
  (``engines.dask``).

Whatever the engine, the driver reads the inputs and keeps the corpus stage (near-duplicates,
events, stories, store writes); an engine hands back each input's Article or Rejection, with the
article's vector when clustering needs one, in input order. So the clustering sees the same
articles in the same batches and builds the same stories with every engine (docs/engines.md)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from storyline.errors import ConfigError
from storyline.model import RawDocument, Rejection
from storyline.settings import Settings

if TYPE_CHECKING:
    from storyline.cluster.engine import StoryEngine
    from storyline.cluster.profile import Embedded
    from storyline.model import Article

    Processed = tuple[Article | Rejection, Embedded | None]

ENGINES = ("serial", "local", "dask")

# A worker process handles one article at a time and there is one per core: a BLAS, OpenMP or
# torch thread pool inside it would only fight the other workers for the same cores.
WORKER_THREADS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class Engine:
    """Runs ``Pipeline.process`` over inputs; this base class is the serial engine."""

    name = "serial"
    workers = 1

    def run(self, items: Iterable[RawDocument | Rejection], settings: Settings,
            clustering: StoryEngine | None = None) -> Iterator[Processed]:
        """Each input's Article or Rejection, in input order, with the article's vector (and
        latent terms) from ``clustering``'s embedder, or None for the driver to compute (the
        serial engine always leaves it to the driver, which embeds a whole batch at once)."""
        from storyline.pipeline import Pipeline

        pipeline = Pipeline(settings)
        for item in pipeline.run(items):
            yield item, None

    def close(self) -> None:
        """Stop what the engine started (worker processes, a local cluster)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_engine(name: str = "serial", *, workers: int | None = None,
                scheduler: str | None = None) -> Engine:
    """The engine called ``name``: ``serial``, ``local`` (``workers`` processes, default one per
    core) or ``dask`` (a local cluster of ``workers`` processes, or the cluster whose scheduler is
    at ``scheduler``). Use it as a context manager: closing stops the workers."""
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}", hint=f"choose one of: {', '.join(ENGINES)}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers must be a whole number >= 1, got {workers!r}")
    if scheduler and name != "dask":
        raise ConfigError(f"a scheduler address works with the dask engine only, not {name!r}",
                          hint="add --engine dask")
    if name == "serial":
        if workers not in (None, 1):
            raise ConfigError("the serial engine runs in this process and has no workers",
                              hint="use --engine local or --engine dask for worker processes")
        return Engine()
    if name == "local":
        from storyline.engines.local import LocalEngine

        return LocalEngine(workers or available_cores())
    if scheduler and workers is not None:
        raise ConfigError("a Dask cluster reached with --scheduler has its own workers",
                          hint="drop --workers, or drop --scheduler to start a local cluster")
    from storyline.engines.dask import DaskEngine

    return DaskEngine(workers=None if scheduler else workers or available_cores(), scheduler=scheduler)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


__all__ = ["ENGINES", "Engine", "WORKER_THREADS_ENV", "available_cores", "open_engine"]
