"""How far a pair evaluation's best F1 can be trusted.

The best threshold of a sweep is chosen on the evaluated pairs themselves, which flatters it. Two
checks say by how much, and how much of a gap to a published figure is noise:

- ``heldout_score``: k-fold: each fold is scored at the threshold that is best on the other
  folds, as a threshold fixed beforehand would be on unseen pairs;
- ``f1_interval``: a percentile bootstrap of F1 at one threshold (pairs resampled with
  replacement), the spread a test set of the same size would show.

Both are seeded, so a report is the same on every run."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from storyline.evaluate.metrics import prf

FOLDS = 10
ROUNDS = 1000
SEED = 20211207


def confusion_counts(predicted: np.ndarray, labels: np.ndarray) -> tuple[int, int, int]:
    """True positives, false positives and false negatives of boolean predictions."""
    tp = int((predicted & labels).sum())
    return tp, int((predicted & ~labels).sum()), int((~predicted & labels).sum())


def _best_threshold(scores: np.ndarray, labels: np.ndarray, thresholds: Sequence[float]) -> float:
    """The threshold of highest F1 (the lower one on a tie), as ``PairReport.best`` picks it."""
    return max(sorted(thresholds), key=lambda t: prf(*confusion_counts(scores >= t, labels))[2])


def heldout_score(scores: Sequence[float], labels: Sequence[bool], thresholds: Sequence[float],
                  folds: int = FOLDS, seed: int = SEED) -> tuple[float, float, float] | None:
    """Precision, recall and F1 pooled over ``folds`` folds, each predicted at the threshold
    chosen on the others; None when there are fewer than two pairs per fold."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    if folds < 2 or len(s) < 2 * folds:
        return None
    order = np.random.default_rng(seed).permutation(len(s))
    predicted = np.zeros(len(s), dtype=bool)
    for part in np.array_split(order, folds):
        rest = np.ones(len(s), dtype=bool)
        rest[part] = False
        threshold = _best_threshold(s[rest], y[rest], thresholds)
        predicted[part] = s[part] >= threshold
    return prf(*confusion_counts(predicted, y))


def f1_interval(predicted: Sequence[bool], labels: Sequence[bool], rounds: int = ROUNDS,
                seed: int = SEED, level: float = 0.95) -> tuple[float, float] | None:
    """The central ``level`` share of F1 over ``rounds`` bootstrap resamples of the pairs; None
    for no pairs."""
    p = np.asarray(predicted, dtype=bool)
    y = np.asarray(labels, dtype=bool)
    if not len(p) or rounds < 1:
        return None
    rng = np.random.default_rng(seed)
    f1 = np.zeros(rounds)
    # Resampled in batches: a round holds one index per pair, and all at once would not fit
    # for large pair sets.
    batch = max(1, 10_000_000 // len(p))
    for start in range(0, rounds, batch):
        picks = rng.integers(0, len(p), size=(min(batch, rounds - start), len(p)))
        tp = (p[picks] & y[picks]).sum(axis=1)
        denominator = p[picks].sum(axis=1) + y[picks].sum(axis=1)
        f1[start:start + len(picks)] = np.divide(2 * tp, denominator, out=np.zeros(len(picks)),
                                                 where=denominator > 0)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(f1, [tail, 100 - tail])
    return float(low), float(high)


__all__ = ["confusion_counts", "f1_interval", "heldout_score"]
