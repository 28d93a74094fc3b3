"""The search index inside the store: written with the articles, backfilled by migration 3,
rebuilt on demand, escaped, and the same answers from SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from search_corpus import corpus_db
from storyline.errors import StoreError
from storyline.model import Article, Paragraph, RawDocument
from storyline.nlp.analyse import Analyser
from storyline.search import SearchQuery, search
from storyline.search.keys import IndexDocument, cognate_key, index_document, index_token
from storyline.store import migrations, open_store
from storyline.store.base import IndexTerm, TextFilters
from storyline.store.fulltext import PostgresFulltext, SqliteFulltext, tsvector_literal
from storyline.store.migrations import DIALECT_WORDS, _dialect_step, load_steps
from storyline.store.schema import article_to_row
from test_store import pg_url  # noqa: F401  (a fixture: a fresh PostgreSQL schema per test)


def article(article_id: str, title: str, body: str, lang: str = "uk") -> Article:
    raw = RawDocument(article_id, "record", body, "test")
    made = Article(id=article_id, raw=raw, title=title, lang=lang, source="Test",
                   published=datetime(2021, 12, 7, tzinfo=UTC), paragraphs=[Paragraph(body, lang)])
    return Analyser().analyse(made)


TALKS = article("a-talks", "Байден і Путін провели переговори", "Розмова тривала дві години.")
TRUCE = article("a-truce", "Сторони обговорили перемир'я", "Переговори відклали до весни.")


@pytest.fixture(params=["sqlite-memory", "sqlite-file", "postgresql"])
def url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return "sqlite://" if request.param == "sqlite-memory" else f"sqlite:///{tmp_path / 's.db'}"


@pytest.fixture(params=["sqlite-file", "postgresql"])
def durable_url(request, tmp_path):
    """A store that outlives its Store object (reopened by the test)."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 's.db'}"


def hits(store, query: str) -> list[str]:
    return [h.id for h in search(store, SearchQuery(query, limit=100)).articles]


def documents(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM search_documents")).scalar_one()


# -- written with the articles ----------------------------------------------------------------


def test_a_stored_article_is_searchable_at_once(url):
    with open_store(url) as store:
        store.upsert_many([TALKS, TRUCE])
        assert sorted(hits(store, "переговоры")) == ["a-talks", "a-truce"]
        assert hits(store, "Putin") == ["a-talks"]
        assert documents(store) == 2


def test_a_changed_article_is_indexed_again_and_an_unchanged_one_is_not(url):
    with open_store(url) as store:
        store.upsert_article(TALKS)
        changed = article("a-talks", "Байден і Путін обговорили газ", "Розмова тривала дві години.")
        assert store.upsert_article(changed) == "updated"
        assert hits(store, "переговори") == [] and hits(store, "газ") == ["a-talks"]
        assert store.upsert_article(changed) == "unchanged"
        assert documents(store) == 1


def test_articles_and_their_search_documents_are_one_transaction(url, monkeypatch):
    with open_store(url) as store:
        store.upsert_article(TRUCE)

        def broken(conn, docs):
            raise SQLAlchemyError("disk full")

        monkeypatch.setattr(store._fulltext, "write", broken)
        with pytest.raises(StoreError, match="disk full"):
            store.upsert_many([TALKS])
        assert not store.has_article("a-talks")
        assert documents(store) == 1


def test_a_store_from_before_search_is_backfilled_when_opened(durable_url, monkeypatch):
    url = durable_url
    # A store as storyline left it at schema version 2 (no search tables), made without SqlStore.
    first_two = load_steps()[:2]
    monkeypatch.setattr(migrations, "load_steps", lambda: first_two)
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed)
    with engine.begin() as conn:
        assert migrations.migrate(conn) == 2
        columns = {c["name"] for c in inspect(conn).get_columns("articles")}  # as of version 2
        for made in (TALKS, TRUCE):
            row = {k: v for k, v in article_to_row(made).items() if k in columns}
            row.update(ingested_at="2021-12-08T00:00:00+00:00", updated_at="2021-12-08T00:00:00+00:00")
            names, values = ", ".join(row), ", ".join(f":{k}" for k in row)
            conn.execute(text(f"INSERT INTO articles ({names}) VALUES ({values})"), row)
    engine.dispose()
    monkeypatch.undo()
    with open_store(url) as store:
        assert store.schema_version == len(load_steps())
        assert documents(store) == 2
        assert sorted(hits(store, "Путин")) == ["a-talks"]


def test_reindex_rebuilds_every_document_or_only_missing_ones(url):
    with open_store(url) as store:
        store.upsert_many([TALKS, TRUCE])
        assert store.reindex_search() == 2
        assert store.reindex_search(missing_only=True) == 0
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM search_documents WHERE article_id = 'a-truce'"))
        assert store.reindex_search(missing_only=True) == 1
        assert sorted(hits(store, "переговори")) == ["a-talks", "a-truce"]
        assert documents(store) == 2


