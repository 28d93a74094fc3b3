"""A short-lived cache of answers that cost more than reading them back (searching, mostly: a
story listing reads only its page of the store's ranked stories).

Morning readers ask the same few pages again and again, so an answer is kept ``ttl`` seconds.
After that it is still answered for ``stale`` more seconds while one background thread computes
the new one, so that no reader waits for a refresh; older than ``ttl + stale``, it is computed
while the reader waits. A write through this API clears everything at once; a write by another process
(``storyline ingest``) shows within ``ttl`` plus one refresh. Concurrent requests for one
missing answer compute it once."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

log = logging.getLogger("storyline.api")

LOCK_STRIPES = 16


class ResultCache:
    def __init__(self, ttl: float, *, stale: float = 60.0, max_entries: int = 512,
                 clock: Callable[[], float] = time.monotonic):
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0 seconds (0 turns the cache off), got {ttl!r}")
        if stale < 0:
            raise ValueError(f"stale must be >= 0 seconds, got {stale!r}")
        if not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a whole number >= 1, got {max_entries!r}")
        self.ttl = ttl
        self.stale = stale
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()  # key -> (born, value)
        self._refreshing: set[Hashable] = set()
        self._lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]
        # Bumped by clear(): an answer computed before a write is not kept after it.
        self._generation = 0

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if self.ttl == 0:
            return compute()
        found = self._lookup(key, compute)
        if found is not None:
            return found[0]
        with self._stripes[hash(key) % LOCK_STRIPES]:
            found = self._lookup(key, compute)  # another request may have computed it meanwhile
            if found is not None:
                return found[0]
            generation = self._generation
            value = compute()
            self._keep(key, value, generation)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def _lookup(self, key: Hashable, compute: Callable[[], Any]) -> tuple[Any] | None:
        """(value,) when there is one to answer with; starts a refresh of a stale one."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            age = now - entry[0]
            if age >= self.ttl + self.stale:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            if age >= self.ttl and key not in self._refreshing:
                self._refreshing.add(key)
                threading.Thread(target=self._refresh, args=(key, compute, self._generation),
                                 name="storyline-cache-refresh", daemon=True).start()
            return (entry[1],)

    def _refresh(self, key: Hashable, compute: Callable[[], Any], generation: int) -> None:
        try:
            self._keep(key, compute(), generation)
        except Exception:
            # The stale answer stays until it is too old; the reader then sees the error itself.
            log.exception("refreshing a cached answer failed")
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _keep(self, key: Hashable, value: Any, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
