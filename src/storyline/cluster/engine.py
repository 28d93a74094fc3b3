"""The corpus stage: near-duplicates, vectors, events and stories for each batch of articles,
with the clustering's state read from and written to the store, so that every `storyline
ingest` continues where the last one stopped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

from storyline.cluster.dedup import DuplicateIndex
from storyline.cluster.groups import Group
from storyline.cluster.online import OnlineClusterer
from storyline.cluster.order import in_clustering_order
from storyline.cluster.params import Params, load_params
from storyline.cluster.profile import Embedded, Profile, article_latents, embedding_input, profile_of
from storyline.cluster.similarity import DocumentFrequencies
from storyline.errors import NotFound
from storyline.model import Article, RawDocument
from storyline.nlp.embed import Embedder, get_embedder
from storyline.nlp.latent import Latent
from storyline.settings import Settings
from storyline.store.base import ClusterDelta, ClusterRow, KnownInput, Store
from storyline.store.schema import raw_fingerprint

TOTAL = ""  # the key under which the store counts documents
# Signatures retire in steps: the index is rebuilt from the rest when its oldest is this far past
# the story window.
RETIRE_STEP_DAYS = 30.0


class StoryEngine:
    """Assigns ``event_id``, ``story_id`` and ``duplicate_of`` to articles, batch by batch."""

    def __init__(self, store: Store, settings: Settings | None = None,
                 embedder: Embedder | None = None, params: Params | None = None):
        self.store = store
        self.settings = settings or Settings()
        self.embedder = embedder or make_embedder(self.settings)
        self.params = params or load_params(embedder=self.settings.embedder)
        self._clusterer: OnlineClusterer | None = None
        self._dedup: DuplicateIndex | None = None
        # Latent terms made for open events' members stored without them (a store written
        # before they were used): saved with the next batch.
        self._mended_latents: dict[str, Latent] = {}

    # -- state -------------------------------------------------------------------------------

    def reload(self) -> None:
        """Forget the clustering state held in memory: another process saved since it was
        read, and clustering on a stale copy would write over that process's events."""
        self._clusterer = None
        self._dedup = None

    def _open(self) -> OnlineClusterer:
        if self._clusterer is not None:
            return self._clusterer
        counts = self.store.load_frequencies()
        documents = counts.pop(TOTAL, 0)
        clusterer = OnlineClusterer(self.params, self.embedder.dim,
                                    DocumentFrequencies(counts, documents))
        newest = self.store.latest_cluster_time("event")
        ev = self.params.event
        ev_since = newest - timedelta(days=ev.window_days + ev.retire_slack_days) if newest else None
        st_since = newest - timedelta(days=self.params.story.window_days) if newest else None
        events = [_group(row) for row in self.store.load_clusters("event", ev_since)]
        stories = {row.id: _group(row) for row in self.store.load_clusters("story", st_since)}
        missing = {e.parent for e in events if e.parent and e.parent not in stories}
        stories.update({row.id: _group(row) for row in self.store.load_clusters("story", ids=missing)})
        members = [m for e in events for m in e.members]
        vectors = {k: np.frombuffer(v, dtype=np.float32)
                   for k, v in self.store.get_vectors(self.embedder.name, members).items()}
        clusterer.restore(events, list(stories.values()), vectors, self._member_latents(members))
        dd = self.params.dedup
        self._dedup = DuplicateIndex(dd.threshold, dd.num_perm, dd.shingle_size)
        # The signatures the running index held (retired ones are deleted from the store with
        # the batch that retired them), in the order it saw them: a resumed run finds the
        # duplicates an unbroken one does.
        for article_id, signature, time in self.store.iter_signatures():
            self._dedup.add(article_id, signature=np.frombuffer(signature, dtype=np.uint64), time=time)
        self._clusterer = clusterer
        return clusterer

    @property
    def uses_latents(self) -> bool:
        return bool(self.params.event.latent and self.embedder.latent_name)

    def _member_latents(self, members: list[str]) -> dict[str, Latent] | None:
        if not self.uses_latents:
            return None
        latents = {k: Latent.from_bytes(v)
                   for k, v in self.store.get_vectors(self.embedder.latent_name, members).items()}
        articles = []
        for member in members:
            if member not in latents:
                try:
                    articles.append(self.store.get_article(member))
                except NotFound:  # deleted since: no member to match
                    continue
        if articles:
            made = dict(zip((a.id for a in articles), article_latents(articles, self.embedder),
                            strict=True))
            self._mended_latents.update(made)
            latents.update(made)
        return latents

    # -- the stage ---------------------------------------------------------------------------

    def add(self, articles: list[Article],
            vectors: Mapping[str, Embedded] | None = None) -> ClusterDelta:
        """Assign every article (in place) and return what to store with them. ``vectors`` are
        vectors (and latent terms) already computed by this engine's embedder (on engine
        workers), by article id; only what is missing from it is computed here."""
        clusterer = self._open()
        delta = ClusterDelta(model=self.embedder.name, latent_model=self.embedder.latent_name or "")
        delta.latents.update((k, v.to_bytes()) for k, v in self._mended_latents.items())
        self._mended_latents.clear()
        known = self.store.known_inputs(a.id for a in articles)
        fresh, updated = [], []
        for article in articles:
            before = known.get(article.id)
            if before is not None and before.event_id is not None:
                # A placed article keeps its place when it comes again, changed or not: an
                # update (a corrected or re-fetched report) is the same report, and placing it
                # anew would leave it a member of its old event as well as of its new one.
                article.event_id, article.story_id = before.event_id, before.story_id
                article.duplicate_of = before.duplicate_of
                if not _unchanged(before, article.raw):
                    updated.append(article)
            else:
                fresh.append(article)
        # An update's vector follows its new text (dense search reads it); its place does not.
        for article, vector in zip(updated, self._vectors(updated, vectors or {}), strict=True):
            delta.vectors[article.id] = np.asarray(vector, dtype=np.float32).tobytes()
        if not fresh:
            return delta
        given = vectors or {}
        vectors = self._vectors(fresh, given)
        latents = self._latents(fresh, given)
        fresh, vectors, latents = in_clustering_order(fresh, vectors, latents)
        feats = self.params.features
        for article, vector, latent in zip(fresh, vectors, latents, strict=True):
            profile = profile_of(article, vector, feats.max_terms, feats.max_entities, latent)
            if latent is not None:
                delta.latents[article.id] = latent.to_bytes()
            signature = self._dedup.signature(article.text)
            horizon = self._signature_horizon(clusterer.newest)
            if profile.time is not None and horizon is not None and profile.time < horizon:
                # Too old to be copied into an open event: matched, not indexed nor stored (it
                # would retire at once, and rebuilding the index for it costs seconds at 100k).
                original = self._dedup.original_of(signature)
            else:
                original = self._dedup.add(article.id, signature=signature, time=profile.time)
                stored = np.asarray(signature, dtype=np.uint64).tobytes()
                delta.signatures[article.id] = (profile.time, stored)
            assignment = clusterer.add(profile, duplicate_of=original)
            article.event_id, article.story_id = assignment.event_id, assignment.story_id
            article.duplicate_of = original
            delta.vectors[article.id] = np.asarray(vector, dtype=np.float32).tobytes()
            delta.frequencies.update(set(profile.entities + profile.terms))
            delta.frequencies[TOTAL] += 1
        for article in fresh:
            article.story_id = clusterer.story_id(article.story_id)
        events, stories, deleted, moved, merged = clusterer.take_changes()
        # The next batch starts from the state a restart would load (crash safety, and split runs
        # equal to one run).
        clusterer.settle()
        delta.retired_signatures = self._retire_signatures(clusterer.newest)
        delta.merged_stories = merged
        delta.clusters = [_row(g, "event") for g in events] + [_row(g, "story") for g in stories]
        delta.deleted_clusters = sorted(deleted)
        in_batch = {a.id: a for a in fresh}
        for event in events:
            if event.id in moved:
                for member in event.members:
                    if member in in_batch:
                        in_batch[member].story_id = moved[event.id]
                    else:
                        delta.reassigned[member] = (event.id, moved[event.id])
        return delta

    def _retire_signatures(self, newest: datetime | None) -> list[str]:
        """Originals older than the story window can no longer be copied into an open event:
        the index forgets them (memory stays flat as the corpus grows), in steps of
        RETIRE_STEP_DAYS so that it is rebuilt seldom."""
        horizon = self._signature_horizon(newest)
        if horizon is None:
            return []
        oldest = self._dedup.oldest()
        if oldest is None or oldest >= horizon - timedelta(days=RETIRE_STEP_DAYS):
            return []
        return self._dedup.retire_before(horizon)

    def _signature_horizon(self, newest: datetime | None) -> datetime | None:
        return newest - timedelta(days=self.params.story.window_days) if newest else None

    def unchanged(self, raws: Sequence[RawDocument]) -> set[str]:
        """Ids of inputs stored before exactly as given and clustered then: ``add`` keeps their
        assignments and needs no vector for them, so engine workers need not embed them."""
        known = self.store.known_inputs(raw.id for raw in raws)
        return {raw.id for raw in raws if _unchanged(known.get(raw.id), raw)}

    def _vectors(self, articles: list[Article], given: Mapping[str, Embedded]) -> list[np.ndarray]:
        found = {k: e.vector for k, e in given.items()}
        missing = [a for a in articles if a.id not in found]
        if missing:
            embedded = self.embedder.embed([embedding_input(a, self.embedder) for a in missing])
            found.update(zip((a.id for a in missing), embedded, strict=True))
        return [found[a.id] for a in articles]

    def _latents(self, articles: list[Article], given: Mapping[str, Embedded]) -> list[Latent | None]:
        if not self.uses_latents:
            return [None] * len(articles)
        found = {k: e.latent for k, e in given.items() if e.latent is not None}
        missing = [a for a in articles if a.id not in found]
        if missing:
            found.update(zip((a.id for a in missing), article_latents(missing, self.embedder), strict=True))
        return [found[a.id] for a in articles]

    def profile(self, article: Article) -> Profile:
        """The article as the clustering sees it (for evaluations and explanations)."""
        vector = self.embedder.embed([embedding_input(article, self.embedder)])[0]
        latent = article_latents([article], self.embedder, self.uses_latents)[0]
        return profile_of(article, vector, self.params.features.max_terms,
                          self.params.features.max_entities, latent)


def make_embedder(settings: Settings) -> Embedder:
    embedder = get_embedder(settings.embedder)
    if settings.vector_cache:
        from pathlib import Path

        from storyline.nlp.vector_cache import CachedEmbedder

        embedder = CachedEmbedder(embedder, Path(settings.vector_cache))
    return embedder


def _unchanged(before: KnownInput | None, raw: RawDocument) -> bool:
    return before is not None and before.event_id is not None \
        and before.raw_fingerprint == raw_fingerprint(raw)


def _row(group: Group, kind: str) -> ClusterRow:
    return ClusterRow(group.id, kind, group.parent, group.size, group.articles, group.first,
                      group.last, group.to_state(), group.vector_sum.astype(np.float32).tobytes())


def _group(row: ClusterRow) -> Group:
    return Group.from_state(row.id, row.state, np.frombuffer(row.vector_sum, dtype=np.float32).copy())


__all__ = ["StoryEngine"]
