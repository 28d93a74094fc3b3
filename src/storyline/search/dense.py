"""Search by meaning: the query embedded by the model that made the store's article vectors,
against those vectors. It finds what no key can bridge (English "talks", Russian "переговоры").

Cosines of a short query against e5 vectors are compressed (on the sample corpus a relevant
article scores 0.82, nonsense like "asdkjh qwpoeiru" 0.81), so a hit is judged by how far it
stands above the query's cosines with every article: its z-score. The best z of a nonsense
query grows with the corpus like the maximum of n normal draws (about sqrt(2 ln n): 2.5 of 52
sample articles, 2.9-4.3 of 1,000 benchmark articles), so a hit found by meaning alone must
beat that (docs/search.md has the measurements).

Only multilingual language models take part: the lexical embedder hashes the same lemmas and
entity keys the index already holds, so it would add noise, not reach.

The vectors of a store are kept in memory between searches (one matrix per store and model)
and reloaded when the number of stored vectors changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from storyline.errors import StorylineError
from storyline.nlp.embed import Embedder, get_embedder
from storyline.search.memo import Memo, store_key
from storyline.store.base import Store

# Vector spaces storyline can embed a query into offline; st:<path> models are the user's own.
LANGUAGE_MODELS = ("e5",)
# How much the mean vector of the best lexical hits counts against the query's own vector.
FEEDBACK_WEIGHT = 1.0


@dataclass(frozen=True, slots=True)
class DenseHit:
    id: str
    cosine: float
    z: float


@dataclass(frozen=True, slots=True)
class DenseResult:
    model: str | None  # None: the store has no vectors of a language model
    hits: list[DenseHit]
    size: int = 0  # how many vectors the z-scores were measured against


@dataclass
class _Matrix:
    count: int
    ids: list[str]
    rows: np.ndarray
    positions: dict[str, int]


# One matrix per store and model: 15 MB for 10k e5 vectors, loaded once, not per query.
_MATRICES = Memo(8)
_EMBEDDERS: dict[str, Embedder | None] = {}
_LOCK = threading.Lock()


def query_embedder(model: str | None) -> Embedder | None:
    """The embedder whose vectors are called ``model``, when it is a language model we can run."""
    if not model:
        return None
    with _LOCK:
        if model not in _EMBEDDERS:
            _EMBEDDERS[model] = _find_embedder(model)
        return _EMBEDDERS[model]


def _find_embedder(model: str) -> Embedder | None:
    from storyline.nlp.embed import E5Embedder

    candidates = [get_embedder(name) for name in LANGUAGE_MODELS] + [E5Embedder(prefix="passage")]
    if model.startswith("st/"):
        try:
            candidates.append(get_embedder("st:" + model[3:]))
        except StorylineError:
            return None  # the model or its library is not here: search by keys alone
    return next((e for e in candidates if e.name == model), None)


def dense_search(store: Store, text: str, allowed: Callable[[], set[str] | None], k: int,
                 feedback: Sequence[str] = ()) -> DenseResult:
    """The ``k`` articles (among ``allowed()``, when it gives a set) nearest to ``text``, with
    cosine and z-score; ``allowed`` is only called when the store has vectors to search.

    ``feedback``: ids of articles known to match (the best lexical hits); their mean vector is
    added to the query's (pseudo-relevance feedback), because an article is far nearer its own
    translation than a two-word query is to either."""
    models = store.vector_models()
    model = models[0] if models else None
    embedder = query_embedder(model)
    if embedder is None:
        return DenseResult(None, [])
    matrix = _matrix(store, model)
    if not matrix.ids:
        return DenseResult(model, [])
    vector = embedder.embed_query([text])[0]
    known = [matrix.positions[i] for i in feedback if i in matrix.positions]
    if known and FEEDBACK_WEIGHT:
        centre = matrix.rows[known].mean(axis=0)
        vector = vector + FEEDBACK_WEIGHT * centre / (float(np.linalg.norm(centre)) or 1.0)
        vector = vector / (float(np.linalg.norm(vector)) or 1.0)
    # einsum, not BLAS: see cluster/vectors.py for why on a busy 2-core machine.
    scores = np.einsum("ij,j->i", matrix.rows, vector)
    spread = float(scores.std()) or 1.0
    z = (scores - float(scores.mean())) / spread
    permitted = allowed()
    if permitted is not None:
        rows = np.fromiter((matrix.positions[i] for i in permitted if i in matrix.positions), dtype=np.int64)
    else:
        rows = np.arange(len(matrix.ids))
    top = rows[np.argsort(-scores[rows], kind="stable")[:k]]
    return DenseResult(model, [DenseHit(matrix.ids[i], float(scores[i]), float(z[i])) for i in top],
                       len(matrix.ids))


def _matrix(store: Store, model: str) -> _Matrix:
    key = (store_key(store), model)
    count = store.count_vectors(model)
    cached = _MATRICES.get(key)
    if cached is not None and cached.count == count:
        return cached
    ids, blobs = [], []
    for article_id, blob in store.iter_vectors(model):
        ids.append(article_id)
        blobs.append(np.frombuffer(blob, dtype=np.float32))
    rows = np.vstack(blobs) if blobs else np.zeros((0, 1), dtype=np.float32)
    loaded = _Matrix(count, ids, rows, {i: n for n, i in enumerate(ids)})
    _MATRICES.put(store, key, loaded)
    return loaded
