"""`storyline watch` as a user runs it: --once for cron, --feeds files, and a clean stop on Ctrl-C
in a real process that loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from storyline.cli import main
from storyline.settings import Settings
from storyline.store import open_store
from storyline.watch.fetch import FetchOptions, PoliteClient
from storyline.watch.loop import Watcher
from watch_server import LocalServer, Route

FAST = ["--host-delay", "0", "--timeout", "5", "--retries", "0"]


@pytest.fixture
def site():
    with LocalServer() as site:
        yield site


def serve(site) -> list[str]:
    for name in ("uk-bridge.html", "ru-library.html", "en-ferry.html"):
        site.fixture(f"/news/{name}", name)
    return [site.fixture("/news.rss", "news.rss"), site.fixture("/world.atom", "world.atom")]


def test_once_from_a_feeds_file(site, tmp_path, monkeypatch):
    monkeypatch.setenv("STORYLINE_CLUSTER", "0")
    feeds = serve(site)
    listing = tmp_path / "feeds.txt"
    listing.write_text(f"# two feeds\n{feeds[0]}\n\n{feeds[1]}\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'w.db'}"
    result = CliRunner().invoke(main, ["watch", "--feeds", str(listing), "--once", "--db", db,
                                       "--embedder", "lexical", *FAST])
    assert result.exit_code == 0, result.output
    assert "round 1: 2 sources" in result.output and "3 ingested" in result.output
    assert "robots: disallowed" in result.output
    with open_store(db) as store:
        assert store.count_articles() == 3


def test_nothing_to_watch_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["watch", "--db", f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code == 1
    assert "Error: nothing to watch" in result.output and "Hint:" in result.output


def test_ctrl_c_finishes_the_batch_in_hand_and_loses_nothing(site, tmp_path):
    feeds = serve(site)
    # The first entry's page is slow, so the signal lands while it is being fetched.
    site.routes["/news/uk-bridge.html"].delay = 1.0
    site.watch_path = "/news/uk-bridge.html"
    db = f"sqlite:///{tmp_path / 'w.db'}"
    env = {**os.environ, "STORYLINE_CLUSTER": "0", "STORYLINE_EMBEDDER": "lexical"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from storyline.cli import main; main()", "watch", *feeds,
         "--db", db, "--interval", "600", *FAST],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert site.seen.wait(60), "the watcher never asked for the slow page"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "SIGINT: stopping after the current batch" in stderr and "stopped" in stderr
    assert "Traceback" not in stderr
    with open_store(db) as store:
        # The page being fetched when the signal came was finished and stored.
        assert [a.title for a in store.iter_articles()] == ["Міст через Прип'ять відкриють до зими"]

        # The next run picks up exactly where this one stopped: nothing lost, nothing twice.
        site.routes["/news/uk-bridge.html"].delay = 0
        client = PoliteClient(FetchOptions(host_delay=0, retries=0))
        with client:
            summary = Watcher(store, feeds, Settings(embedder="lexical", cluster=False),
                              client=client).poll()
        assert summary.counts["ingested"] == 2
        assert store.count_articles() == 3
    assert site.paths().count("/news/uk-bridge.html") == 1
    assert site.paths().count("/news/ru-library.html") == 1


def test_feeds_file_that_cannot_be_read(tmp_path):
    result = CliRunner().invoke(main, ["watch", "--feeds", str(tmp_path / "none.txt"), "--once"])
    assert result.exit_code == 1 and "cannot read feeds file" in result.output


def test_a_page_route_is_watched_from_the_command_line(site, tmp_path, monkeypatch):
    monkeypatch.setenv("STORYLINE_CLUSTER", "0")
    url = site.add("/gone.html", Route(status=404))
    result = CliRunner().invoke(main, ["watch", url, "--once", "--db", f"sqlite:///{tmp_path / 'w.db'}",
                                       "--embedder", "lexical", *FAST])
    assert result.exit_code == 0
    assert f"{url}: http_error: HTTP 404" in result.output
    assert "round 1: 1 sources (0 not modified), 0 new entries" in result.output
