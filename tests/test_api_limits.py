"""The API's limits and access rules on their own: token buckets, loopback, dates, arguments."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest

from storyline.api.cache import ResultCache
from storyline.api.deps import moment
from storyline.api.errors import ApiError
from storyline.api.limits import BodyLimit, TokenBucket
from storyline.api.security import WriteAccess, is_loopback


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills():
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a") == pytest.approx(0.5)
    assert bucket.take("b") == 0.0  # another client has its own bucket
    clock.now += 0.5
    assert bucket.take("a") == 0.0
    clock.now += 60
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]  # never more than the burst
    assert bucket.take("a") > 0


def test_refused_requests_spend_nothing():
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock)
    bucket.take("a")
    for _ in range(10):
        assert bucket.take("a") == pytest.approx(1.0)
    clock.now += 1.0
    assert bucket.take("a") == 0.0


def test_bucket_forgets_the_least_recent_clients():
    bucket = TokenBucket(rate=1.0, burst=1, max_clients=2, clock=Clock())
    for client in ("a", "b", "c"):
        bucket.take(client)
    assert bucket.take("a") == 0.0  # forgotten, so full again
    assert bucket.take("c") > 0


@pytest.mark.parametrize("kwargs, message", [
    ({"rate": 0, "burst": 1}, "rate must be > 0"),
    ({"rate": -1, "burst": 1}, "rate must be > 0"),
    ({"rate": 1, "burst": 0}, "burst must be a whole number >= 1"),
    ({"rate": 1, "burst": 1.5}, "burst must be a whole number >= 1"),
])
def test_bucket_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TokenBucket(**kwargs)


@pytest.mark.parametrize("value", [0, -5, "5MB", None])
def test_body_limit_arguments(value):
    with pytest.raises(ValueError, match="max_bytes"):
        BodyLimit(app=None, max_bytes=value)


@pytest.mark.parametrize("host, expected", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LOCALHOST", True), ("app.localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("203.0.113.9", False),
    ("example.com", False), ("testclient", False), ("", False), (None, False),
])
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


@pytest.mark.parametrize("token", ["", "   "])
def test_an_empty_token_is_refused(token):
    with pytest.raises(ValueError, match="empty"):
        WriteAccess(token=token)


@pytest.mark.parametrize("access, mode", [
    (WriteAccess(), "disabled"), (WriteAccess(local_writes=True), "local"),
    (WriteAccess(token="t", local_writes=True), "token"),
])
def test_write_modes(access, mode):
    assert access.mode == mode


@pytest.mark.parametrize("text, end_of_day, expected", [
    ("2025-10-20", False, datetime(2025, 10, 20, tzinfo=UTC)),
    ("2025-10-20", True, datetime(2025, 10, 20, 23, 59, 59, 999_999, tzinfo=UTC)),
    ("2025-10-20T12:30", False, datetime(2025, 10, 20, 12, 30, tzinfo=UTC)),
    ("2025-10-20T12:30+03:00", True, datetime(2025, 10, 20, 12, 30, tzinfo=timezone(timedelta(hours=3)))),
    ("2025-10-20T12:30Z", False, datetime(2025, 10, 20, 12, 30, tzinfo=UTC)),
    (" 2025-10-20 ", False, datetime(2025, 10, 20, tzinfo=UTC)),
    (None, False, None),
])
def test_moment(text, end_of_day, expected):
    assert moment(text, "since", end_of_day=end_of_day) == expected


@pytest.mark.parametrize("text", ["yesterday", "2025-02-30", "2025-10-20T25:00", "20.10.2025", ""])
def test_moment_refuses_what_is_not_a_date(text):
    with pytest.raises(ApiError) as caught:
        moment(text, "until")
    assert caught.value.status_code == 422 and caught.value.message.startswith("until:")


# -- the answer cache --------------------------------------------------------------------------


def test_cache_keeps_answers_for_ttl():
    clock = Clock()
    cache = ResultCache(10, stale=0, clock=clock)
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert cache.get("k", compute) == 1
    assert cache.get("k", compute) == 1
    assert cache.get("other", compute) == 2
    clock.now += 10
    assert cache.get("k", compute) == 3


def test_a_stale_answer_is_served_while_one_refresh_runs():
    clock = Clock()
    cache = ResultCache(10, stale=50, clock=clock)
    cache.get("k", lambda: "first")
    clock.now += 20
    started, release, calls = threading.Event(), threading.Event(), []

    def refresh():
        calls.append(1)
        started.set()
        release.wait(5)
        return "second"

    assert cache.get("k", refresh) == "first"  # stale, answered at once
    assert started.wait(5)
    assert cache.get("k", refresh) == "first"  # one refresh at a time
    release.set()
    for _ in range(100):
        if cache.get("k", refresh) == "second":
            break
        time.sleep(0.02)
    assert cache.get("k", refresh) == "second" and len(calls) == 1
    clock.now += 61  # older than ttl + stale: computed while the reader waits
    assert cache.get("k", lambda: "third") == "third"


def test_a_failed_refresh_keeps_the_stale_answer():
    clock = Clock()
    cache = ResultCache(10, stale=50, clock=clock)
    cache.get("k", lambda: "kept")
    clock.now += 20

    def broken():
        raise RuntimeError("store gone")

    assert cache.get("k", broken) == "kept"
    time.sleep(0.2)
    assert cache.get("k", broken) == "kept"


def test_cache_off_and_cleared():
    off = ResultCache(0)
    assert [off.get("k", lambda n=n: n) for n in range(3)] == [0, 1, 2]
    cache = ResultCache(60, clock=Clock())
    cache.get("k", lambda: "old")
    cache.clear()
    assert cache.get("k", lambda: "new") == "new"


def test_an_answer_computed_across_a_clear_is_not_kept():
    cache = ResultCache(60, clock=Clock())

    def compute_while_a_write_lands():
        cache.clear()
        return "stale"

    assert cache.get("k", compute_while_a_write_lands) == "stale"
    assert cache.get("k", lambda: "fresh") == "fresh"


def test_cache_evicts_the_least_recently_used():
    cache = ResultCache(60, max_entries=2, clock=Clock())
    for key in ("a", "b"):
        cache.get(key, lambda key=key: key)
    cache.get("a", lambda: "recomputed")  # a is fresh again, b is now the oldest
    cache.get("c", lambda: "c")
    assert cache.get("a", lambda: "recomputed") == "a"
    assert cache.get("b", lambda: "recomputed") == "recomputed"


def test_concurrent_misses_compute_once():
    cache = ResultCache(60)
    calls = []
    gate = threading.Event()

    def slow():
        calls.append(1)
        gate.wait(5)
        return "value"

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(cache.get, "k", slow) for _ in range(8)]
        time.sleep(0.2)
        gate.set()
        assert {f.result() for f in futures} == {"value"}
    assert len(calls) == 1


@pytest.mark.parametrize("kwargs", [{"ttl": -1}, {"ttl": 1, "stale": -1}, {"ttl": 1, "max_entries": 0}])
def test_cache_arguments(kwargs):
    with pytest.raises(ValueError):
        ResultCache(**kwargs)
