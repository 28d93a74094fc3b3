"""Story output: ranking, headlines, summaries, views, renderings and the two CLI commands."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from storyline.errors import NotFound
from storyline.model import Article, Paragraph, RawDocument
from storyline.stories import list_stories, rank_story, story_view
from storyline.stories.cli import stories, story
from storyline.stories.headline import TitleCandidate, choose_headline, clickbait_penalties
from storyline.stories.rank import PARTS, rank_stories
from storyline.stories.render import story_json, story_markdown, story_text, story_to_dict
from storyline.stories.summary import is_quote_only, summarise

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
CRAWLED_AT = datetime.fromisoformat("2025-10-24T18:00:00+03:00")
T0 = datetime(2025, 10, 1, 12, tzinfo=UTC)


def make(
    aid,
    *,
    source="Outlet A",
    lang="uk",
    hours=0.0,
    dup=None,
    title="Заголовок новини про подію",
    paragraphs=(),
    entities=(),
    quotes=(),
    lemmas=(),
):
    return Article(
        id=aid,
        raw=RawDocument(aid, "text", "", aid),
        title=title,
        source=source,
        published=T0 + timedelta(hours=hours) if hours is not None else None,
        lang=lang,
        paragraphs=[Paragraph(p, lang) for p in paragraphs],
        duplicate_of=dup,
        entities=list(entities),
        quotes=list(quotes),
        lemmas=list(lemmas),
    )


# -- ranking -----------------------------------------------------------------------------------


def test_rank_parts_add_up_and_explain():
    ranking = rank_story([make("a", hours=0), make("b", source="B", lang="en", hours=3)], T0)
    assert [p.name for p in ranking.parts] == list(PARTS)
    assert ranking.score == pytest.approx(sum(p.points for p in ranking.parts))
    assert all(name in ranking.explain() for name in PARTS)
    assert ranking.part("outlets").value == 2 and ranking.part("languages").value == 2


def test_more_outlets_and_languages_rank_higher():
    narrow = [make(f"n{i}", source="Same", hours=i) for i in range(4)]
    wide = [make(f"w{i}", source=f"Outlet {i}", lang=["uk", "ru", "en"][i % 3], hours=i) for i in range(4)]
    ranked = rank_stories({"narrow": narrow, "wide": wide}, T0 + timedelta(hours=4))
    assert [sid for sid, _ in ranked] == ["wide", "narrow"]


def test_duplicates_add_no_outlet_or_article():
    base = [make("a", source="A"), make("b", source="B", hours=1)]
    with_dup = base + [make("c", source="C", hours=2, dup="a")]
    r1, r2 = rank_story(base, T0), rank_story(with_dup, T0)
    assert (r2.articles, len(r2.outlets), r2.duplicates) == (2, 2, 1)
    assert r2.part("outlets").points == r1.part("outlets").points
    assert r2.part("articles").points == r1.part("articles").points


def test_recency_and_velocity():
    reference = T0 + timedelta(days=10)
    old = rank_story([make("o1", hours=0), make("o2", source="B", hours=1)], reference)
    new = rank_story([make("n1", hours=240), make("n2", source="B", hours=239)], reference)
    assert new.part("recency").points > old.part("recency").points
    assert new.score > old.score
    # Same articles over ten days: a burst at the end is faster than an even spread.
    burst = [make(f"b{i}", source=f"S{i}", hours=0 if i == 0 else 230 + i) for i in range(6)]
    even = [make(f"e{i}", source=f"S{i}", hours=i * 48) for i in range(6)]
    assert rank_story(burst).part("velocity").value > rank_story(even).part("velocity").value


def test_rank_rejects_unknown_weight():
    with pytest.raises(ValueError, match="unknown ranking weight"):
        rank_story([make("a")], weights={"clicks": 1.0})


# -- headline ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title, sign",
    [
        ("Ви не повірите, що сталося на засіданні уряду", "unbelievable"),
        ("ШОК! Уряд ухвалив рішення про тарифи на світло", "shock"),
        ("5 причин, чому гривня зміцнилася цього тижня", "listicle"),
        ("You won't believe what the central bank did today", "unbelievable"),
        ("Чи знизить НБУ облікову ставку в листопаді?", "question"),
        ("НАЦБАНК ЗНИЗИВ СТАВКУ ВПЕРШЕ ЗА РІК", "all_caps"),
        ("Ставка", "too_short"),
    ],
)
def test_clickbait_signs(title, sign):
    assert sign in {name for name, _ in clickbait_penalties(title)}


def test_plain_title_has_no_penalty():
    assert clickbait_penalties("Нацбанк знизив облікову ставку до 15% уперше за рік") == []


def test_clickbait_title_loses_even_when_closest_to_centroid():
    vectors = {"bait": np.array([1.0, 0.0]), "plain": np.array([0.95, 0.312])}
    cands = [
        TitleCandidate("bait", "ШОК! Ви не повірите, що зробив Нацбанк зі ставкою", "uk"),
        TitleCandidate("plain", "Нацбанк знизив облікову ставку до 15% уперше за рік", "uk"),
    ]
    head = choose_headline(cands, "uk", vectors=vectors, centroid=np.array([1.0, 0.0]))
    assert head.article_id == "plain" and head.method == "centroid" and not head.fallback


def test_headline_language_preference_and_fallback():
    cands = [
        TitleCandidate("u1", "Нацбанк знизив облікову ставку до 15% уперше за рік", "uk"),
        TitleCandidate("u2", "Гривня зміцнилася після рішення Національного банку", "uk"),
        TitleCandidate("e1", "Ukraine's central bank cuts its key rate to 15 percent", "en"),
    ]
    assert choose_headline(cands).lang == "uk"  # the main language by default
    english = choose_headline(cands, "en")
    assert (english.article_id, english.fallback) == ("e1", False)
    german = choose_headline(cands, "de")
    assert german.fallback and german.preferred_lang == "de" and german.lang in {"uk", "en"}


def test_headline_overlap_fallback_prefers_shared_keys():
    cands = [
        TitleCandidate("a", "Погода у вихідні буде теплою та сонячною", "uk", frozenset({"погода"})),
        TitleCandidate(
            "b", "Нацбанк знизив облікову ставку до 15%", "uk", frozenset({"нацбанк", "ставка", "знизити"})
        ),
    ]
    head = choose_headline(cands, top_keys=["ставка", "нацбанк", "гривня"])
    assert head.article_id == "b" and head.method == "overlap"


# -- summary -----------------------------------------------------------------------------------


LEAD = "Національний банк України знизив облікову ставку з 15,5% до 15% річних, повідомив регулятор у четвер."
BODY = [
    LEAD + " Це перше зниження ставки за понад рік. Рішення ухвалила правління Нацбанку.",
    "«Інфляція сповільнюється швидше, ніж ми очікували», — сказав голова банку.",
    "Банки вже почали знижувати ставки за депозитами для населення після рішення Нацбанку.",
]


def test_summary_sentences_bounded_unique_and_in_language():
    articles = [
        make("u1", paragraphs=BODY, hours=0, lemmas=["ставка", "нацбанк", "банк"]),
        make(
            "u2",
            source="B",
            paragraphs=[LEAD, "Гривня зміцнилася на міжбанку після рішення банку про облікову ставку."],
            hours=2,
        ),
        make(
            "e1",
            source="C",
            lang="en",
            paragraphs=["The central bank of Ukraine cut its key rate to 15% on Thursday, its first cut."],
            hours=1,
        ),
    ]
    summary = summarise(articles, "uk")
    assert 2 <= len(summary.sentences) <= 4
    texts = [s.text for s in summary.sentences]
    assert len(set(texts)) == len(texts) and texts.count(LEAD) <= 1
    assert {s.article_id for s in summary.sentences} <= {"u1", "u2"}
    times = [(s.published, s.article_id, s.position) for s in summary.sentences]
    assert times == sorted(times)
    assert not any(is_quote_only(t) for t in texts)
    english = summarise(articles, "en")
    assert english.lang == "en" and english.sentences[0].article_id == "e1"
    assert summarise(articles, "de").fallback


def test_quote_only_sentences():
    assert is_quote_only("«Інфляція сповільнюється швидше, ніж ми очікували», — сказав голова банку.")
    assert not is_quote_only("Банки почали знижувати ставки за депозитами після рішення Нацбанку.")


# -- views on the sample corpus ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> str:
    from storyline.ingest.run import ingest
    from storyline.settings import Settings
    from storyline.store import open_store

    url = f"sqlite:///{tmp_path_factory.mktemp('stories') / 'sample.db'}"
    paths = [str(SAMPLE / "pages"), str(SAMPLE / "html"), str(SAMPLE / "feed.jsonl")]
    with open_store(url) as store:
        ingest(paths, store, Settings(crawled_at=CRAWLED_AT))
    return url


@pytest.fixture(scope="module")
def store(sample_db):
    from storyline.store import open_store

    with open_store(sample_db) as opened:
        yield opened


@pytest.fixture(scope="module")
def largest(store):
    rows = store.load_clusters("story")
    return max(rows, key=lambda r: (r.articles, r.id)).id


@pytest.fixture(scope="module")
def view(store, largest):
    return story_view(store, largest)


def test_list_stories_ranked_and_filtered(store):
    items = list_stories(store, 50)
    assert items and len({i.id for i in items}) == len(items)
    scores = [i.ranking.score for i in items]
    assert scores == sorted(scores, reverse=True)
    assert len(list_stories(store, 1)) == 1
    english = list_stories(store, 50, lang="en")
    for item in english:
        assert "en" in item.languages and item.headline.lang == "en"
    late = datetime(2025, 10, 25, tzinfo=UTC)
    assert all(i.last >= late for i in list_stories(store, 50, since=late))
    assert len(list_stories(store, 50, since=late)) < len(items) or all(i.last >= late for i in items)


def test_story_view_structure(store, view):
    articles = store.articles_of(story_id=view.id)
    assert view.articles == len(articles) == sum(len(v) for v in view.articles_by_lang.values())
    assert view.headline.text in {a.title for a in articles}
    assert view.headline.lang == Counter(a.lang for a in articles).most_common(1)[0][0]
    assert 1 <= len(view.summary.sentences) <= 4
    assert set(view.languages) == {a.lang for a in articles}
    firsts = [e.first for e in view.timeline if e.first]
    assert firsts == sorted(firsts)
    assert sum(e.articles for e in view.timeline) == view.articles
    assert {e.id for e in view.timeline} == {a.event_id for a in articles}
    for lang, refs in view.articles_by_lang.items():
        assert all(r.lang == lang for r in refs)
    mentions = [e.mentions for e in view.entities]
    assert mentions == sorted(mentions, reverse=True)
    # One entity across languages: its surface forms are grouped under one key.
    assert any(len(e.forms) >= 2 for e in view.entities)
    assert len({e.key for e in view.entities}) == len(view.entities)
    speakers = [q for q in view.quotes if q.key is not None]
    assert speakers and all(q.quotes for q in speakers)
    quoted_ids = {x.article_id for q in view.quotes for x in q.quotes}
    assert quoted_ids <= {a.id for a in articles}
    assert view.explanation.text and view.explanation.mean_cosine is not None


def test_story_view_honours_language(store, view):
    langs = set(view.languages)
    other = sorted(langs - {view.headline.lang})[0]
    again = story_view(store, view.id, lang=other, embed=False)
    assert again.headline.lang == other and not again.headline.fallback
    assert again.summary.lang == other and again.summary.method == "lexical"
    assert all(e.headline is None or e.headline.lang == other for e in again.timeline if other in e.languages)


def test_unknown_story_is_not_found(store):
    with pytest.raises(NotFound) as info:
        story_view(store, "st_nope")
    assert info.value.hint


def test_sample_labels_largest_story_mixes_outlets(view):
    """The labelled sample's stories are multi-outlet and multilingual; so is the largest one found."""
    labels = [json.loads(line) for line in (SAMPLE / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    labelled = Counter(r["story"] for r in labels)
    assert view.articles >= max(labelled.values()) // 2
    assert len(view.outlets) >= 3 and len(view.languages) >= 2


# -- renderings --------------------------------------------------------------------------------


def test_json_rendering_is_stable_and_complete(view):
    data = json.loads(story_json(view))
    assert data == story_to_dict(view) or data["id"] == view.id
    assert set(data) == {
        "id",
        "headline",
        "summary",
        "ranking",
        "first",
        "last",
        "counts",
        "outlets",
        "languages",
        "timeline",
        "articles",
        "entities",
        "quotes",
        "explanation",
    }
    assert data["counts"]["articles"] == view.articles
    assert [p["name"] for p in data["ranking"]["parts"]] == list(PARTS)
    assert data["timeline"][0]["id"] == view.timeline[0].id
    assert json.loads(story_json(view)) == data  # same input, same output


def test_text_and_markdown_renderings(view):
    text = story_text(view)
    for section in ("Summary", "Why together", "Timeline", "Articles", "Entities", "Quotes"):
        assert section in text
    assert view.headline.text in text and view.id in text
    md = story_markdown(view)
    assert md.startswith("# ") and "## Timeline" in md and "| when |" in md
    assert all(e.id in md for e in view.timeline)


# -- CLI ---------------------------------------------------------------------------------------


def test_cli_stories_formats(sample_db):
    runner = CliRunner()
    table = runner.invoke(stories, ["--db", sample_db, "--limit", "2"])
    assert table.exit_code == 0, table.output
    shown = min(2, len(load_story_ids(sample_db)))
    assert len(table.output.strip().splitlines()) == 1 + shown  # header + stories
    jsonl = runner.invoke(stories, ["--db", sample_db, "--format", "jsonl"])
    records = [json.loads(line) for line in jsonl.output.splitlines()]
    assert [r["rank"] for r in records] == list(range(1, len(records) + 1))
    assert all({"id", "score", "headline", "languages"} <= set(r) for r in records)
    whole = json.loads(runner.invoke(stories, ["--db", sample_db, "--format", "json"]).output)
    assert [r["id"] for r in whole] == [r["id"] for r in records]
    bad = runner.invoke(stories, ["--db", sample_db, "--since", "yesterday"])
    assert bad.exit_code == 1 and "--since" in bad.output


def test_cli_story_formats_and_errors(sample_db, largest):
    runner = CliRunner()
    text = runner.invoke(story, [largest, "--db", sample_db])
    assert text.exit_code == 0 and largest in text.output and "Timeline" in text.output
    result = runner.invoke(story, [largest, "--db", sample_db, "--format", "json", "--lang", "en"])
    data = json.loads(result.output)
    assert data["id"] == largest and data["headline"]["lang"] == "en"
    missing = runner.invoke(story, ["st_nope", "--db", sample_db])
    assert missing.exit_code == 1 and "Error: no story" in missing.output and "Hint:" in missing.output


def load_story_ids(url: str) -> list[str]:
    from storyline.store import open_store

    with open_store(url) as opened:
        return [r.id for r in opened.load_clusters("story")]


def test_undated_sample_reports_join_their_own_event(store):
    """The sample's reports without a date of their own are clustered beside their nearest dated
    report, while their event is still open, instead of last, when only a later event of their
    story was left to join (cluster/order.py)."""
    labels = [json.loads(line) for line in (SAMPLE / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    undated = [r for r in labels if r["published"] is None]
    assert undated
    for label in undated:
        siblings = {store.get_article(r["id"]).event_id for r in labels
                    if r["event"] == label["event"] and r["id"] != label["id"]}
        later = {store.get_article(r["id"]).event_id for r in labels
                 if r["story"] == label["story"] and r["event"] != label["event"]}
        event = store.get_article(label["id"]).event_id
        assert event in siblings and event not in later, label["id"]
