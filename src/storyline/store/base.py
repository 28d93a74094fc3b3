"""The small interface every store implements; the pipeline, CLI and API only see this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Literal, Self

from storyline.model import Article, Rejection

UpsertStatus = Literal["ingested", "updated", "unchanged"]


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
    def upsert_many(self, articles: Iterable[Article]) -> Counter:
        """Insert or update many articles in one transaction; count each status.

        Either every article is stored or (on an error) none is."""

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
