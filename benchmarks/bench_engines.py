"""Ingest with each execution engine: serial, a local process pool, a local Dask cluster.

    python benchmarks/bench_engines.py --n 10000 [--engines serial,local,dask] [--workers 2]
                                       [--embedder lexical] [--e5-n 1000] [--json FILE] [--keep]

For each engine it runs the real ``storyline ingest pages/ --engine E [--workers W]`` in a
subprocess on a fresh SQLite store (benchmarks/work/engines-n<N>-<embedder>-<engine>.db) over the
corpus of benchmarks/corpus.py (generated once, then reused), and reports: wall time, articles/s,
CPU time of the whole process tree (driver, pool workers, Dask nannies, scheduler and workers:
getrusage of the reaped children), the peak of the summed RSS of that tree (sampled from /proc),
and whether the articles, events, stories and duplicates equal those of the serial run.

``--e5-n N`` adds the same comparison with the e5 embedder on an N-article corpus (e5 embeds
~10-20 texts/s per core, so keep N small). On a shared machine compare CPU, not wall: the load
average before and after each run is printed with it.

Prints a table; ``--json FILE`` appends the runs to a JSON array in FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

try:
    from benchmarks import bench_ingest as _ingest
    from benchmarks import bench_scale as _scale
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    import bench_ingest as _ingest
    import bench_scale as _scale

WORK = _ingest.WORK
ENGINES = ("serial", "local", "dask")


class TreeSampler(threading.Thread):
    """Every ``interval`` seconds: the RSS summed over a process and all its descendants. A
    process pool's memory is the sum of its processes, which no single rusage figure gives."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_mb = 0.0
        self.peak_processes = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            tree = _tree(self.pid)
            total = sum(_rss_mb(pid) for pid in tree)
            if total > self.peak_mb:
                self.peak_mb, self.peak_processes = total, len(tree)


def _tree(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(_children(current))
    return out


def _children(pid: int) -> list[int]:
    """Children of every thread of ``pid``: a local Dask cluster starts its worker processes from
    its event-loop thread, not from the main thread."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def run_engine(pages: Path, n: int, engine: str, workers: int, embedder: str) -> dict:
    db = WORK / f"engines-n{n}-{embedder}-{engine}.db"
    url = _ingest.fresh_db(db)
    cmd = _ingest.storyline_command() + ["ingest", str(pages), "--db", url, "--quiet",
                                          "--embedder", embedder, "--engine", engine]
    if engine != "serial":
        cmd += ["--workers", str(workers)]
    load_before = _scale.load_average()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"Error: {' '.join(cmd)} exited with {proc.returncode}:\n{err[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    return {"engine": engine, "workers": 1 if engine == "serial" else workers, "embedder": embedder,
            "n": n, "command": " ".join(cmd), "db": str(db), "summary": summary,
            "wall_s": round(wall, 2), "articles_per_s": round(n / wall, 1),
            "cpu_s": round(cpu, 2), "cpu_ms_per_article": round(1000 * cpu / n, 2),
            "peak_tree_rss_mb": round(sampler.peak_mb, 1), "processes_at_peak": sampler.peak_processes,
            "load_before": load_before, "load_after": _scale.load_average()}


COMPARED = ("event_id", "story_id", "duplicate_of", "title", "published", "lang", "text")


def assignments(db: str) -> dict[str, tuple]:
    from storyline.store import open_store

    with open_store(f"sqlite:///{db}") as store:
        return {a.id: tuple(getattr(a, name) for name in COMPARED) for a in store.iter_articles()}


def differences(got: dict[str, tuple], want: dict[str, tuple]) -> dict[str, object]:
    """How many articles differ from the serial run, per field, with one example id each."""
    out: dict[str, object] = {}
    if got.keys() != want.keys():
        out["ids"] = {"missing": len(want.keys() - got.keys()), "extra": len(got.keys() - want.keys())}
    for i, name in enumerate(COMPARED):
        ids = sorted(k for k in got.keys() & want.keys() if got[k][i] != want[k][i])
        if ids:
            out[name] = {"articles": len(ids), "example": ids[0]}
    return out


def compare(rows: list[dict]) -> None:
    """Mark each run with whether it stored what the serial run stored (same ids for events and
    stories, so same partitions), and what differs when it did not."""
    serial = next((r for r in rows if r["engine"] == "serial"), None)
    if serial is None:
        return
    want = assignments(serial["db"])
    for row in rows:
        diff = differences(assignments(row["db"]), want)
        row["same_as_serial"] = not diff
        if diff:
            row["differences"] = diff
            print(f"{row['engine']} differs from serial: {json.dumps(diff)}", file=sys.stderr)


def bench(n: int, engines: Sequence[str], workers: int, embedder: str, seed: int,
          keep: bool) -> list[dict]:
    folder, _ = _scale.corpus(n, seed=seed)
    rows = []
    for engine in engines:
        print(f"{engine} ({embedder}, N={n}) ...", file=sys.stderr)
        rows.append(run_engine(folder / "pages", n, engine, workers, embedder))
        row = rows[-1]
        print(f"  {row['wall_s']} s wall, {row['cpu_s']} s CPU, {row['peak_tree_rss_mb']} MB; "
              f"{row['summary']}", file=sys.stderr)
    compare(rows)
    if not keep:
        for row in rows:
            for suffix in ("", "-wal", "-shm", ".writer-lock"):
                Path(f"{row['db']}{suffix}").unlink(missing_ok=True)
    return rows


def render(rows: list[dict]) -> str:
    headers = ["engine", "workers", "embedder", "N", "wall s", "art/s", "CPU s (tree)",
               "CPU ms/art", "peak RSS MB (tree)", "same as serial", "load before", "load after"]
    table = [[r["engine"], r["workers"], r["embedder"], r["n"], r["wall_s"], r["articles_per_s"],
              r["cpu_s"], r["cpu_ms_per_article"], r["peak_tree_rss_mb"],
              {True: "yes", False: "NO"}.get(r.get("same_as_serial"), "-"),
              r["load_before"][0], r["load_after"][0]] for r in rows]
    return _ingest._table(headers, table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="articles in the corpus")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated")
    parser.add_argument("--workers", type=int, default=2, help="for local and dask")
    parser.add_argument("--embedder", default="lexical", choices=["lexical", "e5"])
    parser.add_argument("--e5-n", type=int, default=0, metavar="N",
                        help="also run every engine with e5 on an N-article corpus (0: no)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="append the runs to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the stores under benchmarks/work/")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}; choose from {', '.join(ENGINES)}")
    if args.n < 1 or args.workers < 1 or args.e5_n < 0:
        parser.error("--n and --workers must be >= 1, --e5-n >= 0")
    rows = bench(args.n, engines, args.workers, args.embedder, args.seed, args.keep)
    if args.e5_n:
        rows += bench(args.e5_n, engines, args.workers, "e5", args.seed, args.keep)
    print(render(rows))
    if args.json:
        saved = json.loads(args.json.read_text()) if args.json.exists() else []
        saved.append({"when": datetime.now(UTC).isoformat(timespec="seconds"),
                      "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                  "python": platform.python_version()},
                      "runs": rows})
        args.json.write_text(json.dumps(saved, ensure_ascii=False, indent=1))
    return 0 if all(r.get("same_as_serial", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
