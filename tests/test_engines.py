"""Execution engines: the local process pool and Dask give what the serial engine gives (articles,
events, stories, duplicates, vectors, rejections, in the same order), and fail clearly."""

from __future__ import annotations

import logging
import os
import signal
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from storyline.cli import main
from storyline.engines import Engine, open_engine
from storyline.engines.dask import DaskEngine
from storyline.engines.local import LocalEngine
from storyline.engines.parallel import CHUNK_SIZE, CHUNKS_PER_WORKER, ParallelEngine
from storyline.engines.work import WORKER_ERROR, Worker, process_chunk
from storyline.errors import ConfigError, StorylineError
from storyline.ingest import run as ingest_run
from storyline.ingest.readers import read_inputs
from storyline.model import RawDocument, Rejection
from storyline.pipeline import Pipeline
from storyline.settings import Settings
from storyline.store import open_store

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
CRAWLED = datetime.fromisoformat("2025-10-24T18:00:00+03:00")
SETTINGS = Settings(crawled_at=CRAWLED, embedder="lexical")
# Small batches, so that the clustering of every engine runs over several of them.
BATCH = 16
# An input the per-article stages cannot digest: a record whose date is a number.
BAD = RawDocument("bad-record", "record", "Уряд ухвалив рішення про відбудову мостів. " * 10,
                  "bad.jsonl:1", fields={"published": 12345})


@dataclass
class Outcome:
    line: str
    records: dict[str, dict]  # id -> exported record (text, metadata, event, story, duplicate)
    vectors: dict[str, bytes]
    rejections: list[tuple[str, str, str]]  # as stored
    reported: list[str]  # rejections in the order on_rejection heard of them
    items: int  # on_item calls (the progress bar)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    """The sample corpus, plus inputs each engine must reject: too short, binary, and a second
    file claiming an id the corpus already uses."""
    extra = tmp_path_factory.mktemp("extra")
    (extra / "short.txt").write_text("Коротко.\n", encoding="utf-8")
    (extra / "photo.txt").write_bytes(bytes(range(256)) * 8)
    (extra / "homin-20251007-1.txt").write_text("Інший текст з тим самим іменем файлу. " * 20,
                                                encoding="utf-8")
    return [str(SAMPLE / "pages"), str(SAMPLE / "html"), str(SAMPLE / "feed.jsonl"), str(extra)]


def ingest_with(engine: Engine | None, paths, settings: Settings = SETTINGS, url="sqlite://",
                extra: list | None = None, batch: int = BATCH) -> Outcome:
    reported: list[str] = []
    items = [0]

    def count() -> None:
        items[0] += 1

    with pytest.MonkeyPatch.context() as patch, open_store(url) as store:
        patch.setattr(ingest_run, "BATCH_SIZE", batch)
        docs = list(read_inputs(paths, crawled_at=settings.crawled_at)) + (extra or [])
        summary = ingest_run.ingest_documents(docs, store, settings, engine=engine, on_item=count,
                                              on_rejection=lambda r: reported.append(str(r)))
        records = {a.id: a.to_record() for a in store.iter_articles()}
        vectors = store.get_vectors(_model_name(settings.embedder), list(records))
        rejections = sorted((r.origin, r.reason, r.detail) for r in store.iter_rejections())
    return Outcome(summary.line(), records, vectors, rejections, reported, items[0])


def _model_name(embedder: str) -> str:
    from storyline.nlp.embed import get_embedder

    return get_embedder(embedder).name


def partition(records: dict[str, dict], key: str) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for article_id, record in records.items():
        groups.setdefault(record[key], set()).add(article_id)
    return {frozenset(g) for g in groups.values()}


def assert_same(got: Outcome, want: Outcome) -> None:
    assert got.line == want.line
    assert partition(got.records, "event_id") == partition(want.records, "event_id")
    assert partition(got.records, "story_id") == partition(want.records, "story_id")
    # Event and story ids are named after their first member, so they match exactly too.
    assert got.records == want.records
    assert got.vectors == want.vectors
    assert got.rejections == want.rejections
    assert got.reported == want.reported  # same rejections, same order
    assert got.items == want.items


@pytest.fixture(scope="module")
def serial(inputs) -> Outcome:
    outcome = ingest_with(None, inputs, extra=[BAD])
    # The comparison means something only if the corpus exercises every kind of outcome.
    assert len(outcome.records) > 3 * BATCH
    assert any(r["duplicate_of"] for r in outcome.records.values())
    assert len(partition(outcome.records, "story_id")) > 1
    reasons = {reason for _, reason, _ in outcome.rejections}
    assert {"too_short", "undecodable", "duplicate_id", "bad_record"} <= reasons
    return outcome


@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def dask_engine(dask_cluster):
    with DaskEngine(scheduler=dask_cluster.scheduler_address) as engine:
        yield engine


@pytest.fixture(scope="module")
def local_engine():
    with LocalEngine(2) as engine:
        yield engine


@pytest.fixture(params=["local", "dask"])
def engine(request):
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture(scope="module", params=["local", "dask"])
def parallel(request, inputs) -> Outcome:
    """The serial run's inputs through a parallel engine (2 workers)."""
    return ingest_with(request.getfixturevalue(f"{request.param}_engine"), inputs, extra=[BAD])


