"""The web pages over the sample corpus (plus one hostile article): what they show, escaping,
404s, pagination, and the timeline's geometry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from storyline.settings import Settings
from storyline.stories import list_stories, story_view
from storyline.stories.headline import Headline
from storyline.stories.view import EventSummary
from storyline.web import routes, timeline
from storyline.web.render import CSP, format_span, lang_name, link_url

HOSTILE_ID = "hostile-20251106-1"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def client(web_db_url):
    from storyline.app import create_app

    app = create_app(Settings(db=web_db_url, embedder="lexical"))
    with TestClient(app) as opened:
        yield opened


@pytest.fixture(scope="module")
def store(web_db_url):
    from storyline.store import open_store

    with open_store(web_db_url) as opened:
        yield opened


@pytest.fixture(scope="module")
def ranked(store):
    return list_stories(store, limit=100)


@pytest.fixture(scope="module")
def biggest(store, ranked):
    """The story with the most events: the one whose timeline says the most."""
    return max(ranked, key=lambda s: (s.events, s.articles, s.id))


def text_of(html: str) -> str:
    """What a person reads: tags dropped, entities decoded, spaces squeezed."""
    import html as html_lib

    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def first_svg(html: str) -> str:
    match = re.search(r"<svg class=\"timeline timeline-wide\".*?</svg>", html, re.S)
    assert match, "no wide timeline SVG on the page"
    return match.group(0)


# -- front page --------------------------------------------------------------------------------


def test_front_page_lists_ranked_stories_with_badges(client, ranked):
    response = client.get("/", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CSP
    html = response.text
    shown = text_of(html)
    for story in ranked[:10]:
        assert story.headline.text in shown
        assert f'href="/stories/{story.id}"' in html
    # Ranked order on the page is the listing's order.
    positions = [html.index(f'href="/stories/{s.id}"') for s in ranked[:10]]
    assert positions == sorted(positions)
    top = ranked[0]
    card = html[html.index(f'id="h-{top.id}"') :]
    card = card[: card.index("</article>")]
    for lang in top.languages:
        assert f'class="badge lang-{lang}"' in card
    assert f"{top.articles} articles" in text_of(card)
    assert f'lang="{top.headline.lang}"' in card
    assert '<main id="main"' in html and '<html lang="en">' in html


@pytest.mark.parametrize("lang", ["uk", "ru", "en"])
def test_front_page_filters_by_language(client, store, lang):
    html = client.get(f"/?lang={lang}").text
    expected = list_stories(store, limit=10, lang=lang)
    assert expected
    for story in expected:
        assert f'href="/stories/{story.id}?lang={lang}"' in html
        assert lang in story.languages
    unrelated = [s for s in list_stories(store, limit=100) if lang not in s.languages]
    for story in unrelated:
        assert f"/stories/{story.id}" not in html
    assert f'href="/?lang={lang}" title="{lang_name(lang)}"' in html
    assert re.search(rf'href="/\?lang={lang}"[^>]*aria-current="page"', html)


def test_front_page_paginates(client, ranked, monkeypatch):
    # A small page keeps the test about paging, whatever number of stories the sample makes.
    per_page = 4
    monkeypatch.setattr(routes, "PER_PAGE", per_page)
    pages = [ranked[i : i + per_page] for i in range(0, len(ranked), per_page)]
    assert len(pages) >= 3, "the sample corpus should fill more than two small pages"
    for number, stories in enumerate(pages, 1):
        html = client.get(f"/?page={number}").text
        assert html.count('class="story-card"') == len(stories)
        assert f'<ol class="story-list" start="{(number - 1) * per_page + 1}">' in html
        positions = [html.index(f'href="/stories/{s.id}"') for s in stories]
        assert positions == sorted(positions)
        for story in ranked:
            assert (f"/stories/{story.id}" in html) == (story in stories)
        assert ('rel="prev"' in html) == (number > 1)
        if number > 1:
            assert f'rel="prev" href="/?page={number - 1}"' in html
        assert ('rel="next"' in html) == (number < len(pages))
        if number < len(pages):
            assert f'rel="next" href="/?page={number + 1}"' in html
    beyond = client.get(f"/?page={len(pages) + 1}", headers=HTML)
    assert beyond.status_code == 404
    assert f"there is no page {len(pages) + 1}" in beyond.text and 'class="site-header"' in beyond.text


@pytest.mark.parametrize(
    "query", ["page=0", "page=abc", "page=-1", "page=99999", "page=%C2%B2", "lang=<b>", "lang=english"]
)
def test_front_page_rejects_bad_parameters_with_a_page(client, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert 'class="site-header"' in response.text and "Bad request" in response.text
    assert "<b>" not in response.text


# -- story page --------------------------------------------------------------------------------


def test_story_page_shows_headline_summary_timeline_and_groups(client, store, biggest):
    view = story_view(store, biggest.id, embed=False)
    response = client.get(f"/stories/{biggest.id}")
    assert response.status_code == 200
    html = response.text
    shown = text_of(html)
    assert re.search(rf'<h1 id="story-title" lang="{view.headline.lang}">', html)
    assert view.headline.text in shown
    assert view.summary.sentences[0].text in shown
    svg = first_svg(html)
    assert svg.count('class="tl-mark"') == len(view.timeline) >= 3
    assert f'data-events="{len(view.timeline)}"' in svg
    for event in view.timeline:
        first_line = timeline._wrap(event.headline.text, timeline.WIDE.wrap)[0]
        assert first_line in text_of(svg)
    # Articles by language, in the view's order, each title in its own language.
    order = [html.index(f'id="lang-{code}"') for code in view.articles_by_lang]
    assert order == sorted(order)
    for refs in view.articles_by_lang.values():
        for ref in refs:
            assert f'href="/articles/{ref.id}" lang="{ref.lang}"' in html
    for entity in view.entities[:5]:
        assert entity.display in shown
    assert "Why these articles are together" in shown
    assert view.explanation.text.split("; ")[0] in shown
    for shared in view.explanation.shared_entities:
        assert shared.display in shown
    for term in view.explanation.shared_terms:
        assert term in shown
    assert f'value="{view.explanation.mean_cosine:.2f}"' in html
    speakers = [q for q in view.quotes if q.key]
    assert speakers and speakers[0].display in shown


def test_story_page_folds_long_lists(client, store, biggest, monkeypatch):
    from storyline.web import routes

    monkeypatch.setattr(routes, "ARTICLES_SHOWN", 2)
    monkeypatch.setattr(routes, "SPEAKERS_SHOWN", 1)
    view = story_view(store, biggest.id, embed=False)
    html = client.get(f"/stories/{biggest.id}").text
    refs = next(iter(view.articles_by_lang.values()))
    assert f"{len(refs) - 2} more article" in html
    folded = html[html.index("more article") :]
    assert f'href="/articles/{refs[-1].id}"' in folded
    assert f"{len(view.quotes) - 1} more speaker" in html


def test_story_page_timeline_marks_follow_time(client, store, biggest):
    view = story_view(store, biggest.id, embed=False)
    svg = first_svg(client.get(f"/stories/{biggest.id}").text)
    ys = [float(y) for y in re.findall(r'class="tl-mark" cx="[\d.]+" cy="([\d.]+)"', svg)]
    firsts = [e.first for e in view.timeline]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    # Distances on the page are proportional to time between events.
    spans = [(b - a).total_seconds() for a, b in zip(firsts, firsts[1:], strict=False)]
    gaps = [b - a for a, b in zip(ys, ys[1:], strict=False)]
    ratios = [g / s for g, s in zip(gaps, spans, strict=True) if s > 0]
    assert max(ratios) / min(ratios) == pytest.approx(1.0, abs=0.02)


def test_story_page_reads_in_another_language(client, biggest):
    html = client.get(f"/stories/{biggest.id}?lang=en").text
    assert re.search(r'<h1 id="story-title" lang="en">', html)
    assert f'href="/stories/{biggest.id}?lang=en" title="English" aria-current="page"' in html


def test_event_id_leads_to_its_story(client, store, biggest):
    event_id = story_view(store, biggest.id, embed=False).timeline[0].id
    response = client.get(f"/stories/{event_id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/stories/{biggest.id}#{event_id}"


# -- article page ------------------------------------------------------------------------------


def test_article_page_shows_text_metadata_and_links(client, store):
    article = store.get_article("harbourline-20251009-1")
    response = client.get(f"/articles/{article.id}")
    assert response.status_code == 200
    html = response.text
    shown = text_of(html)
    assert article.title in shown and article.source in shown
    assert html.count("<p>") + html.count("<p lang=") >= len(article.paragraphs)
    for paragraph in article.paragraphs:
        assert paragraph.text in shown
    assert re.search(r'<article class="article"[^>]*lang="en"', html)
    assert f'<a href="{article.url}" rel="noopener noreferrer nofollow"' in html
    assert f'href="/stories/{article.story_id}' in html
    assert "9 Oct 2025, 09:30" in shown  # 06:30 UTC shown in Kyiv time


def test_article_page_lists_other_reports_of_its_event(client, store):
    article = store.get_article("harbourline-20251009-1")
    others = [a for a in store.articles_of(event_id=article.event_id) if a.id != article.id]
    assert others
    html = client.get(f"/articles/{article.id}").text
    for other in others:
        assert f'href="/articles/{other.id}"' in html


# -- hostile input -----------------------------------------------------------------------------


def test_hostile_article_is_shown_as_text(client, store):
    article = store.get_article(HOSTILE_ID)
    assert "<script>" in article.title and "<img" in article.text  # the cleaner kept them: good test
    pages = [f"/articles/{HOSTILE_ID}", f"/stories/{article.story_id}", "/?page=1", "/?page=2"]
    seen = 0
    for path in pages:
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>Lighthouse" not in html
        if "&lt;script&gt;alert(1)&lt;/script&gt;" in html:
            seen += 1
            assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert seen >= 2  # the article page, its story page, and the front page it is ranked on
    html = client.get(f"/articles/{HOSTILE_ID}").text
    assert "&lt;b&gt;Lighthouse&lt;/b&gt; Gazette" in html
    # A javascript: URL is not the article's URL: ingest lists it among what it removed, and the
    # page shows it there as text, never as a link.
    assert 'href="javascript' not in html
    assert '>javascript:alert(3)</span>' in html
    assert "<script" not in html.replace("&lt;script", "")


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://example.test/a?b=1#c", True),
        ("http://example.test", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//example.test/x", False),
        ("/relative/path", False),
        ("https://", False),
        ("ftp://example.test/file", False),
        ("https://exa mple.test/", False),
        ("", False),
        (None, False),
    ],
)
def test_only_http_urls_become_links(url, ok):
    assert (link_url(url) is not None) is ok


def test_an_unknown_id_is_escaped_on_the_404_page(client):
    response = client.get("/articles/x%22%3Cb%3Ebold")
    assert response.status_code == 404
    assert "<b>bold" not in response.text
    assert "x&#34;&lt;b&gt;bold" in response.text


# -- 404s and assets ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/stories/st_000000000000", "/articles/no-such-article"])
def test_unknown_ids_get_the_sites_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.text
    assert 'class="site-header"' in html and 'class="error-code">404<' in html
    assert response.headers["content-security-policy"] == CSP
    assert "Back to the stories" in html


def test_unknown_path_gets_the_sites_404_page_in_a_browser(client):
    response = client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert 'class="site-header"' in response.text


def test_stylesheet_is_served(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert "prefers-color-scheme: dark" in response.text


# -- timeline geometry -------------------------------------------------------------------------


def event(n: int, first: datetime | None, articles: int = 3, title: str | None = None, last=None):
    headline = Headline(title or f"Event number {n} happened", "en", f"a{n}", "en", 1.0)
    return EventSummary(f"ev_{n}", headline, first, last or first, articles, ("A", "B"), ("en", "uk"))


@pytest.mark.parametrize("shape", [timeline.WIDE, timeline.NARROW])
def test_timeline_labels_never_overlap_and_stay_inside(shape):
    start = datetime(2025, 10, 1, 9, tzinfo=UTC)
    # Three events within an hour: their labels must be pushed apart, the marks must not.
    events = [event(i, start + timedelta(minutes=20 * i), title="word " * (8 + 10 * i)) for i in range(3)]
    events.append(event(9, start + timedelta(days=20)))
    drawn = timeline.layout(events, UTC, shape)
    tops = [m.label_y - shape.font for m in drawn.marks]
    bottoms = [m.meta_y for m in drawn.marks]
    for bottom, top in zip(bottoms, tops[1:], strict=False):
        assert top > bottom
    assert drawn.height >= bottoms[-1]
    for mark in drawn.marks:
        assert all(len(line) <= shape.wrap for line in mark.lines)
        assert len(mark.lines) <= 4
    assert [m.y for m in drawn.marks] == sorted(m.y for m in drawn.marks)
    assert drawn.axis_top <= drawn.marks[0].y and drawn.marks[-1].y <= drawn.axis_bottom


def test_timeline_puts_undated_events_last_and_ticks_on_days():
    start = datetime(2025, 10, 6, 12, tzinfo=UTC)
    events = [
        event(1, start),
        event(2, start + timedelta(days=3), last=start + timedelta(days=4)),
        event(3, None),
    ]
    drawn = timeline.layout(events, UTC, timeline.WIDE)
    assert [m.dated for m in drawn.marks] == [True, True, False]
    assert drawn.undated_y is not None and drawn.marks[2].y > drawn.axis_bottom
    assert drawn.marks[1].y_end > drawn.marks[1].y  # a span for an event of several days
    assert [t.label for t in drawn.ticks][:3] == ["6 Oct", "7 Oct", "8 Oct"]
    assert "date unknown" in drawn.marks[2].meta


def test_timeline_of_months_has_month_ticks():
    start = datetime(2025, 11, 20, tzinfo=UTC)
    events = [event(1, start), event(2, start + timedelta(days=120))]
    labels = [t.label for t in timeline.layout(events, UTC, timeline.WIDE).ticks]
    assert labels[0] == "Dec 2025" and "Jan 2026" in labels and "Mar" in labels


def test_wrap_cuts_long_words_and_ends_in_an_ellipsis():
    lines = timeline._wrap("a" * 50 + " short words " * 30, 20, max_lines=3)
    assert len(lines) == 3 and all(len(line) <= 20 for line in lines)
    assert lines[-1].endswith("…")


def test_span_formats():
    a = datetime(2025, 10, 9, 6, 30, tzinfo=UTC)
    assert format_span(a, a + timedelta(days=27), UTC) == "9 Oct – 5 Nov 2025"
    assert format_span(a, a, UTC) == "9 Oct 2025"
    assert format_span(a, a.replace(year=2026), UTC) == "9 Oct 2025 – 9 Oct 2026"
    assert format_span(None, None, UTC) == "undated"


# -- search ------------------------------------------------------------------------------------


def test_search_page_without_a_query_shows_the_form(client):
    response = client.get("/search")
    assert response.status_code == 200
    assert 'role="search"' in response.text and 'name="q"' in response.text
    assert 'class="results"' not in response.text


def test_search_marks_matches_and_lists_stories(client):
    html = client.get("/search", params={"q": "страховий пул"}).text
    assert re.search(r"\d+ articles match", text_of(html))
    assert "<mark>" in html
    marked = re.findall(r"<mark>([^<]+)</mark>", html)
    assert any(word.casefold().startswith(("страхов", "пул")) for word in marked)
    assert 'class="story-hits"' in html and 'href="/stories/st_' in html
    assert 'href="/articles/' in html
    assert 'value="страховий пул"' in html


def test_search_filters_by_language(client):
    html = client.get("/search", params={"q": "страховий пул", "lang": "ru"}).text
    results = html[html.index('class="results"') :]
    assert 'class="badge lang-ru"' in results
    assert 'class="badge lang-uk"' not in results and 'class="badge lang-en"' not in results
    assert '<option value="ru" selected>' in html


def test_search_shows_a_hostile_article_as_text(client):
    html = client.get("/search", params={"q": "lighthouse keepers radios"}).text
    assert f'href="/articles/{HOSTILE_ID}"' in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "<mark>" in html


def test_search_with_no_match_says_so(client):
    html = client.get("/search", params={"q": "qwxzv"}).text
    assert "Nothing matches" in html


@pytest.mark.parametrize(
    "params, status",
    [({"q": "пул " * 200}, 400), ({"q": "пул", "page": "400"}, 404), ({"q": "пул", "lang": "x!"}, 400)],
)
def test_search_errors_are_site_pages(client, params, status):
    response = client.get("/search", params=params)
    assert response.status_code == status
    assert 'class="site-header"' in response.text
