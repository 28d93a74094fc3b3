"""Search on a store clustered with e5 vectors: the query is embedded by the same model, hits by
meaning join the text hits, reports of a hit's event cross scripts, nonsense stays empty.

Twenty sample pages of two stories (Black Sea shipping talks, the Mukachevo flood), so that the
e5 model runs on a few articles only."""

from __future__ import annotations

import pytest

from search_corpus import SAMPLE, SAMPLE_CRAWLED, sample_labels
from storyline.ingest.run import ingest
from storyline.search import SearchQuery, search
from storyline.search.dense import query_embedder
from storyline.settings import Settings
from storyline.store import open_store


@pytest.fixture(scope="module")
def labels():
    return sample_labels()


@pytest.fixture(scope="module")
def store(labels, tmp_path_factory):
    files = sorted({str(SAMPLE / r["file"]) for r in labels.values()
                    if r["story"] in ("corridor", "flood") and r["format"] != "jsonl"})
    path = tmp_path_factory.mktemp("dense") / "e5.db"
    with open_store(f"sqlite:///{path}") as opened:
        summary = ingest(files, opened, Settings(crawled_at=SAMPLE_CRAWLED, embedder="e5"))
        assert summary.counts["ingested"] == len(files) == 20
        yield opened


def find(store, text: str, **options):
    return search(store, SearchQuery(text, limit=100, **options))


def test_the_query_is_embedded_by_the_stores_model_as_a_query(store):
    found = find(store, "talks")
    assert found.dense_model == store.vector_models()[0]
    embedder = query_embedder(found.dense_model)
    assert embedder.name == found.dense_model and embedder.prefix == "query"


def test_english_talks_reach_ukrainian_and_russian_reports(store, labels):
    found = find(store, "talks")
    by_text = [h for h in found.articles if "text" in h.matched_by]
    others = [h for h in found.articles if "text" not in h.matched_by]
    assert {h.lang for h in by_text} == {"en"}
    assert {h.lang for h in others} == {"uk", "ru"}
    assert all(labels[h.id]["story"] == "corridor" for h in found.articles)
    assert all("meaning" in h.matched_by for h in by_text)  # the vectors agree with the words


def test_a_language_filter_keeps_the_other_script_reports(store):
    found = find(store, "talks", langs=("uk",))
    assert found.articles and {h.lang for h in found.articles} == {"uk"}
    assert found.total == len(found.articles)


def test_hits_by_meaning_alone_are_on_topic(store, labels):
    found = find(store, "страхование судов")  # only one ru page says it in these words
    alone = [h for h in found.articles if h.matched_by == ("meaning",)]
    assert alone and all(labels[h.id]["story"] == "corridor" for h in alone)
    assert found.stories[0].articles == len(found.articles)


@pytest.mark.parametrize("query", ["asdkjh qwpoeiru", "banana smoothie recipe", "квантовий комп'ютер",
                                   "bitcoin price"])
def test_nonsense_finds_nothing_even_by_meaning(store, query):
    found = find(store, query)
    assert found.total == 0 and found.articles == ()
