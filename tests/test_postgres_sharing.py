"""Several writers on one store: the writer turn, watchers sharing stories, and real processes
sharing one PostgreSQL database (a watcher beside `storyline serve`, two ingests at once).

The clustering keeps its state in the store; a writer that clustered a batch on a state another
writer has changed since would write back stale events and stories. These tests check the state
after concurrent writers against the articles themselves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cluster_checks import clustering_problems
from pg import pg_url  # noqa: F401
from storyline.ingest.encoding import decode
from storyline.settings import Settings
from storyline.store import open_store
from storyline.watch.feeds import entry_id
from storyline.watch.fetch import FetchOptions, PoliteClient
from storyline.watch.loop import Watcher
from watch_server import LocalServer, Route, article_page, free_port, rss

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
CLUSTERED = Settings(embedder="lexical")
ENV = {**os.environ, "STORYLINE_EMBEDDER": "lexical", "PYTHONUNBUFFERED": "1"}
STORYLINE = [sys.executable, "-c", "from storyline.cli import main; main()"]


@pytest.fixture(params=["sqlite-file", "postgresql"])
def url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'shared.db'}"


def sample_pages() -> list[dict]:
    """The sample's text pages with their labels, oldest first: four stories, several events,
    in uk, ru and en."""
    labels = {row["id"]: row for row in map(json.loads, (SAMPLE / "labels.jsonl").open(encoding="utf-8"))}
    pages = []
    for path in sorted((SAMPLE / "pages").glob("*.txt")):
        label = labels[path.stem]
        content, _ = decode(path.read_bytes(), str(path))  # some sample pages are cp1251
        lines = [line.strip() for line in content.splitlines() if line.strip()]
        pages.append({"id": path.stem, "title": label["title"], "published": label["published"],
                      "source": label["source"], "paragraphs": lines[2:]})
    return sorted(pages, key=lambda p: (p["published"] or "9999", p["id"]))


def serve_pages(site, pages: list[dict], feed_path: str = "/feed.rss") -> str:
    for page in pages:
        site.add(f"/a/{page['id']}.html", Route(body=article_page(
            page["title"], page["paragraphs"], published=page["published"], source=page["source"])))
    return site.add(feed_path, Route(body=rss("Sample", items_of(site, pages)[::-1]),
                                     content_type="application/rss+xml"))


def guid(page: dict) -> str:
    # Not a bare word: feedparser would take it for a path and resolve it against the feed's URL.
    return f"urn:storyline-test:{page['id']}"


def items_of(site, pages: list[dict]) -> list[tuple[str, str, str]]:
    return [(guid(page), f"{site.base}/a/{page['id']}.html", page["title"]) for page in pages]


def watcher(store, feeds, **options) -> Watcher:
    client = PoliteClient(FetchOptions(host_delay=0, retries=0, timeout=10))
    return Watcher(store, feeds, CLUSTERED, client=client, batch_size=2, **options)




# -- the writer turn --------------------------------------------------------------------------


def test_the_writer_turn_is_one_writer_at_a_time(url):
    order = []
    with open_store(url) as first, open_store(url) as second:
        had = threading.Event()

        def other():
            had.wait(10)
            with second.writer_turn():
                order.append("second")

        thread = threading.Thread(target=other)
        thread.start()
        with first.writer_turn() as generation:
            assert generation == first.clustering_generation() == 0
            had.set()
            time.sleep(0.5)  # the other writer is waiting by now
            order.append("first")
        thread.join(10)
    assert order == ["first", "second"]


def test_a_save_outside_a_turn_waits_for_the_turn(url):
    from test_store import make_article

    saved_at = []
    with open_store(url) as first, open_store(url) as second:
        thread = threading.Thread(target=lambda: (second.save_batch([make_article("b")]),
                                                  saved_at.append(time.monotonic())))
        with first.writer_turn():
            thread.start()
            time.sleep(0.5)
            first.save_batch([make_article("a")])  # inside its own turn: no second lock
            released = time.monotonic()
        thread.join(10)
        assert saved_at and saved_at[0] >= released
        assert second.count_articles() == 2
        with pytest.raises(Exception, match="not reentrant"), first.writer_turn(), first.writer_turn():
            pass


# -- watchers sharing stories -----------------------------------------------------------------


def test_two_watchers_on_one_store_keep_the_stories_consistent(url):
    pages = sample_pages()
    with LocalServer() as one, LocalServer() as two:
        # Interleaved: each event gets articles from both watchers.
        feeds = [serve_pages(one, pages[0::2]), serve_pages(two, pages[1::2])]
        with open_store(url) as a, open_store(url) as b:
            watchers = [watcher(a, [feeds[0]]), watcher(b, [feeds[1]])]
            threads = [threading.Thread(target=w.poll) for w in watchers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert a.count_articles() == len(pages)
    assert clustering_problems(url) == []


def test_a_watcher_reloads_stories_another_writer_changed(url, tmp_path):
    pages = sample_pages()
    with LocalServer() as site:
        feed = site.add("/feed.rss", Route(content_type="application/rss+xml"))
        serve_pages(site, pages, "/all.rss")
        items = items_of(site, pages)
        with open_store(url) as mine, open_store(url) as theirs:
            watching = watcher(mine, [feed])
            for start in range(0, len(pages), 6):
                # This watcher's engine holds the state of its last batch; the other writer
                # adds the next pages' neighbours in between.
                site.routes["/feed.rss"].body = rss("Mine", items[start:start + 3])
                watching.poll()
                site.routes["/other.rss"] = Route(body=rss("Theirs", items[start + 3:start + 6]),
                                                  content_type="application/rss+xml")
                watcher(theirs, [f"{site.base}/other.rss"]).poll()
            assert mine.count_articles() == len(pages)
    assert clustering_problems(url) == []


# -- processes sharing one PostgreSQL database ------------------------------------------------


def storyline(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([*STORYLINE, *args], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple[str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, f"{process.args[3:]} exited {process.returncode}: {err[-2000:]}"
    assert "Traceback" not in err and "Error:" not in err, err[-2000:]
    return out, err


def test_watch_once_into_postgresql(pg_url):  # noqa: F811
    pages = sample_pages()
    with LocalServer() as site:
        feed = serve_pages(site, pages)
        finish(storyline("watch", feed, "--once", "--db", pg_url, "--host-delay", "0"))
    with open_store(pg_url) as store:
        stored = {a.id: a for a in store.iter_articles()}
    assert len(stored) == len(pages)
    assert all(a.event_id and a.story_id for a in stored.values())
    assert clustering_problems(pg_url) == []
    out, _ = finish(storyline("search", "розмінування Чорного моря", "--db", pg_url, "--format", "json"))
    hits = json.loads(out)
    assert hits["articles"], out[:500]
    assert {hit["id"] for hit in hits["articles"]} <= set(stored)
    out, _ = finish(storyline("stories", "--db", pg_url, "--format", "json"))
    assert json.loads(out), "no stories listed"


def get_json(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except urllib.error.URLError as exc:  # not listening yet
        return 0, str(exc.reason)


def test_a_watcher_writes_while_serve_answers(pg_url):  # noqa: F811
    pages = sample_pages()
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    with LocalServer() as site:
        serve_pages(site, pages, "/all.rss")
        items = items_of(site, pages)
        feed = site.add("/feed.rss", Route(body=rss("Growing", []), content_type="application/rss+xml"))
        with open_store(pg_url):
            pass  # migrated before two processes open it
        server = storyline("serve", "--db", pg_url, "--port", str(port))
        watching = storyline("watch", feed, "--db", pg_url, "--interval", "1", "--host-delay", "0")
        answers: list[tuple[str, int]] = []
        try:
            deadline = time.monotonic() + 60
            while get_json(f"{api}/health")[0] != 200:
                assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
                time.sleep(0.3)
            published, deadline = 0, time.monotonic() + 240
            while True:
                if published < len(items):  # the outlet publishes three more
                    published = min(published + 3, len(items))
                    site.routes["/feed.rss"].body = rss("Growing", items[:published][::-1])
                for path in ("/stories?limit=50", "/search?q=%D0%9F%D1%83%D1%82%D1%96%D0%BD"):
                    status, body = get_json(api + path)
                    answers.append((path, status))
                    assert status == 200, f"{path}: {status} {body}"
                _, listing = get_json(f"{api}/stories?limit=50")
                shown = sum(story["articles"] for story in listing["stories"])
                if shown == len(items) or time.monotonic() > deadline:
                    break
                assert watching.poll() is None, watching.communicate()[1][-2000:]
                time.sleep(0.5)
            assert shown == len(items), f"the API shows {shown} of {len(items)} articles"
        except BaseException:
            for process in (watching, server):
                process.kill()
                process.communicate()
            raise
        watching.send_signal(signal.SIGINT)
        server.terminate()
        _, err = finish(watching, 60)
        server.communicate(timeout=30)
    assert len(answers) > 10
    assert "stopped" in err
    with open_store(pg_url) as store:
        assert sorted(a.id for a in store.iter_articles()) == sorted(
            entry_id(guid(p)) for p in pages)
    assert clustering_problems(pg_url) == []


def test_two_ingests_at_once_store_every_article_once(pg_url, tmp_path):  # noqa: F811
    texts = sorted((SAMPLE / "pages").glob("*.txt"))
    halves = [tmp_path / "a", tmp_path / "b"]
    for half, chosen in zip(halves, (texts[0::2], texts[1::2]), strict=True):
        half.mkdir()
        for path in chosen:  # every other page: the events get articles from both processes
            (half / path.name).write_bytes(path.read_bytes())
    # Both also read the records and the HTML pages, by the same paths: the same inputs twice
    # at once. (From another path they would be other inputs, re-clustered as updates.)
    shared = [str(SAMPLE / "feed.jsonl"), str(SAMPLE / "html")]
    with open_store(f"sqlite:///{tmp_path / 'alone.db'}") as alone:
        from storyline.ingest.run import ingest

        ingest([str(SAMPLE / "pages"), *shared], alone, Settings(embedder="lexical", cluster=False))
        expected = sorted(a.id for a in alone.iter_articles())
    with open_store(pg_url):
        pass
    # Batches of 5, so that the two processes' batches interleave: each must cluster on the
    # state the other saved (store.writer_turn), not on the copy it loaded at its start.
    code = "import storyline.ingest.run as run; run.BATCH_SIZE = 5; from storyline.cli import main; main()"
    small_batches = [sys.executable, "-c", code]
    runs = [subprocess.Popen([*small_batches, "ingest", str(half), *shared, "--db", pg_url, "-q"],
                             env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for half in halves]
    for run in runs:
        finish(run)
    with open_store(pg_url) as store:
        stored = [a.id for a in store.iter_articles()]
        assert store.count_articles() == len(expected)
    assert sorted(stored) == expected  # every article, each once
    assert clustering_problems(pg_url) == []
