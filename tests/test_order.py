"""The order in which a batch is clustered (cluster/order.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from storyline.cluster.order import clustering_order
from storyline.model import Article, RawDocument

T0 = datetime(2025, 10, 1, 12, tzinfo=UTC)


def _article(article_id: str, day: int | None) -> Article:
    raw = RawDocument(id=article_id, format="text", content="", origin=article_id)
    return Article(id=article_id, raw=raw, published=None if day is None else T0 + timedelta(days=day))


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_dated_articles_come_in_time_order_then_id():
    articles = [_article("c", 3), _article("b", 1), _article("a", 1), _article("d", 0)]
    vectors = [_unit(1, 0)] * 4
    assert [articles[i].id for i in clustering_order(articles, vectors)] == ["d", "a", "b", "c"]


def test_an_undated_article_follows_the_dated_one_it_is_nearest():
    articles = [_article("flood-later", 14), _article("flood-damage", 2), _article("undated-damage", None),
                _article("grid", 5), _article("undated-grid", None)]
    vectors = [_unit(1, 0.6, 0), _unit(1, 0, 0), _unit(0.95, 0.1, 0), _unit(0, 0, 1), _unit(0.1, 0, 1)]
    order = [articles[i].id for i in clustering_order(articles, vectors)]
    assert order == ["flood-damage", "undated-damage", "grid", "undated-grid", "flood-later"]
    assert articles[2].published is None  # its turn changes, not its date


def test_undated_articles_nearest_each_other_come_last_together():
    articles = [_article("ec-undated-1", None), _article("trade", 1), _article("ec-undated-2", None),
                _article("sport", 2)]
    vectors = [_unit(1, 0.1, 0), _unit(0.6, 1, 0), _unit(1, 0.15, 0), _unit(0, 0, 1)]
    order = [articles[i].id for i in clustering_order(articles, vectors)]
    assert order == ["trade", "sport", "ec-undated-1", "ec-undated-2"]


def test_without_dated_articles_undated_ones_keep_their_order():
    articles = [_article("x", None), _article("y", None)]
    assert clustering_order(articles, [_unit(1, 0), _unit(0, 1)]) == [0, 1]
    assert clustering_order([], []) == []


def test_profile_and_order_read_a_naive_time_alike():
    # A naive datetime is UTC everywhere in clustering, whatever the machine's local zone.
    from storyline.cluster.profile import profile_of

    naive = _article("naive", None)
    naive.published = datetime(2025, 10, 1, 12)
    assert profile_of(naive, _unit(1, 0)).time == T0
