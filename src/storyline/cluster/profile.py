"""What the clustering knows of one article: a small, picklable summary (no text)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np

from storyline.model import Article
from storyline.nlp.latent import Latent
from storyline.utc import as_utc


class Embedded(NamedTuple):
    """What an engine worker computes for an article's clustering: its dense vector and, when
    the event model weighs them, its latent terms."""

    vector: np.ndarray
    latent: Latent | None = None


@dataclass(slots=True)
class Profile:
    id: str
    time: datetime | None  # UTC; None when the article has no date of its own
    source: str | None
    lang: str | None
    vector: np.ndarray  # unit length
    terms: tuple[str, ...]
    entities: tuple[str, ...]
    title: str = ""
    latent: Latent | None = None  # latent terms, when the embedder has them (nlp/latent.py)


def profile_of(article: Article, vector: np.ndarray, max_terms: int = 40,
               max_entities: int = 20, latent: Latent | None = None) -> Profile:
    """Most frequent lemmas and entity keys; title and lead words count double, as they carry
    what the article is about."""
    lead = set(article.lemmas[: _lead_size(article)])
    counts = Counter(article.lemmas)
    for lemma in lead:
        counts[lemma] += 1
    entity_counts = Counter(e.key for e in article.entities if e.key)
    return Profile(
        id=article.id,
        time=as_utc(article.published) if article.published else None,
        source=(article.source or "").strip().casefold() or None,
        lang=article.lang,
        vector=np.asarray(vector, dtype=np.float32),
        terms=tuple(t for t, _ in counts.most_common(max_terms)),
        entities=tuple(k for k, _ in entity_counts.most_common(max_entities)),
        title=article.title or "",
        latent=latent,
    )


def embedding_input(article: Article, embedder) -> str:
    """What the embedder reads: title + lead for a language model; for the lexical embedder,
    the lemmas of title + lead and the entity keys (which are the same in every language)."""
    from storyline.nlp.embed import LexicalEmbedder, embedding_text

    inner = getattr(embedder, "inner", embedder)
    if isinstance(inner, LexicalEmbedder):
        lead = article.lemmas[: _lead_size(article) * 2]
        return " ".join(lead + [e.key for e in article.entities if e.key])
    return embedding_text(article.title, [p.text for p in article.paragraphs])


def latent_input(article: Article) -> str:
    """What the latent terms read: title and the start of the lead (nlp/latent.py)."""
    from storyline.nlp.embed import embedding_text
    from storyline.nlp.latent import LATENT_CHARS

    return embedding_text(article.title, [p.text for p in article.paragraphs], LATENT_CHARS)


def article_latents(articles: list[Article], embedder, wanted: bool = True) -> list[Latent | None]:
    """Latent terms of each article when wanted (the event model weighs them) and the embedder
    has them; Nones otherwise (the lexical embedder, or ``latent = 0`` in params.toml)."""
    if not wanted or not getattr(embedder, "latent_name", None):
        return [None] * len(articles)
    return list(embedder.latent([latent_input(a) or a.title or "" for a in articles]))


def _lead_size(article: Article) -> int:
    """How many lemmas come from the title and the first paragraph (a rough share)."""
    words = len((article.title or "").split())
    if article.paragraphs:
        words += len(article.paragraphs[0].text.split())
    return max(words // 2, 10)
