"""The event similarity model applied to two texts at a time: what `storyline eval pairs`
measures. Each text goes through the real per-article pipeline (cleaning, language, analysis)
and the clustering's embedder; the score is the event model's probability that the two report
the same event, with no dates (as for headlines)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from storyline.cluster.params import Params, load_params
from storyline.cluster.profile import Profile, article_latents, embedding_input, profile_of
from storyline.cluster.similarity import (
    DocumentFrequencies,
    cross_english,
    probability,
    time_closeness,
    weighted_overlap,
)
from storyline.model import Article, RawDocument
from storyline.pipeline import Pipeline
from storyline.settings import Settings

PairScorer = Callable[[Sequence[tuple[str, str]]], list[float]]


def pair_features(a: Profile, b: Profile, df: DocumentFrequencies, params: Params) -> dict[str, float]:
    ev = params.event
    gap = abs((a.time - b.time).total_seconds()) / 3600 if a.time and b.time else None
    cosine = float(a.vector @ b.vector)
    return {
        "cosine": cosine,
        "max_cosine": cosine,
        "entities": weighted_overlap(a.entities, b.entities, df),
        "terms": weighted_overlap(a.terms, b.terms, df),
        "time": time_closeness(gap, ev),
        "same_outlet": 1.0 if a.source and a.source == b.source else 0.0,
        "cross_english": cross_english(a.lang, Counter([b.lang]) if b.lang else Counter()),
        "latent": a.latent.cosine(b.latent) if a.latent is not None and b.latent is not None else 0.0,
    }


def pair_scorer(settings: Settings | None = None, params: Params | None = None) -> PairScorer:
    from storyline.cluster.engine import make_embedder

    settings = (settings or Settings()).with_overrides(min_chars=0)
    params = params or load_params(embedder=settings.embedder)
    pipeline = Pipeline(settings)
    embedder = make_embedder(settings)
    feats = params.features

    def profiles(texts: list[str]) -> list[Profile]:
        articles = []
        for i, text in enumerate(texts):
            result = pipeline.process(RawDocument(id=f"t{i}", format="record", content=text,
                                                  origin=f"pair text {i}"))
            articles.append(result if isinstance(result, Article) else
                            Article(id=f"t{i}", raw=None, title=text))
        vectors = embedder.embed([embedding_input(a, embedder) or a.title or "" for a in articles])
        latents = article_latents(articles, embedder, bool(params.event.latent))
        return [profile_of(a, v, feats.max_terms, feats.max_entities, latent)
                for a, v, latent in zip(articles, vectors, latents, strict=True)]

    def score(pairs: Sequence[tuple[str, str]]) -> list[float]:
        texts = list(dict.fromkeys(t for pair in pairs for t in pair))
        index = {t: i for i, t in enumerate(texts)}
        found = profiles(texts)
        df = DocumentFrequencies()
        for profile in found:
            df.add(profile.entities + profile.terms)
        return [probability(pair_features(found[index[a]], found[index[b]], df, params), params.event)
                for a, b in pairs]

    return score
