"""Article digests: what a story's headline and summary need of each article, stored with it so
that listing a story does not split and lemmatise all its articles again. The listing computed
from digests must be the listing computed from the whole articles, and a store whose digests are
missing or outdated must mend them when it lists their stories."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import numpy as np
import pytest

from storyline.store import open_store
from storyline.stories.digest import DIGEST_VERSION, Digest, digest_of
from storyline.stories.listing import story_facts
from storyline.stories.summary import summarise
from test_story_listing import listing_snapshot, sample_url, two_batches  # noqa: F401  (fixtures)


def copy_of(url: str, tmp_path) -> str:
    target = tmp_path / "copy.db"
    with sqlite3.connect(url.removeprefix("sqlite:///")) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def stored_digests(url: str) -> dict[str, tuple]:
    """article id -> (version, title keys, sentences, texts) as stored."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        query = "SELECT article_id, version, title_keys, sentences, texts FROM article_digests"
        return {k: tuple(rest) for k, *rest in db.execute(query)}


def store_articles(url: str) -> list:
    with open_store(url) as store:
        return list(store.iter_articles())


def facts_from_whole_articles(store, story_id: str) -> dict:
    articles = store.articles_of(story_id=story_id)
    model = store.vector_models()[0]
    vectors = {k: np.frombuffer(v, dtype=np.float32)
               for k, v in store.get_vectors(model, [a.id for a in articles]).items()}
    row = store.load_clusters("story", ids=[story_id])[0]
    return json.loads(story_facts(story_id, articles, row, vectors).to_json())


def test_every_stored_article_has_the_digest_of_its_text(sample_url):  # noqa: F811
    found = stored_digests(sample_url)
    with open_store(sample_url) as store:
        articles = list(store.iter_articles())
    assert len(articles) > 50 and set(found) == {a.id for a in articles}
    assert {version for version, *_ in found.values()} == {DIGEST_VERSION}
    for article in articles:
        assert Digest.stored(*found[article.id][1:]) == digest_of(article), article.id
    assert sum(len(digest_of(a)) for a in articles) > 3 * len(articles)


def test_a_digest_keeps_what_a_summary_needs_of_each_sentence(sample_url):  # noqa: F811
    with open_store(sample_url) as store:
        articles = list(store.iter_articles())
    digest = next(d for a in articles if len(d := digest_of(a)) and len(d.entity_keys))
    assert Digest.stored(digest.title_json(), digest.sentence_blob(), digest.texts_json()) == digest
    assert [len(t) for t in digest.texts] == digest.lengths.tolist()
    assert all(digest.lemmas(i) for i, t in enumerate(digest.texts) if len(t) > 40)
    # Summaries from digests and from the articles' text choose the same sentences.
    for lang in (None, "uk", "ru", "en"):
        whole = summarise(articles, lang)
        assert summarise(articles, lang, digests={a.id: digest_of(a) for a in articles}) == whole
        assert whole.sentences


def test_the_listing_from_digests_is_the_listing_from_whole_articles(sample_url):  # noqa: F811
    with open_store(sample_url) as store:
        stored = listing_snapshot(store)
        assert len(stored) > 5
        for story_id, (_, _, facts) in stored.items():
            assert facts == facts_from_whole_articles(store, story_id), story_id


def test_missing_and_outdated_digests_are_mended_when_their_stories_are_listed(sample_url, tmp_path):  # noqa: F811
    url = copy_of(sample_url, tmp_path)
    before = stored_digests(url)
    # An outdated digest that would show if it were used: no sentences, no title keys.
    empty = digest_of(replace(store_articles(url)[0], title=None, paragraphs=[]))
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        ids = sorted(before)
        db.execute(f"DELETE FROM article_digests WHERE article_id IN ({','.join('?' * (len(ids) // 2))})",
                   ids[: len(ids) // 2])
        db.execute("UPDATE article_digests SET version = 0, title_keys = ?, sentences = ?, texts = ?",
                   (empty.title_json(), empty.sentence_blob(), empty.texts_json()))
    with open_store(url) as store:
        expected = listing_snapshot(store)
        store.rebuild_listing()
        assert listing_snapshot(store) == expected
    assert stored_digests(url) == before


def test_a_story_without_stored_top_terms_is_listed_from_whole_articles(sample_url, tmp_path):  # noqa: F811
    url = copy_of(sample_url, tmp_path)
    with open_store(url) as store:
        big = max(listing_snapshot(store).items(), key=lambda kv: kv[1][2]["articles"])[0]
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        (state,) = db.execute("SELECT state FROM clusters WHERE id = ?", (big,)).fetchone()
        db.execute("UPDATE clusters SET state = ? WHERE id = ?",
                   (json.dumps({**json.loads(state), "terms": {}}), big))
    with open_store(url) as store:
        store.rebuild_listing()
        assert listing_snapshot(store)[big][2] == facts_from_whole_articles(store, big)


def test_an_updated_article_gets_the_digest_of_its_new_text(sample_url, tmp_path):  # noqa: F811
    url = copy_of(sample_url, tmp_path)
    with open_store(url) as store:
        article = next(a for a in store.iter_articles() if a.title and a.lang == "uk")
        renamed = replace(article, title="Парламент ухвалив бюджет на наступний рік")
        assert store.upsert_article(renamed) == "updated"
    digest = Digest.stored(*stored_digests(url)[article.id][1:])
    assert digest == digest_of(renamed) != digest_of(article)
    assert {"бюджет", "парламент"} <= digest.title_keys


@pytest.mark.parametrize("lang", ["uk", "ru", "en"])
def test_a_sentence_repeating_the_title_is_not_a_candidate(sample_url, lang):  # noqa: F811
    with open_store(sample_url) as store:
        article = next(a for a in store.iter_articles() if a.lang == lang and a.title and a.paragraphs)
    first = article.paragraphs[0]
    echoed = replace(article, paragraphs=[replace(first, text=f"{article.title}. {first.text}"),
                                          *article.paragraphs[1:]])
    texts = [t.rstrip(".") for t in digest_of(echoed).texts]
    assert " ".join(article.title.split()).rstrip(".") not in texts
    assert digest_of(echoed).positions[0] >= 1
