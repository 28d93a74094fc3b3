"""How ingest cost grows with the size of the stream, with and without clustering.

    python benchmarks/bench_scale.py --sizes 1000,10000[,100000] --modes no-cluster,lexical,e5
                                     [--e5-max 2000] [--json FILE] [--no-startup]

For every size N and mode (``no-cluster``: article pipeline and text analysis only;
``lexical``: clustering with the lexical embedder; ``e5``: clustering with the bundled e5
model), it generates the corpus (or reuses the one under benchmarks/work/ with the same
parameters) and runs the real ``storyline ingest`` in a subprocess on a fresh SQLite store
(benchmarks/work/scale-n<N>-<mode>.db) under ``/usr/bin/time -v``: wall time, articles/s, CPU
time, peak RSS, and the load average of the machine before and after the run.

Growth: time per article at N divided by time per article at the smallest N of the same mode
(close to 1.0 means linear), from wall time and from CPU time (steadier on a shared machine),
and from the marginal CPU cost, which first subtracts the CPU time of a one-article ingest into an
empty store (imports, models; skip it with --no-startup).

e5 runs only for sizes up to --e5-max: the e5 model embeds ~10-20 texts/s on a 2-core CPU.
With --sample SECONDS, a thread samples the run's store (articles stored) and the CPU time of the
ingest process: CPU ms per article over tenths of the run, which shows cost growth inside one
large run (e.g. 0 -> 100k) even when it cannot finish.

Prints a table; --json FILE appends every run, as it finishes, to a JSON array in FILE;
--report FILE... prints the table of runs saved that way (runs of several invocations together).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import threading
import time
from argparse import Namespace
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

try:
    from benchmarks import bench_ingest as _ingest
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    import bench_ingest as _ingest

WORK, FORMATS = _ingest.WORK, _ingest.FORMATS
MODES = ("no-cluster", "lexical", "e5")
# What each mode means for `storyline ingest` (passed as STORYLINE_* variables, which the CLI
# reads like its flags, so bench_ingest.run_cli runs it unchanged).
MODE_ENV = {
    "no-cluster": {"STORYLINE_CLUSTER": "false"},
    "lexical": {"STORYLINE_CLUSTER": "true", "STORYLINE_EMBEDDER": "lexical"},
    "e5": {"STORYLINE_CLUSTER": "true", "STORYLINE_EMBEDDER": "e5"},
}
MODE_FLAGS = {"no-cluster": "--no-cluster", "lexical": "--embedder lexical", "e5": "--embedder e5"}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def corpus(n: int, seed: int = 1, formats: Sequence[str] = FORMATS,
           dup_rate: float = 0.05, stream_rate: int | None = None) -> tuple[Path, dict]:
    """The N-article corpus folder and its manifest (generated once, then reused)."""
    return _ingest.corpus_for(Namespace(n=n, corpus=None, seed=seed, formats=tuple(formats),
                                        dup_rate=dup_rate, stream_rate=stream_rate))


def scale_db(n: int, mode: str, stream_rate: int | None = None) -> Path:
    return WORK / (f"scale-n{n}-{mode}" + (f"-r{stream_rate}" if stream_rate else "") + ".db")


class Sampler(threading.Thread):
    """Every ``interval`` seconds, while a run goes on: the articles in its store, the CPU time
    and RSS of the `storyline ingest` child. The CPU time per article between samples shows
    whether cost grows with the store inside one run, whatever the machine's load."""

    def __init__(self, db: Path, interval: float):
        super().__init__(daemon=True)
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        self.db, self.interval = db, interval
        self.samples: list[dict] = []
        self.stopped = threading.Event()
        self.started_at = time.perf_counter()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            pid = _ingest_child(os.getpid())
            stored = _count_articles(self.db)
            if pid is None or stored is None:
                continue
            cpu, rss = _cpu_and_rss(pid)
            if cpu is not None:
                self.samples.append({"t": round(time.perf_counter() - self.started_at, 1),
                                     "stored": stored, "cpu_s": cpu, "rss_mb": rss,
                                     "load": load_average()[0]})


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _ingest_child(pid: int) -> int | None:
    stack = _children(pid)
    while stack:
        child = stack.pop()
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"ingest" in cmdline and not cmdline[0].endswith(b"time"):
            return child
        stack.extend(_children(child))
    return None


def _cpu_and_rss(pid: int) -> tuple[float | None, float | None]:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, IndexError):
        return None, None
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14, 15 of stat)
    rss = next((int(line.split()[1]) / 1024 for line in status.splitlines()
                if line.startswith("VmRSS")), None)
    return round(cpu, 2), round(rss, 1) if rss is not None else None


