"""Feed documents -> entries with stable ids; feed summaries -> paragraphs."""

from __future__ import annotations

import pytest

from storyline.watch.feeds import NotAFeed, entry_id, looks_like_feed, parse_feed
from storyline.watch.loop import summary_text
from watch_server import FIXTURES

BASE = "http://127.0.0.1:8000"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_text(encoding="utf-8").replace("{base}", BASE).encode()


def test_rss_entries_carry_link_title_date_channel_and_summary():
    entries = parse_feed(fixture("news.rss"), f"{BASE}/news.rss")
    assert [e.link for e in entries] == [f"{BASE}/news/uk-bridge.html", f"{BASE}/news/ru-library.html",
                                         f"{BASE}/private/secret.html"]
    first = entries[0]
    assert first.title == "Міст через Прип'ять відкриють до зими"
    assert first.published == "2021-12-07T07:15:00+00:00"
    assert first.source == "Вісник Полісся"
    assert first.id == entry_id("vp-2021-0001")  # the guid, not the link
    assert "<p>" in entries[2].summary


def test_atom_entries():
    (entry,) = parse_feed(fixture("world.atom"), f"{BASE}/world.atom")
    assert entry.link == f"{BASE}/news/en-ferry.html"
    assert entry.published == "2021-12-07T13:30:00+00:00"
    assert entry.source == "Harbour Gazette" and entry.summary == "The ferry is back."


def test_entry_without_guid_is_known_by_its_link():
    feed = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            b"<item><title>a</title><link>http://x.test/a</link></item>"
            b"<item><title>no link</title></item></channel></rss>")
    (entry,) = parse_feed(feed, "http://x.test/feed")
    assert entry.id == entry_id("http://x.test/a")


def test_ids_are_stable_and_distinct():
    assert entry_id("vp-1") == entry_id(" vp-1 ") != entry_id("vp-2")
    assert entry_id("vp-1").startswith("web_") and len(entry_id("vp-1")) == 20


@pytest.mark.parametrize("content", [b"this is not a feed {", b"", b"<html><body>page</body></html>"])
def test_not_a_feed(content):
    with pytest.raises(NotAFeed, match="not RSS or Atom"):
        parse_feed(content, "http://x.test/feed")


@pytest.mark.parametrize(("content", "kind", "expected"), [
    (b"<?xml version='1.0'?><rss/>", "", True),
    (b"<rss/>", "text/html", True),
    (b"garbage", "application/rss+xml", True),
    (b"<!DOCTYPE html><html>", "text/html; charset=utf-8", False),
    (b"<?xml version='1.0'?>\n<!-- hi -->\n<feed xmlns='http://www.w3.org/2005/Atom'>", "text/html", True),
    (b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'>", "application/xhtml+xml", False),
    (b"<?xml version='1.0'?><something/>", "application/xml", True),
])
def test_looks_like_feed(content, kind, expected):
    assert looks_like_feed(content, kind) is expected


def test_summary_text_keeps_paragraphs():
    html = "<p>First  line<br>continues.</p><p>Second &amp; last.</p>"
    assert summary_text(html) == "First line continues.\n\nSecond & last."
    assert summary_text("plain words") == "plain words"
    assert summary_text("  ") == ""
