"""Search over the sample corpus, the seed pages and three English records: cross-lingual finds,
filters, pagination, stories, snippets, hostile queries (lexical vectors: keys only)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from search_corpus import corpus_db
from storyline.errors import InvalidQuery
from storyline.search import SearchQuery, SearchResults, search
from storyline.store import open_store

SEEDS_UK = {"000_18365f23880e082f", "003_8ab916facf85dbb5", "004_49fd28c3542652b2"}
SEEDS_RU = {"001_4bfb422e0ae3431f", "002_116033f1b7b679cc"}
WIRE_PUTIN = {"wire-putin-talks", "wire-putin-gas", "wire-hostile"}
PUTIN = SEEDS_UK | SEEDS_RU | WIRE_PUTIN


@pytest.fixture(scope="module")
def store(tmp_path_factory, seeds):
    path = corpus_db(tmp_path_factory.getbasetemp(), seeds)
    with open_store(f"sqlite:///{path}") as opened:
        yield opened


def find(store, text: str, **options) -> SearchResults:
    return search(store, SearchQuery(text, limit=options.pop("limit", 100), **options))


def ids(results: SearchResults) -> set[str]:
    return {hit.id for hit in results.articles}


def text_ids(results: SearchResults) -> set[str]:
    """The hits found by their own words (not as another script's report of a hit's event)."""
    return {hit.id for hit in results.articles if "text" in hit.matched_by}


# -- cross-lingual finds ----------------------------------------------------------------------


@pytest.mark.parametrize("query", ["Путин", "путин", "Путін", "Путіна", "Putin", "PUTIN", "Путиным"])
def test_every_spelling_of_putin_finds_the_same_articles_in_three_languages(store, query):
    found = find(store, query)
    assert ids(found) == PUTIN
    assert {hit.lang for hit in found.articles} == {"uk", "ru", "en"}
    assert not found.relaxed


@pytest.mark.parametrize("query", ["переговоры", "переговори", "переговорів", "переговорах", "Переговоров"])
def test_ukrainian_and_russian_forms_of_talks_meet(store, query):
    found = find(store, query)
    # uk 003 says "переговорах", 004 "переговори"; ru 001/002 "переговоры"; sample corridor talks too.
    assert {"003_8ab916facf85dbb5", "004_49fd28c3542652b2"} | SEEDS_RU <= text_ids(found)
    assert {"homin-20251007-1", "prichal-20251015-1"} <= text_ids(found)  # переговорів, переговоров
    assert text_ids(found) == text_ids(find(store, "переговоры"))
    # English reports of the same rounds of talks come along, after the text matches.
    extra = [h for h in found.articles if h.id not in text_ids(found)]
    assert extra and {h.lang for h in extra} == {"en"} and all(h.matched_by == ("event",) for h in extra)
    assert found.articles[-len(extra):] == tuple(extra)


def test_every_word_must_match(store):
    both = find(store, "Путин переговоры")
    assert ids(both) == {"003_8ab916facf85dbb5", "004_49fd28c3542652b2"} | SEEDS_RU
    assert ids(both) <= ids(find(store, "Путин")) & ids(find(store, "переговоры"))
    assert both.total == len(both.articles) and not both.relaxed


def test_english_words_match_english_articles(store):
    assert ids(find(store, "Putin talks")) == {"wire-putin-talks"}
    assert "pontic-20251007-1" in ids(find(store, "talks"))  # "a new round of talks"


def test_when_no_article_has_every_word_those_with_some_are_shown(store):
    found = find(store, "Путин Стамбул")
    assert found.relaxed
    assert PUTIN <= ids(found) and "homin-20251007-1" in ids(found)


def test_names_cross_scripts_through_entity_keys(store):
    # Гордієнко (uk) = Гордиенко (ru) = Hordiienko (en) in the sample corpus's people table.
    uk, ru = ids(find(store, "Гордієнко")), ids(find(store, "Гордиенко"))
    assert uk == ru and len(uk) >= 8
    assert {"homin-20251007-1", "brizpress-20251023-1"} <= uk


@pytest.mark.parametrize("query", ["qwzxv asdkjh", "the of and", "2021", "!!! ???", "а и в"])
def test_nonsense_stop_words_and_numbers_find_nothing(store, query):
    found = find(store, query)
    assert found.total == 0 and found.articles == () and found.stories == ()


# -- filters and pages --------------------------------------------------------------------------


@pytest.mark.parametrize("langs, expected", [
    (("uk",), SEEDS_UK),
    (("ru",), SEEDS_RU),
    (("en",), WIRE_PUTIN),
    (("UK", "ru"), SEEDS_UK | SEEDS_RU),
    (("de",), set()),
])
def test_language_filter(store, langs, expected):
    assert ids(find(store, "Путин", langs=langs)) == expected


@pytest.mark.parametrize("outlets, expected", [
    (("інтерфакс-україна",), {"000_18365f23880e082f", "003_8ab916facf85dbb5"}),
    (("  TEST   wire ",), {"wire-putin-talks", "wire-putin-gas"}),
    (("Главред", "Lenta.UA"), {"004_49fd28c3542652b2", "001_4bfb422e0ae3431f"}),
    (("No Such Outlet",), set()),
])
def test_outlet_filter_ignores_case_and_spaces(store, outlets, expected):
    assert ids(find(store, "Путин", outlets=outlets)) == expected


KYIV = timezone(timedelta(hours=2))


@pytest.mark.parametrize("since, until, expected", [
    # 004 at 17:50, 003 at 19:21 Kyiv time on 2 December; 000 on 31 December; 001/002 undated.
    (datetime(2021, 12, 2, 18, 0, tzinfo=KYIV), None,
     {"003_8ab916facf85dbb5", "000_18365f23880e082f"} | WIRE_PUTIN),
    (None, datetime(2021, 12, 2, 19, 21, tzinfo=KYIV), {"004_49fd28c3542652b2"}),
    (datetime(2021, 12, 2, tzinfo=UTC), datetime(2021, 12, 8, tzinfo=UTC),
     {"003_8ab916facf85dbb5", "004_49fd28c3542652b2", "wire-putin-talks"}),
    (datetime(2021, 12, 2, 10, 0), datetime(2021, 12, 3), {"003_8ab916facf85dbb5", "004_49fd28c3542652b2"}),
])
def test_date_filters_are_half_open_and_skip_undated(store, since, until, expected):
    assert ids(find(store, "Путин", since=since, until=until)) == expected


def test_filters_combine(store):
    found = find(store, "Путин переговоры", langs=("uk",), since=datetime(2021, 12, 2, 18, tzinfo=KYIV))
    assert ids(found) == {"003_8ab916facf85dbb5"}


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_pages_add_up_to_the_whole_list(store, size):
    whole = find(store, "переговоры")
    pages = [search(store, SearchQuery("переговоры", limit=size, offset=start))
             for start in range(0, whole.total, size)]
    assert [h.id for page in pages for h in page.articles] == [h.id for h in whole.articles]
    assert {page.total for page in pages} == {whole.total}
    assert search(store, SearchQuery("переговоры", offset=whole.total)).articles == ()


def test_ranking_is_best_first_and_stable(store):
    found = find(store, "переговоры")
    scores = [hit.score for hit in found.articles]
    assert scores == sorted(scores, reverse=True)
    assert [h.id for h in find(store, "переговоры").articles] == [h.id for h in found.articles]


# -- stories --------------------------------------------------------------------------------


def test_stories_aggregate_the_hits(store):
    found = find(store, "Путин")
    seeds_story = {hit.story_id for hit in found.articles if hit.id in SEEDS_UK | SEEDS_RU}
    assert len(seeds_story) == 1
    top = found.stories[0]
    assert top.id in seeds_story  # five matching articles beat any single one
    assert top.articles == 5 and set(top.article_ids) == SEEDS_UK | SEEDS_RU
    assert top.langs == ("ru", "uk")
    assert set(top.outlets) == {"Інтерфакс-Україна", "Lenta.UA", "Сегодня", "Главред"}
    assert top.size == 5
    scores = [s.score for s in found.stories]
    assert scores == sorted(scores, reverse=True)
    for story in found.stories:
        assert set(story.article_ids) <= ids(found)


def test_story_headline_is_the_one_storyline_stories_shows(store):
    from storyline.stories.view import list_stories

    found = find(store, "Путин")
    listed = {s.id: s for s in list_stories(store, limit=100)}
    for story in found.stories:
        assert story.headline == listed[story.id].headline.text


def test_a_language_filter_picks_the_headline_language(store):
    story = find(store, "Путин", langs=("ru",)).stories[0]
    assert story.headline_lang == "ru" and story.langs == ("ru",)


# -- snippets -------------------------------------------------------------------------------


@pytest.mark.parametrize("query, pattern", [
    ("Путин", r"^(Путін|Путин|Putin)"),
    ("переговоры", r"^[Пп]ереговор"),
    ("Putin talks", r"^(Putin|talks)"),
])
def test_snippets_mark_only_matching_words(store, query, pattern):
    for hit in find(store, query).articles:
        marked = [s.text for s in hit.snippet if s.match]
        if "text" not in hit.matched_by:
            assert not marked, hit.id  # an English report of the event has no Russian word to mark
            continue
        assert marked, hit.id
        assert all(re.match(pattern, word) for word in marked), (hit.id, marked)
        assert len("".join(s.text for s in hit.snippet)) <= 260


def test_snippet_text_is_the_article_text(store):
    hit = next(h for h in find(store, "переговоры").articles if h.id == "homin-20251007-1")
    text = "".join(s.text for s in hit.snippet).strip("…")
    assert text in store.get_article(hit.id).text
    assert any(s.match and s.text == "переговорів" for s in hit.snippet)


def test_title_snippet_marks_the_title(store):
    hit = next(h for h in find(store, "переговори").articles if h.id == "004_49fd28c3542652b2")
    assert "".join(s.text for s in hit.title_snippet) == hit.title
    assert [s.text for s in hit.title_snippet if s.match] == ["переговори"]


def test_hostile_text_comes_back_as_text(store):
    hit = next(h for h in find(store, "Putin").articles if h.id == "wire-hostile")
    assert "<script>alert(1)</script>" in "".join(s.text for s in hit.snippet)
    assert hit.source == "Evil <Outlet>"
    assert [s.text for s in hit.title_snippet if s.match] == ["Putin"]


# -- hostile and invalid queries ----------------------------------------------------------------


@pytest.mark.parametrize("query, words", [
    ('"Путин" OR Байден*', "Путин OR Байден"), ("Путин AND NOT", "Путин"), ("NEAR(Путин", "NEAR Путин"),
    ("Путин)", "Путин"), ("{title}: Путин", "title Путин"), ("Путин^2", "Путин"),
    ("путин'; DROP TABLE articles; --", "путин DROP TABLE articles"), ('Путин "', "Путин"),
    ("Путин \\", "Путин"), ("Путин:*", "Путин"), ("Путин & | !", "Путин"), ("-Путин", "Путин"),
])
def test_query_syntax_is_only_words(store, query, words):
    found = find(store, query)
    assert [h.id for h in found.articles] == [h.id for h in find(store, words).articles]
    assert store.count_articles() == 60


@pytest.mark.parametrize("query", ['"', "*", "NEAR(", "OR", "AND NOT", "'", "\\", "{}", "-- ;"])
def test_a_query_of_syntax_alone_does_not_fail(store, query):
    assert find(store, query).articles == () or query == "NEAR("


@pytest.mark.parametrize("changes, message", [
    ({"text": ""}, "empty"),
    ({"text": "   \n\t"}, "empty"),
    ({"text": "x" * 501}, "at most 500"),
    ({"limit": 0}, "limit"),
    ({"limit": 101}, "limit"),
    ({"limit": True}, "limit"),
    ({"offset": -1}, "offset"),
    ({"offset": 10_001}, "offset"),
    ({"since": datetime(2022, 1, 1, tzinfo=UTC), "until": datetime(2021, 1, 1, tzinfo=UTC)}, "before"),
    ({"since": "2021-01-01"}, "datetime"),
    ({"langs": (3,)}, "strings"),
])
def test_invalid_queries_say_what_is_wrong(store, changes, message):
    with pytest.raises(InvalidQuery, match=message):
        search(store, replace(SearchQuery("Путин"), **changes))


def test_too_many_words(store):
    with pytest.raises(InvalidQuery, match="at most 12"):
        find(store, " ".join(["Путин"] * 13))


def test_results_serialise_to_json(store):
    import json

    record = find(store, "Путин", limit=2).to_dict()
    assert json.loads(json.dumps(record, ensure_ascii=False)) == record
    assert record["query"]["text"] == "Путин" and len(record["articles"]) == 2
    assert record["terms"] == ["путина", "путин", "putina", "putin", "patan"]
