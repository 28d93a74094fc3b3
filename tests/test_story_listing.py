"""The story listing the store keeps: the ranking of every story from its articles, one headline
per story and reader language wherever a story is shown, kept current batch by batch, backfilled
by its migration, rebuilt when its parameters change, and the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from storyline.ingest.readers import read_inputs
from storyline.ingest.run import ingest_documents
from storyline.settings import Settings
from storyline.store import migrations, open_store
from storyline.store.migrations import load_steps
from storyline.stories import listing as facts_module
from storyline.stories.headline import cluster_headline
from storyline.stories.rank import measure, rank_stories, rank_story, recency_settled, score_measures
from storyline.stories.view import list_stories, story_summaries, story_view
from test_store import pg_url  # noqa: F401  (a fixture: a fresh PostgreSQL schema per test)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
CRAWLED_AT = datetime.fromisoformat("2025-10-24T18:00:00+03:00")
SETTINGS = Settings(crawled_at=CRAWLED_AT, embedder="lexical")
# The articles published from this time on come in a second batch: it moves the newest article.
SECOND_BATCH_FROM = datetime(2025, 10, 20, tzinfo=UTC)

FILTERS = [
    {},
    {"lang": "uk"},
    {"lang": "en"},
    {"outlet": "  harbour   LINE "},
    {"since": datetime(2025, 10, 20, tzinfo=UTC)},
    {"until": datetime(2025, 10, 10, 23, 59, tzinfo=UTC)},
    {"lang": "ru", "since": datetime(2025, 10, 1, tzinfo=UTC)},
    {"offset": 3},
]


def batches() -> tuple[list, list]:
    """The sample's documents, older first, newer second (split by the labelled date)."""
    paths = [str(SAMPLE / "pages"), str(SAMPLE / "html"), str(SAMPLE / "feed.jsonl")]
    docs = list(read_inputs(paths, crawled_at=CRAWLED_AT))
    labels = [json.loads(line) for line in (SAMPLE / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    late = {r["id"] for r in labels
            if r["published"] and datetime.fromisoformat(r["published"]) >= SECOND_BATCH_FROM}
    # A record that cannot be read (a Rejection) has no id: it goes with the first batch.
    second = [d for d in docs if getattr(d, "id", None) in late]
    return [d for d in docs if getattr(d, "id", None) not in late], second


@pytest.fixture(scope="module")
def two_batches() -> tuple[list, list]:
    return batches()


def ingest_in_two(url: str, parts: tuple[list, list]) -> None:
    with open_store(url) as store:
        for part in parts:
            ingest_documents(part, store, SETTINGS)


@pytest.fixture(scope="module")
def sample_url(tmp_path_factory, two_batches) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('listing') / 'sample.db'}"
    ingest_in_two(url, two_batches)
    return url


@pytest.fixture(scope="module")
def store(sample_url):
    with open_store(sample_url) as opened:
        yield opened


def brute_force(store, limit=100, lang=None, since=None, until=None, outlet=None, offset=0, now=None):
    """What ``list_stories`` did before the listing was stored: every story ranked from the facts
    of its articles at every call."""
    from storyline.stories.listing import outlet_key

    rows = {r.id: r for r in store.load_clusters("story")
            if (since is None or (r.last is not None and r.last >= since))
            and (until is None or (r.first is not None and r.first <= until))}
    facts = defaultdict(list)
    for fact in store.article_facts(rows):
        facts[fact.story_id].append(fact)
    if lang:
        facts = {sid: arts for sid, arts in facts.items() if any(a.lang == lang for a in arts)}
    if outlet:
        facts = {sid: arts for sid, arts in facts.items()
                 if any(outlet_key(a.source) == outlet_key(outlet) for a in arts)}
    reference = now or store.latest_cluster_time("story")
    ranked = rank_stories({sid: facts[sid] for sid in rows if sid in facts}, reference)
    return ranked[offset:offset + limit]


def computed_headline(store, story_id, lang=None):
    """The headline computed from the story as it is stored now (what the listing must hold)."""
    articles = store.articles_of(story_id=story_id)
    model = store.vector_models()[0]
    vectors = {k: np.frombuffer(v, dtype=np.float32)
               for k, v in store.get_vectors(model, [a.id for a in articles]).items()}
    row = store.load_clusters("story", ids=[story_id])[0]
    return cluster_headline(articles, lang, vectors, row)


def listing_snapshot(store) -> dict:
    return {r.story_id: (r.score, r.measures, json.loads(r.facts)) for r in store.listing_rows()}


# -- the same answers as ranking everything ------------------------------------------------------


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "all")
def test_listing_is_the_brute_force_ranking(store, filters):
    listed = list_stories(store, 100, **filters)
    expected = brute_force(store, 100, **filters)
    assert listed, "the sample must have stories for every filter tried"
    assert [s.id for s in listed] == [sid for sid, _ in expected]
    assert [s.ranking for s in listed] == [ranking for _, ranking in expected]
    lang = filters.get("lang")
    for story in listed:
        assert story.headline == computed_headline(store, story.id, lang)
        assert (story.first, story.last) == (story.ranking.first, story.ranking.last)


