"""Crash safety: `storyline ingest` killed with SIGKILL at random moments, and run again each time
until one run finishes, leaves the store exactly as one uninterrupted run of the same input does:
every article once, every rejection once, the same events and stories under the same ids.

The corpus is benchmarks/corpus.py's synthetic stream (5,000 articles by default) plus inputs that
are rejected, interleaved with it. The uninterrupted reference run goes on in parallel with the
interrupted runs (a second core), so the test costs about two ingests of wall time.

Knobs (environment): STORYLINE_CRASH_N (articles), STORYLINE_CRASH_SEED (kill times),
STORYLINE_CRASH_BATCH (patches ingest.run.BATCH_SIZE in the subprocess: more, smaller batches for
a quick run while developing; unset, the real `storyline` command runs as it is).
Findings go to out/reliability/crash.json (benchmarks/reliability_report.py renders them).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from test_bench_corpus import corpus as bench_corpus

REPO = Path(__file__).resolve().parents[1]
N = int(os.environ.get("STORYLINE_CRASH_N", "5000"))
SEED = int(os.environ.get("STORYLINE_CRASH_SEED", "7"))
BATCH = os.environ.get("STORYLINE_CRASH_BATCH")
REPORT = REPO / "out" / "reliability" / "crash.json"
# A run that takes longer than this is hung, not slow.
RUN_TIMEOUT = 1800
# A write transaction held this long is a batch of new articles being stored (a rejection or a
# batch of unchanged articles holds the lock for a few milliseconds).
LONG_WRITE_S = 0.12
PROBE_EVERY_S = 0.01

pytestmark = pytest.mark.slow


# -- the input ----------------------------------------------------------------------------------


def _rejected_inputs(folder: Path, sample_page: str) -> tuple[Path, Path]:
    """Two folders of inputs that are refused for different reasons, read before and in the
    middle of the corpus, so that rejections are written while batches are in flight."""
    first, second = folder / "a", folder / "b"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    for i in range(5):
        (first / f"short-{i}.txt").write_text(f"Коротко {i}.\n", encoding="utf-8")
        (second / f"binary-{i}.html").write_bytes(bytes(random.Random(i).randrange(256) for _ in range(600)))
    (first / "empty.txt").write_bytes(b"")
    (first / "unknown.pdf").write_bytes(b"%PDF-1.4")
    # The same id from two files: the second is refused as duplicate_id, not merged.
    (first / "same-id.txt").write_text(sample_page, encoding="utf-8")
    (second / "same-id.txt").write_text(sample_page + "\nІнший кінець.\n", encoding="utf-8")
    (second / "bad.jsonl").write_text("\n".join([
        "{not json",
        json.dumps({"id": "no-text", "title": "Без тексту"}),
        json.dumps({"id": "tiny", "text": "Мало."}),
        json.dumps(["a", "list"]),
    ]) + "\n", encoding="utf-8")
    return first, second


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, shared) -> list[str]:
    out = tmp_path_factory.mktemp("crash-corpus")
    info = bench_corpus.generate(N, out / "corpus", seed=3, datasets=shared / "datasets")
    pages = info.pages
    sample = next((pages / "txt").rglob("*.txt")).read_text(encoding="utf-8")
    first, second = _rejected_inputs(out / "rejected", sample)
    return [str(first), str(pages / "html"), str(pages / "records"), str(second), str(pages / "txt")]


# -- running and killing ------------------------------------------------------------------------


def _command(db: Path, paths: list[str]) -> list[str]:
    args = ["ingest", *paths, "--db", f"sqlite:///{db}", "--embedder", "lexical", "--cluster", "-q"]
    if BATCH:
        code = (f"import storyline.ingest.run as run; run.BATCH_SIZE = {int(BATCH)}; "
                "from storyline.cli import main; main()")
        return [sys.executable, "-c", code, *args]
    return [str(Path(sys.executable).parent / "storyline"), *args]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


class Run:
    """One `storyline ingest` subprocess in its own process group (a kill takes any workers too)."""

    def __init__(self, db: Path, paths: list[str], log: Path):
        self.log = log.open("ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(_command(db, paths), stdout=self.log, stderr=subprocess.STDOUT,
                                     env=_env(), start_new_session=True)
        self.cpu_s: float | None = None
        self.wall_s: float | None = None

    def alive(self) -> bool:
        if self.proc.returncode is not None:
            return False
        # WNOWAIT: look without reaping, so that wait() still gets the child's CPU time.
        return os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)

    def wait(self, timeout: float = RUN_TIMEOUT) -> int:
        # wait4 gives this child's own CPU time (two runs go on at once).
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"ingest did not finish in {timeout} s")
            time.sleep(0.05)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.cpu_s = usage.ru_utime + usage.ru_stime
        self.wall_s = self.elapsed()
        self.log.close()
        return self.proc.returncode


def _count(db: Path) -> int:
    """Committed articles, as another reader sees them (0 before the store exists)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def _writer_busy(db: Path) -> bool:
    """Whether a write transaction is open: taking the write lock without waiting fails."""
    if not db.exists():
        return False
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def _kill_after_first_commit(run: Run, db: Path, rng: random.Random, before: int) -> dict | None:
    """Once a batch of this run is committed, at a random moment of the next one's work."""
    while run.alive() and _count(db) <= before:
        time.sleep(0.1)
    time.sleep(rng.uniform(0.5, 8.0))
    return _kill(run, db, "random moment after a batch was committed")


