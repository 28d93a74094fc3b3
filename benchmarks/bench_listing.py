"""Latency of the ranked story listing on a copy of a store.

    python benchmarks/bench_listing.py [--store FILE] [--repeats 20] [--cli-repeats 5] [--json FILE]

The store (default: bench_scale's benchmarks/work/scale-n10000-lexical.db) is copied with
SQLite's backup API (WAL included) to benchmarks/work/listing-copy.db, so the original is never
written. Opening the copy applies pending migrations, timed apart: the first open of a store made
before migration 4 computes every story's listing row. Then:

(a) in-process: ``list_stories(store, 20, ...)`` --repeats times for each listing (first page,
    third page, each language, one outlet, the last 30 days); p50 and min;
(b) end to end: ``storyline stories --db COPY`` in a subprocess --cli-repeats times (imports,
    opening the store, the listing, the table); p50 and min of the wall time.

It measures whichever storyline comes first on sys.path: with a checkout of an older commit on
PYTHONPATH (e.g. ``git archive COMMIT src | tar -x -C /tmp/old``) it measures "before".
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "work"


def copy_store(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def listings(store) -> dict[str, dict]:
    newest = store.latest_cluster_time("story")
    outlets = store.outlet_names()
    cases = {"page 1": {}, "page 3": {"offset": 40}, "lang=uk": {"lang": "uk"}, "lang=ru": {"lang": "ru"},
             "lang=en": {"lang": "en"}}
    if outlets:
        cases[f"outlet={outlets[len(outlets) // 2]}"] = {"outlet": outlets[len(outlets) // 2]}
    if newest:
        cases["since newest-30d"] = {"since": newest - timedelta(days=30)}
    return cases


def time_calls(call, repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2), "n": repeats}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=WORK / "scale-n10000-lexical.db")
    parser.add_argument("--copy", type=Path, default=WORK / "listing-copy.db")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cli-repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="append the result to this JSON array")
    args = parser.parse_args(argv)

    import storyline
    from storyline.store import open_store
    from storyline.stories.view import list_stories

    copy_store(args.store, args.copy)
    url = f"sqlite:///{args.copy}"
    start = time.perf_counter()
    store = open_store(url)
    opened = time.perf_counter() - start
    result = {"store": str(args.store), "code": str(Path(storyline.__file__).parent),
              "schema_version": store.schema_version, "first_open_s": round(opened, 2),
              "articles": store.count_articles(), "stories": len(store.load_clusters("story")),
              "load": os.getloadavg()[0], "list_stories": {}, "cli": None}
    print(f"{result['articles']} articles, {result['stories']} stories; first open (migrations) "
          f"{opened:.2f} s; code {result['code']}")
    print(f"{'list_stories(limit=20, ...)':32} {'p50 ms':>9} {'min ms':>9}")
    for name, kwargs in listings(store).items():
        list_stories(store, 20, **kwargs)  # warm: the first call imports and fills caches
        timed = time_calls(lambda kwargs=kwargs: list_stories(store, 20, **kwargs), args.repeats)
        result["list_stories"][name] = timed
        print(f"{name:32} {timed['p50_ms']:9.1f} {timed['min_ms']:9.1f}")
    store.close()
    command = [sys.executable, "-c", "from storyline.cli import main; main()", "stories", "--db", url]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    walls = []
    for _ in range(args.cli_repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        walls.append(time.perf_counter() - start)
    result["cli"] = {"p50_s": round(statistics.median(walls), 2), "min_s": round(min(walls), 2),
                     "n": args.cli_repeats}
    cli = result["cli"]
    print(f"storyline stories (subprocess)    p50 {cli['p50_s']:.2f} s, min {cli['min_s']:.2f} s")
    result["load_after"] = os.getloadavg()[0]
    if args.json:
        runs = json.loads(args.json.read_text()) if args.json.exists() else []
        args.json.write_text(json.dumps(runs + [result], indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
