"""The small interface every store implements; the pipeline, CLI and API only see this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple, Self

from storyline.model import Article, Paragraph, Rejection

UpsertStatus = Literal["ingested", "updated", "unchanged"]


class SaveCounts(Counter):
    """What a save did: a count per status, and ``statuses``, each article id's own status (an
    API client is answered per record, and only the store's transaction knows it for sure)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.statuses: dict[str, UpsertStatus] = {}
# Which part of a search document a key is looked up in (storyline.search.keys makes them).
KeyField = Literal["lemma", "cognate", "entity"]


class ClusterRow(NamedTuple):
    """An event or a story as the store keeps it; the clustering owns what ``state`` means."""

    id: str
    kind: Literal["event", "story"]
    parent_id: str | None
    size: int
    articles: int
    first: datetime | None
    last: datetime | None
    state: dict
    vector_sum: bytes


class ArticleFacts(NamedTuple):
    """The few fields of an article that rankings and listings need: no text, no raw input."""

    id: str
    event_id: str | None
    story_id: str | None
    source: str | None
    lang: str | None
    published: datetime | None
    duplicate_of: str | None
    title: str | None


class ArticleText(NamedTuple):
    """What a search result shows of an article: its facts, link and clean paragraphs."""

    facts: ArticleFacts
    url: str | None
    paragraphs: tuple[Paragraph, ...]


class IndexTerm(NamedTuple):
    """One normalised key and the field of the search document it must be found in."""

    field: KeyField
    token: str


@dataclass(frozen=True)
class TextFilters:
    """Article filters for search: language in ``langs``, outlet spelled exactly as one of
    ``sources``, ``since <= published < until``; an empty tuple or None does not filter."""

    langs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    @property
    def active(self) -> bool:
        return bool(self.langs or self.sources or self.since or self.until)


class ListingRow(NamedTuple):
    """A story as the listing keeps it: its score at the listing's reference time, and what
    ``storyline.stories.listing`` computed of it (rank measures and display facts, as JSON)."""

    story_id: str
    score: float
    measures: dict
    facts: str


@dataclass(frozen=True)
class ListingFilters:
    """Stories with an article in ``lang``, with an article from an outlet whose folded name
    (case and spaces) is ``outlet``, whose last article is not before ``since`` and whose first
    is not after ``until``; None does not filter."""

    lang: str | None = None
    outlet: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class KnownInput(NamedTuple):
    raw_fingerprint: str | None
    event_id: str | None
    story_id: str | None
    duplicate_of: str | None


@dataclass
class ClusterDelta:
    """What one batch changed in the clustering's state; written in the batch's transaction."""

    model: str = ""
    clusters: list[ClusterRow] = field(default_factory=list)
    vectors: dict[str, bytes] = field(default_factory=dict)
    # Latent terms (nlp/latent.py), kept beside the vectors under their own model name.
    latent_model: str = ""
    latents: dict[str, bytes] = field(default_factory=dict)
    signatures: dict[str, tuple[datetime | None, bytes]] = field(default_factory=dict)
    frequencies: Counter = field(default_factory=Counter)  # key -> new documents; "" = total
    # Stories folded into another one, and articles stored earlier whose story changed.
    deleted_clusters: list[str] = field(default_factory=list)
    # Stories merged into another: every stored article and event of the old one moves over.
    merged_stories: dict[str, str] = field(default_factory=dict)
    reassigned: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    # Near-duplicate signatures the index no longer holds (too old to be copied into an event).
    retired_signatures: list[str] = field(default_factory=list)


