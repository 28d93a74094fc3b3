"""Nearest neighbours by cosine: exact numpy for small stores, HNSW (usearch) above a size threshold.

The exact index keeps every vector in one float32 matrix that grows by doubling, so ``add`` is
amortised O(1) and ``search`` is one matrix-vector product. With ``backend="auto"``, when the index grows
past ``hnsw_threshold`` vectors (and ``usearch`` is installed) an HNSW graph is built once (a one-time
stall: minutes at 100k on two cores) and then updated incrementally; ``backend="hnsw"`` uses the graph
from the first vector. The matrix stays in every case, so scores are always exact cosines and a search
restricted to a few ``allowed_ids`` (a time window) is answered exactly without the graph.

Exact is the default because it measured faster than HNSW at the sizes storyline meets on a laptop
(2 cores, 384 dimensions): 2 ms per unrestricted search at 20k, 10 ms at 100k, under 1 ms within a
2,000-article window, against 5 ms for HNSW at the settings that reach 0.97 recall@10.

Vectors are normalised on the way in: cosine is a dot product.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

DEFAULT_HNSW_THRESHOLD = 20_000
# Connectivity 32 / search expansion 256: recall@10 0.97 on 20k hard (random) 384-d vectors; usearch's
# defaults (16 / 64) gave 0.79 there and 0.47 at 100k.
_HNSW_CONNECTIVITY = 32
_HNSW_EXPANSION_ADD = 128
_HNSW_EXPANSION_SEARCH = 256
# With a filter, HNSW is asked for more neighbours than wanted; if too few survive the filter, or the
# filter is this small, exact search over the allowed rows is both cheaper and complete.
_EXACT_FILTER_LIMIT = 4096
_FILTER_OVERFETCH = 8


def _dot_rows(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``matrix @ vector`` without BLAS: einsum's own SIMD loop runs on the calling thread.

    Measured on the 2-core machine with other work running: OpenBLAS sgemv woke its thread pool and
    took 12 ms for 2,000 x 384 (einsum: 0.5 ms) and 17-25 ms for 100,000 x 384 (einsum: 10 ms)."""
    return np.einsum("ij,j->i", matrix, vector)


def _usearch_index_class():
    try:
        from usearch.index import Index
    except ImportError:
        return None
    return Index


