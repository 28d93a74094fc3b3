"""The storyline command as a user runs it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from storyline.cli import main

CRAWLED = "2022-01-01T12:00:00+02:00"


@pytest.fixture()
def run(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args, input=None):
        result = CliRunner().invoke(main, [*args, "--db", db], input=input, catch_exceptions=False)
        return result

    return invoke


def test_ingest_reports_each_bad_input_and_goes_on(run, seeds, tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"id": "x", "text": 5}\n{oops\n', encoding="utf-8")
    (tmp_path / "blob.txt").write_bytes(bytes(range(256)) * 8)
    result = run("ingest", str(seeds), str(tmp_path / "bad.jsonl"), str(tmp_path / "blob.txt"),
                 "--crawled-at", CRAWLED)
    assert result.exit_code == 0, result.output
    assert f"rejected {tmp_path / 'bad.jsonl'}:1: bad_record" in result.output
    assert f"rejected {tmp_path / 'bad.jsonl'}:2: bad_record: not valid JSON" in result.output
    assert f"rejected {tmp_path / 'blob.txt'}: undecodable" in result.output
    assert "5 ingested, 0 updated, 0 unchanged, 3 rejected (bad_record: 2, undecodable: 1)" \
        in result.output


def test_reingest_changes_nothing(run, seeds):
    run("ingest", str(seeds), "--crawled-at", CRAWLED)
    again = run("ingest", str(seeds), "--crawled-at", CRAWLED)
    assert "0 ingested, 0 updated, 5 unchanged, 0 rejected; 5 articles" in again.output


def test_strict_exit_status(run, tmp_path):
    (tmp_path / "bad.jsonl").write_text("{oops\n", encoding="utf-8")
    assert run("ingest", str(tmp_path / "bad.jsonl"), "--strict").exit_code == 2


def test_article_text_and_json(run, seeds):
    run("ingest", str(seeds), "--crawled-at", CRAWLED)
    text = run("article", "003_8ab916facf85dbb5").output
    assert text.splitlines()[0].startswith("США — за діалог з Росією")
    assert "Інтерфакс-Україна · 2021-12-02 19:21+02:00 · uk" in text
    assert "ЩЕ ЗА ТЕМОЮ" not in text
    record = json.loads(run("article", "003_8ab916facf85dbb5", "--format", "json").output)
    assert record["published"] == "2021-12-02T19:21:00+02:00"
    assert record["event_id"].startswith("ev_") and record["story_id"].startswith("st_")
    assert record["duplicate_of"] is None
    assert {p["lang"] for p in record["paragraphs"]} == {"uk"}


def test_unknown_article_is_one_clear_error(run):
    result = run("article", "nope")
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "nope" in result.output


def test_export_jsonl_to_stdout(run, seeds):
    run("ingest", str(seeds), "--crawled-at", CRAWLED)
    lines = run("export", "--format", "jsonl").output.splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["id"] for r in records} >= {"000_18365f23880e082f", "004_49fd28c3542652b2"}
    assert {"id", "url", "source", "title", "published", "lang", "text", "event_id", "story_id",
            "duplicate_of", "entities"} <= set(records[0])


def test_stdin(run):
    body = ("Національний банк залишив облікову ставку без змін, повідомили у регуляторі. "
            "Рішення ухвалили одноголосно, а наступне засідання відбудеться в червні. ") * 2
    result = run("ingest", "-", input=body.encode())
    assert "1 ingested" in result.output


def test_bad_store_url_is_a_config_error():
    result = CliRunner().invoke(main, ["articles", "--db", "mysql://x/y"])
    assert result.exit_code == 1
    assert "unsupported store URL" in result.output and "Hint:" in result.output


def test_articles_lists_newest_first(run, seeds):
    run("ingest", str(seeds), "--crawled-at", CRAWLED)
    lines = run("articles", "--lang", "uk").output.splitlines()
    rows = [line for line in lines if line[:4].isdigit()]
    assert rows[0].startswith("2021-12-31 06:50") and len(rows) == 3


def test_max_document_bytes_rejects_larger_inputs_and_keeps_the_rest(run, seeds, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("Київ. " + "Переговори тривали до вечора. " * 200, encoding="utf-8")
    result = run("ingest", str(seeds), str(big), "--crawled-at", CRAWLED, "--no-cluster",
                 "--max-document-bytes", "6K")
    assert result.exit_code == 0, result.output
    assert f"rejected {big}: too_large" in result.output
    assert "5 ingested" in result.output  # the seeds (under 6 KB each) are kept
    bad = run("ingest", str(big), "--max-document-bytes", "lots")
    assert bad.exit_code == 1 and "max_document_bytes must be a size in bytes" in bad.output
