from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from storyline.clean.html import HtmlExtract, drop_title, extract_html, parse_timestamp

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def tz(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


PAGES = [
    pytest.param(
        "uk_council_bridge.html",
        "https://visnyk-poltavy.test/news/2021/12/07/mist-vorskla?utm_source=feed",
        {
            "title": "Міська рада виділила кошти на ремонт мосту через Ворсклу",
            "source": "Вісник Полтави",
            # article:published_time, not modified_time nor the "latest news" sidebar times
            "published": datetime(2021, 12, 7, 18, 45, tzinfo=tz(2)),
            # relative canonical link resolved against the given URL, tracking query gone
            "url": "https://visnyk-poltavy.test/news/2021/12/07/mist-vorskla",
        },
        ["Депутати міської ради на позачерговій сесії", "Мешканці навколишніх кварталів"],
        ["Головна", "РЕКЛАМА", "Купуйте вікна", "Читайте також", "дитячу лікарню", "cookies",
         "Прийняти", "Синоптики", "Усі права захищені"],
        id="uk-og-meta",
    ),
    pytest.param(
        "ru_port_strike.html",
        None,
        {
            "title": "Докеры северного порта объявили забастовку",
            "source": "Северный курьер",  # JSON-LD publisher inside @graph
            "published": datetime(2021, 12, 8, 9, 30, tzinfo=tz(3)),
            "url": None,
        },
        ["Около четырехсот работников", "Городские власти призвали"],
        ["Главная", "Кредит наличными", "Далее по теме", "Порт закупил", "30 ноября",
         "Подписывайтесь", "При перепечатке"],
        id="ru-json-ld",
    ),
    pytest.param(
        "en_library_reopens.html",
        "https://www.riverside-gazette.test/local/library-reopens",
        {
            "title": "Riverside library reopens after flood repairs",
            "source": "riverside-gazette.test",  # no outlet metadata: host without www
            "published": datetime(2021, 12, 9, 14, 5, tzinfo=UTC),  # <time> in <article>
            "url": "https://www.riverside-gazette.test/local/library-reopens",
        },
        ["The Riverside public library reopened on Thursday", "Residents queued outside"],
        ["We use cookies", "Accept all", "Politics", "Advertisement", "More on this story",
         "rare maps", "Subscribe to our newsletter"],
        id="en-time-element",
    ),
]


@pytest.mark.parametrize(("name", "url", "meta", "present", "absent"), PAGES)
def test_fixture_page(name, url, meta, present, absent):
    page = extract_html((FIXTURES / name).read_text(encoding="utf-8"), url)
    assert isinstance(page, HtmlExtract)
    assert page.title == meta["title"]
    assert page.source == meta["source"]
    assert page.published == meta["published"]
    assert page.published.utcoffset() == meta["published"].utcoffset()
    assert page.url == meta["url"]
    body = page.text
    for phrase in present:
        assert phrase in body
    for phrase in absent:
        assert phrase not in body, f"boilerplate kept: {phrase!r}"
    # every body paragraph is a whole, trimmed paragraph, and the headline is not repeated
    assert len(page.paragraphs) >= 4
    assert all(p == p.strip() and "\n" not in p for p in page.paragraphs)
    assert meta["title"] not in page.paragraphs


def test_repeated_headline_is_recorded_as_removed():
    page = extract_html((FIXTURES / "uk_council_bridge.html").read_text(encoding="utf-8"))
    assert (page.title, "title") in page.removed


SCRIPT_ONLY = "<html><head><script>var a = 1;</script></head><body><style>p {}</style></body></html>"


@pytest.mark.parametrize("html", ["", "   ", "<html><body></body></html>", SCRIPT_ONLY])
def test_page_without_article_gives_empty_paragraphs(html):
    page = extract_html(html, "https://www.example.test/a/1")
    assert page.paragraphs == []
    assert page.url == "https://www.example.test/a/1"
    assert page.source == "example.test"


def test_rejects_bytes():
    with pytest.raises(TypeError, match="bytes"):
        extract_html(b"<html></html>")  # type: ignore[arg-type]


def _meta_page(head: str, body: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def test_date_only_meta_takes_time_from_same_day_time_element():
    html = _meta_page(
        '<meta property="article:published_time" content="2021-12-07">',
        '<article><time datetime="2021-12-07T10:15:00+02:00">10:15</time></article>',
    )
    assert extract_html(html).published == datetime(2021, 12, 7, 10, 15, tzinfo=tz(2))


def test_date_only_meta_ignores_time_element_of_another_day():
    html = _meta_page(
        '<meta property="article:published_time" content="2021-12-07">',
        '<article><time datetime="2021-12-01T10:15:00+02:00">10:15</time></article>',
    )
    assert extract_html(html).published == datetime(2021, 12, 7)


def test_time_outside_article_is_not_the_publication_date():
    html = _meta_page(
        "<title>x</title>",
        '<aside><time datetime="2021-12-01T10:15:00+02:00">10:15</time></aside>',
    )
    assert extract_html(html).published is None


def test_date_in_url_is_the_last_resort():
    page = extract_html(_meta_page("<title>x</title>"), "https://outlet.test/2021/12/07/talks/")
    assert page.published == datetime(2021, 12, 7)
    assert extract_html(_meta_page(""), "https://outlet.test/2021/13/40/x").published is None


def test_site_name_that_is_a_url_becomes_a_host():
    html = _meta_page('<meta property="og:site_name" content="https://www.outlet.test">')
    assert extract_html(html).source == "outlet.test"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021-12-07T18:45:00Z", datetime(2021, 12, 7, 18, 45, tzinfo=UTC)),
        ("2021-12-07T18:45:00+0200", datetime(2021, 12, 7, 18, 45, tzinfo=tz(2))),
        ("2021-12-07T18:45:00.123+03:00", datetime(2021, 12, 7, 18, 45, 0, 123000, tz(3))),
        ("Tue, 07 Dec 2021 18:45:00 +0200", datetime(2021, 12, 7, 18, 45, tzinfo=tz(2))),
        ("2021-12-07 18:45", datetime(2021, 12, 7, 18, 45)),
        ("2021-12-07", datetime(2021, 12, 7)),
        ("yesterday", None),
        ("", None),
        ("1970-01-01T00:00:00Z", None),
        ("12345", None),
    ],
)
def test_parse_timestamp(raw, expected):
    assert parse_timestamp(raw) == expected


def test_drop_title_is_case_insensitive_and_keeps_other_paragraphs():
    kept, removed = drop_title(["HEADLINE", "Body text.", "Headline"], "Headline")
    assert kept == ["Body text."]
    assert removed == [("HEADLINE", "title"), ("Headline", "title")]
    assert drop_title(["a"], None) == (["a"], [])