class VectorIndex:
    """``add(ids, vectors)``, ``search(vector, k, allowed_ids=None) -> [(id, cosine)]``, ``remove(id)``.

    ``backend``: ``"exact"`` (default), ``"auto"`` (exact, HNSW above ``hnsw_threshold`` when usearch
    is installed) or ``"hnsw"`` (HNSW from the first vector; needs usearch)."""

    def __init__(self, dim: int, backend: str = "exact", hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD):
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a whole number >= 1, got {dim!r}")
        if backend not in ("auto", "exact", "hnsw"):
            raise ValueError(f"backend must be 'auto', 'exact' or 'hnsw', got {backend!r}")
        if isinstance(hnsw_threshold, bool) or not isinstance(hnsw_threshold, int) or hnsw_threshold < 0:
            raise ValueError(f"hnsw_threshold must be a whole number >= 0, got {hnsw_threshold!r}")
        self._hnsw_class = _usearch_index_class() if backend != "exact" else None
        if backend == "hnsw" and self._hnsw_class is None:
            raise ValueError("backend 'hnsw' needs the usearch package: pip install usearch")
        self.dim = dim
        self.backend = backend
        self.hnsw_threshold = 0 if backend == "hnsw" else hnsw_threshold
        self._matrix = np.zeros((16, dim), dtype=np.float32)
        self._ids: list[str] = []  # row -> id
        self._rows: dict[str, int] = {}  # id -> row
        self._keys: dict[str, int] = {}  # id -> HNSW key (rows move on removal; keys do not)
        self._key_ids: dict[int, str] = {}
        self._next_key = 0
        self._hnsw = None

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._rows

    def __repr__(self) -> str:
        return f"VectorIndex(dim={self.dim}, size={len(self)}, backend={self.active_backend!r})"

    @property
    def active_backend(self) -> str:
        return "hnsw" if self._hnsw is not None else "exact"

    def vector(self, item_id: str) -> np.ndarray:
        return self._matrix[self._rows[item_id]].copy()

    # ------------------------------------------------------------ updates

    def add(self, ids: Sequence[str], vectors) -> None:
        """Add or replace vectors (one row per id). Rows are L2-normalised on the way in."""
        if isinstance(ids, str):
            raise TypeError("ids must be a sequence of ids, not one str; wrap it in a list")
        ids = list(ids)
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim == 1 and len(ids) == 1:
            matrix = matrix.reshape(1, -1)
        if matrix.ndim != 2 or matrix.shape != (len(ids), self.dim):
            raise ValueError(f"vectors must have shape ({len(ids)}, {self.dim}), got {matrix.shape}")
        if len(set(ids)) != len(ids):
            raise ValueError("ids must be unique within one add() call")
        if not np.isfinite(matrix).all():
            raise ValueError("vectors contain NaN or infinity")
        matrix = matrix.copy()
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        np.divide(matrix, norms, out=matrix, where=norms > 0)

        replaced = [item_id for item_id in ids if item_id in self._rows]
        for item_id in replaced:
            self.remove(item_id)
        self._reserve(len(self._ids) + len(ids))
        start = len(self._ids)
        self._matrix[start : start + len(ids)] = matrix
        for offset, item_id in enumerate(ids):
            self._rows[item_id] = start + offset
            self._ids.append(item_id)
        if self._hnsw is not None:
            self._hnsw_add(ids, matrix)
        elif self._hnsw_class is not None and len(self._ids) >= max(self.hnsw_threshold, 1):
            self._build_hnsw()

    def remove(self, item_id: str) -> None:
        row = self._rows.pop(item_id)  # KeyError for an unknown id, like a dict
        last = len(self._ids) - 1
        if row != last:  # move the last row into the hole: no gaps, no compaction pass
            moved = self._ids[last]
            self._matrix[row] = self._matrix[last]
            self._ids[row] = moved
            self._rows[moved] = row
        self._ids.pop()
        if self._hnsw is not None:
            key = self._keys.pop(item_id)
            del self._key_ids[key]
            self._hnsw.remove(key)

    def _reserve(self, size: int) -> None:
        capacity = self._matrix.shape[0]
        if size <= capacity:
            return
        while capacity < size:
            capacity *= 2
        grown = np.zeros((capacity, self.dim), dtype=np.float32)
        grown[: len(self._ids)] = self._matrix[: len(self._ids)]
        self._matrix = grown

    def _build_hnsw(self) -> None:
        self._hnsw = self._hnsw_class(
            ndim=self.dim,
            metric="cos",
            dtype="f32",
            connectivity=_HNSW_CONNECTIVITY,
            expansion_add=_HNSW_EXPANSION_ADD,
            expansion_search=_HNSW_EXPANSION_SEARCH,
        )
        self._hnsw_add(list(self._ids), self._matrix[: len(self._ids)])

    def _hnsw_add(self, ids: list[str], matrix: np.ndarray) -> None:
        keys = np.arange(self._next_key, self._next_key + len(ids), dtype=np.uint64)
        self._next_key += len(ids)
        for key, item_id in zip(keys.tolist(), ids, strict=True):
            self._keys[item_id] = key
            self._key_ids[key] = item_id
        self._hnsw.add(keys, np.ascontiguousarray(matrix))

    # ------------------------------------------------------------ queries

    def search(
        self, vector, k: int = 10, allowed_ids: Iterable[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest ids by cosine, best first; only among ``allowed_ids`` when given."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number >= 1, got {k!r}")
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape != (self.dim,):
            raise ValueError(f"vector must have {self.dim} values, got {query.shape[0]}")
        norm = float(np.linalg.norm(query))
        if not np.isfinite(norm):
            raise ValueError("vector contains NaN or infinity")
        if norm > 0:
            query = query / norm
        if not self._ids:
            return []
        if allowed_ids is None:
            if self._hnsw is not None:
                return self._search_hnsw(query, k, None)
            return self._search_rows(query, k, None)
        allowed = set(allowed_ids)
        rows = np.fromiter((self._rows[i] for i in allowed if i in self._rows), dtype=np.int64)
        if self._hnsw is not None and len(rows) > _EXACT_FILTER_LIMIT:
            found = self._search_hnsw(query, k, allowed)
            if len(found) >= k:
                return found
        return self._search_rows(query, k, rows)

    def _search_rows(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> list[tuple[str, float]]:
        if rows is None:
            scores = _dot_rows(self._matrix[: len(self._ids)], query)
            candidates = np.arange(len(self._ids))
        else:
            if len(rows) == 0:
                return []
            rows = np.sort(rows)  # sequential reads; ties then break by row, as without a filter
            scores = _dot_rows(self._matrix[rows], query)
            candidates = rows
        if k < len(scores):
            top = np.argpartition(-scores, k - 1)[:k]
        else:
            top = np.arange(len(scores))
        # Stable order: by score, then by row, so equal scores come out the same way every time.
        top = top[np.lexsort((candidates[top], -scores[top]))]
        return [(self._ids[int(candidates[i])], float(scores[i])) for i in top]

    def _search_hnsw(self, query: np.ndarray, k: int, allowed: set[str] | None) -> list[tuple[str, float]]:
        want = k if allowed is None else k * _FILTER_OVERFETCH
        matches = self._hnsw.search(query, min(want, len(self._ids)))
        found = []
        for key in matches.keys.tolist():
            item_id = self._key_ids.get(int(key))
            if item_id is None or (allowed is not None and item_id not in allowed):
                continue
            # The matrix gives the exact cosine (the graph's distance is the same up to rounding).
            found.append((item_id, float(self._matrix[self._rows[item_id]] @ query)))
            if len(found) == k:
                break
        found.sort(key=lambda pair: -pair[1])
        return found
