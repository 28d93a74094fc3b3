"""Export: every article as the contract's record, in JSON Lines, CSV and Parquet."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pyarrow.parquet as pq
import pytest

from storyline.errors import ConfigError
from storyline.export import FORMATS, RECORD_FIELDS, export_articles
from storyline.model import Article, Entity, Paragraph, RawDocument
from storyline.store import open_store


def make_article(article_id: str, **fields) -> Article:
    raw = RawDocument(article_id, "text", f"raw {article_id}", f"{article_id}.txt")
    defaults = {
        "title": f'Заголовок {article_id}, "з лапками"',
        "source": "Українська правда",
        "url": f"https://example.org/{article_id}",
        "published": datetime(2021, 12, 7, 20, 7, tzinfo=timezone(timedelta(hours=2))),
        "lang": "uk",
        # Newlines, commas, quotes and non-Latin text: what CSV quoting must survive.
        "paragraphs": [
            Paragraph("Перший рядок, «цитата».\nДругий рядок.", "uk"),
            Paragraph('Путин сказал: "да".', "ru"),
        ],
        "event_id": "ev-1",
        "story_id": "st-1",
        "entities": [Entity("Путіна", "PER", "putin"), Entity("Київ", "LOC", "kyiv")],
    }
    return Article(id=article_id, raw=raw, **{**defaults, **fields})


ARTICLES = [
    make_article("b", published=datetime(2021, 12, 8, 9, 0, tzinfo=UTC), duplicate_of="a"),
    make_article("a"),
    # Nothing but the id: every nullable column null, no entities.
    Article(id="bare", raw=RawDocument("bare", "text", "", "stdin")),
    make_article("c", lang="en", published=None, entities=[Entity("Biden", "PER", "biden")]),
]


@pytest.fixture
def store():
    with open_store("sqlite://") as opened:
        opened.upsert_many(ARTICLES)
        yield opened


def expected(store) -> list[dict]:
    return [a.to_record() for a in store.iter_articles()]


def read_back(fmt: str, data: bytes) -> list[dict]:
    if fmt == "jsonl":
        return [json.loads(line) for line in data.decode("utf-8").splitlines()]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
        for row in rows:
            row["entities"] = json.loads(row["entities"])
        return rows
    return pq.read_table(io.BytesIO(data)).to_pylist()


def comparable(fmt: str, records: list[dict]) -> list[dict]:
    if fmt != "csv":
        return records
    # CSV has no null: an empty cell stands for None.
    return [{k: ("" if v is None else v) for k, v in r.items()} for r in records]


def test_record_fields_are_the_contract():
    assert RECORD_FIELDS == tuple(ARTICLES[0].to_record())


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_to_a_stream_round_trips(store, fmt):
    out = io.BytesIO()
    assert export_articles(store, fmt, out) == len(ARTICLES)
    assert read_back(fmt, out.getvalue()) == comparable(fmt, expected(store))
    assert not out.closed  # the caller's stream is the caller's to close


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_to_a_path_round_trips(store, fmt, tmp_path):
    path = tmp_path / f"articles.{fmt}"
    assert export_articles(store, fmt, path) == len(ARTICLES)
    assert read_back(fmt, path.read_bytes()) == comparable(fmt, expected(store))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no .part left behind


def test_jsonl_is_readable_utf8_one_record_per_line(store):
    out = io.BytesIO()
    export_articles(store, "jsonl", out)
    lines = out.getvalue().decode("utf-8").splitlines()
    assert len(lines) == len(ARTICLES)
    assert "Путіна" in out.getvalue().decode("utf-8")  # ensure_ascii=False


def test_csv_quotes_text_with_newlines(store):
    out = io.BytesIO()
    export_articles(store, "csv", out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"), newline="")))
    assert rows[0] == list(RECORD_FIELDS)
    assert len(rows) == 1 + len(ARTICLES)
    assert any("\n" in row[RECORD_FIELDS.index("text")] for row in rows[1:])


def test_parquet_streams_in_row_groups_with_typed_entities(store, monkeypatch):
    from storyline import export

    monkeypatch.setattr(export, "PARQUET_BATCH_ROWS", 3)
    out = io.BytesIO()
    export_articles(store, "parquet", out)
    parquet = pq.ParquetFile(io.BytesIO(out.getvalue()))
    assert parquet.metadata.num_row_groups == 2  # 3 + 1 rows: written batch by batch
    entities = parquet.schema_arrow.field("entities").type
    assert [entities.value_type.field(i).name for i in range(3)] == ["text", "type", "key"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_store_exports_nothing_but_a_valid_file(fmt):
    with open_store("sqlite://") as empty:
        out = io.BytesIO()
        assert export_articles(empty, fmt, out) == 0
    assert read_back(fmt, out.getvalue()) == []


def test_an_unknown_format_is_a_config_error_and_writes_nothing(store, tmp_path):
    path = tmp_path / "out.xml"
    with pytest.raises(ConfigError, match="xml") as caught:
        export_articles(store, "xml", path)
    assert "parquet" in caught.value.hint
    assert not path.exists()


def test_an_unwritable_path_is_a_config_error(store, tmp_path):
    with pytest.raises(ConfigError, match="missing"):
        export_articles(store, "jsonl", tmp_path / "missing" / "out.jsonl")


def test_export_to_stdout(store, capfdbinary):
    assert export_articles(store, "jsonl", None) == len(ARTICLES)
    lines = capfdbinary.readouterr().out.decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == expected(store)
