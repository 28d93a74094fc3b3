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
from storyline.nlp.latent import Latent


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
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        found = self._cached(self.name, texts, lambda todo: [
            v.astype(np.float32).tobytes() for v in self.inner.embed(todo)])
        return np.vstack([np.frombuffer(b, dtype=np.float32) for b in found]).astype(np.float32)

    @property
    def latent_name(self) -> str | None:
        return self.inner.latent_name

    def latent(self, texts: Sequence[str]) -> list[Latent]:
        found = self._cached(self.latent_name, list(texts), lambda todo: [
            latent.to_bytes() for latent in self.inner.latent(todo)])
        return [Latent.from_bytes(blob) for blob in found]

    def _cached(self, model: str, texts: list[str], compute) -> list[bytes]:
        """The stored bytes of each text under ``model``; ``compute`` makes the missing ones."""
        digests = [hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(digests))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT digest, vector FROM vectors WHERE model = ? AND digest IN ({marks})",
                [model, *chunk])
            found.update(rows)
        todo = list(dict.fromkeys(d for d in digests if d not in found))
        if todo:
            first_text = dict(zip(reversed(digests), reversed(texts), strict=True))
            made = compute([first_text[d] for d in todo])
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                                     [(model, d, blob) for d, blob in zip(todo, made, strict=True)])
            found.update(zip(todo, made, strict=True))
        return [found[d] for d in digests]

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_query(texts)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - embed is overridden
        return self.inner.embed(texts)