# -- SQLite and PostgreSQL agree ------------------------------------------------------------------

PARITY_QUERIES = ["Путин", "переговоры", "Putin talks", "Путин переговоры", "Гордиенко", "Мукачево",
                  "учетная ставка", "flood", "Путин Стамбул", "qwzxv"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, seeds):
    path = corpus_db(tmp_path_factory.getbasetemp(), seeds)
    with open_store(f"sqlite:///{path}") as store:
        return list(store.iter_articles())


@pytest.mark.parametrize("query", PARITY_QUERIES)
def test_sqlite_and_postgresql_find_the_same_articles(query, corpus, pg_url):  # noqa: F811
    answers = []
    for url in ("sqlite://", pg_url):
        with open_store(url) as store:
            store.save_batch(corpus)
            found = search(store, SearchQuery(query, limit=100))
            answers.append((found.total, found.relaxed, {h.id for h in found.articles}, found.terms))
    assert answers[0] == answers[1]


def test_both_backends_rank_the_clear_winner_first(corpus, pg_url):  # noqa: F811
    firsts = []
    for url in ("sqlite://", pg_url):
        with open_store(url) as store:
            store.save_batch(corpus)
            firsts.append(hits(store, "Путин переговоры Байден")[0])
    assert firsts[0] == firsts[1]


# -- escaping and documents -------------------------------------------------------------------


@pytest.mark.parametrize("token", ['a"b', "a'b", "a\\b", "NEAR(", "*", "title:x", "a b"])
def test_odd_keys_are_quoted_not_parsed(url, token):
    with open_store(url) as store:
        store.upsert_article(TALKS)
        found, total = store.match_articles([[IndexTerm("lemma", token)]], TextFilters())
        assert (found, total) == ([], 0)


def test_match_expressions_quote_every_key():
    groups = [[IndexTerm("lemma", 'пу"тин'), IndexTerm("entity", "patan")], [IndexTerm("cognate", "x'y")]]
    assert SqliteFulltext().match_expression(groups, True) == (
        '({title body} : "пу""тин" OR {entities} : "patan") AND ({cognates} : "x\'y")')
    assert PostgresFulltext().match_expression(groups, False) == (
        "('пу\"тин':AC | 'patan':B) | ('x''y':D)")


def test_index_document_fields():
    doc = index_document(TALKS.title, TALKS.lang, TALKS.lemmas, [e.key for e in TALKS.entities])
    assert doc.title == ("байден", "путін", "провести", "переговори")
    assert "peregovori" in doc.cognates and "putin" in doc.cognates
    assert {"badan", "patan"} <= set(doc.entities)


def test_tsvector_literal_weights_positions_and_caps():
    doc = IndexDocument(("путін",), ("путін", "газ") + ("газ",) * 300, ("putin",), ("patan",))
    literal = tsvector_literal(doc)
    assert literal.startswith("'путін':1A,3C 'patan':2B 'газ':4C,5C")
    assert literal.count("C,") < 260  # at most 256 positions per key


@pytest.mark.parametrize("word, key", [
    ("переговори", "peregovori"), ("переговоры", "peregovori"), ("путін", "putin"), ("путин", "putin"),
    ("міністр", "ministr"), ("министр", "ministr"), ("процес", "proces"), ("процесс", "proces"),
    ("заявити", "zavit"), ("заявить", "zavit"), ("питання", "pitana"), ("мир", None), ("talk", None),
])
def test_cognate_keys_meet_across_uk_and_ru_but_not_across_words(word, key):
    assert cognate_key(word) == key


@pytest.mark.parametrize("raw, token", [
    ("Путін", "путін"), ("п'ятниця", "пятниця"), ("Ёлка", "елка"), ("white-house", "whitehouse"),
    ("a_b", "ab"), ('x"y', "xy"), ("и\u0306", "й"),
])
def test_index_tokens_are_letters_and_digits(raw, token):
    assert index_token(raw) == token


# -- migrations written per dialect -------------------------------------------------------------


def test_search_step_has_a_file_per_dialect():
    step = load_steps()[2]
    assert (step.version, step.name) == (3, "search_index")
    assert any("fts5" in s for s in step.statements("sqlite"))
    assert any("tsvector" in s for s in step.statements("postgresql"))


def test_a_step_missing_a_dialect_is_refused():
    with pytest.raises(StoreError, match="no file for postgresql"):
        _dialect_step(9, "half", {"sqlite": "SELECT 1"})
    assert set(DIALECT_WORDS) == {"sqlite", "postgresql"}
