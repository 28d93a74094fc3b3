"""Online clustering: each article joins the best open event or starts one; each new event
joins the best open story or starts one. Adding an article never re-clusters the corpus."""

from __future__ import annotations

import logging
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
from storyline.nlp.latent import Latent, LatentMembers, spread

# Sizes at which an event that is alone in its story looks again for a story to join.
RETHREAD_AT = (2, 3, 5)
log = logging.getLogger(__name__)


@dataclass(slots=True)
class Assignment:
    article_id: str
    event_id: str
    story_id: str
    match: Match | None  # why the article joined its event (None: it started the event)
    new_event: bool
    new_story: bool


class MemberMatrix:
    """An event's member vectors as one matrix that grows by doubling: the best member cosine
    is computed for every candidate event of every article, and stacking the members anew each
    time made that cost grow with the size of the events (docs/benchmarks.md)."""

    __slots__ = ("_rows", "_size")

    def __init__(self, rows: list[np.ndarray] | tuple = ()):
        self._rows = np.vstack(rows) if len(rows) else None
        self._size = len(rows)

    def append(self, vector: np.ndarray) -> None:
        if self._rows is None:
            self._rows = np.empty((4, vector.shape[0]), dtype=vector.dtype)
        elif self._size == len(self._rows):
            grown = np.empty((2 * len(self._rows), self._rows.shape[1]), dtype=self._rows.dtype)
            grown[: self._size] = self._rows
            self._rows = grown
        self._rows[self._size] = vector
        self._size += 1

    def matrix(self) -> np.ndarray | None:
        """The members so far (a view), None when there are none."""
        return self._rows[: self._size] if self._size else None