class Store(ABC):
    """Articles (raw input beside derived fields) and rejections, chosen by URL (``open_store``).

    Writes are idempotent: storing the same article twice returns ``"unchanged"`` the second
    time and writes nothing."""

    url: str

    def upsert_article(self, article: Article) -> UpsertStatus:
        """Insert or update one article; say which happened."""
        (status,) = self.upsert_many([article]).elements()
        return status

    @abstractmethod
    def upsert_many(self, articles: Iterable[Article]) -> SaveCounts:
        """Insert or update many articles in one transaction; count each status.

        Either every article is stored or (on an error) none is."""

    @abstractmethod
    def save_batch(self, articles: Iterable[Article], delta: ClusterDelta | None = None) -> SaveCounts:
        """Store articles and the clustering state they changed in one transaction."""

    @abstractmethod
    def writer_turn(self) -> AbstractContextManager[int]:
        """The store's writer lock, across processes, for work that reads the clustering state
        and then saves what it computed from it (cluster a batch, then ``save_batch``): no other
        writer's batch lands in between. Yields ``clustering_generation()`` as it is once the
        turn is had; a caller whose clustering state was loaded at another generation loads it
        again. ``save_batch`` outside a turn waits for the turns of others, inside one it does
        not lock again. Blocks until the turn is free."""

    @abstractmethod
    def clustering_generation(self) -> int:
        """A number that changes whenever a batch changes the clustering's state (it never
        comes back to an earlier value): equal numbers, same state."""

    @abstractmethod
    def known_inputs(self, article_ids: Iterable[str]) -> dict[str, KnownInput]:
        """For ids already stored: the raw input's hash and the assignments made then."""

    @abstractmethod
    def load_clusters(self, kind: str, active_since: datetime | None = None,
                      ids: Iterable[str] | None = None) -> list[ClusterRow]:
        """Events or stories whose last article is not older than ``active_since`` (all when
        None; undated ones too), or exactly those with ``ids``."""

    @abstractmethod
    def latest_cluster_time(self, kind: str) -> datetime | None:
        """When the newest article of any event (or story) was published."""

    @abstractmethod
    def get_vectors(self, model: str, article_ids: Iterable[str]) -> dict[str, bytes]: ...

    @abstractmethod
    def iter_signatures(self) -> Iterator[tuple[str, bytes, datetime | None]]: ...

    @abstractmethod
    def load_frequencies(self) -> Counter: ...

    @abstractmethod
    def articles_of(self, *, event_id: str | None = None, story_id: str | None = None) -> list[Article]:
        """The articles of one event or story, by published time."""

    @abstractmethod
    def get_article(self, article_id: str) -> Article:
        """The article with this id; raises NotFound."""

    @abstractmethod
    def has_article(self, article_id: str) -> bool: ...

    @abstractmethod
    def iter_articles(self, batch_size: int = 500) -> Iterator[Article]:
        """Every article, by published time (undated last) then id, ``batch_size`` at a time."""

    @abstractmethod
    def count_articles(self) -> int: ...

    @abstractmethod
    def add_rejection(self, rejection: Rejection) -> UpsertStatus:
        """Keep a rejected input with its raw document; one row per (origin, reason)."""

    @abstractmethod
    def iter_rejections(self) -> Iterator[Rejection]:
        """Every rejection, by origin then reason."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- read helpers for story output (storyline.stories) -----------------------------------

    @abstractmethod
    def article_facts(self, story_ids: Iterable[str]) -> list[ArticleFacts]:
        """Light rows (no text) of every article in these stories, by published time then id."""

    @abstractmethod
    def vector_models(self) -> list[str]:
        """Names of the embedders whose vectors the store holds, the most used first."""

    @abstractmethod
    def listing_page(self, filters: ListingFilters, limit: int, offset: int = 0
                     ) -> tuple[datetime | None, list[ListingRow]]:
        """The listing's reference time ("now" of its scores) and the ``limit`` best stories
        that pass ``filters`` after the ``offset`` best, best first: score, then the newer last
        article, then the smaller id."""

    @abstractmethod
    def listing_rows(self, filters: ListingFilters | None = None,
                     story_ids: Iterable[str] | None = None) -> list[ListingRow]:
        """Every listed story that passes ``filters`` (or has one of ``story_ids``), unordered."""

    @abstractmethod
    def rebuild_listing(self) -> int:
        """Compute every story's listing row again in one transaction; return how many."""

    # -- full-text search (storyline.search) -------------------------------------------------

    @abstractmethod
    def match_articles(self, groups: Sequence[Sequence[IndexTerm]], filters: TextFilters, *,
                       require_all: bool = True, limit: int = 500) -> tuple[list[tuple[str, float]], int]:
        """Articles whose search document has a term of every group (of any group when not
        ``require_all``) and that pass ``filters``: the ``limit`` best ``(id, score)`` pairs,
        higher scores first, and how many articles match in all."""

    @abstractmethod
    def filtered_ids(self, filters: TextFilters) -> set[str]:
        """Ids of every article that passes ``filters``."""

    @abstractmethod
    def outlet_names(self) -> list[str]:
        """Every outlet name as stored (``source``), sorted."""

    @abstractmethod
    def facts_of(self, article_ids: Iterable[str]) -> dict[str, ArticleFacts]:
        """Light rows of these articles (unknown ids are left out)."""

    @abstractmethod
    def event_facts(self, event_ids: Iterable[str], skip_langs: Iterable[str] = ()) -> list[ArticleFacts]:
        """Light rows of every article in these events (but those in ``skip_langs``), by id."""

    @abstractmethod
    def article_texts(self, article_ids: Iterable[str]) -> dict[str, ArticleText]:
        """Facts, URL and paragraphs of these articles, without the raw input."""

    @abstractmethod
    def iter_vectors(self, model: str) -> Iterator[tuple[str, bytes]]:
        """Every stored vector of ``model``, by article id."""

    @abstractmethod
    def count_vectors(self, model: str) -> int: ...

    @abstractmethod
    def reindex_search(self, *, missing_only: bool = False) -> int:
        """Rebuild the search document of every article (or only of those without one) in
        one transaction; return how many were written."""
