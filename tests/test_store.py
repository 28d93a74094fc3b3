"""The store: round-trips, idempotent upserts, migrations, rejections, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, text

# The one PostgreSQL helper (skip on a developer machine, fail under CI); other test modules
# import pg_url from here.
from pg import pg_url  # noqa: F401
from storyline.errors import ConfigError, NotFound, StoreError
from storyline.model import Article, Entity, Paragraph, RawDocument, Rejection
from storyline.store import SUPPORTED_SCHEMES, open_store
from storyline.store.migrations import latest_version, load_steps
from storyline.store.schema import metadata

KYIV = timezone(timedelta(hours=2))


def make_article(article_id: str = "000_18365f23880e082f", **changes) -> Article:
    """A fully populated article; ``changes`` override any Article field."""
    raw = RawDocument(
        id=article_id,
        format="record",
        content='{"title": "Байден і Путін", "text": "..."}\nрядок «два»',
        origin=f"feed.jsonl:{len(article_id)}",
        fields={"title": "Байден і Путін", "tags": ["uk", "ru"], "n": 3, "nested": {"ok": True}},
        crawled_at=datetime(2021, 12, 8, 9, 30, 15, 123456, tzinfo=KYIV),
        encoding="windows-1251",
    )
    article = Article(
        id=article_id,
        raw=raw,
        title="Байден і Путін поговорили",
        source="Українська правда",
        url="https://example.org/news/1",
        published=datetime(2021, 12, 7, 20, 7, tzinfo=KYIV),
        lang="uk",
        paragraphs=[
            Paragraph('Перший абзац, з комою і "лапками".', "uk"),
            Paragraph("Второй абзац по-русски.", "ru"),
            Paragraph("No language known.", None),
        ],
        removed=[("РЕКЛАМА", "ads"), ("Читайте також: ...", "related_links")],
        event_id="ev-1",
        story_id="st-1",
        duplicate_of=None,
        entities=[Entity("Путіна", "PER", "putin"), Entity("Байден", "PER", "biden")],
    )
    return replace(article, **changes)


def bare_article(article_id: str) -> Article:
    """Only what an Article requires: every optional field empty or None."""
    return Article(id=article_id, raw=RawDocument(article_id, "text", "", "stdin"))


@pytest.fixture(params=["sqlite-file", "postgresql"])
def durable_url(request, tmp_path):
    """A URL whose data outlives the Store object (for re-open tests)."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite-memory":
        url = "sqlite://"
    elif request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url) as opened:
        yield opened


def _stamps(store, article_id: str) -> tuple[str, str, str]:
    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT fingerprint, ingested_at, updated_at FROM articles WHERE id = :id"),
            {"id": article_id},
        ).one()
    return tuple(row)


# -- round trips ------------------------------------------------------------------------------


def test_every_field_round_trips(store):
    article = make_article()
    assert store.upsert_article(article) == "ingested"
    back = store.get_article(article.id)
    assert back == article
    # datetime equality compares instants; the offset the article gave must survive too.
    assert back.published.isoformat() == "2021-12-07T20:07:00+02:00"
    assert back.raw.crawled_at.isoformat() == article.raw.crawled_at.isoformat()
    assert back.to_record() == article.to_record()


def test_empty_and_none_fields_round_trip(store):
    article = bare_article("bare")
    store.upsert_article(article)
    back = store.get_article("bare")
    assert back == article
    assert back.published is None and back.raw.crawled_at is None and back.raw.encoding is None
    assert back.paragraphs == [] and back.entities == [] and back.removed == []


@pytest.mark.parametrize(
    "published",
    [
        datetime(
            2021, 12, 7, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5, minutes=-30))
        ),
        datetime(2021, 12, 7, 0, 0, tzinfo=UTC),
        datetime(1999, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=14))),
        datetime(2021, 12, 7, 20, 7),  # naive: stored as given
    ],
    ids=["minus-0530-micro", "utc", "plus-14", "naive"],
)
def test_published_keeps_its_offset(store, published):
    store.upsert_article(make_article(published=published))
    back = store.get_article(make_article().id).published
    assert back.isoformat() == published.isoformat()
    assert back.utcoffset() == published.utcoffset()


def test_not_found_names_the_id(store):
    with pytest.raises(NotFound, match="no-such-id"):
        store.get_article("no-such-id")
    assert not store.has_article("no-such-id")


def test_has_and_count(store):
    assert store.count_articles() == 0
    store.upsert_many([make_article("a"), make_article("b"), make_article("a")])
    assert store.count_articles() == 2
    assert store.has_article("a") and store.has_article("b")


