"""Fast calibration of the clustering parameters: documents are analysed and embedded once,
then the production online clusterer replays them under many parameter sets in memory.

Used by `storyline eval calibrate`; what it prints is how params.toml was chosen."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from storyline.cluster.online import OnlineClusterer
from storyline.cluster.order import in_clustering_order
from storyline.cluster.params import Params, load_params
from storyline.cluster.profile import Profile, article_latents, embedding_input, profile_of
from storyline.evaluate.clustering import score_clustering
from storyline.evaluate.datasets import GoldDocument
from storyline.evaluate.runs import to_raw
from storyline.model import Article
from storyline.nlp.embed import Embedder
from storyline.pipeline import Pipeline
from storyline.settings import Settings


@dataclass
class Prepared:
    """Profiles of documents in time order, with their gold labels and languages."""

    profiles: list[Profile]
    gold_event: dict[str, str]
    gold_story: dict[str, str]
    langs: dict[str, str | None]


def prepare(documents: Iterable[GoldDocument], embedder: Embedder, params: Params,
            settings: Settings | None = None) -> Prepared:
    settings = settings or Settings(min_chars=0)
    pipeline = Pipeline(settings)
    articles: list[Article] = []
    gold_event, gold_story, langs = {}, {}, {}
    for doc in documents:
        result = pipeline.process(to_raw(doc, "calibrate"))
        if not isinstance(result, Article):
            continue
        articles.append(result)
        gold_event[doc.id] = doc.event or doc.story
        gold_story[doc.id] = doc.story or doc.event
        langs[doc.id] = doc.lang
    vectors = list(embedder.embed([embedding_input(a, embedder) for a in articles]))
    # Always, when the embedder has them: a sweep may give them a weight.
    latents = article_latents(articles, embedder)
    articles, vectors, latents = in_clustering_order(articles, vectors, latents)  # as ingest does
    f = params.features
    profiles = [profile_of(a, v, f.max_terms, f.max_entities, latent)
                for a, v, latent in zip(articles, vectors, latents, strict=True)]
    return Prepared(profiles, gold_event, gold_story, langs)


def replay(prepared: Prepared, params: Params) -> tuple[dict[str, str], dict[str, str]]:
    """Event and story of every document under ``params``, as ingest would assign them."""
    dim = prepared.profiles[0].vector.shape[0] if prepared.profiles else 1
    clusterer = OnlineClusterer(params, dim)
    events, story_of_event = {}, {}
    for profile in prepared.profiles:
        assignment = clusterer.add(profile)
        events[profile.id] = assignment.event_id
        story_of_event[assignment.event_id] = assignment.story_id
        story_of_event.update(clusterer.moved_events)
    return events, {pid: clusterer.story_id(story_of_event[event]) for pid, event in events.items()}


def with_values(params: Params, level: str, **values) -> Params:
    return dataclasses.replace(params, **{level: dataclasses.replace(getattr(params, level), **values)})


def sweep(prepared: Prepared, level: str, grid: dict[str, Sequence[float]],
          params: Params | None = None) -> list[tuple[dict, float, float, float]]:
    """B-cubed (P, R, F1) at ``level`` for every combination of ``grid`` values."""
    params = params or load_params()
    gold = prepared.gold_event if level == "event" else prepared.gold_story
    results = []
    names = list(grid)
    for combo in itertools.product(*(grid[n] for n in names)):
        values = dict(zip(names, combo, strict=True))
        trial = with_values(params, level, **values)
        events, stories = replay(prepared, trial)
        predicted = events if level == "event" else stories
        score = score_clustering(gold, predicted)["all"].bcubed
        results.append((values, score.precision, score.recall, score.f1))
    return sorted(results, key=lambda r: -r[3])


def cosine_quantiles(prepared: Prepared, level: str = "event") -> dict[str, list[float]]:
    """Cosine between members of one gold cluster vs different clusters (5/50/95 percentiles)."""
    gold = prepared.gold_event if level == "event" else prepared.gold_story
    matrix = np.vstack([p.vector for p in prepared.profiles])
    labels = np.array([gold[p.id] for p in prepared.profiles])
    sims = matrix @ matrix.T
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    other = ~same
    np.fill_diagonal(other, False)
    return {name: np.percentile(sims[mask], [5, 50, 95]).round(3).tolist() if mask.any() else []
            for name, mask in (("same", same), ("different", other))}
