from __future__ import annotations

import numpy as np
import pytest

from storyline.cluster.vectors import VectorIndex


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _brute(ids: list[str], vectors: np.ndarray, query: np.ndarray, k: int, allowed=None):
    query = query / np.linalg.norm(query)
    scored = [
        (i, float(v @ query)) for i, v in zip(ids, vectors, strict=True) if allowed is None or i in allowed
    ]
    return sorted(scored, key=lambda pair: -pair[1])[:k]


@pytest.mark.parametrize("n", [1, 7, 300])
@pytest.mark.parametrize("k", [1, 5, 50])
def test_exact_search_matches_brute_force(n, k):
    rng = np.random.default_rng(n * 100 + k)
    ids = [f"a{i}" for i in range(n)]
    vectors = _unit(rng, n, 24)
    index = VectorIndex(24, backend="exact")
    index.add(ids, vectors)
    for query in _unit(rng, 5, 24):
        got = index.search(query, k)
        want = _brute(ids, vectors, query, k)
        assert [i for i, _ in got] == [i for i, _ in want]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)


def test_growth_removal_and_replacement_stay_consistent_with_brute_force():
    rng = np.random.default_rng(1)
    index = VectorIndex(16, backend="exact")
    live: dict[str, np.ndarray] = {}
    for step in range(40):  # many small adds force several doublings of the matrix
        batch = _unit(rng, 5, 16)
        ids = [f"s{step}-{j}" for j in range(5)]
        index.add(ids, batch)
        live.update(zip(ids, batch, strict=True))
        if step % 3 == 0:
            victim = sorted(live)[step % len(live)]
            index.remove(victim)
            del live[victim]
    replacement = _unit(rng, 1, 16)
    index.add(["s0-1"], replacement)
    live["s0-1"] = replacement[0]
    assert len(index) == len(live)
    ids, vectors = list(live), np.stack(list(live.values()))
    for query in _unit(rng, 5, 16):
        assert [i for i, _ in index.search(query, 10)] == [i for i, _ in _brute(ids, vectors, query, 10)]


def test_allowed_ids_restrict_the_search():
    rng = np.random.default_rng(2)
    ids = [f"d{i}" for i in range(200)]
    vectors = _unit(rng, 200, 8)
    index = VectorIndex(8)
    assert index.backend == "exact"
    index.add(ids, vectors)
    allowed = {f"d{i}" for i in range(0, 200, 7)} | {"not-in-index"}
    query = vectors[3]  # its own best match d3 is not allowed
    got = index.search(query, 5, allowed_ids=allowed)
    assert [i for i, _ in got] == [i for i, _ in _brute(ids, vectors, query, 5, allowed)]
    assert index.search(query, 5, allowed_ids=[]) == []


def test_vectors_are_normalised_and_a_vector_finds_itself():
    index = VectorIndex(3)
    index.add(["x", "y"], [[3.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    (best, score), _ = index.search([10.0, 0.0, 0.0], 2)
    assert best == "x" and score == pytest.approx(1.0)
    assert np.linalg.norm(index.vector("y")) == pytest.approx(1.0)


def test_empty_index_and_unknown_id():
    index = VectorIndex(4)
    assert index.search(np.ones(4), 3) == []
    assert len(index) == 0
    with pytest.raises(KeyError):
        index.remove("nope")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dim": 0}, "dim must be a whole number >= 1, got 0"),
        ({"dim": 4, "backend": "faiss"}, "'faiss'"),
        ({"dim": 4, "hnsw_threshold": -1}, "got -1"),
    ],
)
def test_constructor_names_the_bad_value(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        VectorIndex(**kwargs)


def test_bad_inputs_are_refused_with_clear_messages():
    index = VectorIndex(4)
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"):
        index.add(["a", "b"], np.ones((2, 5)))
    with pytest.raises(ValueError, match="unique"):
        index.add(["a", "a"], np.ones((2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        index.add(["a"], [[np.nan, 0, 0, 0]])
    with pytest.raises(ValueError, match="k must be"):
        index.search(np.ones(4), 0)
    with pytest.raises(ValueError, match="4 values"):
        index.search(np.ones(3), 1)


def _recall(index: VectorIndex, ids, vectors, queries, k: int, allowed=None) -> float:
    hits = 0
    for query in queries:
        want = {i for i, _ in _brute(ids, vectors, query, k, allowed)}
        got = index.search(query, k, allowed_ids=allowed)
        hits += len(want & {i for i, _ in got})
    return hits / (k * len(queries))


def test_hnsw_backend_agrees_with_brute_force(monkeypatch):
    pytest.importorskip("usearch", reason="HNSW is the optional usearch backend")
    rng = np.random.default_rng(3)
    n, dim = 3000, 32
    ids = [f"h{i}" for i in range(n)]
    vectors = _unit(rng, n, dim)
    index = VectorIndex(dim, backend="auto", hnsw_threshold=1000)
    index.add(ids[:500], vectors[:500])
    assert index.active_backend == "exact"
    index.add(ids[500:], vectors[500:])  # crosses the threshold: the graph is built here
    assert index.active_backend == "hnsw"
    queries = vectors[:50] + 0.3 * _unit(rng, 50, dim)
    assert _recall(index, ids, vectors, queries, 10) >= 0.95
    # Scores are exact cosines whatever the backend.
    for item_id, score in index.search(queries[0], 5):
        assert score == pytest.approx(
            float(vectors[ids.index(item_id)] @ (queries[0] / np.linalg.norm(queries[0]))), abs=1e-5
        )
    # A small filter is answered exactly; removed ids never come back.
    allowed = set(ids[::50])
    assert _recall(index, ids, vectors, queries[:10], 5, allowed) == 1.0
    for item_id in ids[:100]:
        index.remove(item_id)
    assert not {i for q in queries[:20] for i, _ in index.search(q, 10)} & set(ids[:100])
    assert len(index) == n - 100
    # A large filter goes through the graph with over-fetching, falling back to exact when short.
    monkeypatch.setattr("storyline.cluster.vectors._EXACT_FILTER_LIMIT", 0)
    live_ids, live_vectors = ids[100:], vectors[100:]
    for allowed in (set(live_ids[::2]), set(live_ids[::200])):
        assert _recall(index, live_ids, live_vectors, queries[20:30], 5, allowed) >= 0.95


def test_hnsw_backend_without_usearch_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("storyline.cluster.vectors._usearch_index_class", lambda: None)
    with pytest.raises(ValueError, match="pip install usearch"):
        VectorIndex(8, backend="hnsw")
    index = VectorIndex(8, backend="auto", hnsw_threshold=2)  # auto without usearch stays exact
    index.add(["a", "b", "c"], np.eye(3, 8))
    assert index.active_backend == "exact"
