"""Reads while another process writes: `storyline serve` answers 50 concurrent clients while a
`storyline ingest` process stores batches of articles into the same store, on SQLite (WAL) and on
PostgreSQL. No 5xx, no transport error, no "database is locked", and what a listing shows can be
read: every article id a story or a search names is found by GET /api/articles/{id}.

Findings go to out/reliability/concurrency-<backend>.json (benchmarks/reliability_report.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from pg import pg_url  # noqa: F401  (a fixture: a fresh PostgreSQL schema per test)
from storyline.ingest.run import ingest
from storyline.settings import Settings
from storyline.store import open_store
from test_bench_corpus import corpus as bench_corpus

REPO = Path(__file__).resolve().parents[1]
REPORT_DIR = REPO / "out" / "reliability"
CLIENTS = 50
WRITER_ARTICLES = 150
# Small batches: many write transactions while the readers run (the watcher writes this way too).
WRITER_BATCH = 12
MIN_SECONDS = 15
MAX_SECONDS = 180
QUERIES = ["Путін", "переговори", "Байден", "Зеленський", "Україна", "Росія", "energy", "talks",
           "пожежа", "Москва", "war", "уряд", "президент", "выборы", "NEAR(Путин", '"OR" *']
SERVER_ERRORS = ("database is locked", "Traceback", "OperationalError", "internal_error")


# Minutes of a writer process and fifty clients on each backend.
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def _seed_store(url: str) -> None:
    sample = REPO / "data" / "sample"
    paths = [str(sample / name) for name in ("pages", "html", "feed.jsonl")]
    crawled_at = datetime.fromisoformat("2025-10-24T18:00:00+03:00")
    with open_store(url) as store:
        ingest(paths, store, Settings(crawled_at=crawled_at, embedder="lexical"))


@pytest.fixture(scope="module")
def writer_pages(tmp_path_factory, shared) -> Path:
    out = tmp_path_factory.mktemp("writer") / "corpus"
    return bench_corpus.generate(WRITER_ARTICLES, out, seed=11, datasets=shared / "datasets").pages


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path) -> tuple[str, str]:
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'store.db'}"
    _seed_store(url)
    return request.param, url


class Server:
    def __init__(self, url: str, log: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "storyline"), "serve", "--db", url, "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT, env=_env())

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"storyline serve exited: {self.log_path.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.base}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail("storyline serve did not answer in time")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return self.log_path.read_text(errors="replace")


def _writer(url: str, pages: Path, log: Path) -> subprocess.Popen:
    code = (f"import storyline.ingest.run as run; run.BATCH_SIZE = {WRITER_BATCH}; "
            "from storyline.cli import main; main()")
    args = ["ingest", str(pages), "--db", url, "--embedder", "lexical", "-q"]
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, env=_env())


class Tally:
    """What every client saw."""

    def __init__(self):
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter = Counter()
        self.problems: list[str] = []
        self.gone_stories: set[str] = set()
        self.articles_checked: set[str] = set()

    def note(self, kind: str, response: httpx.Response, seconds: float, allowed=(200,)) -> bool:
        self.latency[kind].append(seconds)
        self.status[response.status_code] += 1
        if response.status_code not in allowed:
            self.problems.append(f"{kind} {response.request.url.path}: {response.status_code} "
                                 f"{response.text[:200]}")
            return False
        if "database is locked" in response.text:
            self.problems.append(f"{kind} {response.request.url.path}: says the database is locked")
            return False
        return True


async def _get(client: httpx.AsyncClient, tally: Tally, kind: str, path: str, params=None,
               allowed=(200,)) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        response = await client.get(path, params=params)
    except httpx.HTTPError as exc:
        tally.problems.append(f"{kind} {path}: {type(exc).__name__}: {exc}")
        tally.status["transport_error"] += 1
        return None
    ok = tally.note(kind, response, time.perf_counter() - start, allowed)
    return response if ok else None


async def _check_articles(client, tally: Tally, ids: list[str], rng: random.Random) -> None:
    """An article a listing named is there: articles are never deleted, only added or moved."""
    for article_id in rng.sample(ids, min(2, len(ids))):
        if await _get(client, tally, "article", f"/api/articles/{article_id}") is not None:
            tally.articles_checked.add(article_id)


async def _client(client: httpx.AsyncClient, tally: Tally, seed: int, stop: asyncio.Event) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        listing = await _get(client, tally, "stories", "/api/stories",
                             {"limit": rng.randint(5, 30), "offset": rng.choice([0, 0, 10, 20])})
        story_ids = [s["id"] for s in listing.json()["stories"]] if listing else []
        if story_ids:
            story_id = rng.choice(story_ids)
            # A listed story may have merged into another since: 404, and it must be gone for good.
            detail = await _get(client, tally, "story", f"/api/stories/{story_id}", allowed=(200, 404))
            if detail is not None and detail.status_code == 404:
                tally.gone_stories.add(story_id)
            elif detail is not None:
                ids = [a["id"] for refs in detail.json()["articles"].values() for a in refs]
                await _check_articles(client, tally, ids, rng)
            await _get(client, tally, "story_page", f"/stories/{story_id}", allowed=(200, 303, 404))
        found = await _get(client, tally, "search", "/api/search",
                           {"q": rng.choice(QUERIES), "limit": rng.randint(5, 20)})
        if found is not None:
            await _check_articles(client, tally, [a["id"] for a in found.json()["articles"]], rng)
        if rng.random() < 0.3:
            await _get(client, tally, "front_page", "/")
        if rng.random() < 0.3:
            await _get(client, tally, "health", "/api/health")


async def _hammer(base: str, writer: subprocess.Popen, tally: Tally) -> float:
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        tasks = [asyncio.create_task(_client(client, tally, i, stop)) for i in range(CLIENTS)]
        while True:
            await asyncio.sleep(0.5)
            elapsed = time.monotonic() - started
            if (writer.poll() is not None and elapsed >= MIN_SECONDS) or elapsed >= MAX_SECONDS:
                break
        stop.set()
        await asyncio.gather(*tasks)
    return time.monotonic() - started


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def test_fifty_readers_while_an_ingest_writes(backend, writer_pages, tmp_path):
    name, url = backend
    with open_store(url) as store:
        before = store.count_articles()
    server = Server(url, tmp_path / "serve.log")
    try:
        server.wait_ready()
        writer = _writer(url, writer_pages, tmp_path / "writer.log")
        tally = Tally()
        seconds = asyncio.run(_hammer(server.base, writer, tally))
        writer_status = writer.wait(timeout=MAX_SECONDS)
        final = httpx.get(f"{server.base}/api/health", timeout=10).json()["articles"]
    finally:
        server_log = server.stop()
    with open_store(url) as store:
        stored = store.count_articles()
        still_there = {s for s in tally.gone_stories if store.load_clusters("story", ids=[s])}
    requests = sum(len(v) for v in tally.latency.values())
    every = [s for values in tally.latency.values() for s in values]
    findings = {
        "backend": name,
        "clients": CLIENTS,
        "seconds": round(seconds, 1),
        "requests": requests,
        "requests_per_s": round(requests / seconds, 1),
        "status": {str(k): v for k, v in sorted(tally.status.items(), key=str)},
        "errors": len(tally.problems),
        "server_5xx": sum(v for k, v in tally.status.items() if isinstance(k, int) and k >= 500),
        "articles_before": before,
        "articles_after": stored,
        "writer_batches": -(-(stored - before) // WRITER_BATCH),
        "articles_checked": len(tally.articles_checked),
        "stories_merged_meanwhile": len(tally.gone_stories),
        "p50_ms": round(_percentile(every, 50) * 1000, 1),
        "p99_ms": round(_percentile(every, 99) * 1000, 1),
        # A shared machine slows every request: read latencies beside the load they ran under.
        "load_average_1m": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
        "by_endpoint": {kind: {"requests": len(v), "p50_ms": round(_percentile(v, 50) * 1000, 1),
                               "p99_ms": round(_percentile(v, 99) * 1000, 1)}
                        for kind, v in sorted(tally.latency.items())},
    }
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / f"concurrency-{name}.json").write_text(json.dumps(findings, indent=2) + "\n",
                                                         encoding="utf-8")

    assert writer_status == 0, (tmp_path / "writer.log").read_text(errors="replace")[-2000:]
    assert tally.problems == []
    assert not [line for line in server_log.splitlines() if any(e in line for e in SERVER_ERRORS)]
    # The writer really wrote while the readers read, in several transactions.
    assert stored - before > 0.8 * WRITER_ARTICLES and final == stored
    assert requests > 20 * CLIENTS and len(tally.articles_checked) > 50
    # A story that answered 404 after being listed was merged away, not lost for a moment.
    assert still_there == set()
