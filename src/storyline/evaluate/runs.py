"""Evaluation runners: the real pipeline on gold clusters, and a pair scorer on labelled pairs.

``evaluate_clusters`` feeds gold documents through ``ingest_documents`` into an in-memory store
(the same code path as ``storyline ingest``), reads each article's ``event_id`` / ``story_id``
back and scores them with ``clustering.score_clustering``. A document the pipeline rejected, or an
article with no id yet, is a cluster of its own: the report then shows low recall, honestly.

``evaluate_pairs`` scores "same event" decisions of a similarity function at a sweep of thresholds.
The best threshold is chosen on the evaluated pairs themselves, so its F1 is optimistic for data
the threshold was not tuned on; the report says by how much (a k-fold held-out F1) and how wide
F1 would spread on a test set of the same size (a bootstrap interval). ROC-AUC and average
precision do not depend on a threshold.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from storyline.evaluate.clustering import BucketScore, score_clustering
from storyline.evaluate.datasets import GoldDocument, LabelledPair
from storyline.evaluate.metrics import format_table, prf, safe_div
from storyline.evaluate.pairstats import FOLDS, confusion_counts, f1_interval, heldout_score
from storyline.model import RawDocument
from storyline.settings import Settings

LEVELS = ("event", "story")
PairScorer = Callable[[list[tuple[str, str]]], Sequence[float]]
DEFAULT_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(21))


def _cell(value: float | None) -> float | str:
    return "-" if value is None else value


# ---------------------------------------------------------------- clusters


@dataclass(slots=True)
class ClusterReport:
    dataset: str
    level: str
    documents: int
    gold_clusters: int
    predicted_clusters: int  # over the gold documents; unassigned and rejected ones count alone
    articles: int  # documents that became articles
    unassigned: int  # articles without an id at this level
    rejected: Counter = field(default_factory=Counter)  # reason -> count
    scores: dict[str, BucketScore] = field(default_factory=dict)
    seconds: float = 0.0

    def metric(self, bucket: str, kind: str, name: str) -> float | None:
        """One number, e.g. ``metric("cross", "bcubed", "f1")``."""
        return getattr(getattr(self.scores[bucket], kind), name)

    def table(self) -> str:
        head = (
            f"{self.dataset}: {self.level} level; {self.documents} documents, {self.gold_clusters} gold "
            f"clusters, {self.predicted_clusters} predicted; {self.articles} articles "
            f"({self.unassigned} without {self.level}_id), "
            f"{sum(self.rejected.values())} rejected"
        )
        if self.rejected:
            head += " (" + ", ".join(f"{r}: {n}" for r, n in self.rejected.most_common()) + ")"
        headers = ["pairs", "items", "B3 P", "B3 R", "B3 F1", "pair P", "pair R", "pair F1", "gold pairs"]
        rows = [
            [
                s.bucket,
                s.items,
                _cell(s.bcubed.precision),
                _cell(s.bcubed.recall),
                _cell(s.bcubed.f1),
                _cell(s.pairwise.precision),
                _cell(s.pairwise.recall),
                _cell(s.pairwise.f1),
                s.pairwise.support_recall,
            ]
            for s in self.scores.values()
        ]
        return "\n".join([head, format_table(headers, rows), f"{self.seconds:.1f} s"])

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "level": self.level,
            "documents": self.documents,
            "gold_clusters": self.gold_clusters,
            "predicted_clusters": self.predicted_clusters,
            "articles": self.articles,
            "unassigned": self.unassigned,
            "rejected": dict(self.rejected),
            "scores": {bucket: s.to_dict() for bucket, s in self.scores.items()},
            "seconds": self.seconds,
        }


def to_raw(doc: GoldDocument, dataset: str) -> RawDocument:
    """A gold document as the contract's JSON Lines record would arrive."""
    fields = {
        "id": doc.id,
        "title": doc.title,
        "published": doc.published,
        "source": doc.source,
        "lang": doc.lang,
        "url": doc.url,
    }
    return RawDocument(
        id=doc.id,
        format="record",
        content=doc.text,
        origin=f"{dataset}:{doc.id}",
        fields={k: v for k, v in fields.items() if v is not None},
    )


