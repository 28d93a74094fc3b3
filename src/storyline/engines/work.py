"""What an engine worker does with one chunk of inputs: the per-article stages
(``Pipeline.process``) and the article's vector for clustering. Runs in worker processes (a local
pool or Dask workers); the corpus stage stays with the driver."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

from storyline.cluster.profile import Embedded
from storyline.errors import StorylineError
from storyline.model import Article, RawDocument, Rejection
from storyline.pipeline import Pipeline
from storyline.settings import Settings

WORKER_ERROR = "worker_error"


@dataclass(slots=True)
class ChunkResult:
    """A chunk's outcome, in input order: an Article or Rejection per input, the article's vector
    and latent terms (None when not asked for) and the name of the embedder that made them."""

    items: list[Article | Rejection]
    vectors: list[Embedded | None]
    model: str | None


class Worker:
    """The per-process state: models load once per worker process, not once per chunk."""

    def __init__(self, settings: Settings, embed: bool):
        self.settings = settings
        self.pipeline = Pipeline(settings)
        self.embedder = None
        self.latents = False
        if embed:
            from storyline.cluster.engine import make_embedder
            from storyline.cluster.params import load_params

            self.embedder = make_embedder(settings)
            # article_latents skips an embedder without them (lexical)
            self.latents = bool(load_params(embedder=settings.embedder).event.latent)

    def run(self, docs: list[RawDocument], skip: frozenset[str] = frozenset()) -> ChunkResult:
        """``skip``: ids whose vector the driver does not need (inputs stored unchanged)."""
        items = [self._process(raw) for raw in docs]
        vectors: list[Embedded | None] = [None] * len(items)
        if self.embedder is not None:
            todo = [i for i, item in enumerate(items) if isinstance(item, Article) and item.id not in skip]
            for i, vector in zip(todo, self._embed([items[i] for i in todo]), strict=True):
                if isinstance(vector, Rejection):
                    items[i] = vector
                else:
                    vectors[i] = vector
        return ChunkResult(items, vectors, self.embedder.name if self.embedder else None)

    def _process(self, raw: RawDocument) -> Article | Rejection:
        try:
            return self.pipeline.process(raw)
        except StorylineError:
            raise  # a setting or a missing model: every article would fail alike; stop the run
        except Exception as exc:  # a bug on one input must not cost the rest of the chunk
            return worker_error(raw, exc)

    def _embed(self, articles: list[Article]) -> list[Embedded | Rejection]:
        from storyline.cluster.profile import article_latents, embedding_input

        try:
            vectors = self.embedder.embed([embedding_input(a, self.embedder) for a in articles])
            latents = article_latents(articles, self.embedder, self.latents)
            return [Embedded(v, latent) for v, latent in zip(vectors, latents, strict=True)]
        except StorylineError:
            raise
        except Exception as exc:
            if len(articles) == 1:
                return [worker_error(articles[0].raw, exc)]
        # One text broke the batch: embed one at a time, so that only that article is lost.
        return [out for article in articles for out in self._embed([article])]


def worker_error(raw: RawDocument, exc: BaseException) -> Rejection:
    """The exception as a rejection of the input, with where it was raised (file:line)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return Rejection(raw.origin, WORKER_ERROR, f"{type(exc).__name__}: {exc}{where}", raw=raw)


_WORKER: Worker | None = None


def process_chunk(settings: Settings, docs: list[RawDocument], embed: bool,
                  skip: frozenset[str] = frozenset()) -> ChunkResult:
    """The task an engine sends to a worker process. The Worker is kept between tasks and rebuilt
    only when the settings change (one Dask cluster may serve ingests with other settings)."""
    global _WORKER
    if _WORKER is None or _WORKER.settings != settings or (_WORKER.embedder is not None) != embed:
        _WORKER = Worker(settings, embed)
    return _WORKER.run(docs, skip)
