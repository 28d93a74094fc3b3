"""The clusters still open for new members, with their centroids in a vector index for fast
candidate search. Clusters whose last member is older than the window retire from here (they
stay in the store), which keeps memory and per-article cost flat as the corpus grows.

The index is exact (one matrix product) while the open set is small, which is what a stream of
a few thousand articles a day keeps it; past ``hnsw_threshold`` open clusters it switches to an
HNSW graph (usearch, when installed), so a newsroom-sized window does not make every article
scan every open cluster (cluster/vectors.py)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

import numpy as np

from storyline.cluster.groups import Group
from storyline.cluster.vectors import DEFAULT_HNSW_THRESHOLD, VectorIndex

# Undated clusters cannot age out by time; keep at most this many of them open.
MAX_UNDATED = 5000
# Nearest neighbours are fetched this many times over k, then filtered by the time window;
# when too few pass, the fetch grows by this factor until the whole set has been seen.
_OVERFETCH = 4


class ActiveSet:
    def __init__(self, dim: int, backend: str = "auto", hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD):
        self.dim = dim
        self.groups: dict[str, Group] = {}
        self.index = VectorIndex(dim, backend=backend, hnsw_threshold=hnsw_threshold)
        self._undated: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self.groups)

    def __contains__(self, group_id: str) -> bool:
        return group_id in self.groups

    def get(self, group_id: str) -> Group | None:
        return self.groups.get(group_id)

    def put(self, group: Group) -> None:
        """Insert or refresh a group's centroid."""
        self.groups[group.id] = group
        self.index.add([group.id], group.centroid.reshape(1, -1))
        if group.last is None:
            self._undated[group.id] = None
            while len(self._undated) > MAX_UNDATED:
                self.remove(next(iter(self._undated)))
        else:
            self._undated.pop(group.id, None)

    def remove(self, group_id: str) -> None:
        if self.groups.pop(group_id, None) is None:
            return
        self.index.remove(group_id)
        self._undated.pop(group_id, None)

    def nearest(self, vector: np.ndarray, k: int, when: datetime | None,
                window: timedelta) -> list[Group]:
        """The k groups with the closest centroids among those within ``window`` of ``when``
        (an undated article or group is never out of the window)."""
        n = len(self.groups)
        want = min(n, k * _OVERFETCH)
        while want:
            found = []
            for group_id, _ in self.index.search(vector, want):
                group = self.groups[group_id]
                if when is not None and group.first is not None and (
                        when < group.first - window or when > group.last + window):
                    continue
                found.append(group)
                if len(found) >= k:
                    return found
            if want >= n:
                return found
            want = min(n, want * _OVERFETCH)
        return []

    def retire_before(self, moment: datetime) -> list[str]:
        """Close the groups whose last member is older than ``moment``."""
        old = [gid for gid, g in self.groups.items() if g.last is not None and g.last < moment]
        for gid in old:
            self.remove(gid)
        return old