def evaluate_clusters(
    documents: Iterable[GoldDocument],
    level: str = "event",
    settings: Settings | None = None,
    dataset: str = "documents",
) -> ClusterReport:
    """Ingest ``documents`` with the real pipeline into an in-memory store and score its clusters.

    ``settings`` default to ``Settings(min_chars=0)``: gold documents are kept whatever their length
    (WMT documents can be one sentence). Its ``db`` is ignored: an evaluation never touches a store
    on disk."""
    from storyline.ingest.run import ingest_documents
    from storyline.store import open_store

    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    settings = settings or Settings(min_chars=0)
    started = time.perf_counter()
    gold: dict[str, str] = {}
    languages: dict[str, str | None] = {}
    raws = []
    for doc in documents:
        label = doc.label(level)
        if label is None:
            raise ValueError(f"document {doc.id!r} has no gold {level} label")
        if doc.id in gold:
            raise ValueError(f"document id {doc.id!r} appears twice")
        gold[doc.id] = label
        languages[doc.id] = doc.lang
        raws.append(to_raw(doc, dataset))

    predicted: dict[str, str | None] = {}
    with open_store("sqlite://") as store:
        summary = ingest_documents(raws, store, settings)
        for article in store.iter_articles():
            predicted[article.id] = article.event_id if level == "event" else article.story_id

    evaluated = {k: v for k, v in predicted.items() if k in gold}
    assigned = {v for v in evaluated.values() if v is not None}
    alone = sum(1 for k in gold if evaluated.get(k) is None)
    return ClusterReport(
        dataset=dataset,
        level=level,
        documents=len(gold),
        gold_clusters=len(set(gold.values())),
        predicted_clusters=len(assigned) + alone,
        articles=len(evaluated),
        unassigned=sum(1 for v in evaluated.values() if v is None),
        rejected=Counter(summary.rejected),
        scores=score_clustering(gold, evaluated, languages),
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------- pairs


@dataclass(frozen=True, slots=True)
class ThresholdScore:
    threshold: float
    precision: float
    recall: float
    f1: float
    predicted_positive: int


@dataclass(slots=True)
class PairReport:
    dataset: str
    pairs: int
    positives: int
    sweep: list[ThresholdScore]
    roc_auc: float | None
    average_precision: float | None
    seconds: float
    # (precision, recall, F1) with each fold's threshold chosen on the other folds; None for
    # too few pairs (evaluate/pairstats.py).
    heldout: tuple[float, float, float] | None = None
    # 95% bootstrap interval of F1 at the best threshold.
    f1_interval: tuple[float, float] | None = None

    @property
    def best(self) -> ThresholdScore:
        """The threshold with the highest F1 (the lower one on a tie)."""
        return max(self.sweep, key=lambda s: (s.f1, -s.threshold))

    def table(self) -> str:
        headers = ["threshold", "precision", "recall", "F1", "predicted +"]
        rows = [[s.threshold, s.precision, s.recall, s.f1, s.predicted_positive] for s in self.sweep]
        best = self.best
        chosen = (f"best threshold {best.threshold:.3f}: P {best.precision:.3f} R {best.recall:.3f} "
                  f"F1 {best.f1:.3f} (chosen on these pairs)")
        if self.f1_interval:
            chosen += f", 95% bootstrap interval {self.f1_interval[0]:.3f}-{self.f1_interval[1]:.3f}"
        lines = [f"{self.dataset}: {self.pairs} pairs, {self.positives} positive",
                 format_table(headers, rows), chosen]
        if self.heldout:
            precision, recall, f1 = self.heldout
            lines.append(f"held out ({FOLDS}-fold, each fold at the threshold best on the others): "
                         f"P {precision:.3f} R {recall:.3f} F1 {f1:.3f}")
        lines.append(f"ROC-AUC {_fmt(self.roc_auc)}, average precision "
                     f"{_fmt(self.average_precision)}; {self.seconds:.1f} s")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        best = self.best
        return {
            "dataset": self.dataset,
            "pairs": self.pairs,
            "positives": self.positives,
            "best": {
                "threshold": best.threshold,
                "precision": best.precision,
                "recall": best.recall,
                "f1": best.f1,
            },
            "heldout": (
                dict(zip(("precision", "recall", "f1"), self.heldout, strict=True))
                if self.heldout else None
            ),
            "f1_interval": list(self.f1_interval) if self.f1_interval else None,
            "roc_auc": self.roc_auc,
            "average_precision": self.average_precision,
            "sweep": [
                {
                    "threshold": s.threshold,
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1": s.f1,
                    "predicted_positive": s.predicted_positive,
                }
                for s in self.sweep
            ],
            "seconds": self.seconds,
        }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half);
    None without both classes."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if not positives or not negatives:
        return None
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    # Average 1-based rank of each distinct score: ties share it.
    before = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ranks = (before + (counts + 1) / 2)[inverse]
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the precision-recall steps, one step per distinct score (as scikit-learn does)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    if not y.any():
        return None
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last_of_tie = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tp = np.cumsum(y)[last_of_tie]
    precision = tp / (last_of_tie + 1)
    recall = tp / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def evaluate_pairs(
    pairs: Iterable[LabelledPair],
    scorer: PairScorer,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    dataset: str = "pairs",
) -> PairReport:
    """P/R/F1 of "same event" (score >= threshold) at each threshold, ROC-AUC and average precision.

    ``scorer`` gets every pair as ``(text_1, text_2)`` in one list (so it can batch) and returns one
    float per pair."""
    if not thresholds:
        raise ValueError("thresholds must name at least one value, got none")
    started = time.perf_counter()
    pairs = list(pairs)
    if not pairs:
        raise ValueError("no pairs to evaluate")
    scores = np.asarray(list(scorer([(p.text_1, p.text_2) for p in pairs])), dtype=float)
    if scores.shape != (len(pairs),):
        raise ValueError(
            f"scorer returned {scores.shape[0] if scores.ndim else 0} scores for {len(pairs)} pairs"
        )
    if not np.isfinite(scores).all():
        raise ValueError("scorer returned a NaN or infinite score")
    labels = np.array([p.label for p in pairs], dtype=bool)
    sweep = []
    for t in sorted(thresholds):
        predicted = scores >= t
        tp, fp, fn = confusion_counts(predicted, labels)
        precision, recall, f1 = prf(tp, fp, fn)
        sweep.append(ThresholdScore(float(t), precision, recall, f1, tp + fp))
    report = PairReport(
        dataset=dataset,
        pairs=len(pairs),
        positives=int(labels.sum()),
        sweep=sweep,
        roc_auc=roc_auc(scores, labels),
        average_precision=average_precision(scores, labels),
        seconds=0.0,
        heldout=heldout_score(scores, labels, thresholds),
    )
    report.f1_interval = f1_interval(scores >= report.best.threshold, labels)
    report.seconds = time.perf_counter() - started
    return report


__all__ = [
    "DEFAULT_THRESHOLDS",
    "ClusterReport",
    "PairReport",
    "PairScorer",
    "ThresholdScore",
    "average_precision",
    "evaluate_clusters",
    "evaluate_pairs",
    "roc_auc",
    "safe_div",
    "to_raw",
]
