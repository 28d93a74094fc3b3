"""The polite HTTP client against a local server: conditional GET, retries with backoff, robots,
per-host pacing, timeouts and the size cap. A fake clock and sleep: nothing really waits."""

from __future__ import annotations

import email.utils
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from storyline.watch.fetch import (
    MAX_RETRY_AFTER,
    FetchError,
    FetchOptions,
    PoliteClient,
    Validators,
    retry_after,
)
from watch_server import FakeTime, LocalServer, Route


@pytest.fixture
def site():
    with LocalServer() as site:
        yield site


def client(fake: FakeTime, **options) -> PoliteClient:
    options = {"host_delay": 0.0, "timeout": 2.0, **options}
    return PoliteClient(FetchOptions(**options), clock=fake.clock, sleep=fake.sleep)


def test_get_names_storyline_and_reads_the_body(site):
    url = site.add("/a.html", Route(body=b"<p>hello</p>"))
    with client(FakeTime()) as http:
        response = http.get(url)
    assert response.status == 200 and response.content == b"<p>hello</p>"
    assert response.content_type.startswith("text/html")
    page = [r for r in site.requests if r.path == "/a.html"][0]
    assert page.headers["User-Agent"].startswith("storyline/")


def test_conditional_get_sends_validators_and_reads_304(site):
    url = site.add("/feed", Route(body=b"<rss/>", etag='"v1"',
                                  last_modified="Tue, 07 Dec 2021 10:00:00 GMT"))
    with client(FakeTime()) as http:
        first = http.get(url)
        assert first.validators == Validators('"v1"', "Tue, 07 Dec 2021 10:00:00 GMT")
        second = http.get(url, first.validators)
    assert second.not_modified and second.content == b""
    sent = [r.headers for r in site.requests if r.path == "/feed"]
    assert "If-None-Match" not in sent[0]
    assert sent[1]["If-None-Match"] == '"v1"'
    assert sent[1]["If-Modified-Since"] == "Tue, 07 Dec 2021 10:00:00 GMT"


def test_5xx_is_retried_with_exponential_backoff(site):
    url = site.add("/flaky", Route(body=b"ok", failures=2))
    fake = FakeTime()
    with client(fake, retries=3, backoff=1.5) as http:
        assert http.get(url).content == b"ok"
    assert fake.sleeps == [1.5, 3.0]
    assert site.paths().count("/flaky") == 3


def test_retries_give_up_with_a_transient_error(site):
    url = site.add("/down", Route(failures=99))
    fake = FakeTime()
    with client(fake, retries=2, backoff=1.0, max_backoff=1.5) as http, \
            pytest.raises(FetchError) as caught:
        http.get(url)
    assert caught.value.transient and caught.value.reason == "http_error"
    assert "HTTP 500" in str(caught.value) and "3 tries" in str(caught.value)
    assert fake.sleeps == [1.0, 1.5]  # doubling, capped


def test_a_slow_page_times_out_and_is_retried(site):
    url = site.add("/slow", Route(body=b"late", delay=0.6))
    fake = FakeTime()
    with client(fake, timeout=0.2, retries=1, backoff=4.0) as http, pytest.raises(FetchError) as caught:
        http.get(url)
    assert caught.value.reason == "timeout" and caught.value.transient
    assert fake.sleeps == [4.0]


def test_a_connection_refused_is_transient():
    fake = FakeTime()
    with client(fake, retries=1) as http, pytest.raises(FetchError) as caught:
        http.get("http://127.0.0.1:9/nothing-listens-here")
    # robots.txt of a host that cannot be reached forbids the host for now.
    assert caught.value.reason == "robots"


@pytest.mark.parametrize("length", [True, False])
def test_a_page_over_the_size_limit_is_refused(site, length):
    url = site.add("/huge", Route(body=b"x" * 300_000, length=length))
    with client(FakeTime(), max_bytes=100_000) as http, pytest.raises(FetchError) as caught:
        http.get(url)
    assert caught.value.reason == "too_large" and not caught.value.transient


def test_robots_txt_is_respected_and_read_once_per_host(site, caplog):
    allowed = site.add("/news/a.html", Route(body=b"a"))
    private = site.add("/private/b.html", Route(body=b"b"))
    with client(FakeTime()) as http:
        http.get(allowed)
        with pytest.raises(FetchError) as caught:
            http.get(private)
        http.get(allowed)
    assert caught.value.reason == "robots" and not caught.value.transient
    assert "robots.txt" in str(caught.value) and private in str(caught.value)
    assert "/private/b.html" not in site.paths()
    assert site.paths().count("/robots.txt") == 1


def test_robots_txt_naming_storyline_applies_to_it(site):
    site.add("/robots.txt", Route(body=b"User-agent: storyline\nDisallow: /\n",
                                  content_type="text/plain"))
    url = site.add("/a.html", Route(body=b"a"))
    with client(FakeTime()) as http, pytest.raises(FetchError) as caught:
        http.get(url)
    assert caught.value.reason == "robots"


def test_missing_robots_txt_allows_everything(site):
    site.add("/robots.txt", Route(status=404, content_type="text/plain"))
    url = site.add("/private/x.html", Route(body=b"x"))
    with client(FakeTime()) as http:
        assert http.get(url).content == b"x"


