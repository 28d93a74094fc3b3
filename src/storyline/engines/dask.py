"""The ``dask`` engine: the workers of a Dask cluster, a local one started for the run or a real
one reached at its scheduler's address."""

from __future__ import annotations

import logging
from concurrent.futures import CancelledError

from storyline.engines import WORKER_THREADS_ENV
from storyline.engines.parallel import CHUNK_SIZE, ParallelEngine, chunk_name
from storyline.engines.work import ChunkResult, process_chunk
from storyline.errors import StorylineError
from storyline.model import RawDocument
from storyline.settings import Settings

# Dask retries a refused connection until this runs out; a scheduler that is up answers at once.
CONNECT_TIMEOUT = "10s"


class DaskEngine(ParallelEngine):
    """With ``scheduler``: that cluster's workers (which need storyline installed, the same version
    as here). Without: a LocalCluster of ``workers`` processes with one thread each."""

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 chunk_size: int = CHUNK_SIZE, connect_timeout: str = CONNECT_TIMEOUT):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise StorylineError("the dask engine needs the distributed package",
                                 hint="pip install 'dask[distributed]', or use --engine local") from None
        self._cluster = None
        if scheduler:
            self.address = scheduler
            self._client = _connect(Client, scheduler, connect_timeout)
            workers = sum(self._client.nthreads().values())
        else:
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR,
                                         env=WORKER_THREADS_ENV)
            self.address = self._cluster.scheduler_address
            self._client = Client(self._cluster, set_as_default=False)
        # A cluster whose workers are still joining gets work for two at least.
        super().__init__(max(workers or 0, 2), chunk_size)

    def _submit(self, settings: Settings, docs: list[RawDocument], embed: bool, skip: frozenset[str]):
        # pure=False: each chunk is new work; hashing its documents for a task key would be waste.
        return self._client.submit(process_chunk, settings, docs, embed, skip, pure=False)

    def _result(self, future, docs: list[RawDocument]) -> ChunkResult:
        from distributed import KilledWorker
        from distributed.comm import CommClosedError

        try:
            return future.result()
        except KilledWorker as exc:
            raise StorylineError(f"Dask workers died while processing {chunk_name(docs)}: {exc}",
                                 hint="out of memory? see the workers' logs; the articles "
                                      "stored so far are kept") from None
        except (CommClosedError, CancelledError) as exc:
            raise StorylineError(f"lost the Dask scheduler at {self.address} while processing "
                                 f"{chunk_name(docs)}: {type(exc).__name__}: {exc}",
                                 hint="the articles stored so far are kept; ingest again to "
                                      "continue") from None

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _connect(client_class, address: str, timeout: str):
    from distributed.comm.addressing import get_address_host_port

    try:
        # A malformed address is refused before a Client exists: a Client that failed to start
        # spends 20 s trying to close itself when it is collected.
        get_address_host_port(address)
        return client_class(address, timeout=timeout, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:  # TimeoutError is an OSError
        raise StorylineError(f"cannot reach Dask scheduler at {address}: {exc}",
                             hint="check the address (tcp://HOST:8786) and that the scheduler "
                                  "is running") from None
