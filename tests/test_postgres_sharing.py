"""Several writers on one store: the writer turn, watchers sharing stories, and real processes
sharing one PostgreSQL database (a watcher beside `storyline serve`, two ingests at once).

The clustering keeps its state in the store; a writer that clustered a batch on a state another
writer has changed since would write back stale events and stories. These tests check the state
after concurrent writers against the articles themselves."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pg import pg_url  # noqa: F401
from storyline.ingest.encoding import decode
from storyline.settings import Settings
from storyline.store import open_store
from storyline.watch.fetch import FetchOptions, PoliteClient
from storyline.watch.loop import Watcher
from watch_server import LocalServer, Route, article_page, rss

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
    items = [(page["id"], f"{site.base}/a/{page['id']}.html", page["title"]) for page in pages]
    return site.add(feed_path, Route(body=rss("Sample", items[::-1]), content_type="application/rss+xml"))


def watcher(store, feeds, **options) -> Watcher:
    client = PoliteClient(FetchOptions(host_delay=0, retries=0, timeout=10))
    return Watcher(store, feeds, CLUSTERED, client=client, batch_size=2, **options)


def clustering_problems(url: str) -> list[str]:
    """Where the stored events and stories disagree with the articles: an event's members are
    not exactly the articles that name it, a story's not exactly the events under it, an article
    names a missing event or story, or its story is not its event's."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, event_id, story_id FROM articles")).all()
        clusters = {r.id: r for r in conn.execute(text("SELECT id, kind, parent_id, state FROM clusters"))}
    engine.dispose()
    problems = []
    by_event: dict[str, set[str]] = {}
    for article in rows:
        event = clusters.get(article.event_id)
        if event is None or article.story_id not in clusters:
            problems.append(f"article {article.id}: event {article.event_id} or story "
                            f"{article.story_id} is not stored")
            continue
        if event.parent_id != article.story_id:
            problems.append(f"article {article.id}: story {article.story_id}, its event's is "
                            f"{event.parent_id}")
        by_event.setdefault(article.event_id, set()).add(article.id)
    for cluster in clusters.values():
        members = set(json.loads(cluster.state)["members"])
        if cluster.kind == "event":
            expected = by_event.get(cluster.id, set())
        else:
            expected = {c.id for c in clusters.values() if c.kind == "event" and c.parent_id == cluster.id}
        if members != expected:
            problems.append(f"{cluster.kind} {cluster.id}: members {sorted(members)}, "
                            f"articles say {sorted(expected)}")
    return problems


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
        items = [(p["id"], f"{site.base}/a/{p['id']}.html", p["title"]) for p in pages]
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