def test_requests_to_one_host_are_spaced(site):
    urls = [site.add(f"/p{i}", Route(body=b"p")) for i in range(3)]
    fake = FakeTime()
    with client(fake, host_delay=5.0) as http:
        for url in urls:
            http.get(url)
        # robots.txt, then three pages: every request after the first waits the full delay.
        assert fake.sleeps == [5.0, 5.0, 5.0]
        fake.now += 3.0  # time spent elsewhere counts towards the delay
        http.get(urls[0])
        assert fake.sleeps[-1] == pytest.approx(2.0)
        fake.now += 10.0
        http.get(urls[1])
        assert len(fake.sleeps) == 4


def test_http_errors_are_not_retried(site):
    url = site.add("/gone", Route(status=410))
    fake = FakeTime()
    with client(fake) as http, pytest.raises(FetchError) as caught:
        http.get(url)
    assert caught.value.reason == "http_error" and "410" in caught.value.detail
    assert not caught.value.transient and fake.sleeps == []


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "file:///etc/passwd", "not a url"])
def test_only_http_urls(url):
    with client(FakeTime()) as http, pytest.raises(FetchError) as caught:
        http.get(url)
    assert caught.value.reason == "bad_url"


@pytest.mark.parametrize("bad", [{"host_delay": -1}, {"timeout": 0}, {"max_bytes": 0},
                                 {"retries": -1}, {"retries": 1.5}])
def test_options_are_validated(bad):
    with pytest.raises(ValueError, match=next(iter(bad))[:5]):
        FetchOptions(**bad)


def test_a_crawl_delay_in_robots_txt_slows_the_pace_up_to_a_cap(site):
    site.add("/robots.txt", Route(body=b"User-agent: *\nCrawl-delay: 7\n", content_type="text/plain"))
    urls = [site.add(f"/p{i}", Route(body=b"p")) for i in range(2)]
    fake = FakeTime()
    with client(fake, host_delay=1.0) as http:
        for url in urls:
            http.get(url)
    assert fake.sleeps == [7.0, 7.0]  # robots.txt, then each page after the delay it asks for
    site.routes["/robots.txt"].body = b"User-agent: *\nCrawl-delay: 100000\n"
    fake = FakeTime()
    with client(fake, host_delay=1.0) as http:
        for url in urls:
            http.get(url)
    assert fake.sleeps == [60.0, 60.0]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_waited_for_before_the_next_try(site, status):
    url = site.add("/busy", Route(body=b"ok", failures=1, failure_status=status, retry_after="7"))
    fake = FakeTime()
    with client(fake, retries=2, backoff=1.0) as http:
        assert http.get(url).content == b"ok"
    assert fake.sleeps == [7.0]  # Retry-After, not the 1 s backoff
    tries = [r.at for r in site.requests if r.path == "/busy"]
    assert len(tries) == 2


def test_retry_after_holds_every_request_to_that_host(site):
    busy = site.add("/busy", Route(body=b"ok", failures=99, failure_status=429, retry_after="20"))
    other = site.add("/other", Route(body=b"other"))
    fake = FakeTime()
    with client(fake, retries=0, max_backoff=60) as http:
        with pytest.raises(FetchError) as caught:
            http.get(busy)
        assert caught.value.transient and "HTTP 429, Retry-After 20 s" in caught.value.detail
        fake.now += 5
        assert http.get(other).content == b"other"  # same host: asked only after the pause
    assert fake.sleeps == [pytest.approx(15.0)]


def test_a_long_retry_after_defers_the_host_without_waiting(site):
    # An HTTP date two hours ahead: capped at an hour, longer than a round may wait.
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    busy = site.add("/busy", Route(body=b"ok", failures=1, failure_status=503, retry_after=later))
    other = site.add("/other", Route(body=b"other"))
    fake = FakeTime()
    with client(fake, retries=3) as http:
        with pytest.raises(FetchError) as caught:
            http.get(busy)
        assert caught.value.reason == "http_error" and "after 1 tries" in caught.value.detail
        assert http.deferred_for(other) == pytest.approx(MAX_RETRY_AFTER)
        with pytest.raises(FetchError) as deferred:
            http.get(other)
        assert deferred.value.reason == "deferred" and deferred.value.transient
        assert "127.0.0.1" in str(deferred.value) and "Retry-After" in str(deferred.value)
        assert "/other" not in site.paths() and fake.sleeps == []
        fake.now += MAX_RETRY_AFTER
        assert http.get(other).content == b"other" and http.get(busy).content == b"ok"
    assert site.paths().count("/busy") == 2


@pytest.mark.parametrize("value, expected", [
    ("120", 120.0), (" 0 ", 0.0), ("soon", None), ("", None), (None, None), ("-5", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: no wait
])
def test_retry_after_values(value, expected):
    assert retry_after(value) == expected


def test_retry_after_as_a_date_counts_from_now():
    moment = datetime.now(UTC) + timedelta(seconds=90)
    assert retry_after(email.utils.format_datetime(moment, usegmt=True)) == pytest.approx(90, abs=2)


def test_interrupt_ends_a_pause_at_once(site):
    url = site.add("/p", Route(body=b"p"))
    with PoliteClient(FetchOptions(host_delay=30.0, timeout=2.0)) as http:
        # robots.txt is the first request to the host; the page waits 30 s after it.
        threading.Timer(0.3, http.interrupt).start()
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            http.get(url)
        assert time.monotonic() - started < 5
        assert caught.value.reason == "stopped" and caught.value.transient
        http.resume()
        assert http.allowed(url)  # the stop was not taken for an answer about the host
    assert "/p" not in site.paths() and "/robots.txt" in site.paths()
