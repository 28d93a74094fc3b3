"""A short-lived cache of expensive answers (ranking every story, searching).

Ranking reads every story and its articles' facts: about 0.2 s per thousand articles. Morning
readers ask the same few pages again and again, so an answer is kept ``ttl`` seconds; a write
through this API clears everything at once, and a write by another process (``storyline ingest``)
shows within ``ttl``. Concurrent requests for one missing answer compute it once."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

LOCK_STRIPES = 16


class ResultCache:
    def __init__(self, ttl: float, *, max_entries: int = 512, clock: Callable[[], float] = time.monotonic):
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0 seconds (0 turns the cache off), got {ttl!r}")
        if not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a whole number >= 1, got {max_entries!r}")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]
        # Bumped by clear(): an answer computed before a write is not kept after it.
        self._generation = 0

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if self.ttl == 0:
            return compute()
        found = self._fresh(key)
        if found is not None:
            return found[0]
        with self._stripes[hash(key) % LOCK_STRIPES]:
            found = self._fresh(key)  # another request may have computed it meanwhile
            if found is not None:
                return found[0]
            generation = self._generation
            value = compute()
            with self._lock:
                if generation == self._generation:
                    self._entries[key] = (self._clock() + self.ttl, value)
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def _fresh(self, key: Hashable) -> tuple[Any] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return (entry[1],)
