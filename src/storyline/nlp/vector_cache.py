"""A persistent cache of text vectors, so that evaluations and benchmarks that ingest the same
texts into fresh stores do not pay for the transformer again. Keyed by embedder name and a hash
of the text; a small SQLite file per user."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from storyline.nlp.embed import Embedder


def default_cache_dir() -> Path:
    return Path(os.environ.get("STORYLINE_CACHE", Path.home() / ".cache" / "storyline"))


class CachedEmbedder(Embedder):
    """Wraps an embedder; vectors already computed for a text come from the cache file."""

    def __init__(self, inner: Embedder, path: Path | None = None):
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.batch_size = inner.batch_size
        self.path = Path(path) if path else default_cache_dir() / "vectors.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, digest TEXT, vector BLOB, "
                         "PRIMARY KEY (model, digest))")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        digests = [hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(digests))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT digest, vector FROM vectors WHERE model = ? AND digest IN ({marks})",
                [self.name, *chunk])
            found.update((d, np.frombuffer(v, dtype=np.float32)) for d, v in rows)
        missing = [i for i, d in enumerate(digests) if d not in found]
        if missing:
            todo = list(dict.fromkeys(digests[i] for i in missing))
            first_text = {digests[i]: texts[i] for i in missing}
            vectors = self.inner.embed([first_text[d] for d in todo])
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                                     [(self.name, d, v.astype(np.float32).tobytes())
                                      for d, v in zip(todo, vectors, strict=True)])
            found.update(zip(todo, vectors, strict=True))
        return np.vstack([found[d] for d in digests]).astype(np.float32) if texts else \
            np.zeros((0, self.dim), dtype=np.float32)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_query(texts)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - embed is overridden
        return self.inner.embed(texts)
