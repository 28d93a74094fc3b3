"""Latency of the HTTP API under concurrent clients: /api/stories and /api/search.

    python benchmarks/bench_api.py [--store benchmarks/work/scale-n10000-lexical.db]
                                   [--clients 20] [--requests 400] [--uncached-requests 60]
                                   [--max-seconds 180] [--json FILE]

The store (bench_scale.py's 10k lexical one by default) is copied to
benchmarks/work/api-<name>.db with SQLite's backup API (the original is only read, and may be
in use by another process). A real uvicorn server runs the app in a subprocess on a free
loopback port, and ``--clients`` asyncio tasks, each one client, send requests back to back
until ``--requests`` answers came or ``--max-seconds`` passed. Twice:

- cached: the app as ``storyline serve`` runs it (listings and search answers kept 10 s, then
  refreshed in the background); clients page through a few listings and filters, as readers do.
  "cold" is a fresh server's first ``--requests`` (every answer computed once, the first readers
  wait), "warm" the next ``--requests`` on the same server;
- uncached: ``cache_seconds=0``, every request ranks (or searches) anew: the cost a cache miss
  has, and what a store changing every second would see.

Per endpoint: requests, errors, requests/s, p50, p90, p99 and max latency in ms; plus a
one-client sequential p50 of each endpoint uncached (no queueing). --json FILE appends the
result to a JSON array in FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

try:
    from benchmarks import bench_ingest as _ingest
    from benchmarks.bench_latency import percentile
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    import bench_ingest as _ingest
    from bench_latency import percentile

try:
    import httpx2 as httpx
except ImportError:
    import httpx

WORK = _ingest.WORK
DEFAULT_STORE = WORK / "scale-n10000-lexical.db"
# What readers ask for: the first pages of the front page, and per language.
STORY_QUERIES = [
    {"limit": 20}, {"limit": 20, "offset": 20}, {"limit": 20, "offset": 40},
    {"limit": 20, "lang": "uk"}, {"limit": 20, "lang": "ru"}, {"limit": 20, "lang": "en"},
]
SEARCH_TERMS = [
    "Київ", "Україна", "уряд", "вибори", "Путин", "Москва", "правительство", "президент",
    "economy", "president", "government", "energy", "війна", "переговори", "выборы", "bank",
]
SERVER = """
import sys, uvicorn
from storyline.app import create_app
from storyline.settings import Settings
app = create_app(Settings(db=sys.argv[1]), cache_seconds=float(sys.argv[3]))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def copy_store(source: Path) -> Path:
    """A consistent copy of ``source`` (WAL included), made without writing to it."""
    if not source.exists():
        sys.exit(f"Error: no store at {source}\nHint: build it with "
                 f"benchmarks/bench_scale.py --sizes 10000 --modes lexical, or pass --store")
    target = WORK / f"api-{source.stem}.db"
    _ingest.fresh_db(target)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """The app under uvicorn in a subprocess, on a loopback port; stopped on exit."""

    def __init__(self, db: Path, cache_seconds: float):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, f"sqlite:///{db}", str(self.port), str(cache_seconds)],
            env=env)

    def wait(self, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"Error: the server exited with status {self.process.returncode}")
            try:
                response = httpx.get(f"{self.base}/api/health", timeout=5)
                if response.status_code == 200:
                    return response.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        sys.exit(f"Error: no answer from the server within {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def requests_for(endpoint: str) -> list[tuple[str, dict]]:
    if endpoint == "stories":
        return [("/api/stories", params) for params in STORY_QUERIES]
    return [("/api/search", {"q": term, "limit": 20}) for term in SEARCH_TERMS]


async def load(base: str, targets: list[tuple[str, dict]], clients: int, total: int,
               max_seconds: float) -> dict:
    """``clients`` clients sending requests back to back, cycling through ``targets``."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    queue = itertools.cycle(targets)
    sent = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.perf_counter()
    deadline = started + max_seconds

    async def client(http) -> None:
        nonlocal sent
        while sent < total and time.perf_counter() < deadline:
            sent += 1
            path, params = next(queue)
            t0 = time.perf_counter()
            try:
                response = await http.get(path, params=params)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            latencies.append(time.perf_counter() - t0)
            if status != "200":
                errors[status] = errors.get(status, 0) + 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    wall = time.perf_counter() - started
    return summarise(latencies, errors, wall, clients)


def summarise(latencies: list[float], errors: dict, wall: float, clients: int) -> dict:
    ms = [x * 1000 for x in latencies]
    return {
        "clients": clients,
        "requests": len(ms),
        "errors": errors,
        "wall_s": round(wall, 2),
        "rps": round(len(ms) / wall, 1) if wall else None,
        "p50_ms": round(percentile(ms, 50), 1),
        "p90_ms": round(percentile(ms, 90), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def sequential(base: str, targets: list[tuple[str, dict]], count: int) -> dict:
    latencies = []
    with httpx.Client(base_url=base, timeout=300) as http:
        for path, params in itertools.islice(itertools.cycle(targets), count):
            t0 = time.perf_counter()
            http.get(path, params=params).raise_for_status()
            latencies.append(time.perf_counter() - t0)
    return summarise(latencies, {}, sum(latencies), 1)


def warm_up(base: str) -> None:
    """Models (lemmatisers, language detectors) load on first use: not part of a request."""
    with httpx.Client(base_url=base, timeout=300) as http:
        http.get("/api/stories", params={"limit": 1, "lang": "xx"})
        for term in ("warm", "розминка", "разминка"):
            http.get("/api/search", params={"q": term, "limit": 1})


def run(args) -> dict:
    db = copy_store(args.store)
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "store": str(args.store),
              "machine": _ingest.machine(), "load_before": os.getloadavg()[0], "runs": []}
    scenarios = [("cached", 10.0, args.requests), ("uncached", 0.0, args.uncached_requests)]
    for name, ttl, total in scenarios:
        with Server(db, ttl) as server:
            health = server.wait()
            result["articles"] = health["articles"]
            warm_up(server.base)
            for endpoint in ("stories", "search"):
                targets = requests_for(endpoint)
                if name == "uncached":
                    one = sequential(server.base, targets, args.sequential)
                    result["runs"].append({"scenario": "one client", "endpoint": endpoint, **one})
                # A fresh server computes every answer once (cold), then serves and refreshes them.
                passes = ("cold", "warm") if name == "cached" else ("",)
                for when in passes:
                    label = f"{name} {when}".strip()
                    print(f"{label}: {endpoint}, {args.clients} clients ...", file=sys.stderr)
                    stats = asyncio.run(load(server.base, targets, args.clients, total,
                                             args.max_seconds))
                    result["runs"].append({"scenario": label, "endpoint": endpoint, **stats})
    result["load_after"] = os.getloadavg()[0]
    return result


def render(result: dict) -> str:
    head = (f"HTTP API, {result['articles']} articles ({Path(result['store']).name}), "
            f"1-min load {result['load_before']:.2f} -> {result['load_after']:.2f}")
    rows = [[r["scenario"], r["endpoint"], r["clients"], r["requests"],
             sum(r["errors"].values()), r["rps"], r["p50_ms"], r["p90_ms"], r["p99_ms"], r["max_ms"]]
            for r in result["runs"]]
    table = _ingest._table(["scenario", "endpoint", "clients", "requests", "errors", "req/s",
                            "p50 ms", "p90 ms", "p99 ms", "max ms"], rows)
    return head + "\n" + table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE,
                        help=f"store to copy and serve (default {DEFAULT_STORE})")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--requests", type=int, default=400,
                        help="requests per endpoint, cached (default 400)")
    parser.add_argument("--uncached-requests", type=int, default=60,
                        help="requests per endpoint with the cache off (default 60)")
    parser.add_argument("--sequential", type=int, default=6,
                        help="one-client requests per endpoint, uncached (default 6)")
    parser.add_argument("--max-seconds", type=float, default=180,
                        help="stop an endpoint's run after this long (default 180)")
    parser.add_argument("--json", type=Path, default=None, help="append the result to this file")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.requests < 1 or args.uncached_requests < 1:
        parser.error("--clients, --requests and --uncached-requests must be >= 1")
    result = run(args)
    print(render(result))
    if args.json:
        _ingest.append_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
