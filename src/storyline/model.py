"""The vocabulary of the code base: what flows through the pipeline and what the store keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

RawFormat = Literal["text", "html", "record"]


@dataclass(slots=True)
class RawDocument:
    """One input exactly as the user gave it, plus where it came from.

    ``content`` is the decoded text (plain text or HTML). For a JSON Lines record, ``fields``
    holds the record as given (``title``, ``url``, ``published``, ``source``, ``lang``...)."""

    id: str
    format: RawFormat
    content: str
    origin: str
    fields: dict = field(default_factory=dict)
    crawled_at: datetime | None = None
    encoding: str | None = None


@dataclass(slots=True)
class Paragraph:
    text: str
    lang: str | None = None


@dataclass(slots=True)
class Entity:
    text: str
    type: str
    key: str


@dataclass(slots=True)
class Quote:
    """A quotation and who said it; ``speaker_key`` is the speaker's cross-lingual entity key."""

    text: str
    speaker: str | None = None
    speaker_key: str | None = None


@dataclass(slots=True)
class Article:
    """A clean article. ``raw`` keeps the input so every derived field can be re-derived."""

    id: str
    raw: RawDocument
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: datetime | None = None
    lang: str | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)
    # Lines the cleaner dropped, with the rule that dropped each: makes cleaning auditable.
    removed: list[tuple[str, str]] = field(default_factory=list)
    event_id: str | None = None
    story_id: str | None = None
    duplicate_of: str | None = None
    entities: list[Entity] = field(default_factory=list)
    # Filled by the analysis stage: content-word lemmas of title + body, quotes with speakers.
    lemmas: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)

    def to_record(self) -> dict:
        """The exported shape of the contract (DESIGN.md)."""
        return {
            "id": self.id,
            "url": self.url,
            "source": self.source,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "lang": self.lang,
            "text": self.text,
            "event_id": self.event_id,
            "story_id": self.story_id,
            "duplicate_of": self.duplicate_of,
            "entities": [{"text": e.text, "type": e.type, "key": e.key} for e in self.entities],
        }


@dataclass(slots=True, frozen=True)
class Rejection:
    """An input that did not become an article, with a typed reason; never a bare None."""

    origin: str
    reason: str
    detail: str
    raw: RawDocument | None = None

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}: {self.detail}"