def _kill_during_write(run: Run, db: Path, rng: random.Random, before: int) -> dict | None:
    """While a batch of new articles is being written: the write lock held long, nothing of it
    committed yet."""
    while run.alive():
        if not _writer_busy(db):
            time.sleep(PROBE_EVERY_S)
            continue
        held, committed = time.monotonic(), _count(db)
        while run.alive() and _writer_busy(db):
            if time.monotonic() - held >= LONG_WRITE_S + rng.uniform(0, 0.1):
                if _count(db) == committed:
                    return _kill(run, db, "during a batch write", committed=committed)
                break
            time.sleep(PROBE_EVERY_S)
    return None


def _kill_at_random_time(run: Run, db: Path, rng: random.Random, before: int) -> dict | None:
    """At a random moment early in the run: start-up, or redoing work already stored."""
    deadline = run.started + rng.uniform(2.0, 45.0)
    while run.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    return _kill(run, db, "random moment early in the run")


def _kill(run: Run, db: Path, when: str, committed: int | None = None) -> dict | None:
    if not run.alive():
        return None
    at = run.elapsed()
    run.kill()
    run.wait()
    after = _count(db)
    found = {"when": when, "at_s": round(at, 2), "articles_after": after}
    if committed is not None:
        # Nothing of the batch in flight may show: the transaction was cut, not half applied.
        found["articles_before"] = committed
        found["batch_rolled_back"] = after == committed
    return found


# -- what a store holds -------------------------------------------------------------------------


def _snapshot(db: Path) -> dict:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        q = conn.execute
        return {
            "articles": {r[0]: r[1:] for r in q(
                "SELECT id, fingerprint, event_id, story_id, duplicate_of FROM articles")},
            "article_rows": q("SELECT count(*) FROM articles").fetchone()[0],
            "rejections": sorted(q("SELECT origin, reason, detail, fingerprint FROM rejections")),
            "clusters": {r[0]: r[1:] for r in q(
                "SELECT id, kind, parent_id, size, articles, first_key, last_key, state, vector_sum "
                "FROM clusters")},
            "frequencies": dict(q("SELECT key, documents FROM key_frequencies")),
            "vectors": sorted(q("SELECT article_id, model, vector FROM article_vectors")),
            "signatures": sorted(q("SELECT article_id, time_key, signature FROM article_signatures")),
            "search_documents": sorted(r[0] for r in q("SELECT article_id FROM search_documents")),
            "fts_rows": q("SELECT count(*) FROM search_fts").fetchone()[0],
            "listing": sorted(q("SELECT story_id, measures, facts FROM story_listing")),
        }
    finally:
        conn.close()