# -- same results as the serial engine ----------------------------------------------------------

def test_engine_gives_what_serial_gives(parallel, serial):
    assert_same(parallel, serial)


def test_crash_on_one_input_is_a_rejection_naming_it(parallel, serial):
    try:
        expected = Pipeline(SETTINGS).process(BAD).reason
    except Exception:  # noqa: BLE001 - a pipeline without its own guard: the worker's
        expected = WORKER_ERROR
    bad = [r for r in parallel.rejections if r[0] == BAD.origin]
    assert [(origin, reason) for origin, reason, _ in bad] == [(BAD.origin, expected)]
    assert "'int' object has no attribute 'strip'" in bad[0][2]
    assert set(parallel.records) == set(serial.records)  # the rest of the batch went on


def test_reingest_is_unchanged_and_embeds_nothing(engine, tmp_path):
    inputs = [str(SAMPLE / "html"), str(SAMPLE / "feed.jsonl")]
    url = f"sqlite:///{tmp_path / 'again.db'}"
    first = ingest_with(engine, inputs, url=url)
    again = ingest_with(engine, inputs, url=url)
    assert again.line.startswith(f"0 ingested, 0 updated, {len(first.records)} unchanged")
    assert again.records == first.records
    with open_store(url) as store:
        clustering = ingest_run.story_engine(store, SETTINGS)
        docs = read_inputs(inputs, crawled_at=CRAWLED)
        out = list(engine.run(docs, SETTINGS, clustering))
    assert sum(1 for _, vector in out if vector is not None) == 0
    assert sum(1 for item, _ in out if not isinstance(item, Rejection)) == len(first.records)


def test_without_clustering_workers_embed_nothing(local_engine, inputs):
    settings = Settings(crawled_at=CRAWLED, cluster=False)
    out = list(local_engine.run(read_inputs(inputs, crawled_at=CRAWLED), settings, None))
    assert all(vector is None for _, vector in out)
    assert [item.id if not isinstance(item, Rejection) else item.origin for item, _ in out] == \
        [item.id if not isinstance(item, Rejection) else item.origin
         for item, _ in Engine().run(read_inputs(inputs, crawled_at=CRAWLED), settings)]


def test_e5_vectors_do_not_depend_on_the_chunk_or_the_order():
    """Workers embed chunks in input order, the driver embeds a batch in time order: the
    vectors (so the stories) must not depend on which texts share a batch."""
    from storyline.cluster.engine import make_embedder
    from storyline.cluster.profile import embedding_input

    settings = Settings(crawled_at=CRAWLED, embedder="e5")
    docs = [d for d in read_inputs([str(SAMPLE / "html"), str(SAMPLE / "feed.jsonl")],
                                   crawled_at=CRAWLED) if isinstance(d, RawDocument)]
    worker = Worker(settings, embed=True)
    chunks = [worker.run(docs[i:i + 7]) for i in range(0, len(docs), 7)]
    on_workers = {item.id: vector for chunk in chunks
                  for item, vector in zip(chunk.items, chunk.vectors, strict=True) if vector is not None}
    articles = sorted((item for chunk in chunks for item in chunk.items if item.id in on_workers),
                      key=lambda a: (a.published is None, a.published and a.published.timestamp(), a.id))
    embedder = make_embedder(settings)
    in_driver = embedder.embed([embedding_input(a, embedder) for a in articles])
    assert len(articles) > 10
    for article, vector in zip(articles, in_driver, strict=True):
        assert np.array_equal(on_workers[article.id].vector, vector), article.id


