"""`storyline search` and `storyline reindex` as a user runs them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from search_corpus import copy_of
from storyline.cli import main


@pytest.fixture(scope="module")
def run(tmp_path_factory, seeds):
    db = f"sqlite:///{copy_of(tmp_path_factory.getbasetemp(), seeds, 'cli-search.db')}"

    def invoke(*args):
        return CliRunner().invoke(main, [*args, "--db", db], catch_exceptions=False)

    return invoke


def test_table_marks_matches_in_brackets_and_lists_stories(run):
    result = run("search", "Путин переговоры", "--limit", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "1-2 of 4 articles for 'Путин переговоры'"
    assert "[Путиным]" in result.output or "[Путина]" in result.output
    assert "[переговоры]" in result.output
    assert "Stories" in lines and "4 of 5 articles match (ru, uk)" in result.output
    assert lines[-1].startswith("keys: путина путин")


@pytest.mark.parametrize("args, expected", [
    (["--lang", "uk"], {"000_18365f23880e082f", "003_8ab916facf85dbb5", "004_49fd28c3542652b2"}),
    (["--outlet", "інтерфакс-україна", "--outlet", "ГЛАВРЕД"],
     {"000_18365f23880e082f", "003_8ab916facf85dbb5", "004_49fd28c3542652b2"}),
    (["--since", "2021-12-02", "--until", "2021-12-02"], {"003_8ab916facf85dbb5", "004_49fd28c3542652b2"}),
    # A bare --until date includes its day; a time is exact.
    (["--since", "2021-12-02T18:00+02:00", "--until", "2021-12-07"],
     {"003_8ab916facf85dbb5", "wire-putin-talks"}),
    (["--since", "2021-12-02T18:00+02:00", "--until", "2021-12-07T18:30Z"], {"003_8ab916facf85dbb5"}),
])
def test_json_with_filters(run, args, expected):
    result = run("search", "Путин", "--format", "json", *args)
    record = json.loads(result.output)
    assert {a["id"] for a in record["articles"]} == expected
    assert record["total"] == len(expected)
    assert all(isinstance(s["match"], bool) for a in record["articles"] for s in a["snippet"])


def test_jsonl_gives_articles_then_stories(run):
    lines = [json.loads(line) for line in run("search", "Путин", "--format", "jsonl").output.splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds == sorted(kinds)  # "article" lines first, then "story"
    assert kinds.count("article") == 8 and "story" in kinds


def test_paging_options(run):
    first = json.loads(run("search", "Путин", "--format", "json", "--limit", "3").output)
    second = json.loads(run("search", "Путин", "--format", "json", "--limit", "3", "--offset", "3").output)
    assert not {a["id"] for a in first["articles"]} & {a["id"] for a in second["articles"]}
    assert first["total"] == second["total"] == 8


@pytest.mark.parametrize("args, message", [
    (["   "], "Error: the search query is empty"),
    (["x", "--limit", "0"], "Error: limit must be a whole number from 1 to 100"),
    (["x", "--until", "2021-13-01"], "Error: --until must be an ISO 8601 date"),
    (["x", "--since", "2022-01-01", "--until", "2021-01-01"], "must be before until"),
])
def test_errors_are_one_line(run, args, message):
    result = run("search", *args)
    assert result.exit_code == 1
    assert message in result.output


def test_hostile_query_and_hostile_text(run):
    result = run("search", '"Putin" OR <b>*', "--format", "table")
    assert result.exit_code == 0
    assert "<script>alert('x')</script> [Putin] & <b>friends</b>" in result.output


def test_reindex(run):
    assert run("reindex").output.startswith("60 articles indexed in sqlite:///")
    assert run("reindex", "--missing").output.startswith("0 articles indexed")
    assert "4 articles" in run("search", "Путин переговоры").output.splitlines()[0]
