"""Clustering quality: B-cubed and pairwise precision/recall/F1, overall and per language pair.

Inputs are two labellings of the same items, ``gold`` and ``predicted`` (``dict[item_id, label]``).
The evaluated items are the gold items: a gold item missing from ``predicted`` (or predicted
``None``, e.g. an article the pipeline rejected or did not cluster) is a cluster of its own;
predicted items without a gold label are ignored.

Overall scores are the textbook ones:

- **B-cubed** (Bagga & Baldwin 1998): for each item ``i`` with predicted cluster ``C(i)`` and gold
  cluster ``G(i)`` (both containing ``i``), ``P(i) = |C(i) ∩ G(i)| / |C(i)|`` and
  ``R(i) = |C(i) ∩ G(i)| / |G(i)|``; precision and recall are their means over items, F1 the
  harmonic mean of the two means.
- **Pairwise**: over unordered pairs of distinct items, a pair is predicted positive when both items
  share a predicted cluster and gold positive when they share a gold cluster.

Per language pair (needs a ``languages`` map; a missing language counts as the language ``"?"``)
the same scores are restricted to *comparable* pairs of items, where the comparable items ``S(i)``
of an item ``i`` depend on the bucket:

- ``"uk-ru"`` (any two distinct languages ``a-b``): for an item of language ``a``, the items of
  language ``b``, and the other way round; items of other languages are not scored;
- ``"same"``: the other items (``i`` itself excluded) of ``i``'s own language;
- ``"cross"``: every item of a language other than ``i``'s.

Restricted B-cubed: ``P(i) = |C(i) ∩ G(i) ∩ S(i)| / |C(i) ∩ S(i)|`` averaged over the items whose
predicted cluster holds at least one comparable item, ``R(i) = |C(i) ∩ G(i) ∩ S(i)| / |G(i) ∩ S(i)|``
averaged over the items whose gold cluster holds one. ``i`` itself is never comparable to ``i``, so
a system cannot score in a bucket by keeping items alone. Restricted pairwise: the pairs ``(i, j)``
with ``j`` in ``S(i)``. An average over no items (or a ratio over no pairs) is undefined: ``None``,
printed ``-``. F1 is 0 when either side is 0, and undefined when a side is undefined otherwise.

Everything is computed from the counts of the (gold, predicted, language) cells, never by
enumerating pairs, so 10k or 100k items cost a pass over the items.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from itertools import combinations

UNKNOWN_LANGUAGE = "?"
# Buckets are named with languages in this order ("uk-ru", not "ru-uk"); others follow, sorted.
LANGUAGE_ORDER = ("uk", "ru", "en")
OVERALL, SAME, CROSS = "all", "same", "cross"


@dataclass(frozen=True, slots=True)
class Score:
    """Precision and recall (``None`` when undefined) with the support behind each.

    For B-cubed the supports are numbers of items averaged over; for pairwise they are the
    numbers of predicted-positive and gold-positive pairs."""

    precision: float | None
    recall: float | None
    support_precision: int
    support_recall: int

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p == 0 or r == 0:
            return 0.0
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r)

    def to_dict(self) -> dict:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support_precision": self.support_precision,
            "support_recall": self.support_recall,
        }


@dataclass(frozen=True, slots=True)
class BucketScore:
    """B-cubed and pairwise scores of one bucket (``all``, ``same``, ``cross`` or ``uk-ru``...)."""

    bucket: str
    items: int  # items that take part in this bucket
    bcubed: Score
    pairwise: Score

    def to_dict(self) -> dict:
        return {"items": self.items, "bcubed": self.bcubed.to_dict(), "pairwise": self.pairwise.to_dict()}


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


class _Cells:
    """Item counts per (gold, predicted, language) cell and their gold / predicted margins."""

    def __init__(self, gold: Mapping, predicted: Mapping, languages: Mapping | None):
        self.cells: dict[tuple, Counter] = defaultdict(Counter)
        self.gold: dict[Hashable, Counter] = defaultdict(Counter)
        self.pred: dict[Hashable, Counter] = defaultdict(Counter)
        self.languages: Counter = Counter()
        for item, g in gold.items():
            if g is None:
                raise ValueError(f"gold label of item {item!r} is None; every gold item needs a label")
            p = predicted.get(item)
            # A private key per unpredicted item: it cannot collide with a real label.
            p = ("pred", p) if p is not None else ("singleton", item)
            lang = UNKNOWN_LANGUAGE
            if languages is not None:
                lang = languages.get(item) or UNKNOWN_LANGUAGE
            self.cells[(g, p)][lang] += 1
            self.gold[g][lang] += 1
            self.pred[p][lang] += 1
            self.languages[lang] += 1


def _comparable(bucket: str, lang: str, counts: Counter) -> int:
    """How many items in ``counts`` are comparable to one item of ``lang`` (see module docstring)."""
    if bucket == OVERALL:
        return sum(counts.values())  # the textbook definition: the item itself included
    if bucket == SAME:
        return counts[lang] - 1
    if bucket == CROSS:
        return sum(counts.values()) - counts[lang]
    a, b = bucket.split("-", 1)
    if lang == a:
        return counts[b]
    if lang == b:
        return counts[a]
    return 0


def _pair_count(bucket: str, counts: Counter) -> int:
    """Unordered pairs of distinct, comparable items within one group of ``counts``."""
    if bucket == OVERALL:
        return _pairs(sum(counts.values()))
    same = sum(_pairs(n) for n in counts.values())
    if bucket == SAME:
        return same
    if bucket == CROSS:
        return _pairs(sum(counts.values())) - same
    a, b = bucket.split("-", 1)
    return counts[a] * counts[b]


def _in_bucket(bucket: str, lang: str) -> bool:
    if bucket in (OVERALL, SAME, CROSS):
        return True
    return lang in bucket.split("-", 1)


def _score_bucket(cells: _Cells, bucket: str) -> BucketScore:
    p_sum = r_sum = 0.0
    p_n = r_n = 0
    tp = 0
    for (g, p), counts in cells.cells.items():
        tp += _pair_count(bucket, counts)
        for lang, k in counts.items():
            if not _in_bucket(bucket, lang):
                continue
            num = _comparable(bucket, lang, counts)
            p_den = _comparable(bucket, lang, cells.pred[p])
            r_den = _comparable(bucket, lang, cells.gold[g])
            if p_den > 0:
                p_sum += k * num / p_den
                p_n += k
            if r_den > 0:
                r_sum += k * num / r_den
                r_n += k
    pred_pairs = sum(_pair_count(bucket, c) for c in cells.pred.values())
    gold_pairs = sum(_pair_count(bucket, c) for c in cells.gold.values())
    items = sum(n for lang, n in cells.languages.items() if _in_bucket(bucket, lang))
    return BucketScore(
        bucket=bucket,
        items=items,
        bcubed=Score(_ratio(p_sum, p_n), _ratio(r_sum, r_n), p_n, r_n),
        pairwise=Score(_ratio(tp, pred_pairs), _ratio(tp, gold_pairs), pred_pairs, gold_pairs),
    )


def language_buckets(languages: Mapping | None, gold: Mapping) -> list[str]:
    """The buckets reported for these items: ``all``, then (with languages) ``same``, ``cross`` and
    one ``a-b`` per pair of languages present, uk/ru/en first."""
    if languages is None:
        return [OVERALL]
    present = {languages.get(item) or UNKNOWN_LANGUAGE for item in gold}
    order = [code for code in LANGUAGE_ORDER if code in present]
    order += sorted(present - set(order))
    return [OVERALL, SAME, CROSS] + [f"{a}-{b}" for a, b in combinations(order, 2)]


def score_clustering(
    gold: Mapping[Hashable, Hashable],
    predicted: Mapping[Hashable, Hashable | None],
    languages: Mapping[Hashable, str | None] | None = None,
) -> dict[str, BucketScore]:
    """B-cubed and pairwise scores of ``predicted`` against ``gold``: bucket name -> scores.

    Without ``languages`` only ``"all"`` is computed. Language codes must not contain ``-``."""
    if languages is not None:
        bad = sorted({str(v) for v in languages.values() if v and "-" in str(v)})
        if bad:
            raise ValueError(f"language codes must not contain '-', got {bad[:3]}")
    cells = _Cells(gold, predicted, languages)
    return {bucket: _score_bucket(cells, bucket) for bucket in language_buckets(languages, gold)}


def bcubed(gold: Mapping, predicted: Mapping) -> Score:
    """Textbook B-cubed precision and recall over all gold items."""
    return _score_bucket(_Cells(gold, predicted, None), OVERALL).bcubed


def pairwise(gold: Mapping, predicted: Mapping) -> Score:
    """Pairwise precision and recall over all unordered pairs of gold items."""
    return _score_bucket(_Cells(gold, predicted, None), OVERALL).pairwise


__all__ = [
    "CROSS",
    "OVERALL",
    "SAME",
    "BucketScore",
    "Score",
    "bcubed",
    "language_buckets",
    "pairwise",
    "score_clustering",
]
