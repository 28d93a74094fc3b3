"""A CI quality gate in trafilatura's style: a small, fast evaluation with pinned floors.

The baseline file (``eval/baseline.json``) is the whole configuration::

    {"datasets": "../../shared/datasets",   # relative to the baseline file; $STORYLINE_SHARED wins
     "tolerance": 0.01,                     # --update pins floor = value - tolerance
     "checks": [{"name": "wmt22-events", "kind": "clusters",
                 "path": "wmt/trilingual_wmt22_en_ru_uk.jsonl", "limit": 100, "level": "event",
                 "floors": {"all.bcubed.f1": 0.49, ...},
                 "data": {"wmt/trilingual_wmt22_en_ru_uk.jsonl": "<sha256>"}}, ...]}

Check kinds: ``extract`` (storyline's extraction on the first ``limit`` benchmark pages),
``langid`` (a folder of lingua files), ``clusters`` (a WMT / BSNLP / contract file through the real
pipeline; ``stride`` keeps every n-th document (WMT: every n-th translation triple) so a file
sorted by label still covers all its labels, ``limit`` caps how many are kept).
Floors are only meaningful on the data they were measured on, so every file a check reads is
pinned by its sha256 and a changed file fails the gate. A check without ``floors`` gets its kind's
default metrics on ``--update``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from storyline.errors import ConfigError, InputError
from storyline.evaluate.metrics import format_table

DEFAULT_TOLERANCE = 0.01
# Rounding of pinned floors: down, to this many decimals, so a floor never exceeds its value.
FLOOR_DECIMALS = 3


@dataclass(frozen=True, slots=True)
class MetricResult:
    check: str
    metric: str
    value: float | None
    floor: float

    @property
    def ok(self) -> bool:
        return self.value is not None and self.value + 1e-9 >= self.floor


@dataclass(slots=True)
class GateReport:
    baseline: str
    results: list[MetricResult] = field(default_factory=list)
    data_problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    updated: bool = False

    @property
    def passed(self) -> bool:
        return not self.data_problems and all(r.ok for r in self.results)

    def failures(self) -> list[str]:
        lines = list(self.data_problems)
        for r in self.results:
            if not r.ok:
                shown = "undefined" if r.value is None else f"{r.value:.4f}"
                lines.append(f"{r.check}: {r.metric} = {shown}, below its floor {r.floor:.4f}")
        return lines

    def table(self) -> str:
        rows = [
            [r.check, r.metric, "-" if r.value is None else r.value, r.floor, "ok" if r.ok else "BELOW FLOOR"]
            for r in self.results
        ]
        parts = [format_table(["check", "metric", "value", "floor", "status"], rows)]
        timing = ", ".join(f"{name} {s:.1f} s" for name, s in self.seconds.items())
        parts.append(f"time: {timing} (total {sum(self.seconds.values()):.1f} s)")
        if self.updated:
            parts.append(f"baseline updated: {self.baseline}")
        else:
            parts.append("gate passed" if self.passed else f"gate FAILED: {len(self.failures())} problem(s)")
        return "\n".join(parts)

    def to_dict(self) -> dict:
        return {
            "baseline": self.baseline,
            "passed": self.passed,
            "updated": self.updated,
            "failures": self.failures(),
            "seconds": self.seconds,
            "results": [
                {"check": r.check, "metric": r.metric, "value": r.value, "floor": r.floor, "ok": r.ok}
                for r in self.results
            ],
        }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- check kinds
# Each kind: files(root, check) -> the files it reads; measure(root, check) -> metric name -> value;
# DEFAULT_METRICS[kind](metrics) -> the names to pin when a check has no floors yet.


def _extract_files(root: Path, check: dict) -> list[Path]:
    from storyline.evaluate.extraction import load_ground_truth

    directory = root / check["path"]
    ids = sorted(load_ground_truth(directory))[: check.get("limit")]
    return [directory / "ground-truth.json"] + [directory / "html" / f"{i}.html.gz" for i in ids]


def _extract_measure(root: Path, check: dict) -> dict[str, float | None]:
    from storyline.evaluate.extraction import SYSTEMS, evaluate_extraction

    report = evaluate_extraction(
        root / check["path"], limit=check.get("limit"), systems={"storyline": SYSTEMS["storyline"]}
    )
    score = report.systems["storyline"]
    return {
        "storyline.precision": score.precision,
        "storyline.recall": score.recall,
        "storyline.f1": score.f1,
    }


def _langid_files(root: Path, check: dict) -> list[Path]:
    from storyline.evaluate.langid import langid_files

    return langid_files(root / check["path"])


def _langid_measure(root: Path, check: dict) -> dict[str, float | None]:
    from storyline.evaluate.langid import evaluate_langid
    from storyline.settings import DEFAULT_LANGUAGES

    report = evaluate_langid(_langid_files(root, check), check.get("languages") or DEFAULT_LANGUAGES)
    metrics: dict[str, float | None] = {"accuracy": report.accuracy()}
    for result in report.results:
        metrics[f"{result.language}.accuracy"] = report.accuracy(language=result.language)
    return metrics


def _clusters_files(root: Path, check: dict) -> list[Path]:
    return [root / check["path"]]


def _clusters_measure(root: Path, check: dict) -> dict[str, float | None]:
    from storyline.evaluate.datasets import load_documents
    from storyline.evaluate.runs import evaluate_clusters
    from storyline.settings import Settings

    stride = check.get("stride", 1)
    if not isinstance(stride, int) or stride < 1:
        raise ConfigError(f"check {check['name']!r}: stride must be a whole number >= 1, got {stride!r}")
    limit = check.get("limit")
    _, level, documents = load_documents(
        root / check["path"], level=check.get("level"), label=check.get("label")
    )
    if stride > 1 or limit:
        documents = _every_nth(documents, stride, limit)
    report = evaluate_clusters(documents, level=level, settings=Settings(min_chars=0), dataset=check["name"])
    metrics: dict[str, float | None] = {}
    for bucket, score in report.scores.items():
        for kind in ("bcubed", "pairwise"):
            s = getattr(score, kind)
            metrics.update(
                {
                    f"{bucket}.{kind}.precision": s.precision,
                    f"{bucket}.{kind}.recall": s.recall,
                    f"{bucket}.{kind}.f1": s.f1,
                }
            )
    return metrics


def _every_nth(documents, stride: int, limit: int | None):
    """Every ``stride``-th unit, at most ``limit`` units. A unit is a run of consecutive documents
    with one event label (WMT's three translations stay together), else a single document."""
    units = _units(documents)
    return (doc for unit in islice(units, 0, limit * stride if limit else None, stride) for doc in unit)


def _units(documents):
    unit: list = []
    for doc in documents:
        if unit and (doc.event is None or doc.event != unit[-1].event):
            yield unit
            unit = []
        unit.append(doc)
    if unit:
        yield unit


def _default_extract(metrics: dict) -> list[str]:
    return ["storyline.precision", "storyline.recall", "storyline.f1"]


def _default_langid(metrics: dict) -> list[str]:
    return sorted(metrics)


def _default_clusters(metrics: dict) -> list[str]:
    # B-cubed F1 of every bucket, and overall pairwise F1: the numbers the issue asks to hold.
    return [m for m in metrics if m.endswith(".bcubed.f1") or m == "all.pairwise.f1"]


KINDS: dict[str, tuple[Callable, Callable, Callable]] = {
    "extract": (_extract_files, _extract_measure, _default_extract),
    "langid": (_langid_files, _langid_measure, _default_langid),
    "clusters": (_clusters_files, _clusters_measure, _default_clusters),
}


# ---------------------------------------------------------------- the gate


def load_baseline(path: Path) -> dict:
    path = Path(path)
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read baseline {path}: {exc.strerror}", hint="create it, or pass --baseline FILE"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"baseline {path} is not valid JSON: {exc}") from None
    checks = baseline.get("checks") if isinstance(baseline, dict) else None
    if not isinstance(checks, list) or not checks:
        raise ConfigError(f'baseline {path} has no "checks" list')
    names = set()
    for n, check in enumerate(checks):
        if not isinstance(check, dict) or not {"name", "kind", "path"} <= set(check):
            raise ConfigError(f'baseline {path}: check {n} needs "name", "kind" and "path"')
        if check["kind"] not in KINDS:
            raise ConfigError(
                f"baseline {path}: check {check['name']!r} has unknown kind {check['kind']!r}",
                hint=f"kinds: {', '.join(KINDS)}",
            )
        if check["name"] in names:
            raise ConfigError(f"baseline {path}: two checks are named {check['name']!r}")
        names.add(check["name"])
    tolerance = baseline.get("tolerance", DEFAULT_TOLERANCE)
    if not isinstance(tolerance, int | float) or not 0 <= tolerance < 1:
        raise ConfigError(f"baseline {path}: tolerance must be in [0, 1), got {tolerance!r}")
    return baseline


def datasets_root(baseline_path: Path, baseline: dict, datasets: Path | None = None) -> Path:
    """--datasets, else $STORYLINE_SHARED/datasets, else the baseline's path (relative to it)."""
    if datasets is not None:
        root = Path(datasets)
    elif os.environ.get("STORYLINE_SHARED"):
        root = Path(os.environ["STORYLINE_SHARED"]) / "datasets"
    else:
        root = Path(baseline_path).resolve().parent / baseline.get("datasets", "../../shared/datasets")
    if not root.is_dir():
        raise InputError(
            str(root),
            "not_found",
            "datasets folder not found",
            hint="pass --datasets DIR or set STORYLINE_SHARED",
        )
    return root.resolve()


def _floor(value: float, tolerance: float) -> float:
    scale = 10**FLOOR_DECIMALS
    return max(0.0, math.floor((value - tolerance) * scale) / scale)


def run_gate(baseline_path: Path, datasets: Path | None = None, update: bool = False) -> GateReport:
    """Run every check of the baseline and compare with its floors (or, with ``update``, pin new
    floors and hashes and rewrite the baseline file)."""
    baseline_path = Path(baseline_path)
    baseline = load_baseline(baseline_path)
    root = datasets_root(baseline_path, baseline, datasets)
    tolerance = baseline.get("tolerance", DEFAULT_TOLERANCE)
    report = GateReport(str(baseline_path), updated=update)
    for check in baseline["checks"]:
        name = check["name"]
        list_files, measure, defaults = KINDS[check["kind"]]
        started = time.perf_counter()
        files = list_files(root, check)
        hashes = {f.relative_to(root).as_posix(): sha256_file(f) for f in files}
        pinned = check.get("data") or {}
        if not update:
            report.data_problems.extend(_data_problems(name, pinned, hashes))
        metrics = measure(root, check)
        if update:
            wanted = list(check.get("floors") or defaults(metrics))
            check["floors"] = {m: _floor(metrics[m], tolerance) for m in wanted if metrics.get(m) is not None}
            check["data"] = hashes
        for metric, floor in (check.get("floors") or {}).items():
            if metric not in metrics and not update:
                raise ConfigError(
                    f"check {name!r}: unknown metric {metric!r}", hint=f"known: {', '.join(sorted(metrics))}"
                )
            report.results.append(MetricResult(name, metric, metrics.get(metric), float(floor)))
        report.seconds[name] = time.perf_counter() - started
    if update:
        baseline_path.parent.mkdir(parents=True, exist_ok=True)
        baseline_path.write_text(json.dumps(baseline, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report


def _data_problems(name: str, pinned: dict, hashes: dict) -> list[str]:
    if not pinned:
        return [f"{name}: no dataset hashes pinned; run `storyline eval gate --update` to pin them"]
    problems = []
    for rel in sorted(set(pinned) | set(hashes)):
        if rel not in hashes:
            problems.append(f"{name}: pinned file {rel} is no longer read by this check")
        elif rel not in pinned:
            problems.append(f"{name}: {rel} is read but not pinned")
        elif pinned[rel] != hashes[rel]:
            problems.append(
                f"{name}: dataset file {rel} changed (sha256 {hashes[rel][:12]}..., pinned "
                f"{pinned[rel][:12]}...): floors are only meaningful on the same data; check the data, "
                f"then rerun with --update"
            )
    return problems


__all__ = ["KINDS", "GateReport", "MetricResult", "load_baseline", "run_gate", "sha256_file"]
