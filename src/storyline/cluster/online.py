"""Online clustering: each article joins the best open event or starts one; each new event
joins the best open story or starts one. Adding an article never re-clusters the corpus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from storyline.cluster.active import ActiveSet
from storyline.cluster.groups import Group, stable_id
from storyline.cluster.params import Params
from storyline.cluster.profile import Profile
from storyline.cluster.similarity import (
    DocumentFrequencies,
    Match,
    article_event_match,
    event_story_match,
    event_threshold,
)


@dataclass(slots=True)
class Assignment:
    article_id: str
    event_id: str
    story_id: str
    match: Match | None  # why the article joined its event (None: it started the event)
    new_event: bool
    new_story: bool


class OnlineClusterer:
    """Holds the open events and stories and the corpus statistics; ``add`` one profile at a
    time, in time order. ``changed_events``/``changed_stories`` list what to persist."""

    def __init__(self, params: Params, dim: int, df: DocumentFrequencies | None = None):
        self.params = params
        self.df = df or DocumentFrequencies()
        self.events = ActiveSet(dim)
        self.stories = ActiveSet(dim)
        self.member_vectors: dict[str, list[np.ndarray]] = {}
        self.article_event: dict[str, str] = {}
        self.changed_events: dict[str, Group] = {}
        self.changed_stories: dict[str, Group] = {}
        self.newest: datetime | None = None

    # -- state from the store ----------------------------------------------------------------

    def restore(self, events: list[Group], stories: list[Group],
                vectors: dict[str, np.ndarray]) -> None:
        for story in stories:
            self.stories.put(story)
        for event in events:
            self.events.put(event)
            self.member_vectors[event.id] = [vectors[m] for m in event.members if m in vectors]
            for member in event.members:
                self.article_event[member] = event.id
            if event.last is not None and (self.newest is None or event.last > self.newest):
                self.newest = event.last

    # -- the algorithm -----------------------------------------------------------------------

    def add(self, profile: Profile, duplicate_of: str | None = None) -> Assignment:
        ev = self.params.event
        event, match = None, None
        if duplicate_of and self.article_event.get(duplicate_of) in self.events:
            event = self.events.get(self.article_event[duplicate_of])
        else:
            match = self._best_event(profile)
            if match is not None:
                event = self.events.get(match.group_id)
        new_event = event is None
        if new_event:
            event = Group(id=stable_id("ev_", profile.id))
        event.add_profile(profile)
        self.member_vectors.setdefault(event.id, []).append(profile.vector)
        self.article_event[profile.id] = event.id
        self.df.add(profile.entities + profile.terms)
        new_story = False
        if new_event:
            new_story = self._place_new_event(event)
        else:
            story = self._story_of(event)
            story.add_delta(profile)
            self._touch_story(story)
        self.events.put(event)
        self.changed_events[event.id] = event
        self._advance(profile.time, ev.window_days)
        return Assignment(profile.id, event.id, event.parent, match, new_event, new_story)

    def _best_event(self, profile: Profile) -> Match | None:
        ev, feats = self.params.event, self.params.features
        window = timedelta(days=ev.window_days)
        best = None
        for event in self.events.nearest(profile.vector, ev.candidates, profile.time, window):
            members = self.member_vectors.get(event.id)
            matrix = np.vstack(members) if members else None
            match = article_event_match(profile, event, matrix, self.df, ev, feats)
            if match.probability >= event_threshold(event.articles, ev) and (
                    best is None or match.probability > best.probability):
                best = match
        return best

    def _place_new_event(self, event: Group) -> bool:
        st, feats = self.params.story, self.params.features
        window = timedelta(days=st.window_days)
        best = None
        for story in self.stories.nearest(event.centroid, st.candidates, event.first, window):
            match = event_story_match(event, story, self.df, st, feats)
            if match.probability >= st.threshold and (best is None or match.probability > best.probability):
                best = match
        if best is None:
            story = Group(id=stable_id("st_", event.id))
        else:
            story = self.stories.get(best.group_id)
        story.add_group(event)
        event.parent = story.id
        self._touch_story(story)
        return best is None

    def _story_of(self, event: Group) -> Group:
        story = self.stories.get(event.parent) or self.changed_stories.get(event.parent)
        if story is None:  # retired from the open set, but an event of it is still open
            raise KeyError(f"story {event.parent} of open event {event.id} is not loaded")
        return story

    def _touch_story(self, story: Group) -> None:
        self.stories.put(story)
        self.changed_stories[story.id] = story

    def _advance(self, when: datetime | None, window_days: float) -> None:
        if when is None or (self.newest is not None and when <= self.newest):
            return
        self.newest = when
        # Articles of one batch arrive roughly, not strictly, in time order: events stay open
        # a while past their window so that a late article can still find its event.
        slack = timedelta(days=self.params.event.retire_slack_days)
        for event_id in self.events.retire_before(when - timedelta(days=window_days) - slack):
            self.member_vectors.pop(event_id, None)
        # Stories stay open while any of their events is; their own window is longer.
        self.stories.retire_before(when - timedelta(days=self.params.story.window_days))

    def take_changes(self) -> tuple[list[Group], list[Group]]:
        events, stories = list(self.changed_events.values()), list(self.changed_stories.values())
        self.changed_events.clear()
        self.changed_stories.clear()
        return events, stories
