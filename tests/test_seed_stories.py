"""Issue 4's acceptance on the five seed pages: one story; 003 and 004 (2 December, the same
announcements) in one event; 000 (31 December readout of the 30 December call) not in it."""

from __future__ import annotations

from datetime import datetime

import pytest

from storyline.ingest.run import ingest
from storyline.settings import Settings
from storyline.store import open_store

CRAWLED = datetime.fromisoformat("2022-01-01T12:00:00+02:00")


@pytest.fixture(scope="module")
def store(seeds):
    with open_store("sqlite://") as store:
        summary = ingest([str(seeds)], store, Settings(crawled_at=CRAWLED))
        assert summary.counts["ingested"] == 5
        yield store


@pytest.fixture(scope="module")
def by_id(store):
    return {a.id[:3]: a for a in store.iter_articles()}


def test_all_five_in_one_story(by_id):
    assert len({a.story_id for a in by_id.values()}) == 1
    assert all(a.story_id for a in by_id.values())


def test_2_december_announcements_are_one_event(by_id):
    assert by_id["003"].event_id == by_id["004"].event_id


def test_31_december_readout_is_another_event(by_id):
    assert by_id["000"].event_id != by_id["003"].event_id


def test_no_seed_is_a_near_duplicate(by_id):
    assert all(a.duplicate_of is None for a in by_id.values())


def test_entities_share_cross_lingual_keys(by_id):
    keys = {k: {e.key for e in a.entities} for k, a in by_id.items()}
    common = set.intersection(*keys.values())
    # Путін (uk) = Путин (ru); Байден = Байден; США, Росія/Россия
    putin = {e.key for e in by_id["000"].entities if e.text.startswith("Путін")}
    assert putin and putin <= keys["001"] and putin <= keys["002"]
    assert len(common) >= 3


def test_reingest_keeps_every_assignment(store, seeds, by_id):
    summary = ingest([str(seeds)], store, Settings(crawled_at=CRAWLED))
    assert summary.counts["unchanged"] == 5
    again = {a.id[:3]: (a.event_id, a.story_id) for a in store.iter_articles()}
    assert again == {k: (a.event_id, a.story_id) for k, a in by_id.items()}