class OnlineClusterer:
    """Holds the open events and stories and the corpus statistics; ``add`` one profile at a
    time, in time order. ``changed_events``/``changed_stories`` list what to persist."""

    def __init__(self, params: Params, dim: int, df: DocumentFrequencies | None = None):
        self.params = params
        self.df = df or DocumentFrequencies()
        self.events = ActiveSet(dim)
        self.stories = ActiveSet(dim)
        self.member_vectors: dict[str, MemberMatrix] = {}
        self.member_latents: dict[str, LatentMembers] = {}
        self.article_event: dict[str, str] = {}
        self.changed_events: dict[str, Group] = {}
        self.changed_stories: dict[str, Group] = {}
        self.deleted_stories: set[str] = set()
        self.moved_events: dict[str, str] = {}  # event id -> the story it moved to
        self.merged_stories: dict[str, str] = {}  # story id -> the story it was merged into
        self.newest: datetime | None = None

    # -- state from the store ----------------------------------------------------------------

    def restore(self, events: list[Group], stories: list[Group],
                vectors: dict[str, np.ndarray], latents: dict[str, Latent] | None = None) -> None:
        for story in stories:
            self.stories.put(story)
        for event in events:
            self.events.put(event)
            self.member_vectors[event.id] = MemberMatrix([vectors[m] for m in event.members if m in vectors])
            if latents:
                self.member_latents[event.id] = LatentMembers(
                    [latents[m] for m in event.members if m in latents])
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
        self.member_vectors.setdefault(event.id, MemberMatrix()).append(profile.vector)
        if profile.latent is not None:
            self.member_latents.setdefault(event.id, LatentMembers()).append(profile.latent)
        self.article_event[profile.id] = event.id
        self.df.add(profile.entities + profile.terms)
        new_story = False
        if new_event:
            new_story = self._place_new_event(event)
        else:
            story = self._story_of(event)
            story.add_delta(profile)
            self._touch_story(story)
            if event.articles in RETHREAD_AT and story.size == 1:
                self._rethread(event, story)
        self.events.put(event)
        self.changed_events[event.id] = event
        self._advance(profile.time, ev.window_days)
        return Assignment(profile.id, event.id, event.parent, match, new_event, new_story)

    def _best_event(self, profile: Profile) -> Match | None:
        ev, feats = self.params.event, self.params.features
        window = timedelta(days=ev.window_days)
        best = None
        query = spread(profile.latent) if profile.latent is not None and ev.latent else None
        for event in self.events.nearest(profile.vector, ev.candidates, profile.time, window):
            members = self.member_vectors.get(event.id)
            matrix = members.matrix() if members is not None else None
            latents = self.member_latents.get(event.id)
            latent = latents.best(query) if query is not None and latents is not None else 0.0
            match = article_event_match(profile, event, matrix, self.df, ev, feats, latent)
            if match.probability >= event_threshold(event.articles, ev) and (
                    best is None or match.probability > best.probability):
                best = match
        return best

    def _best_story(self, event: Group) -> Match | None:
        matches = self._story_matches(event)
        return matches[0] if matches else None

    def _story_matches(self, event: Group) -> list[Match]:
        """Stories are threaded by their events: the new event is compared with the open events
        near it (single events keep their own sharp centroids, a story's blurs as it grows),
        and with the centroids of open stories whose events have all closed. Returns the best
        match per story above the threshold, best first."""
        st, feats = self.params.story, self.params.features
        window = timedelta(days=st.window_days)
        best: dict[str, Match] = {}
        others = [e for e in self.events.nearest(event.centroid, st.candidates, event.first, window)
                  if e.id != event.id and e.parent and e.parent != event.parent]
        stories = [s for s in self.stories.nearest(event.centroid, st.candidates, event.first, window)
                   if s.id != event.parent]
        # An event whose story has closed (or was folded away) cannot lead to it.
        candidates = [(e, e.parent) for e in others if e.parent in self.stories]
        candidates += [(s, s.id) for s in stories]
        for other, story_id in candidates:
            if not self._near_story(event, story_id):
                continue
            match = event_story_match(event, other, self.df, st, feats)
            log.debug("event %s vs story %s: p=%.3f %s", event.id, story_id, match.probability,
                      {k: round(v, 3) for k, v in match.features.items()})
            known = best.get(story_id)
            if match.probability >= st.threshold and (known is None or match.probability > known.probability):
                best[story_id] = Match(story_id, match.probability, match.features,
                                       match.shared_entities, match.shared_terms)
        return sorted(best.values(), key=lambda m: -m.probability)

    def _near_story(self, event: Group, story_id: str) -> bool:
        """Threading by the nearest event is single-link: a chain of events, each close to the
        last, would carry a story anywhere. The whole story's centroid keeps it in place."""
        floor = self.params.story.centroid_floor
        story = self.stories.get(story_id)
        return not floor or story is None or float(event.centroid @ story.centroid) >= floor

    def _place_new_event(self, event: Group) -> bool:
        matches = self._story_matches(event)
        if not matches:
            story = Group(id=stable_id("st_", event.id))
        else:
            story = self.stories.get(matches[0].group_id)
        story.add_group(event)
        event.parent = story.id
        self._touch_story(story)
        # An event that belongs with two stories with confidence bridges them: stories that
        # began apart (articles out of order, a story told from two sides) become one.
        for other in matches[1:]:
            if other.probability >= self.params.story.merge_threshold:
                self._merge_stories(self.stories.get(self.story_id(story.id)),
                                    self.stories.get(other.group_id))
        event.parent = self.story_id(event.parent)
        return not matches

    def _merge_stories(self, keep: Group, gone: Group | None) -> None:
        if gone is None or gone.id == keep.id:
            return
        if gone.articles > keep.articles:  # the larger story keeps its id: fewer ids change
            keep, gone = gone, keep
        keep.merge(gone)
        for event in self.events.groups.values():
            if event.parent == gone.id:
                event.parent = keep.id
                self.changed_events[event.id] = event
        for old, new in list(self.merged_stories.items()):
            if new == gone.id:
                self.merged_stories[old] = keep.id
        self.merged_stories[gone.id] = keep.id
        self.stories.remove(gone.id)
        self.changed_stories.pop(gone.id, None)
        self.deleted_stories.add(gone.id)
        self._touch_story(keep)

    def story_id(self, story_id: str) -> str:
        """Where a story went if it was merged into another."""
        return self.merged_stories.get(story_id, story_id)

    def _rethread(self, event: Group, story: Group) -> None:
        """An event placed alone by its first article gets another chance as it grows: if it
        now belongs with another story, its own one-event story is folded into that one."""
        best = self._best_story(event)
        if best is None:
            return
        target = self.stories.get(best.group_id)
        if target is None:
            return
        target.add_group(event)
        event.parent = target.id
        self.stories.remove(story.id)
        self.changed_stories.pop(story.id, None)
        self.deleted_stories.add(story.id)
        self.moved_events[event.id] = target.id
        self._touch_story(target)

    def _story_of(self, event: Group) -> Group:
        story = self.stories.get(event.parent) or self.changed_stories.get(event.parent)
        if story is None:  # retired from the open set, but an event of it is still open
            raise KeyError(f"story {event.parent} of open event {event.id} is not loaded")
        return story

    def _touch_story(self, story: Group) -> None:
        self.stories.put(story)
        self.changed_stories[story.id] = story

    def settle(self) -> None:
        """Close what a restart would not load (``StoryEngine._open``: events and stories by
        their last article against the newest). Called after each batch: an event opened by an
        old article after the last advance stayed open in this process only, so a run resumed
        after a crash (or the next ``storyline ingest``) clustered the next batch without it."""
        if self.newest is not None:
            self._retire(self.newest, self.params.event.window_days)

    def _advance(self, when: datetime | None, window_days: float) -> None:
        if when is None or (self.newest is not None and when <= self.newest):
            return
        self.newest = when
        self._retire(when, window_days)

    def _retire(self, when: datetime, window_days: float) -> None:
        # Articles of one batch arrive roughly, not strictly, in time order: events stay open
        # a while past their window so that a late article can still find its event.
        slack = timedelta(days=self.params.event.retire_slack_days)
        for event_id in self.events.retire_before(when - timedelta(days=window_days) - slack):
            self.member_vectors.pop(event_id, None)
            self.member_latents.pop(event_id, None)
        # Stories stay open while any of their events is; their own window is longer.
        self.stories.retire_before(when - timedelta(days=self.params.story.window_days))

    def take_changes(self) -> tuple[list[Group], list[Group], set[str], dict[str, str], dict[str, str]]:
        """Events and stories changed since the last call, stories folded into others, events
        that moved to another story, and stories merged into another (old id -> new id)."""
        changes = (list(self.changed_events.values()), list(self.changed_stories.values()),
                   set(self.deleted_stories), dict(self.moved_events), dict(self.merged_stories))
        self.changed_events.clear()
        self.changed_stories.clear()
        self.deleted_stories.clear()
        self.moved_events.clear()
        self.merged_stories.clear()
        return changes
