"""The event similarity model on text pairs (what `storyline eval pairs` measures)."""

from __future__ import annotations

import pytest

from storyline.cluster.pairs import pair_scorer

SAME = ("Нацбанк снизил учетную ставку до 15% впервые за год",
        "НБУ впервые за год понизил учетную ставку до 15 процентов")
CROSS = ("Нацбанк снизил учетную ставку до 15% впервые за год",
         "Ukraine's central bank cuts its key rate to 15% for the first time in a year")
OTHER = ("Нацбанк снизил учетную ставку до 15% впервые за год",
         "В Мукачево река Латорица вышла из берегов, эвакуированы две тысячи человек")


@pytest.fixture(scope="module")
def score():
    return pair_scorer()


def test_same_event_scores_above_a_different_event(score):
    same, cross, other = score([SAME, CROSS, OTHER])
    assert 0.0 <= other < 0.5 < same <= 1.0
    assert cross > other


def test_scores_are_symmetric(score):
    a, b = SAME
    forward, backward = score([(a, b), (b, a)])
    assert forward == pytest.approx(backward)