# -- order and memory ---------------------------------------------------------------------------

def test_inputs_are_read_as_results_are_taken_not_all_at_once(local_engine):
    pulled = [0]

    def stream(n):
        for i in range(n):
            pulled[0] += 1
            yield RawDocument(f"d{i}", "text", f"Коротка замітка номер {i}.", f"d{i}.txt")

    total = 6 * CHUNK_SIZE * (CHUNKS_PER_WORKER * 2 + 1)
    out = local_engine.run(stream(total), SETTINGS, None)
    first, _ = next(out)
    assert first.origin == "d0.txt"
    assert pulled[0] <= (CHUNKS_PER_WORKER * 2 + 1) * CHUNK_SIZE
    rest = [item.origin for item, _ in out]
    assert rest == [f"d{i}.txt" for i in range(1, total)]


class InlineEngine(ParallelEngine):
    """Chunks run in this process, at once; what is checked is how they are cut and put back."""

    def __init__(self, model: str | None = None):
        super().__init__(workers=2, chunk_size=3)
        self.model = model
        self.sent: list[list[str]] = []

    def _submit(self, settings, docs, embed, skip):
        self.sent.append([d.origin for d in docs])
        future: Future = Future()
        result = process_chunk(settings, docs, embed, skip)
        if self.model is not None:
            result.model = self.model
        future.set_result(result)
        return future

    def _result(self, future, docs):
        return future.result()


def test_reader_rejections_keep_their_place_between_chunks():
    docs = [RawDocument(f"d{i}", "text", "Коротко.", f"d{i}.txt") for i in range(5)]
    items = [docs[0], Rejection("x.txt", "undecodable", "binary"), *docs[1:3],
             Rejection("y.txt", "undecodable", "binary"), Rejection("z.txt", "undecodable", "binary"),
             Rejection("w.txt", "undecodable", "binary"), *docs[3:]]
    engine = InlineEngine()
    out = [item.origin for item, _ in engine.run(items, SETTINGS, None)]
    assert out == [item.origin for item in items]
    assert engine.sent == [["d0.txt", "d1.txt"], ["d2.txt"], ["d3.txt", "d4.txt"]]


def test_vectors_from_another_model_are_refused(tmp_path):
    docs = list(read_inputs([str(SAMPLE / "feed.jsonl")], crawled_at=CRAWLED))
    with open_store("sqlite://") as store, pytest.raises(StorylineError, match="workers embed with"):
        ingest_run.ingest_documents(docs, store, SETTINGS, engine=InlineEngine(model="other/1"))


# -- what a worker does with one chunk ----------------------------------------------------------

class FlakyEmbedder:
    """Fails on any batch holding the text of one article."""

    def __init__(self, inner, poison: str):
        self.inner, self.poison, self.name, self.dim = inner, poison, inner.name, inner.dim

    def embed(self, texts):
        if any(self.poison in t for t in texts):
            raise RuntimeError("cannot embed this one")
        return self.inner.embed(texts)


