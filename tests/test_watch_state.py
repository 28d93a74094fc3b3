"""The watcher's per-URL memory, on SQLite and PostgreSQL, across store openings."""

from __future__ import annotations

import pytest

from storyline.store import open_store
from storyline.watch.fetch import Validators
from storyline.watch.state import FetchState
from test_store import pg_url  # noqa: F401  (a fixture: a fresh PostgreSQL schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'state.db'}"


def test_validators_and_done_pages_outlive_the_store_object(url):
    feed = "http://127.0.0.1/feed.rss"
    with open_store(url) as store:
        state = FetchState(store)
        assert state.validators(feed) is None and state.done([feed]) == set()
        state.save_validators(feed, Validators('"v1"', "Tue, 07 Dec 2021 10:00:00 GMT"))
        state.mark_done(["http://127.0.0.1/a", "http://127.0.0.1/b", "http://127.0.0.1/a"])
    with open_store(url) as store:
        state = FetchState(store)
        assert state.validators(feed) == Validators('"v1"', "Tue, 07 Dec 2021 10:00:00 GMT")
        assert state.done(["http://127.0.0.1/a", "http://127.0.0.1/b", "http://127.0.0.1/c", feed]) == {
            "http://127.0.0.1/a", "http://127.0.0.1/b"}
        state.save_validators(feed, Validators(etag='"v2"'))
        assert state.validators(feed) == Validators('"v2"', None)
        state.save_validators(feed, Validators())
        assert state.validators(feed) is None
        assert state.done([]) == set()
