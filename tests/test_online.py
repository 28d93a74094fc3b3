"""The online clusterer on hand-made profiles: what joins, what starts anew, what merges."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from storyline.cluster.online import OnlineClusterer
from storyline.cluster.params import load_params
from storyline.cluster.profile import Profile
from storyline.nlp.latent import Latent

T0 = datetime(2025, 10, 7, 12, tzinfo=UTC)


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def profile(pid, vector, hours=0.0, entities=("grain", "istanbul"), lang="uk", source=None):
    return Profile(id=pid, time=T0 + timedelta(hours=hours), source=source or f"outlet-{pid}",
                   lang=lang, vector=vector, terms=(), entities=tuple(entities),
                   latent=LATENTS.get(vector.tobytes()))


def concepts(first: int, last: int) -> Latent:
    return Latent.of(np.arange(first, last), np.ones(last - first))


# e5 places one event's reports near cosine 0.92-0.95 and unrelated news near 0.80; their latent
# terms share some concepts (here 0.7 of them) and unrelated news few (0.2)
BASE = unit(1, 0, 0, 0)
SAME = unit(1, 0.33, 0, 0)         # cos 0.95 with BASE
OTHER = unit(1, 0, 0.75, 0)        # cos 0.80 with BASE
LATENTS = {BASE.tobytes(): concepts(0, 10), SAME.tobytes(): concepts(3, 13),
           OTHER.tobytes(): concepts(8, 18)}


@pytest.fixture()
def clusterer():
    return OnlineClusterer(load_params(), dim=4)


def test_reports_of_one_event_join_and_unrelated_news_starts_its_own(clusterer):
    first = clusterer.add(profile("a", BASE))
    second = clusterer.add(profile("b", SAME, hours=2))
    third = clusterer.add(profile("c", OTHER, hours=3, entities=("flood",)))
    assert first.new_event and not second.new_event
    assert second.event_id == first.event_id
    assert third.new_event and third.event_id != first.event_id
    assert second.match.features["entities"] > 0 and second.match.probability >= 0.5


def test_days_apart_the_same_topic_is_another_event_of_the_same_story(clusterer):
    first = clusterer.add(profile("a", BASE))
    later = clusterer.add(profile("b", SAME, hours=24 * 8))
    assert later.event_id != first.event_id
    assert later.story_id == first.story_id


def test_ids_follow_the_first_member_and_do_not_change(clusterer):
    first = clusterer.add(profile("a", BASE))
    for i in range(5):
        clusterer.add(profile(f"x{i}", SAME, hours=i))
    assert clusterer.events.get(first.event_id).members[0] == "a"
    again = OnlineClusterer(load_params(), dim=4).add(profile("a", BASE))
    assert again.event_id == first.event_id and again.story_id == first.story_id


def test_a_near_duplicate_joins_its_originals_event(clusterer):
    first = clusterer.add(profile("a", BASE))
    copy = clusterer.add(profile("b", OTHER, entities=("flood",)), duplicate_of="a")
    assert copy.event_id == first.event_id and copy.match is None


def test_threshold_rises_with_event_size(clusterer):
    from storyline.cluster.similarity import event_threshold

    level = clusterer.params.event
    assert event_threshold(1, level) < event_threshold(8, level) <= level.threshold_max


def test_an_event_matching_two_stories_merges_them():
    params = load_params()
    params = dataclasses.replace(params, story=dataclasses.replace(params.story, merge_threshold=0.5))
    clusterer = OnlineClusterer(params, dim=4)
    left = clusterer.add(profile("a", unit(1, 0.5, 0, 0), entities=("koval", "grain")))
    right = clusterer.add(profile("b", unit(1, -0.5, 0, 0), hours=24 * 20, entities=("koval", "grain")))
    assert left.story_id != right.story_id
    bridge = clusterer.add(profile("c", unit(1, 0, 0, 0), hours=24 * 10, entities=("koval", "grain")))
    stories = {clusterer.story_id(s) for s in (left.story_id, right.story_id, bridge.story_id)}
    assert len(stories) == 1
    assert bridge.event_id not in (left.event_id, right.event_id)
    assert len(clusterer.stories) == 1


def _drifting_story(clusterer):
    """Weekly events, each 16 degrees on from the last (cosine 0.96): every step looks like the
    same story, the tenth event has turned 144 degrees from the first."""
    turn = np.radians(16)
    return [clusterer.add(profile(f"w{i}", unit(np.cos(i * turn), np.sin(i * turn), 0, 0),
                                  hours=24 * 7 * i, entities=("koval", "grain")))
            for i in range(10)]


def test_a_story_does_not_chain_along_drifting_events():
    params = load_params()
    single_link = dataclasses.replace(params, story=dataclasses.replace(params.story, centroid_floor=0.0))
    chained = _drifting_story(OnlineClusterer(single_link, dim=4))
    assert len({a.event_id for a in chained}) == 10
    assert len({a.story_id for a in chained}) == 1  # what the floor is there to stop

    guarded = _drifting_story(OnlineClusterer(params, dim=4))
    assert guarded[1].story_id == guarded[0].story_id
    assert guarded[-1].story_id != guarded[0].story_id


# ---------------------------------------------------------------- the open set's index


def _groups(n: int, dim: int, seed: int = 0):
    from storyline.cluster.groups import Group

    rng = np.random.default_rng(seed)
    groups = []
    for i in range(n):
        g = Group(id=f"g{i:05d}")
        g.vector_sum = rng.normal(size=dim).astype(np.float32)
        g.first = g.last = T0 + timedelta(hours=i % 200)
        groups.append(g)
    return groups


def test_active_set_finds_the_window_s_nearest_even_when_closer_ones_are_out_of_it():
    from storyline.cluster.active import ActiveSet

    active = ActiveSet(8, backend="exact")
    groups = _groups(300, 8)
    for g in groups:
        active.put(g)
    query = groups[0].centroid
    window = timedelta(hours=2)
    when = T0 + timedelta(hours=150)
    found = active.nearest(query, 5, when, window)
    inside = [g for g in groups if g.first - window <= when <= g.last + window]
    expected = sorted(inside, key=lambda g: -float(g.centroid @ query))[:5]
    assert [g.id for g in found] == [g.id for g in expected]
    assert len(inside) < 300 // 10  # most of the nearest are out of the window: the fetch grew
    assert active.nearest(query, 5, None, window)[0].id == "g00000"

    active.remove("g00000")
    active.remove("g00000")  # already gone: nothing to do
    assert "g00000" not in active and len(active) == 299 and len(active.index) == 299
    moved = groups[1]
    moved.vector_sum = query.copy()
    active.put(moved)  # a refreshed centroid replaces the old one
    assert active.nearest(query, 1, None, window)[0].id == moved.id and len(active.index) == 299


def test_active_set_switches_to_hnsw_past_its_threshold_and_agrees_with_exact():
    pytest.importorskip("usearch", reason="usearch is the optional HNSW backend (extra 'hnsw')")
    from storyline.cluster.active import ActiveSet

    groups = _groups(2000, 16, seed=3)
    exact, graph = ActiveSet(16, backend="exact"), ActiveSet(16, backend="auto", hnsw_threshold=500)
    for g in groups:
        exact.put(g)
        graph.put(g)
    assert (exact.index.active_backend, graph.index.active_backend) == ("exact", "hnsw")
    window = timedelta(days=30)
    hits = 0
    for g in groups[:100]:
        want = [x.id for x in exact.nearest(g.centroid, 10, g.first, window)]
        got = [x.id for x in graph.nearest(g.centroid, 10, g.first, window)]
        assert got[0] == g.id == want[0]
        hits += len(set(want) & set(got))
    assert hits / 1000 >= 0.95  # recall@10 of the graph against exact search
