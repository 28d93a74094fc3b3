"""Latency of adding ONE article to a store that already holds a large corpus.

    python benchmarks/bench_latency.py --base 100000 [--embedder lexical] [--repeats 20]
                                       [--warm-up 5] [--cli-repeats 5] [--store FILE] [--json FILE]

The base store is benchmarks/work/scale-n<BASE>-<embedder>.db, the one bench_scale.py leaves
(built here with the real CLI when it is missing, or named with --store). Measurements run on a
copy of it (benchmarks/work/latency-n<BASE>-<embedder>.db), so the base stays as bench_scale
built it. New articles are .txt pages of another corpus (seed --seed, so other ids and other
outlets/dates for the same kind of text), one article each.

(a) end to end: ``storyline ingest one.txt --db COPY`` in a subprocess under /usr/bin/time -v,
    --cli-repeats times with different articles, and once into an empty store (the fixed cost
    of a run: imports and models; the difference is what the base corpus adds).
(b) in-process: open the store, build the Pipeline and the StoryEngine and load the
    clustering's state once (timed apart), add --warm-up articles untimed to load the models, then
    --repeats times: pipeline.process + engine.add + store.save_batch of one new article, each
    part timed; p50 and p95.

Prints tables; --json FILE appends the result to a JSON array in FILE.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

# As the CLI does: one BLAS thread for the small products of clustering.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    from benchmarks import bench_ingest as _ingest
    from benchmarks import bench_scale as _scale
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    import bench_ingest as _ingest
    import bench_scale as _scale

WORK = _ingest.WORK
PARTS = ("pipeline", "engine.add", "save_batch", "total")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def base_store(base: int, embedder: str, store: Path | None) -> Path:
    """The store holding the base corpus: the one named, bench_scale's, or a new one."""
    if store is not None:
        if not store.exists():
            sys.exit(f"Error: no store at {store}")
        return store
    path = _scale.scale_db(base, embedder)
    if path.exists():
        # A store left with a -wal file (a reader was open when ingest ended) is still whole:
        # fold the log in. Never rebuild over it: a 100k store takes hours to make.
        _checkpoint(path)
        return path
    print(f"building the {base}-article base store {path} ...", file=sys.stderr)
    folder, manifest = _scale.corpus(base)
    result = _scale.run_mode(folder / "pages", path, manifest["n"], embedder)
    print(f"  {result['wall_s']} s: {result['summary']}", file=sys.stderr)
    return path


