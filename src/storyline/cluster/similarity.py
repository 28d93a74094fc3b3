"""The similarity model: a few explainable features of (article, event) or (event, story),
combined by a logistic model whose weights live in params.toml."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from storyline.cluster.groups import Group
from storyline.cluster.params import FeatureParams, LevelParams
from storyline.cluster.profile import Profile


class DocumentFrequencies:
    """How many articles carry each lemma / entity key: rare shared keys say more."""

    def __init__(self, counts: Counter | None = None, documents: int = 0):
        self.counts = counts or Counter()
        self.documents = documents

    def add(self, keys: Iterable[str]) -> None:
        self.documents += 1
        self.counts.update(set(keys))

    def idf(self, key: str) -> float:
        return math.log(1.0 + (self.documents + 1) / (self.counts.get(key, 0) + 1))


def weighted_overlap(a: Iterable[str], b: Iterable[str], df: DocumentFrequencies) -> float:
    """Cosine of two key sets with idf weights: 1 for the same keys, 0 for none shared."""
    a, b = set(a), set(b)
    if not a or not b:
        return 0.0
    weight = {k: df.idf(k) ** 2 for k in a | b}
    shared = sum(weight[k] for k in a & b)
    return shared / math.sqrt(sum(weight[k] for k in a) * sum(weight[k] for k in b))


@dataclass(frozen=True, slots=True)
class Match:
    """One scored candidate, with the features that explain the score."""

    group_id: str
    probability: float
    features: dict[str, float]
    shared_entities: tuple[str, ...] = ()
    shared_terms: tuple[str, ...] = ()


def probability(features: dict[str, float], level: LevelParams) -> float:
    z = level.bias + sum(getattr(level, name) * value for name, value in features.items())
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


# An undated side is neither close nor far in time.
UNKNOWN_TIME = 0.5


def time_closeness(gap_hours: float | None, level: LevelParams) -> float:
    return UNKNOWN_TIME if gap_hours is None else math.exp(-gap_hours / level.time_scale_hours)


def cross_english(lang: str | None, event_langs: Counter) -> float:
    """1 when the article would be the first English one of the event, or the first non-English
    one of an English event: e5 puts English and Cyrillic texts of one event further apart (mean
    translation cosine uk-en 0.90, uk-ru 0.94), which this feature makes up for."""
    if not lang or not event_langs:
        return 0.0
    has_english = event_langs.get("en", 0) > 0
    only_english = has_english and len(event_langs) == 1
    return 1.0 if (lang == "en" and not has_english) or (lang != "en" and only_english) else 0.0


def article_event_match(profile: Profile, event: Group, member_vectors: np.ndarray | None,
                        df: DocumentFrequencies, level: LevelParams,
                        feats: FeatureParams, latent: float = 0.0) -> Match:
    """``latent``: the article's best latent-term cosine with a member (0 when either side has
    no latent terms)."""
    entities = event.core(event.entity_counts, feats.core_share, feats.core_max)
    terms = event.core(event.term_counts, feats.core_share, feats.core_max)
    cosine = float(profile.vector @ event.centroid)
    best = float(np.max(member_vectors @ profile.vector)) if member_vectors is not None else cosine
    features = {
        "cosine": cosine,
        "max_cosine": best,
        "entities": weighted_overlap(profile.entities, entities, df),
        "terms": weighted_overlap(profile.terms, terms, df),
        "time": time_closeness(event.gap_hours(profile.time), level),
        "same_outlet": 1.0 if profile.source and profile.source in event.sources else 0.0,
        "cross_english": cross_english(profile.lang, event.langs),
        "latent": latent,
    }
    return Match(event.id, probability(features, level), features,
                 tuple(k for k in entities if k in set(profile.entities)),
                 tuple(k for k in terms if k in set(profile.terms)))


def event_story_match(event: Group, story: Group, df: DocumentFrequencies, level: LevelParams,
                      feats: FeatureParams) -> Match:
    ev_entities = event.core(event.entity_counts, feats.core_share, feats.core_max)
    st_entities = story.core(story.entity_counts, feats.core_share, feats.core_max)
    ev_terms = event.core(event.term_counts, feats.core_share, feats.core_max)
    st_terms = story.core(story.term_counts, feats.core_share, feats.core_max)
    gap = None
    if event.first is not None and story.first is not None:
        gap = min(story.gap_hours(event.first), story.gap_hours(event.last))
    features = {
        "cosine": float(event.centroid @ story.centroid),
        "entities": weighted_overlap(ev_entities, st_entities, df),
        "terms": weighted_overlap(ev_terms, st_terms, df),
        "time": time_closeness(gap, level),
    }
    return Match(story.id, probability(features, level), features,
                 tuple(k for k in st_entities if k in set(ev_entities)),
                 tuple(k for k in st_terms if k in set(ev_terms)))


def event_threshold(size: int, level: LevelParams) -> float:
    """Stricter as an event grows: each doubling of its size raises the bar."""
    return min(level.threshold + level.threshold_growth * math.log2(max(size, 1)),
               level.threshold_max)
