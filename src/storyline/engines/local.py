"""The ``local`` engine: a pool of worker processes on this machine."""

from __future__ import annotations

import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from storyline.engines import WORKER_THREADS_ENV
from storyline.engines.parallel import CHUNK_SIZE, ParallelEngine, chunk_name
from storyline.engines.work import ChunkResult, process_chunk
from storyline.errors import StorylineError
from storyline.model import RawDocument
from storyline.settings import Settings


class LocalEngine(ParallelEngine):
    """``workers`` processes, started with ``spawn``: a fork of a driver holding a store
    connection, model threads or a half-written batch would inherit them."""

    name = "local"

    def __init__(self, workers: int, chunk_size: int = CHUNK_SIZE):
        super().__init__(workers, chunk_size)
        # The pool starts its processes when work arrives, and a process takes the environment
        # it starts with, so the thread limits stay set until the pool is closed.
        self._saved_env = {key: os.environ.get(key) for key in WORKER_THREADS_ENV}
        os.environ.update(WORKER_THREADS_ENV)
        self._pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                         initializer=_ignore_interrupts)

    def _submit(self, settings: Settings, docs: list[RawDocument], embed: bool,
                skip: frozenset[str]) -> Future:
        try:
            return self._pool.submit(process_chunk, settings, docs, embed, skip)
        except BrokenProcessPool as exc:
            raise _lost(exc, docs) from None

    def _result(self, future: Future, docs: list[RawDocument]) -> ChunkResult:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise _lost(exc, docs) from None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _lost(exc: BaseException, docs: list[RawDocument]) -> StorylineError:
    return StorylineError(f"a worker process of the local engine died while processing "
                          f"{chunk_name(docs)}: {exc}",
                          hint="out of memory? try fewer --workers; the articles stored so far are kept")


def _ignore_interrupts() -> None:
    """Ctrl-C reaches every process of the terminal's group: the driver alone decides what to do
    (store the batch in hand, stop the pool); a worker killed by it would break the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