# -- idempotency ------------------------------------------------------------------------------


def test_same_input_is_unchanged_and_writes_nothing(store):
    article = make_article()
    assert store.upsert_article(article) == "ingested"
    before = _stamps(store, article.id)
    assert store.upsert_article(make_article()) == "unchanged"
    assert _stamps(store, article.id) == before


def test_raw_fields_in_another_key_order_are_unchanged(store):
    article = make_article()
    store.upsert_article(article)
    shuffled = dict(reversed(list(article.raw.fields.items())))
    again = replace(article, raw=replace(article.raw, fields=shuffled))
    assert store.upsert_article(again) == "unchanged"


@pytest.mark.parametrize(
    "change",
    [
        {"story_id": "st-2"},
        {"duplicate_of": "other"},
        {"entities": [Entity("Путіна", "PER", "putin")]},
        {"paragraphs": [Paragraph("Інший текст.", "uk")]},
        # The same instant with another offset is a different input: it must be kept.
        {"published": datetime(2021, 12, 7, 18, 7, tzinfo=UTC)},
    ],
    ids=["story", "duplicate", "entities", "paragraphs", "offset"],
)
def test_a_changed_derived_field_is_updated(store, change):
    article = make_article()
    store.upsert_article(article)
    _, ingested_at, _ = _stamps(store, article.id)
    changed = replace(article, **change)
    assert store.upsert_article(changed) == "updated"
    assert store.get_article(article.id) == changed
    assert _stamps(store, article.id)[1] == ingested_at  # first arrival is kept
    assert store.upsert_article(changed) == "unchanged"


def test_a_changed_raw_input_is_updated(store):
    article = make_article()
    store.upsert_article(article)
    changed = replace(article, raw=replace(article.raw, content="другий вміст"))
    assert store.upsert_article(changed) == "updated"
    assert store.get_article(article.id).raw.content == "другий вміст"


def test_upsert_many_counts_each_status(store):
    store.upsert_article(make_article("a"))
    store.upsert_article(make_article("b"))
    counts = store.upsert_many(
        [make_article("a"), make_article("b", title="new"), make_article("c"), make_article("c")]
    )
    assert counts == {"unchanged": 2, "updated": 1, "ingested": 1}
    # Per id, the last write of the batch: the repeated "c" is unchanged against the first.
    assert counts.statuses == {"a": "unchanged", "b": "updated", "c": "unchanged"}
    assert store.get_article("b").title == "new"


def test_upsert_many_is_one_transaction(store, monkeypatch):
    from storyline.store import sql

    # One article per chunk: "ok-1" is written before "bad" fails, and must be rolled back.
    monkeypatch.setattr(sql, "WRITE_CHUNK", 1)
    store.upsert_article(make_article("kept"))
    bad = make_article("bad", raw=RawDocument("bad", "record", "x", "o", {"when": datetime.now()}))
    with pytest.raises(StoreError, match="bad"):
        store.upsert_many([make_article("ok-1"), make_article("kept", title="new"), bad])
    assert [a.id for a in store.iter_articles()] == ["kept"]
    assert store.get_article("kept").title == make_article().title


def test_upsert_many_spans_several_write_chunks(store, monkeypatch):
    from storyline.store import sql

    monkeypatch.setattr(sql, "WRITE_CHUNK", 3)
    articles = [make_article(f"id-{i:02d}") for i in range(8)] + [make_article("id-01", lang="ru")]
    assert store.upsert_many(iter(articles)) == {"ingested": 8, "updated": 1}
    assert store.get_article("id-01").lang == "ru"


# -- iteration --------------------------------------------------------------------------------


def test_iter_articles_orders_by_instant_then_id_undated_last(store):
    minus5 = timezone(timedelta(hours=-5))
    dated = {
        # Local text order ("09:00" < "20:00") is not time order: 09:00-05:00 is 14:00 UTC.
        "k": datetime(2021, 12, 7, 9, 0, tzinfo=minus5),
        "b": datetime(2021, 12, 7, 20, 0, tzinfo=KYIV),
        "a": datetime(2021, 12, 7, 18, 0, tzinfo=UTC),  # same instant as "b"
        "z": datetime(2021, 12, 6, 23, 0, tzinfo=UTC),
        "Y": datetime(2021, 12, 8, 1, 0, tzinfo=KYIV),
    }
    for article_id, published in dated.items():
        store.upsert_article(make_article(article_id, published=published))
    for article_id in ["u2", "U1", "u0"]:
        store.upsert_article(make_article(article_id, published=None))

    expected = sorted(dated, key=lambda i: (dated[i], i)) + sorted(["u2", "U1", "u0"])
    for batch_size in (1, 2, 500):
        assert [a.id for a in store.iter_articles(batch_size=batch_size)] == expected