def test_embedding_failure_costs_only_that_article():
    docs = list(read_inputs([str(SAMPLE / "feed.jsonl")], crawled_at=CRAWLED))
    docs = [d for d in docs if isinstance(d, RawDocument)]
    worker = Worker(SETTINGS, embed=True)
    clean = worker.run(docs)
    at = next(i for i, item in enumerate(clean.items) if not isinstance(item, Rejection))
    poison = clean.items[at].lemmas[0]
    worker.embedder = FlakyEmbedder(worker.embedder, poison)
    got = worker.run(docs)
    lost = [i for i, item in enumerate(got.items)
            if isinstance(item, Rejection) and not isinstance(clean.items[i], Rejection)]
    poisoned = [i for i, item in enumerate(clean.items)
                if not isinstance(item, Rejection) and poison in " ".join(item.lemmas)]
    assert at in lost and set(lost) <= set(poisoned)
    assert len(lost) < len([x for x in clean.items if not isinstance(x, Rejection)])
    rejection = got.items[at]
    assert (rejection.origin, rejection.reason) == (docs[at].origin, WORKER_ERROR)
    assert "RuntimeError: cannot embed this one" in rejection.detail
    for i, (vector, want) in enumerate(zip(got.vectors, clean.vectors, strict=True)):
        if i not in lost:
            assert np.array_equal(vector.vector, want.vector)


def test_crash_outside_the_pipeline_guard_is_a_worker_error(monkeypatch):
    worker = Worker(SETTINGS, embed=False)

    def explode(raw):
        raise KeyError("boom")

    monkeypatch.setattr(worker.pipeline, "process", explode)
    good = RawDocument("ok", "text", "x", "ok.txt")
    result = worker.run([good])
    (rejection,) = result.items
    assert (rejection.origin, rejection.reason) == ("ok.txt", WORKER_ERROR)
    assert rejection.detail.startswith("KeyError: 'boom' (at test_engines.py:")


# -- failures -----------------------------------------------------------------------------------

def test_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(StorylineError, match=r"cannot reach Dask scheduler at tcp://127\.0\.0\.1:9"):
        DaskEngine(scheduler="tcp://127.0.0.1:9", connect_timeout="1s")


def test_malformed_scheduler_address_is_one_clear_error():
    with pytest.raises(StorylineError, match="cannot reach Dask scheduler at nonsense: missing port"):
        open_engine("dask", scheduler="nonsense")


def test_dead_local_worker_is_one_clear_error():
    with LocalEngine(1) as engine:
        pid = engine._pool.submit(os.getpid).result()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not engine._pool._broken and time.monotonic() < deadline:
            time.sleep(0.05)
        docs = [RawDocument("a", "text", "Коротко.", "a.txt")]
        with pytest.raises(StorylineError, match="worker process of the local engine died while "
                                                 "processing a.txt"):
            list(engine.run(docs, SETTINGS, None))


@pytest.mark.parametrize("name, options, message", [
    ("serial", {"scheduler": "tcp://h:1"}, "works with the dask engine only"),
    ("local", {"scheduler": "tcp://h:1"}, "works with the dask engine only"),
    ("serial", {"workers": 2}, "has no workers"),
    ("dask", {"scheduler": "tcp://h:1", "workers": 2}, "has its own workers"),
    ("local", {"workers": 0}, "workers must be a whole number >= 1"),
    ("threads", {}, "unknown engine 'threads'"),
])
def test_engine_options_are_checked(name, options, message):
    with pytest.raises(ConfigError, match=message):
        open_engine(name, **options)


# -- the command --------------------------------------------------------------------------------

def test_cli_ingest_with_a_local_dask_cluster(inputs, tmp_path):
    paths = [str(SAMPLE / "html"), str(SAMPLE / "feed.jsonl"), inputs[-1]]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(main, ["ingest", *paths, "--db", url, "--embedder", "lexical",
                                       "--crawled-at", CRAWLED.isoformat(), "--engine", "dask",
                                       "--workers", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    serial = ingest_with(None, paths, batch=ingest_run.BATCH_SIZE)
    assert f"{serial.line}; {len(serial.records)} articles in {url}" in result.output
    for rejection in serial.reported:
        assert f"rejected {rejection}" in result.output
    with open_store(url) as store:
        assert {a.id: a.to_record() for a in store.iter_articles()} == serial.records


def test_cli_bad_scheduler_is_one_line_and_no_store(tmp_path):
    db = tmp_path / "never.db"
    result = CliRunner().invoke(main, ["ingest", str(SAMPLE / "feed.jsonl"), "--db", f"sqlite:///{db}",
                                       "--engine", "dask", "--scheduler", "tcp://"])
    assert result.exit_code == 1
    assert "Error: cannot reach Dask scheduler at tcp://" in result.output
    assert not db.exists()