def _checkpoint(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def working_copy(store: Path, base: int, embedder: str) -> Path:
    copy = WORK / f"latency-n{base}-{embedder}.db"
    _ingest.fresh_db(copy)
    shutil.copyfile(store, copy)
    return copy


def new_pages(count: int, seed: int) -> list[Path]:
    """``count`` single-article .txt pages from a corpus the base does not hold."""
    folder = WORK / f"latency-new-s{seed}-n{count}"
    if _ingest.existing_manifest(folder) is None:
        _ingest.generate(count, folder, seed=seed, formats=("txt",), dup_rate=0.0)
    pages = sorted((folder / "pages").glob("txt/*/*.txt"))
    if len(pages) < count:
        sys.exit(f"Error: {folder} holds {len(pages)} pages, {count} wanted")
    return pages[:count]


def end_to_end(pages: list[Path], db: Path, embedder: str) -> dict:
    runs = [_cli_one(page, db, embedder) for page in pages]
    walls = [r["wall_s"] for r in runs]
    return {"runs": runs, "wall_p50_s": round(percentile(walls, 50), 2),
            "wall_p95_s": round(percentile(walls, 95), 2),
            "peak_rss_mb": max(r.get("peak_rss_mb") or 0 for r in runs),
            "load": [r["load_before"][0] for r in runs]}


def _cli_one(page: Path, db: Path, embedder: str) -> dict:
    """One `storyline ingest page --db db` into the existing store (run_mode would start afresh)."""
    saved = {key: os.environ.get(key) for key in _scale.MODE_ENV[embedder]}
    os.environ.update(_scale.MODE_ENV[embedder])
    load_before = _scale.load_average()
    try:
        result = _ingest.run_cli(page, f"sqlite:///{db}", 1)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    result["load_before"] = load_before
    return result


def in_process(pages: list[Path], db: Path, embedder: str, warm_up: int = 5) -> dict:
    """Open once, then add the articles one at a time, timing each part."""
    from storyline.cluster.engine import StoryEngine
    from storyline.ingest.readers import read_inputs
    from storyline.model import Rejection
    from storyline.pipeline import Pipeline
    from storyline.settings import Settings
    from storyline.store import open_store

    settings = Settings(db=f"sqlite:///{db}", embedder=embedder, cluster=True)
    perf = time.perf_counter
    raws = []
    for page in pages:
        items = [x for x in read_inputs([str(page)]) if not isinstance(x, Rejection)]
        raws.extend(items[:1])
    report: dict = {}
    t0 = perf()
    with open_store(settings.db) as store:
        report["open_store_s"] = round(perf() - t0, 3)
        t0 = perf()
        engine = StoryEngine(store, settings)
        report["engine_init_s"] = round(perf() - t0, 3)
        t0 = perf()
        clusterer = engine._open()  # the state load every `storyline ingest` pays once
        report["state_load_s"] = round(perf() - t0, 3)
        report["active_events"], report["active_stories"] = (len(clusterer.events),
                                                             len(clusterer.stories))
        pipeline = Pipeline(settings)
        t0 = perf()
        # Models load per language on first use (lingua, pymorphy3 uk/ru, the embedder): a few
        # untimed articles, so the timed ones are steady-state.
        for raw in raws[:warm_up]:
            first = pipeline.process(raw)
            if not isinstance(first, Rejection):
                store.save_batch([first], engine.add([first]))
        report["warm_up_s"] = round(perf() - t0, 3)
        report["warm_up_articles"] = warm_up
        seconds: dict[str, list[float]] = {part: [] for part in PARTS}
        rejected = 0
        for raw in raws[warm_up:]:
            started = perf()
            article = pipeline.process(raw)
            t1 = perf()
            if isinstance(article, Rejection):
                rejected += 1
                continue
            delta = engine.add([article])
            t2 = perf()
            store.save_batch([article], delta)
            t3 = perf()
            for part, value in zip(PARTS, (t1 - started, t2 - t1, t3 - t2, t3 - started),
                                   strict=True):
                seconds[part].append(value)
        report["articles"] = len(seconds["total"])
        report["rejected"] = rejected
        report["stored_after"] = store.count_articles()
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report["parts"] = {part: {"p50_ms": round(1000 * percentile(v, 50), 1),
                              "p95_ms": round(1000 * percentile(v, 95), 1),
                              "mean_ms": round(1000 * statistics.fmean(v), 1),
                              "max_ms": round(1000 * max(v), 1)}
                       for part, v in seconds.items() if v}
    return report


def render(result: dict) -> str:
    out = [(f"adding one article to a store of {result['base_articles']} articles "
            f"({result['embedder']} embedder, {result['store']})")]
    cli = result.get("cli")
    if cli:
        out.append("\n(a) storyline ingest one.txt, end to end")
        rows = [["into the base store", len(cli["runs"]), cli["wall_p50_s"], cli["wall_p95_s"],
                 cli["peak_rss_mb"], " ".join(str(x) for x in cli["load"])]]
        empty = result.get("cli_empty")
        if empty:
            rows.append(["into an empty store", 1, empty["wall_s"], empty["wall_s"],
                         empty.get("peak_rss_mb"), str(empty["load_before"][0])])
        out.append(_ingest._table(["run", "runs", "wall p50 s", "wall p95 s", "peak RSS MB",
                                   "load"], rows))
    inproc = result.get("in_process")
    if inproc:
        out.append(f"\n(b) in-process, {inproc['articles']} articles added one at a time "
                   f"(once: open store {inproc['open_store_s']} s, state load "
                   f"{inproc['state_load_s']} s for {inproc['active_events']} active events and "
                   f"{inproc['active_stories']} stories, {inproc['warm_up_articles']} warm-up "
                   f"articles loading the models {inproc['warm_up_s']} s; peak RSS "
                   f"{inproc['peak_rss_mb']} MB)")
        out.append(_ingest._table(["part", "p50 ms", "p95 ms", "mean ms", "max ms"],
                                  [[part, p["p50_ms"], p["p95_ms"], p["mean_ms"], p["max_ms"]]
                                   for part, p in inproc["parts"].items()]))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=int, default=100_000, help="articles in the base store")
    parser.add_argument("--embedder", default="lexical", choices=("lexical", "e5"))
    parser.add_argument("--store", type=Path, default=None,
                        help="the base store (default: bench_scale's scale-n<BASE>-<embedder>.db)")
    parser.add_argument("--repeats", type=int, default=20, help="in-process adds (default 20)")
    parser.add_argument("--warm-up", type=int, default=5,
                        help="untimed in-process adds first, to load the models (default 5)")
    parser.add_argument("--cli-repeats", type=int, default=5, help="CLI runs (default 5)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the new articles' corpus")
    parser.add_argument("--json", type=Path, default=None, help="append the result to FILE")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.cli_repeats < 0 or args.warm_up < 1:
        parser.error(f"--repeats must be >= 1 and --cli-repeats >= 0, got {args.repeats}, "
                     f"{args.cli_repeats}")

    store = base_store(args.base, args.embedder, args.store)
    pages = new_pages(args.warm_up + args.repeats + args.cli_repeats + 1, args.seed)
    copy = working_copy(store, args.base, args.embedder)
    result: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "base": args.base,
                    "embedder": args.embedder, "store": str(store), "copy": str(copy),
                    "load_before": _scale.load_average(), "machine": _ingest.machine()}
    from storyline.store import open_store

    with open_store(f"sqlite:///{copy}") as opened:
        result["base_articles"] = opened.count_articles()
    head = args.warm_up + args.repeats
    result["in_process"] = in_process(pages[:head], copy, args.embedder, args.warm_up)
    if args.cli_repeats:
        result["cli"] = end_to_end(pages[head:-1], copy, args.embedder)
        empty = WORK / "scale" / f"latency-empty-{args.embedder}.db"
        _ingest.fresh_db(empty)
        result["cli_empty"] = _cli_one(pages[-1], empty, args.embedder)
    result["load_after"] = _scale.load_average()
    print(render(result))
    if args.json:
        _ingest.append_json(args.json, result)
        print(f"\nresults appended to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
