"""The watcher end to end against a local server: feeds and pages in, articles and stories in the
store, each entry fetched once, errors reported while the round goes on."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

from storyline.model import RawDocument
from storyline.settings import Settings
from storyline.store import open_store
from storyline.watch.feeds import entry_id
from storyline.watch.fetch import FetchOptions, PoliteClient
from storyline.watch.loop import Watcher, stop_on_signals
from storyline.watch.state import FetchState
from watch_server import FIXTURES, FakeTime, LocalServer, Route

# Clustering is on only where a test looks at stories: it costs a model load per store.
SETTINGS = Settings(embedder="lexical", cluster=False)


@pytest.fixture
def site():
    with LocalServer() as site:
        yield site


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'watch.db'}") as store:
        yield store


@pytest.fixture
def make(store):
    made = []

    def make(sources, fake=None, settings=SETTINGS, workers=4, **options):
        fake = fake or FakeTime()
        options = {"host_delay": 0.0, "timeout": 2.0, "retries": 1, **options}
        client = PoliteClient(FetchOptions(**options), clock=fake.clock, sleep=fake.sleep)
        made.append(client)
        return Watcher(store, sources, settings, client=client, batch_size=2, workers=workers)

    yield make
    for client in made:
        client.close()


def serve_news(site, **feed_options):
    site.fixture("/news/uk-bridge.html", "uk-bridge.html")
    site.fixture("/news/ru-library.html", "ru-library.html")
    site.fixture("/news/en-ferry.html", "en-ferry.html")
    return [site.fixture("/news.rss", "news.rss", **feed_options),
            site.fixture("/world.atom", "world.atom")]


def page_requests(site) -> list[str]:
    return [p for p in site.paths() if p.endswith(".html")]


def test_feed_entries_are_ingested_with_page_metadata_and_feed_fallbacks(site, store, make, caplog):
    caplog.set_level(logging.INFO, logger="storyline.watch")
    summary = make(serve_news(site), settings=Settings(embedder="lexical")).poll()
    assert summary.counts["ingested"] == 3 and summary.new_entries == 4
    assert summary.rejected == 1 and summary.errors == 1  # the page robots.txt keeps us from

    uk = store.get_article(entry_id("vp-2021-0001"))
    assert uk.lang == "uk" and uk.source == "Вісник Полісся"
    assert uk.url == f"{site.base}/news/uk-bridge.html"
    assert uk.published.isoformat() == "2021-12-07T09:15:00+02:00"  # the page's own time
    assert "Читайте також" not in uk.text and "cookie" not in uk.text
    assert uk.event_id and uk.story_id  # clustered as it came in
    ru = store.get_article(entry_id("vp-2021-0002"))
    assert ru.lang == "ru" and "РЕКЛАМА" not in ru.text and "Читайте также" not in ru.text
    en = store.get_article(entry_id("urn:uuid:6f1c0a3e-0001"))
    assert en.lang == "en" and en.title == "Ferry service resumes after the storm"
    assert en.published.isoformat() == "2021-12-07T13:30:00+00:00"  # the page has none: the feed's

    # Disallowed: never requested; its feed summary was too short to stand as an article.
    assert "/private/secret.html" not in site.paths()
    (rejection,) = store.iter_rejections()
    assert rejection.origin == f"{site.base}/private/secret.html" and rejection.reason == "too_short"
    assert f"{site.base}/private/secret.html: robots: disallowed by" in caplog.text
    assert any(r.startswith("round 1:") for r in caplog.messages) is False  # poll() does not log


def test_a_second_round_fetches_nothing_again(site, store, make):
    feeds = serve_news(site, etag='"news-1"', last_modified="Tue, 07 Dec 2021 12:00:00 GMT")
    watcher = make(feeds)
    watcher.poll()
    pages = page_requests(site)
    second = watcher.poll()
    assert page_requests(site) == pages  # no page fetched twice
    assert second.new_entries == 0 and second.counts["ingested"] == 0
    assert second.not_modified == 1  # the RSS feed answered 304
    rss = [r.headers for r in site.requests if r.path == "/news.rss"]
    assert rss[1]["If-None-Match"] == '"news-1"'
    assert rss[1]["If-Modified-Since"] == "Tue, 07 Dec 2021 12:00:00 GMT"
    assert store.count_articles() == 3

    # A new watcher (a new run) remembers the validators and the pages it is done with.
    third = make(feeds).poll()
    assert third.not_modified == 1 and third.new_entries == 0
    assert page_requests(site) == pages


def test_a_feed_without_validators_is_read_again_but_its_pages_are_not(site, store, make):
    feeds = serve_news(site)
    make(feeds).poll()
    pages = page_requests(site)
    again = make(feeds).poll()
    assert again.new_entries == 0 and page_requests(site) == pages
    assert site.paths().count("/news.rss") == 2


def test_bad_feeds_and_pages_are_reported_and_the_round_goes_on(site, store, make, caplog):
    caplog.set_level(logging.INFO, logger="storyline.watch")
    broken = site.add("/broken.rss", Route(body=b"<<< not a feed at all", content_type="application/rss+xml"))
    missing = site.base + "/missing.rss"
    feeds = [broken, missing] + serve_news(site)
    summary = make(feeds).poll()
    assert summary.counts["ingested"] == 3
    assert summary.errors == 3  # broken, missing, and the page robots.txt refuses
    assert f"{broken}: bad_feed: not RSS or Atom" in caplog.text
    assert f"{missing}: http_error: HTTP 404" in caplog.text


def test_a_page_answering_500_then_200_is_retried_with_backoff(site, store, make):
    feeds = serve_news(site)
    site.routes["/news/en-ferry.html"].failures = 1
    fake = FakeTime()
    summary = make(feeds, fake, backoff=3.0).poll()
    assert summary.counts["ingested"] == 3
    assert fake.sleeps == [3.0]
    assert site.paths().count("/news/en-ferry.html") == 2


def test_a_page_that_keeps_failing_is_tried_again_next_round(site, store, make, caplog):
    feeds = serve_news(site, etag='"news-1"')
    site.routes["/news/uk-bridge.html"].delay = 0.5
    watcher = make(feeds, timeout=0.1, retries=0)
    first = watcher.poll()
    assert first.counts["ingested"] == 2
    assert "uk-bridge.html: timeout:" in caplog.text
    assert FetchState(store).validators(feeds[0]) is None  # a 304 must not hide the lost entry

    site.routes["/news/uk-bridge.html"].delay = 0
    second = watcher.poll()
    assert second.counts["ingested"] == 1 and store.has_article(entry_id("vp-2021-0001"))
    assert FetchState(store).validators(feeds[0]).etag == '"news-1"'


def test_a_huge_page_falls_back_to_the_feed_content(site, store, make):
    feed = site.add("/long.rss", Route(content_type="application/rss+xml", body=(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Long Feed</title><item>'
        f"<title>Harbour crane replaced</title><link>{site.base}/huge.html</link>"
        "<pubDate>Wed, 08 Dec 2021 08:00:00 GMT</pubDate><description><![CDATA["
        + "<p>The harbour authority replaced the old container crane on the north quay this "
          "week, after forty years of service and several breakdowns last winter.</p>" * 3
        + "]]></description></item></channel></rss>").encode()))
    site.add("/huge.html", Route(body=b"<html><body>" + b"<p>filler</p>" * 30_000 + b"</body></html>"))
    summary = make([feed], max_bytes=100_000).poll()
    assert summary.counts["ingested"] == 1 and summary.errors == 1
    (article,) = list(store.iter_articles())
    assert article.title == "Harbour crane replaced" and article.source == "Long Feed"
    assert article.published.isoformat() == "2021-12-08T08:00:00+00:00"
    assert article.text.startswith("The harbour authority replaced")
    assert article.raw.fields["from"] == "feed summary"


def test_a_page_url_is_watched_directly_once(site, store, make):
    url = site.fixture("/news/en-ferry.html", "en-ferry.html")
    watcher = make([url])
    assert watcher.poll().counts["ingested"] == 1
    assert store.has_article(entry_id(url))
    assert watcher.poll().new_entries == 0
    assert site.paths().count("/news/en-ferry.html") == 1


def test_an_entry_in_two_feeds_is_fetched_once(site, store, make):
    feeds = serve_news(site)
    copy = site.add("/copy.rss", Route(body=site.routes["/news.rss"].body,
                                       content_type="application/rss+xml"))
    summary = make(feeds + [copy]).poll()
    assert summary.counts["ingested"] == 3
    assert site.paths().count("/news/uk-bridge.html") == 1


def test_a_stop_request_ends_the_round_and_keeps_what_was_fetched(site, store, make):
    feeds = serve_news(site)
    watcher = make(feeds)
    original = watcher.client.get

    def get_then_stop(url, validators=None):
        response = original(url, validators)
        if url.endswith("ru-library.html"):
            watcher.stop.set()
        return response

    watcher.client.get = get_then_stop
    summary = watcher.poll()
    assert summary.stopped and summary.counts["ingested"] == 2
    assert FetchState(store).validators(feeds[0]) is None
    watcher.stop.clear()
    watcher.client.get = original
    assert watcher.poll().counts["ingested"] == 1
    assert store.count_articles() == 3


def test_run_once_logs_a_summary_line(site, store, make, caplog):
    caplog.set_level(logging.INFO, logger="storyline.watch")
    make(serve_news(site)).run(interval=60, once=True)
    (line,) = [m for m in caplog.messages if m.startswith("round 1:")]
    assert "3 ingested" in line and "3 articles in store" in line


def test_nothing_to_watch():
    with pytest.raises(ValueError, match="nothing to watch"):
        Watcher(None, [" "], SETTINGS)


@pytest.mark.parametrize("workers", [0, -1, 1.5])
def test_workers_must_be_a_positive_whole_number(workers):
    with pytest.raises(ValueError, match=f"workers must be a positive whole number, got {workers}"):
        Watcher(None, ["http://127.0.0.1/feed"], SETTINGS, workers=workers)


def test_an_unexpected_failure_is_one_rejection_and_the_round_goes_on(site, store, make, caplog):
    caplog.set_level(logging.INFO, logger="storyline.watch")
    watcher = make(serve_news(site))
    original = watcher.pipeline.process

    def process(raw):
        if raw.origin.endswith("ru-library.html"):
            raise RuntimeError("boom")
        return original(raw)

    watcher.pipeline.process = process
    summary = watcher.poll()
    assert summary.counts["ingested"] == 2
    assert "ru-library.html: failed: RuntimeError: boom" in caplog.text
    assert any(r.reason == "failed" for r in store.iter_rejections())


def test_sigterm_in_the_pause_between_rounds_ends_the_watch_at_once(site, store, make):
    watcher = make([site.add("/gone.html", Route(status=404))])
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    started = time.monotonic()
    with stop_on_signals(watcher.stop):
        timer.start()
        watcher.run(interval=600)
    assert time.monotonic() - started < 10 and watcher.rounds == 1
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the old handler is back


def test_a_second_ctrl_c_stops_at_once():
    stop = threading.Event()
    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # the handler runs between two bytecodes of this thread
        assert stop.is_set()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)


SLOW = 3.0  # seconds the slow host takes to answer its feed


def one_entry_feed(site, path: str, guid: str, page: str, **route) -> str:
    body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Slow Wire</title><item>'
            f"<title>Ferry</title><guid>{guid}</guid><link>{site.base}{page}</link></item>"
            "</channel></rss>").encode()
    return site.add(path, Route(body=body, content_type="application/rss+xml", **route))


@pytest.mark.parametrize("workers", [1, 4])
def test_a_slow_host_does_not_hold_the_others(site, store, make, workers):
    with LocalServer() as slow:  # another port: another host
        slow.fixture("/late.html", "en-ferry.html")
        slow_feed = one_entry_feed(slow, "/slow.rss", "slow-1", "/late.html", delay=SLOW)
        watcher = make([slow_feed, *serve_news(site)], workers=workers, timeout=SLOW * 3)
        # The first page pays the pipeline's model loading; not what this test measures.
        page = (FIXTURES / "en-ferry.html").read_text(encoding="utf-8")
        watcher.pipeline.process(RawDocument("warm", "html", page, "warm.html"))
        summary = watcher.poll()
        answered = [r.at for r in slow.requests if r.path == "/slow.rss"][0] + SLOW
    assert summary.counts["ingested"] == 4
    fast_pages = [r.at for r in site.requests if r.path.endswith(".html")]
    assert len(fast_pages) == 3
    if workers == 1:  # one request at a time: every fast page waited for the slow feed
        assert min(fast_pages) >= answered - 0.05
    else:
        assert max(fast_pages) < answered, "the fast host waited for the slow one"


def test_one_request_at_a_time_per_host(site, store, make):
    feeds = serve_news(site)
    for name in ("uk-bridge", "ru-library", "en-ferry"):
        site.routes[f"/news/{name}.html"].delay = 0.2
    assert make(feeds, workers=4).poll().counts["ingested"] == 3
    assert site.most_in_flight == 1


def test_a_host_asking_for_a_long_pause_is_left_for_a_later_round(site, store, make, caplog):
    feeds = serve_news(site, etag='"news-1"')
    site.routes["/news/uk-bridge.html"] = Route(
        body=site.routes["/news/uk-bridge.html"].body, failures=1, failure_status=429,
        retry_after="600")
    fake = FakeTime()
    watcher = make(feeds, fake, retries=2)
    first = watcher.poll()
    host = site.base.removeprefix("http://")
    assert f"{site.base}/news/uk-bridge.html: http_error: HTTP 429, Retry-After 600 s" in caplog.text
    assert f"{host}: deferred: asked (Retry-After) not to be asked for 600 s more" in caplog.text
    assert first.counts["ingested"] == 0 and first.errors == 2
    assert site.paths() == ["/robots.txt", "/news.rss", "/news/uk-bridge.html"]  # nothing more
    assert FetchState(store).validators(feeds[0]) is None  # its entries are still to come

    fake.now += 600
    second = watcher.poll()
    assert second.counts["ingested"] == 3 and second.errors == 1  # the robots.txt refusal
    assert FetchState(store).validators(feeds[0]).etag == '"news-1"'
