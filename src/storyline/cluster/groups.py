"""A cluster's running summary (an event of articles, a story of events), updated in place as
members arrive, so that adding one article never revisits the others."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from storyline.cluster.profile import Profile


def stable_id(prefix: str, first_member: str) -> str:
    """Ids follow from the first member, so they stay the same as members arrive."""
    return f"{prefix}{hashlib.sha1(first_member.encode()).hexdigest()[:12]}"


@dataclass(slots=True, eq=False)
class Group:
    id: str
    members: list[str] = field(default_factory=list)
    vector_sum: np.ndarray | None = None
    entity_counts: Counter = field(default_factory=Counter)
    term_counts: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
    langs: Counter = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None
    parent: str | None = None  # an event's story
    articles: int = 0  # articles summarised (a story counts its events' articles)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def centroid(self) -> np.ndarray:
        norm = float(np.linalg.norm(self.vector_sum))
        return self.vector_sum / norm if norm else self.vector_sum

    def add_profile(self, profile: Profile) -> None:
        self.members.append(profile.id)
        self._absorb(profile.vector, Counter(profile.entities), Counter(profile.terms),
                     Counter([profile.source] if profile.source else []),
                     Counter([profile.lang] if profile.lang else []), profile.time, profile.time, 1)

    def add_group(self, child: Group, new_member: bool = True) -> None:
        """Fold a child's totals in (a story absorbing an event)."""
        if new_member:
            self.members.append(child.id)
        self._absorb(child.vector_sum, child.entity_counts, child.term_counts, child.sources,
                     child.langs, child.first, child.last, child.articles)

    def merge(self, other: Group) -> None:
        """Take in another cluster of the same kind (two stories found to be one)."""
        self.members.extend(m for m in other.members if m not in self.members)
        self._absorb(other.vector_sum, other.entity_counts, other.term_counts, other.sources,
                     other.langs, other.first, other.last, other.articles)

    def add_delta(self, profile: Profile) -> None:
        """One more article in one of this story's events."""
        self._absorb(profile.vector, Counter(profile.entities), Counter(profile.terms),
                     Counter([profile.source] if profile.source else []),
                     Counter([profile.lang] if profile.lang else []), profile.time, profile.time, 1)

    def _absorb(self, vector, entities, terms, sources, langs, first, last, articles) -> None:
        vector = np.asarray(vector, dtype=np.float32)
        self.vector_sum = vector.copy() if self.vector_sum is None else self.vector_sum + vector
        self.entity_counts.update(entities)
        self.term_counts.update(terms)
        self.sources.update(sources)
        self.langs.update(langs)
        if first is not None:
            self.first = first if self.first is None else min(self.first, first)
        if last is not None:
            self.last = last if self.last is None else max(self.last, last)
        self.articles += articles

    def core(self, counts: Counter, share: float, limit: int) -> tuple[str, ...]:
        """Keys seen in at least ``share`` of the articles: what this cluster is about."""
        need = max(1.0, share * self.articles)
        return tuple(k for k, n in counts.most_common(limit) if n >= need) or tuple(
            k for k, _ in counts.most_common(min(limit, 10)))

    def gap_hours(self, when: datetime | None) -> float | None:
        """Hours from ``when`` to the cluster's time span (0 inside it); None if undated."""
        if when is None or self.first is None:
            return None
        if self.first <= when <= self.last:
            return 0.0
        edge = self.first if when < self.first else self.last
        return abs((when - edge).total_seconds()) / 3600.0

    # -- persistence ------------------------------------------------------------------------

    def to_state(self) -> dict:
        return {
            "members": self.members,
            "entities": dict(self.entity_counts),
            "terms": dict(self.term_counts),
            "sources": dict(self.sources),
            "langs": dict(self.langs),
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "parent": self.parent,
            "articles": self.articles,
        }

    @classmethod
    def from_state(cls, group_id: str, state: dict, vector_sum: np.ndarray) -> Group:
        return cls(
            id=group_id,
            members=list(state["members"]),
            vector_sum=np.asarray(vector_sum, dtype=np.float32),
            entity_counts=Counter(state["entities"]),
            term_counts=Counter(state["terms"]),
            sources=Counter(state["sources"]),
            langs=Counter(state.get("langs", {})),
            first=datetime.fromisoformat(state["first"]) if state["first"] else None,
            last=datetime.fromisoformat(state["last"]) if state["last"] else None,
            parent=state.get("parent"),
            articles=int(state["articles"]),
        )