def test_iter_articles_rejects_a_bad_batch_size(store):
    with pytest.raises(ValueError, match="0"):
        next(store.iter_articles(batch_size=0))


# -- rejections -------------------------------------------------------------------------------


def test_rejections_keep_the_raw_input_and_are_idempotent(store):
    raw = make_article("short").raw
    rejection = Rejection("feed.jsonl:7", "too_short", "42 chars < 200", raw)
    assert store.add_rejection(rejection) == "ingested"
    assert store.add_rejection(rejection) == "unchanged"
    assert store.add_rejection(Rejection("feed.jsonl:7", "too_short", "41 chars", raw)) == "updated"
    store.add_rejection(Rejection("feed.jsonl:7", "not_news", "a list page", raw))
    store.add_rejection(Rejection("bin.dat", "undecodable", "no text encoding fits"))

    got = list(store.iter_rejections())
    assert [(r.origin, r.reason) for r in got] == [
        ("bin.dat", "undecodable"),
        ("feed.jsonl:7", "not_news"),
        ("feed.jsonl:7", "too_short"),
    ]
    assert got[0].raw is None
    assert got[2] == Rejection("feed.jsonl:7", "too_short", "41 chars", raw)
    assert got[2].raw.crawled_at.isoformat() == raw.crawled_at.isoformat()


# -- opening, migrations ----------------------------------------------------------------------


def test_migrations_are_recorded_and_not_rerun(durable_url):
    with open_store(durable_url) as first:
        assert first.schema_version == latest_version() == len(load_steps())
        first.upsert_article(make_article())
        with first.engine.connect() as conn:
            recorded = conn.execute(text("SELECT * FROM schema_version ORDER BY version")).all()
    assert [row.version for row in recorded] == list(range(1, latest_version() + 1))

    with open_store(durable_url) as again:
        with again.engine.connect() as conn:
            assert conn.execute(text("SELECT * FROM schema_version ORDER BY version")).all() == (
                recorded
            )
        assert again.get_article(make_article().id) == make_article()


def test_a_newer_store_is_refused(durable_url):
    with open_store(durable_url) as store, store.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'x', 'now')")
        )
    with pytest.raises(StoreError, match=r"schema version 999.*up to \d+") as caught:
        open_store(durable_url)
    assert caught.value.hint and "upgrade" in caught.value.hint


def test_tables_match_the_declared_schema(store):
    """The migration SQL and the Core tables the queries use must describe the same columns."""
    inspector = inspect(store.engine)
    for table in metadata.sorted_tables:
        assert [c["name"] for c in inspector.get_columns(table.name)] == [
            c.name for c in table.columns
        ]
    indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("articles")}
    for columns in [("published_key", "id"), ("source",), ("lang",), ("event_id",), ("story_id",)]:
        assert columns in indexed


def test_sqlite_file_settings(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_memory_urls(url):
    with open_store(url) as store:
        store.upsert_article(make_article())
        assert store.count_articles() == 1
    with open_store(url) as fresh:
        assert fresh.count_articles() == 0


@pytest.mark.parametrize("url", ["mysql://u@h/db", "file:///tmp/x.db", "storyline.db", ""])
def test_an_unknown_scheme_is_a_config_error(url):
    with pytest.raises(ConfigError) as caught:
        open_store(url)
    assert repr(url) in str(caught.value)
    for scheme in SUPPORTED_SCHEMES:
        assert scheme in caught.value.hint


def test_a_missing_folder_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path / 'nope' / 's.db'}")


def test_a_closed_store_says_so(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    store.close()
    store.close()  # closing twice is harmless
    with pytest.raises(StoreError, match="closed"):
        store.count_articles()


def test_concurrent_writers_on_one_sqlite_file_wait_instead_of_failing(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url).close()

    def write(worker: int) -> int:
        with open_store(url) as store:
            # Read-then-write in every call: the pattern that fails under deferred BEGIN.
            return sum(
                store.upsert_article(make_article(f"w{worker}-{i}")) == "ingested"
                for i in range(25)
            )

    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(write, range(4))) == 100
    with open_store(url) as store:
        assert store.count_articles() == 100
