"""Article-body extraction quality on the Scrapinghub article-extraction benchmark layout.

Layout: ``DIR/ground-truth.json`` maps page id -> ``{"articleBody", "url", ...}`` and
``DIR/html/<id>.html.gz`` holds the page (gzip, UTF-8).

Scoring follows the benchmark's own ``evaluate.py`` so the numbers compare with its published
table (trafilatura 2.0.0: F1 0.958):

- text is tokenised into ``\\w+`` runs (Unicode, case kept), which works the same for any language;
- a page's units are *shingles*, runs of 4 consecutive tokens, counted as a multiset, so text
  repeated in the prediction but not in the gold costs precision;
- tp/fp/fn are divided by their sum, so every page weighs the same whatever its length;
- precision is averaged over pages with a non-empty prediction, recall over pages with a
  non-empty gold, and F1 is the harmonic mean of those two averages. The mean of per-page F1
  is reported beside it (``page_f1``): an empty prediction scores 0 there instead of dropping out.

Both systems run in one pass over the same pages: storyline's ``extract_html`` and plain
``trafilatura.extract(html, include_comments=False)`` (the benchmark's own trafilatura call).
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura
from tqdm import tqdm

from storyline.clean.html import extract_html
from storyline.errors import ConfigError, InputError
from storyline.evaluate.metrics import format_table, prf, safe_div

SHINGLE_SIZE = 4
_TOKEN = re.compile(r"\w+")

Extractor = Callable[[str, str | None], str]


def _storyline(html: str, url: str | None) -> str:
    return extract_html(html, url).text


def _trafilatura(html: str, url: str | None) -> str:
    # Exactly the benchmark's call: no url, default settings, comments off.
    return trafilatura.extract(html, include_comments=False) or ""


SYSTEMS: dict[str, Extractor] = {"storyline": _storyline, "trafilatura": _trafilatura}


def shingles(text: str, size: int = SHINGLE_SIZE) -> Counter:
    """Multiset of ``size``-token shingles; a text shorter than ``size`` tokens is one shingle."""
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    return Counter(tuple(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1)))


def page_counts(gold: str, predicted: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over shingles, normalised to sum to 1 (all zero when both texts are empty)."""
    true, pred = shingles(gold), shingles(predicted)
    tp = sum((true & pred).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    if not total:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


@dataclass(frozen=True, slots=True)
class PageScore:
    id: str
    system: str
    tp: float
    fp: float
    fn: float
    seconds: float

    @property
    def precision(self) -> float:
        return prf(self.tp, self.fp, self.fn)[0]

    @property
    def recall(self) -> float:
        return prf(self.tp, self.fp, self.fn)[1]

    @property
    def f1(self) -> float:
        return prf(self.tp, self.fp, self.fn)[2]


@dataclass(frozen=True, slots=True)
class SystemScore:
    system: str
    precision: float
    recall: float
    f1: float
    page_f1: float
    pages: int
    empty: int
    seconds: float


def summarise(system: str, scores: list[PageScore]) -> SystemScore:
    """Macro averages the way the benchmark computes them (see module docstring)."""
    with_pred = [s.precision for s in scores if s.tp + s.fp > 0]
    with_gold = [s.recall for s in scores if s.tp + s.fn > 0]
    precision = safe_div(sum(with_pred), len(with_pred))
    recall = safe_div(sum(with_gold), len(with_gold))
    return SystemScore(
        system=system,
        precision=precision,
        recall=recall,
        f1=safe_div(2 * precision * recall, precision + recall),
        page_f1=safe_div(sum(s.f1 for s in scores), len(scores)),
        pages=len(scores),
        empty=sum(1 for s in scores if s.tp + s.fp == 0),
        seconds=sum(s.seconds for s in scores),
    )


@dataclass(frozen=True, slots=True)
class ExtractionReport:
    directory: str
    systems: dict[str, SystemScore]
    pages: dict[str, list[PageScore]]
    seconds: float

    def table(self) -> str:
        headers = ["system", "precision", "recall", "F1", "page F1", "pages", "empty", "ms/page"]
        rows = [
            [
                s.system,
                s.precision,
                s.recall,
                s.f1,
                s.page_f1,
                s.pages,
                s.empty,
                round(1000 * safe_div(s.seconds, s.pages), 1),
            ]
            for s in self.systems.values()
        ]
        return format_table(headers, rows)

    def to_dict(self) -> dict:
        per_page: dict[str, dict] = {}
        for system, scores in self.pages.items():
            for s in scores:
                per_page.setdefault(s.id, {"id": s.id})[system] = {
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1": s.f1,
                    "tp": s.tp,
                    "fp": s.fp,
                    "fn": s.fn,
                    "seconds": s.seconds,
                }
        return {
            "directory": self.directory,
            "tokenisation": f"\\w+ tokens, {SHINGLE_SIZE}-token shingles (benchmark evaluate.py)",
            "seconds": self.seconds,
            "systems": {
                name: {
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1": s.f1,
                    "page_f1": s.page_f1,
                    "pages": s.pages,
                    "empty": s.empty,
                    "seconds": s.seconds,
                }
                for name, s in self.systems.items()
            },
            "pages": list(per_page.values()),
        }


def load_ground_truth(directory: Path) -> dict[str, dict]:
    path = Path(directory) / "ground-truth.json"
    if not path.is_file():
        raise InputError(
            str(directory),
            "bad_dataset",
            "no ground-truth.json",
            hint="expected the article-extraction-benchmark layout: ground-truth.json + html/",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(str(path), "bad_dataset", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(str(path), "bad_dataset", "expected an object mapping id -> record")
    return data


def read_page(directory: Path, page_id: str) -> str:
    path = Path(directory) / "html" / f"{page_id}.html.gz"
    if not path.is_file():
        raise InputError(str(path), "bad_dataset", f"no HTML for page {page_id}")
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def evaluate_extraction(
    directory: Path,
    limit: int | None = None,
    systems: dict[str, Extractor] | None = None,
) -> ExtractionReport:
    """Score storyline and plain trafilatura on the same pages (the first ``limit`` ids, sorted)."""
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a whole number >= 1, got {limit!r}")
    systems = SYSTEMS if systems is None else systems
    directory = Path(directory)
    truth = load_ground_truth(directory)
    ids = sorted(truth)[:limit] if limit else sorted(truth)

    started = time.perf_counter()
    pages: dict[str, list[PageScore]] = {name: [] for name in systems}
    progress = tqdm(ids, desc="extract", unit="page", disable=not sys.stderr.isatty())
    for page_id in progress:
        html = read_page(directory, page_id)
        record = truth[page_id] or {}
        gold = record.get("articleBody") or ""
        for name, extract in systems.items():
            t0 = time.perf_counter()
            predicted = extract(html, record.get("url"))
            seconds = time.perf_counter() - t0
            tp, fp, fn = page_counts(gold, predicted)
            pages[name].append(PageScore(page_id, name, tp, fp, fn, seconds))
    return ExtractionReport(
        directory=str(directory),
        systems={name: summarise(name, scores) for name, scores in pages.items()},
        pages=pages,
        seconds=time.perf_counter() - started,
    )


__all__ = [
    "SHINGLE_SIZE",
    "ExtractionReport",
    "PageScore",
    "SystemScore",
    "evaluate_extraction",
    "page_counts",
    "shingles",
]
