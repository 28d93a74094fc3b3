"""The project's own sample corpus through the real pipeline, checked against its labels."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from conftest import REPO
from storyline.ingest.readers import read_inputs
from storyline.model import Rejection
from storyline.pipeline import Pipeline
from storyline.settings import Settings

SAMPLE = REPO / "data" / "sample"
# The crawl time `make demo` uses: it resolves the one relative date ("Сегодня, 16:40").
CRAWLED = datetime.fromisoformat("2025-10-24T18:00:00+03:00")


@pytest.fixture(scope="module")
def labels():
    return {r["id"]: r for r in map(json.loads, (SAMPLE / "labels.jsonl").open(encoding="utf-8"))}


@pytest.fixture(scope="module")
def results():
    inputs = [str(SAMPLE / "pages"), str(SAMPLE / "html"), str(SAMPLE / "feed.jsonl")]
    pipeline = Pipeline(Settings(crawled_at=CRAWLED))
    return list(pipeline.run(read_inputs(inputs, crawled_at=CRAWLED)))


@pytest.fixture(scope="module")
def articles(results):
    return {a.id: a for a in results if not isinstance(a, Rejection)}


def test_every_labelled_article_is_ingested(articles, labels):
    assert sorted(articles) == sorted(labels)


def test_the_two_bad_feed_lines_are_rejected_by_line(results):
    bad = sorted(r.origin.rsplit(":", 1)[1] for r in results if isinstance(r, Rejection))
    assert bad == ["4", "5"]


@pytest.mark.parametrize("field", ["title", "source", "published", "lang"])
def test_metadata_matches_labels(articles, labels, field):
    wrong = []
    for article_id, gold in labels.items():
        if field == "title" and "no_title" in gold.get("traps", []):
            continue  # the page does not print its headline: nothing to find
        value = getattr(articles[article_id], field)
        if field == "published" and value is not None:
            value = value.isoformat()
        if value != gold[field]:
            wrong.append((article_id, value, gold[field]))
    assert wrong == []


def test_read_also_inside_a_sentence_is_kept(articles):
    assert any(p.text.startswith("Читайте також уважно") for p in articles["homin-20251028-1"].paragraphs)
