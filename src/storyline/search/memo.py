"""What searches keep between calls in one process (a server answers many): per store, keyed so
that a changed store is never answered from an old entry."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

from storyline.store.base import Store

_MEMORY_URLS = ("sqlite:", "sqlite:///:memory:")


def store_key(store: Store) -> object:
    """The store's URL; for an in-memory store, which no URL names, the object itself (by id,
    dropped from ``Memo``s when the object goes)."""
    return id(store) if store.url.rstrip("/") in _MEMORY_URLS else store.url


class Memo:
    """A small thread-safe LRU mapping; entries of an in-memory store go with the store."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, store: Store, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        if isinstance(key[0], int):
            # A later in-memory store may get the same id: its entries must not be these.
            weakref.finalize(store, self._forget, key)

    def _forget(self, key) -> None:
        with self._lock:
            self._items.pop(key, None)
