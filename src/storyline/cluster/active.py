"""The clusters still open for new members, with their centroids in one matrix for fast
candidate search. Clusters whose last member is older than the window retire from here (they
stay in the store), which keeps memory and per-article cost flat as the corpus grows."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

import numpy as np

from storyline.cluster.groups import Group

# Undated clusters cannot age out by time; keep at most this many of them open.
MAX_UNDATED = 5000


class ActiveSet:
    def __init__(self, dim: int):
        self.dim = dim
        self.groups: dict[str, Group] = {}
        self._rows: dict[str, int] = {}
        self._ids: list[str] = []
        self._matrix = np.zeros((64, dim), dtype=np.float32)
        self._undated: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self.groups)

    def __contains__(self, group_id: str) -> bool:
        return group_id in self.groups

    def get(self, group_id: str) -> Group | None:
        return self.groups.get(group_id)

    def put(self, group: Group) -> None:
        """Insert or refresh a group's centroid."""
        row = self._rows.get(group.id)
        if row is None:
            row = len(self._ids)
            if row == len(self._matrix):
                self._matrix = np.vstack([self._matrix, np.zeros_like(self._matrix)])
            self._ids.append(group.id)
            self._rows[group.id] = row
        self.groups[group.id] = group
        self._matrix[row] = group.centroid
        if group.last is None:
            self._undated[group.id] = None
            while len(self._undated) > MAX_UNDATED:
                self.remove(next(iter(self._undated)))
        else:
            self._undated.pop(group.id, None)

    def remove(self, group_id: str) -> None:
        row = self._rows.pop(group_id, None)
        if row is None:
            return
        last = len(self._ids) - 1
        if row != last:
            moved = self._ids[last]
            self._ids[row] = moved
            self._rows[moved] = row
            self._matrix[row] = self._matrix[last]
        self._ids.pop()
        self.groups.pop(group_id, None)
        self._undated.pop(group_id, None)

    def nearest(self, vector: np.ndarray, k: int, when: datetime | None,
                window: timedelta) -> list[Group]:
        """The k groups with the closest centroids among those within ``window`` of ``when``
        (an undated article or group is never out of the window)."""
        n = len(self._ids)
        if n == 0:
            return []
        scores = self._matrix[:n] @ vector
        order = np.argsort(-scores)
        found = []
        for row in order:
            group = self.groups[self._ids[row]]
            if when is not None and group.first is not None and (
                    when < group.first - window or when > group.last + window):
                continue
            found.append(group)
            if len(found) >= k:
                break
        return found

    def retire_before(self, moment: datetime) -> list[str]:
        """Close the groups whose last member is older than ``moment``."""
        old = [gid for gid, g in self.groups.items() if g.last is not None and g.last < moment]
        for gid in old:
            self.remove(gid)
        return old
