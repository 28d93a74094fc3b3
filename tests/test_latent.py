"""Latent terms (nlp/latent.py): the sparse vectors, their member sets, the e5 head behind them,
their cache, and their life in a store (saved with a batch, restored on reopen, mended when a
store was written without them)."""

from __future__ import annotations

import numpy as np
import pytest

from storyline.nlp.latent import Latent, LatentMembers, is_latent_model, spread


def _random_latent(rng, size: int) -> Latent:
    index = rng.choice(16384, size=size, replace=False)
    return Latent.of(index, rng.random(size).astype(np.float32))


def _dense(latent: Latent) -> np.ndarray:
    return spread(latent)[:16384].astype(np.float64)


def test_latent_vectors_are_sorted_unit_length_and_survive_bytes():
    latent = Latent.of(np.array([900, 3, 70, 5]), np.array([0.5, 2.0, 0.0, 1.0]))
    assert latent.index.tolist() == [3, 5, 900]  # the zero weight is dropped
    assert np.linalg.norm(latent.weight) == pytest.approx(1.0)
    again = Latent.from_bytes(latent.to_bytes())
    assert again.index.tolist() == latent.index.tolist()
    assert np.allclose(again.weight, latent.weight)
    assert len(Latent.from_bytes(Latent.of([], []).to_bytes())) == 0


def test_cosine_and_best_member_agree_with_dense_arithmetic():
    rng = np.random.default_rng(7)
    members = [_random_latent(rng, 256) for _ in range(40)] + [Latent.of([], [])]
    query = _random_latent(rng, 256)
    expected = [float(_dense(query) @ _dense(m)) for m in members]
    assert [query.cosine(m) for m in members] == pytest.approx(expected, abs=1e-5)
    group = LatentMembers(members)  # 40 x 256 weights: grows past its first allocation
    assert len(group) == 40  # the empty one is no member to match
    assert group.best(spread(query)) == pytest.approx(max(expected), abs=1e-5)
    assert LatentMembers().best(spread(query)) == 0.0
    assert group.best(spread(members[3])) == pytest.approx(1.0, abs=1e-5)


def test_latent_models_are_told_apart_from_vector_models():
    from storyline.nlp.embed import get_embedder

    e5 = get_embedder("e5")
    assert is_latent_model(e5.latent_name) and not is_latent_model(e5.name)
    assert get_embedder("lexical").latent_name is None


def test_e5_latent_terms_find_a_translation_among_texts_on_the_same_topic():
    from storyline.nlp.embed import get_embedder

    texts = [
        "Добре, я почекаю, вже йду спати.",
        "OK, I'll wait, I'm going to bed already.",
        "Good, I will write to you tomorrow about the flat.",
        "Thank you, I'll wait for your answer about the keys.",
    ]
    uk, *english = get_embedder("e5").latent(texts)
    scores = [uk.cosine(other) for other in english]
    assert scores.index(max(scores)) == 0, scores


def test_cached_latents_come_from_the_cache_file(tmp_path):
    from storyline.nlp.embed import get_embedder
    from storyline.nlp.vector_cache import CachedEmbedder

    inner = get_embedder("e5")
    calls = []
    original = inner.latent
    inner.latent = lambda texts: calls.append(list(texts)) or original(texts)
    cached = CachedEmbedder(inner, tmp_path / "cache.sqlite")
    first = cached.latent(["Путін подзвонив Байдену", "Putin called Biden", "Путін подзвонив Байдену"])
    assert calls == [["Путін подзвонив Байдену", "Putin called Biden"]]
    again = CachedEmbedder(inner, tmp_path / "cache.sqlite").latent(["Putin called Biden"])
    assert len(calls) == 1
    assert again[0].index.tolist() == first[1].index.tolist()
    assert cached.latent_name == inner.latent_name


def _articles(texts: dict[str, str]):
    import json

    from storyline.model import Article, RawDocument
    from storyline.pipeline import Pipeline
    from storyline.settings import Settings

    pipeline = Pipeline(Settings(min_chars=0))
    found = []
    for doc_id, text in texts.items():
        record = {"id": doc_id, "text": text, "published": "2021-12-02T10:00:00+02:00"}
        result = pipeline.process(RawDocument(id=doc_id, format="record", content=json.dumps(record),
                                              origin=doc_id))
        assert isinstance(result, Article), result
        found.append(result)
    return found


def test_latents_are_stored_with_a_batch_restored_on_reopen_and_mended_when_missing(tmp_path):
    from sqlalchemy import delete

    from storyline.cluster.engine import StoryEngine
    from storyline.cluster.params import load_params
    from storyline.evaluate.calibrate import with_values
    from storyline.settings import Settings
    from storyline.store import listing, open_store
    from storyline.store.schema import article_vectors

    params = with_values(load_params(embedder="e5"), "event", latent=10.0)
    settings = Settings(embedder="e5", vector_cache=None)
    texts = {"a": "Путін і Байден провели телефонну розмову про Україну.",
             "b": "Putin and Biden held a phone call about Ukraine."}
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url) as store:
        engine = StoryEngine(store, settings, params=params)
        first = _articles(texts)
        store.save_batch(first, engine.add(first))
        latent_model = engine.embedder.latent_name
        assert set(store.get_vectors(latent_model, ["a", "b"])) == {"a", "b"}
        assert store.vector_models() == [engine.embedder.name]
        # The listing reads the vectors of the store's embedder, not the latent terms stored
        # beside them in equal number (which sort first by name, and once were read as vectors).
        with store.engine.connect() as conn:
            assert listing._meta(conn, "model") == engine.embedder.name
        # A store written before latent terms were used: its members have none.
        with store.engine.begin() as conn:
            conn.execute(delete(article_vectors).where(article_vectors.c.model == latent_model))
    with open_store(url) as store:
        engine = StoryEngine(store, settings, params=params)
        third = _articles({"c": "Путин и Байден провели телефонный разговор об Украине."})
        delta = engine.add(third)
        event = first[0].event_id
        members = sum(a.event_id == event for a in first + third)
        assert len(engine._clusterer.member_latents[event]) == members
        assert set(delta.latents) == {"a", "b", "c"}  # mended members saved with the batch
        store.save_batch(third, delta)
        assert set(store.get_vectors(latent_model, ["a", "b", "c"])) == {"a", "b", "c"}


def test_latents_made_on_workers_equal_the_drivers():
    from pathlib import Path

    from storyline.cluster.engine import make_embedder
    from storyline.cluster.profile import article_latents
    from storyline.engines.work import Worker
    from storyline.ingest.readers import read_inputs
    from storyline.model import RawDocument
    from storyline.settings import Settings

    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    settings = Settings(embedder="e5", vector_cache=None)
    docs = [d for d in read_inputs([str(sample / "feed.jsonl")]) if isinstance(d, RawDocument)][:6]
    worker = Worker(settings, embed=True)
    worker.latents = True  # as when params.toml weighs them
    result = worker.run(docs)
    articles = [item for item in result.items if not isinstance(item, Exception)]
    in_driver = article_latents(articles, make_embedder(settings))
    assert len(articles) == 6
    for embedded, latent in zip(result.vectors, in_driver, strict=True):
        assert embedded.latent.index.tolist() == latent.index.tolist()
        assert np.allclose(embedded.latent.weight, latent.weight)