def test_pages_add_up_to_the_whole_listing(store):
    whole = [s.id for s in list_stories(store, 100)]
    paged = [s.id for offset in range(0, len(whole), 4) for s in list_stories(store, 4, offset=offset)]
    assert paged == whole and len(whole) > 4


def test_a_callers_now_ranks_every_story_from_its_stored_measures(store):
    later = store.latest_cluster_time("story") + timedelta(days=3)
    listed = list_stories(store, 100, now=later)
    expected = brute_force(store, 100, now=later)
    assert [(s.id, s.ranking) for s in listed] == expected
    assert all(s.ranking.reference == later for s in listed)


def test_stored_measures_rank_as_the_articles_do():
    from test_stories import make

    articles = [make("a", hours=0), make("b", source="B", lang="en", hours=30), make("c", hours=31, dup="a")]
    now = datetime(2025, 10, 3, tzinfo=UTC)
    assert score_measures(measure(articles), now) == rank_story(articles, now)
    assert not recency_settled(rank_story(articles, now))
    # Forty weeks on, recency no longer shows in the score: it never will again.
    assert recency_settled(rank_story(articles, now + timedelta(weeks=40)))


# -- one headline per story ---------------------------------------------------------------------


def test_list_and_story_page_show_the_same_headline(store):
    for story in list_stories(store, 100):
        assert story_view(store, story.id, embed=False).headline == story.headline
        for lang in story.languages:
            (listed,) = [s for s in list_stories(store, 100, lang=lang) if s.id == story.id]
            assert story_view(store, story.id, lang, embed=False).headline == listed.headline
            assert story_summaries(store, [story.id], lang)[story.id].headline == listed.headline


def test_the_api_and_the_cli_show_the_story_pages_headline(sample_url):
    from storyline.app import create_app
    from storyline.stories.cli import stories, story

    app = create_app(Settings(db=sample_url, embedder="lexical"), cache_seconds=0)
    try:
        client = TestClient(app)
        for lang in (None, "uk", "ru", "en"):
            params = {"limit": 100, **({"lang": lang} if lang else {})}
            for item in client.get("/api/stories", params=params).json()["stories"]:
                page = client.get(f"/api/stories/{item['id']}", params={"lang": lang} if lang else {})
                assert page.json()["headline"]["text"] == item["headline"]
    finally:
        app.state.storyline.store.close()
    runner = CliRunner()
    listed = runner.invoke(stories, ["--db", sample_url, "--format", "json", "--limit", "100"])
    for item in json.loads(listed.output):
        shown = json.loads(runner.invoke(story, [item["id"], "--db", sample_url, "--format", "json"]).output)
        assert shown["headline"]["text"] == item["headline"]


def test_the_front_page_line_does_not_repeat_the_headline(store):
    lines = [s for s in list_stories(store, 100) if s.line]
    assert lines
    for story in lines:
        assert story.line.casefold().rstrip(".") != story.headline.text.casefold().rstrip(".")
        assert story.line_lang in story.languages


# -- kept current ---------------------------------------------------------------------------------


def test_a_second_batch_updates_the_listing_as_a_rebuild_would(tmp_path, two_batches):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    first, second = two_batches
    assert first and second
    with open_store(url) as store:
        ingest_documents(first, store, SETTINGS)
        before = store.latest_cluster_time("story")
        early = listing_snapshot(store)
        ingest_documents(second, store, SETTINGS)
        assert store.latest_cluster_time("story") > before
        kept = listing_snapshot(store)
        assert kept != early
        store.rebuild_listing()
        assert listing_snapshot(store) == kept
        # A story the second batch did not touch was still scored again: "now" moved on.
        untouched = [sid for sid in early if sid in kept and early[sid][1:] == kept[sid][1:]]
        assert untouched and any(early[sid][0] > kept[sid][0] for sid in untouched)
        assert [(s.id, s.ranking) for s in list_stories(store, 100)] == brute_force(store, 100)


