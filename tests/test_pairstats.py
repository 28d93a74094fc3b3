"""Held-out F1 and bootstrap interval of pair evaluations (storyline.evaluate.pairstats)."""

import numpy as np
import pytest

from storyline.evaluate.datasets import LabelledPair
from storyline.evaluate.metrics import prf
from storyline.evaluate.pairstats import f1_interval, heldout_score
from storyline.evaluate.runs import DEFAULT_THRESHOLDS, evaluate_pairs

PAIRS = [
    LabelledPair("1", "a b c d", "a b c d", 1),
    LabelledPair("2", "a b c d", "a b c e", 0),
    LabelledPair("3", "a b c d", "a b x y", -1),
    LabelledPair("4", "a b", "c d", -1),
    LabelledPair("5", "a b c", "a x y", 0),
]


def _jaccard_scorer(pairs):
    return [len(set(a.split()) & set(b.split())) / len(set(a.split()) | set(b.split())) for a, b in pairs]


def test_separable_scores_hold_out_perfectly():
    labels = np.array([True, False] * 20)
    scores = np.where(labels, 0.8, 0.3)
    assert heldout_score(scores, labels, DEFAULT_THRESHOLDS) == (1.0, 1.0, 1.0)


def test_heldout_is_below_a_threshold_fitted_to_noise():
    rng = np.random.default_rng(0)
    # Scores that say nothing: the best in-sample threshold is fitted to noise, never to signal.
    labels = rng.random(200) < 0.3
    scores = rng.random(200)
    thresholds = [i / 100 for i in range(101)]
    in_sample = max(prf(int((scores >= t)[labels].sum()), int((scores >= t)[~labels].sum()),
                        int((scores < t)[labels].sum()))[2] for t in thresholds)
    _, _, heldout = heldout_score(scores, labels, thresholds)
    assert heldout < in_sample


def test_heldout_needs_two_pairs_per_fold():
    assert heldout_score([0.1] * 19, [True] * 19, [0.5], folds=10) is None
    assert heldout_score([0.9] * 20, [True] * 20, [0.5], folds=10) == (1.0, 1.0, 1.0)


def test_interval_holds_the_point_estimate_and_narrows_with_more_pairs():
    rng = np.random.default_rng(1)

    def width_and_point(n):
        labels = rng.random(n) < 0.6
        predicted = np.where(rng.random(n) < 0.8, labels, ~labels)
        low, high = f1_interval(predicted, labels, rounds=400)
        tp = int((predicted & labels).sum())
        point = 2 * tp / (predicted.sum() + labels.sum())
        assert low <= point <= high
        return high - low

    assert width_and_point(4000) < width_and_point(200) / 2


def test_interval_edge_cases():
    assert f1_interval([True, True], [True, True]) == (1.0, 1.0)
    assert f1_interval([], []) is None
    # No positives predicted nor labelled in some resamples: F1 0 there, not a division error.
    low, high = f1_interval([False, True], [False, True], rounds=200)
    assert low == 0.0 and high == 1.0


def test_report_shows_heldout_and_interval():
    pairs = PAIRS * 4
    report = evaluate_pairs(pairs, _jaccard_scorer, thresholds=[0.1, 0.5, 0.9], dataset="tiny")
    assert report.heldout is not None and report.f1_interval is not None
    low, high = report.f1_interval
    assert low <= report.best.f1 <= high
    text = report.table()
    assert "held out (10-fold" in text and "bootstrap interval" in text
    data = report.to_dict()
    assert set(data["heldout"]) == {"precision", "recall", "f1"}
    assert data["f1_interval"] == [pytest.approx(low), pytest.approx(high)]
    assert evaluate_pairs(PAIRS, _jaccard_scorer, thresholds=[0.5]).heldout is None