def _partition(articles: dict, column: int) -> set[frozenset]:
    groups = defaultdict(set)
    for article_id, row in articles.items():
        groups[row[column]].add(article_id)
    return {frozenset(g) for g in groups.values()}


# -- the test -----------------------------------------------------------------------------------


def test_killed_ingests_end_as_one_uninterrupted_run(inputs, tmp_path):
    rng = random.Random(SEED)
    reference_db, crashed_db = tmp_path / "reference.db", tmp_path / "crashed.db"
    reference = Run(reference_db, inputs, tmp_path / "reference.log")

    kills, runs = [], []
    for strategy in (_kill_after_first_commit, _kill_during_write, _kill_at_random_time):
        before = _count(crashed_db)
        run = Run(crashed_db, inputs, tmp_path / "crashed.log")
        kill = strategy(run, crashed_db, rng, before)
        if kill is None:
            run.wait()
            pytest.fail(f"the run finished before {strategy.__name__} could kill it; "
                        f"use a larger STORYLINE_CRASH_N")
        kills.append(kill)
        runs.append({"killed": True, "wall_s": round(run.wall_s, 1), "cpu_s": round(run.cpu_s, 1)})
    final = Run(crashed_db, inputs, tmp_path / "crashed.log")
    assert final.wait() == 0, (tmp_path / "crashed.log").read_text(errors="replace")[-3000:]
    runs.append({"killed": False, "wall_s": round(final.wall_s, 1), "cpu_s": round(final.cpu_s, 1)})
    assert reference.wait() == 0, (tmp_path / "reference.log").read_text(errors="replace")[-3000:]

    assert any(k.get("batch_rolled_back") for k in kills), f"no kill landed inside a batch write: {kills}"
    want, got = _snapshot(reference_db), _snapshot(crashed_db)
    articles = want["articles"]
    events, stories = _partition(articles, 1), _partition(articles, 2)
    findings = {
        "articles": len(articles),
        "corpus_articles": N,
        "rejections": len(want["rejections"]),
        "events": len(events),
        "stories": len(stories),
        "kills": kills,
        "runs": runs,
        "reference": {"wall_s": round(reference.wall_s, 1), "cpu_s": round(reference.cpu_s, 1)},
        "batch_size": int(BATCH) if BATCH else "default",
        "load_average_1m": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
        "same_articles": got["articles"].keys() == articles.keys(),
        "same_rejections": got["rejections"] == want["rejections"],
        "same_event_partition": _partition(got["articles"], 1) == events,
        "same_story_partition": _partition(got["articles"], 2) == stories,
        "same_ids": got["articles"] == articles,
        "same_clusters": got["clusters"] == want["clusters"],
        "same_state": all(got[k] == want[k] for k in ("frequencies", "vectors", "signatures", "listing")),
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(findings, indent=2) + "\n", encoding="utf-8")

    assert len(articles) > 0.9 * N
    # Every article once, and everything derived from it once.
    assert got["article_rows"] == len(got["articles"]) == len(articles)
    assert got["articles"].keys() == articles.keys()
    assert got["search_documents"] == sorted(articles) and got["fts_rows"] == len(articles)
    assert len(got["vectors"]) == len(articles)
    # Signatures too old to be copied retire with the batch that retires them, in both runs alike.
    assert 0 < len(got["signatures"]) < len(articles) and got["signatures"] == want["signatures"]
    # Every rejection once, with the same reason and detail.
    assert len(want["rejections"]) >= 10
    assert got["rejections"] == want["rejections"]
    # The same events and stories, under the same ids, with the same clustering state.
    assert _partition(got["articles"], 1) == events
    assert _partition(got["articles"], 2) == stories
    assert got["articles"] == articles
    assert got["clusters"].keys() == want["clusters"].keys()
    assert got["clusters"] == want["clusters"]
    assert got["frequencies"] == want["frequencies"]
    assert got["vectors"] == want["vectors"] and got["signatures"] == want["signatures"]
    assert got["listing"] == want["listing"]