def test_an_article_updated_without_clustering_updates_its_story(tmp_path, sample_url):
    target = tmp_path / "copy.db"
    with sqlite3.connect(sample_url.removeprefix("sqlite:///")) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    with open_store(f"sqlite:///{target}") as store:
        top = list_stories(store, 1)[0]
        article = store.get_article(top.headline.article_id)
        renamed = replace(article, title="Зовсім інший заголовок цієї історії про переговори")
        assert store.upsert_article(renamed) == "updated"
        kept = listing_snapshot(store)[top.id]
        store.rebuild_listing()
        assert listing_snapshot(store)[top.id] == kept
        titles = {a.title for a in store.articles_of(story_id=top.id)}
        assert list_stories(store, 100, lang=top.headline.lang)[0].headline.text in titles


def test_the_migration_backfills_an_older_store(tmp_path, sample_url, monkeypatch):
    # The tables a version-3 store has: those the first three steps make on an empty database.
    first_three = load_steps()[:3]
    monkeypatch.setattr(migrations, "load_steps", lambda: first_three)
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        migrations.migrate(conn)
        old_tables = set(inspect(conn).get_table_names())
    engine.dispose()
    monkeypatch.undo()
    target = tmp_path / "old.db"
    with sqlite3.connect(sample_url.removeprefix("sqlite:///")) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        newer = [n for (n,) in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                 if n not in old_tables and not n.startswith(("sqlite_", "search_fts_"))]
        assert "story_listing" in newer
        for table in newer:
            dst.execute(f"DROP TABLE {table}")
        dst.execute("DELETE FROM schema_version WHERE version > 3")
    with open_store(f"sqlite:///{target}") as store:
        assert store.schema_version == len(load_steps())
        assert [(s.id, s.ranking) for s in list_stories(store, 100)] == brute_force(store, 100)


def test_changed_parameters_rebuild_the_listing_when_the_store_opens(tmp_path, sample_url, monkeypatch):
    target = tmp_path / "copy.db"
    with sqlite3.connect(sample_url.removeprefix("sqlite:///")) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        dst.execute("UPDATE story_listing SET score = -1")
    url = f"sqlite:///{target}"
    with open_store(url) as store:
        assert {r.score for r in store.listing_rows()} == {-1.0}  # same parameters: kept as is
    monkeypatch.setattr(facts_module, "LISTING_VERSION", facts_module.LISTING_VERSION + 1)
    with open_store(url) as store:
        assert [(s.id, s.ranking) for s in list_stories(store, 100)] == brute_force(store, 100)


# -- PostgreSQL ------------------------------------------------------------------------------------


def test_postgresql_lists_what_sqlite_lists(pg_url, store, two_batches):  # noqa: F811
    ingest_in_two(pg_url, two_batches)
    with open_store(pg_url) as server:
        with server.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM story_listing")).scalar_one() > 0
        for filters in FILTERS:
            on_server = list_stories(server, 100, **filters)
            assert on_server == list_stories(store, 100, **filters)
            assert [(s.id, s.ranking) for s in on_server] == brute_force(server, 100, **filters)
        assert listing_snapshot(server) == listing_snapshot(store)


def test_the_listing_follows_the_most_used_embedder_without_counting_every_batch(tmp_path):
    from storyline.store.base import ClusterDelta

    url = f"sqlite:///{tmp_path / 'models.db'}"
    with open_store(url) as store:
        ingest_documents(read_inputs([str(SAMPLE / "pages")], crawled_at=CRAWLED_AT), store, SETTINGS)
        (lexical,) = store.vector_models()
        ids = [a.id for a in store.iter_articles()]
    meta = "SELECT value FROM story_listing_meta WHERE name = 'model'"
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute(meta).fetchone() == (lexical,)
    # Another embedder's vectors for every article: a tie, which the first name in order wins.
    other = "aaa-other-model"
    with open_store(url) as store:
        vector = np.ones(4, dtype=np.float32).tobytes()
        store.save_batch([], ClusterDelta(model=other, vectors=dict.fromkeys(ids, vector)))
    with sqlite3.connect(tmp_path / "models.db") as conn:
        assert conn.execute(meta).fetchone() == (other,)