def _count_articles(db: Path) -> int | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return None


def cost_curve(samples: list[dict], blocks: int = 10) -> list[dict]:
    """CPU ms per article stored, over ``blocks`` stretches of the run (by articles stored)."""
    points = [s for s in samples if s["stored"] > 0]
    if len(points) < 2:
        return []
    last = points[-1]["stored"]
    step = max(last // blocks, 1)
    curve, start = [], points[0]
    for point in points[1:]:
        if point["stored"] - start["stored"] >= step or point is points[-1]:
            done = point["stored"] - start["stored"]
            if done > 0:
                curve.append({"from": start["stored"], "to": point["stored"],
                              "cpu_ms_per_article": round(1000 * (point["cpu_s"] - start["cpu_s"])
                                                          / done, 2),
                              "rss_mb": point["rss_mb"], "load": point["load"]})
            start = point
    return curve


def run_mode(pages: Path, db: Path, n: int, mode: str, sample: float = 0) -> dict:
    """One `storyline ingest` run of ``pages`` into a fresh store ``db`` in ``mode``; with
    ``sample`` > 0, the store and the child's CPU time are sampled every ``sample`` seconds."""
    if mode not in MODE_ENV:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    saved = {key: os.environ.get(key) for key in MODE_ENV[mode]}
    os.environ.update(MODE_ENV[mode])
    load_before = load_average()
    url = _ingest.fresh_db(db)
    sampler = Sampler(db, sample) if sample > 0 else None
    if sampler:
        sampler.start()
    try:
        result = _ingest.run_cli(pages, url, n)
    finally:
        if sampler:
            sampler.stopped.set()
            sampler.join()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    result["command"] = f"{result['command']} {MODE_FLAGS[mode]}"
    result["load_before"], result["load_after"] = load_before, load_average()
    if sampler:
        result["samples"] = sampler.samples
        result["cost_curve"] = cost_curve(sampler.samples)
    return result


def startup(pages: Path, mode: str) -> dict:
    """A one-article ingest into an empty store: the fixed cost of a run in ``mode``."""
    one = WORK / "scale" / f"one-{mode}-{os.getpid()}"  # runs in parallel must not share it
    if one.exists():
        shutil.rmtree(one)
    one.mkdir(parents=True)
    first = min(pages.glob("txt/*/*.txt"))
    shutil.copy(first, one / first.name)
    try:
        return run_mode(one, WORK / "scale" / f"startup-{mode}-{os.getpid()}.db", 1, mode)
    finally:
        shutil.rmtree(one, ignore_errors=True)


def growth(rows: list[dict]) -> None:
    """Per-article cost at each N relative to the smallest N of the same mode, in place. Rows
    of one article are start-up runs: their CPU time is what the marginal cost leaves out."""
    startups = {r["mode"]: r.get("cpu_s", r["wall_s"]) for r in rows if r["n"] <= 1}
    for row in rows:
        if row["n"] > 1 and row["mode"] in startups:
            row["startup_s"] = startups[row["mode"]]
            spent = row.get("cpu_s", row["wall_s"])
            row["marginal_s"] = round(max(spent - row["startup_s"], 0), 2)
    for mode in {r["mode"] for r in rows}:
        mine = sorted((r for r in rows if r["mode"] == mode and r["n"] > 1), key=lambda r: r["n"])
        if not mine:
            continue
        base = mine[0]
        for row in mine:
            for key, total in (("wall", "wall_s"), ("cpu", "cpu_s"), ("marginal", "marginal_s")):
                if row.get(total) is None or not base.get(total):
                    continue
                ratio = (row[total] / row["n"]) / (base[total] / base["n"])
                row[f"growth_{key}"] = round(ratio, 2)


def render(rows: list[dict]) -> str:
    headers = ["mode", "N", "wall s", "art/s", "CPU s", "art/CPU s", "peak RSS MB",
               "startup CPU s", "CPU ms/art marginal", "growth wall", "growth CPU",
               "growth marginal", "load before", "load after"]
    table = []
    for r in sorted(rows, key=lambda r: (MODES.index(r["mode"]), r["n"])):
        marginal = r.get("marginal_s")
        cpu = r.get("cpu_s")
        table.append([r["mode"], r["n"], r["wall_s"], r["articles_per_s"], cpu,
                      round(r["n"] / cpu, 1) if cpu else None, r.get("peak_rss_mb"),
                      r.get("startup_s"),
                      round(1000 * marginal / r["n"], 2) if marginal else None,
                      r.get("growth_wall"), r.get("growth_cpu"), r.get("growth_marginal"),
                      r["load_before"][0], r["load_after"][0]])
    return _ingest._table(headers, table)


def render_curves(rows: list[dict]) -> str:
    out = []
    for r in rows:
        if r.get("cost_curve"):
            out.append(f"\nCPU ms per article along the run: {r['mode']}, N={r['n']}")
            out.append(_ingest._table(
                ["articles stored", "CPU ms/article", "RSS MB", "load"],
                [[f"{c['from']}-{c['to']}", c["cpu_ms_per_article"], c["rss_mb"], c["load"]]
                 for c in r["cost_curve"]]))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated")
    parser.add_argument("--modes", default="no-cluster,lexical,e5",
                        help=f"comma-separated, of: {', '.join(MODES)}")
    parser.add_argument("--e5-max", type=int, default=2000,
                        help="run the e5 mode only for sizes up to this (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dup-rate", type=float, default=0.05)
    parser.add_argument("--stream-rate", type=int, default=None, metavar="R",
                        help="date the corpus R articles a day (constant density whatever N; see "
                             "corpus.py) instead of by the texts' own dates")
    parser.add_argument("--json", type=Path, default=None, help="append each run to FILE")
    parser.add_argument("--no-startup", action="store_true",
                        help="skip the one-article start-up runs (no marginal cost)")
    parser.add_argument("--sample", type=float, default=0, metavar="SECONDS",
                        help="sample the store and the run's CPU time every SECONDS: CPU ms per "
                             "article along the run (cost growth inside one run)")
    parser.add_argument("--report", type=Path, nargs="+", default=None, metavar="JSON",
                        help="only print the table of the runs saved in these --json files")
    args = parser.parse_args(argv)
    if args.report:
        rows = [r for path in args.report for r in json.loads(path.read_text(encoding="utf-8"))
                if "mode" in r and "wall_s" in r]
        for row in rows:  # recomputed from the start-up rows present, if any
            row.pop("startup_s", None)
            row.pop("marginal_s", None)
        growth(rows)
        print(render(rows))
        print(render_curves(rows))
        return 0
    try:
        sizes = sorted({int(x) for x in args.sizes.split(",") if x.strip()})
    except ValueError:
        parser.error(f"--sizes must be whole numbers, got {args.sizes!r}")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not sizes or min(sizes) < 1:
        parser.error(f"bad --modes {bad} or --sizes {sizes}; modes are {', '.join(MODES)}")

    machine = _ingest.machine()
    rows: list[dict] = []
    startups: dict[str, float] = {}
    for n in sizes:
        folder, manifest = corpus(n, args.seed, FORMATS, args.dup_rate, args.stream_rate)
        pages = folder / "pages"
        for mode in modes:
            if mode == "e5" and n > args.e5_max:
                print(f"skipping e5 at N={n} (> --e5-max {args.e5_max})", file=sys.stderr)
                continue
            if not args.no_startup and mode not in startups:
                first = startup(pages, mode)
                rows.append({"when": datetime.now(UTC).isoformat(timespec="seconds"),
                             "mode": mode, "n": 1, "startup": True, **first})
                if args.json:
                    _ingest.append_json(args.json, {**rows[-1], "machine": machine})
                startups[mode] = first.get("cpu_s", first["wall_s"])
                print(f"start-up {mode}: {first['wall_s']} s, peak RSS {first.get('peak_rss_mb')} "
                      f"MB (load {first['load_before'][0]})", file=sys.stderr)
            print(f"ingest N={n} {mode} ...", file=sys.stderr)
            db = scale_db(n, mode, args.stream_rate)
            result = run_mode(pages, db, manifest["n"], mode, args.sample)
            row = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "mode": mode,
                   "n": manifest["n"], "corpus": str(folder), "db": str(db),
                   "stream_rate": args.stream_rate, **result}
            rows.append(row)
            print(f"  {row['wall_s']} s, {row['articles_per_s']} articles/s, peak RSS "
                  f"{row.get('peak_rss_mb')} MB, load {row['load_before'][0]} -> "
                  f"{row['load_after'][0]}: {row['summary']}", file=sys.stderr)
            if args.json:
                _ingest.append_json(args.json, {**row, "machine": machine})
    growth(rows)
    print(render(rows))
    print(render_curves(rows))
    if args.json:
        _ingest.append_json(args.json, {"summary": "bench_scale", "sizes": sizes, "modes": modes,
                                        "rows": rows, "machine": machine})
    return 0


if __name__ == "__main__":
    sys.exit(main())
