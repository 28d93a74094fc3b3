"""How much a story matters now: distinct outlets, distinct languages, articles, recency and
velocity, each part kept so that a listing can say why a story ranks where it does.

Weights and scales live in ``data/stories.toml`` (``[rank]``). A duplicate (``duplicate_of``
set) is a reprint: it adds neither an outlet nor an article, though its language still counts
as reach. Recency is measured against a reference time: the newest article in the store by
default (so an old corpus still ranks sensibly), or "now" when the caller passes it. Velocity
compares the articles in the story's last day with its mean articles per day over its life."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from storyline.stories.params import section

PARTS = ("outlets", "languages", "articles", "recency", "velocity")


class Reported(Protocol):
    """What ranking reads of an article (an Article and the store's ArticleFacts both fit)."""

    source: str | None
    lang: str | None
    published: datetime | None
    duplicate_of: str | None


@dataclass(frozen=True, slots=True)
class RankPart:
    name: str
    value: float  # the raw measure (outlets, languages, ... hours since the last article)
    feature: float  # the measure on the scale the weight applies to
    points: float  # weight * feature: this part's share of the score

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "feature": round(self.feature, 4),
            "points": round(self.points, 4),
        }


@dataclass(frozen=True, slots=True)
class Ranking:
    score: float
    parts: tuple[RankPart, ...]
    outlets: tuple[str, ...]
    languages: tuple[str, ...]
    articles: int  # originals only
    duplicates: int
    first: datetime | None
    last: datetime | None
    reference: datetime | None

    def part(self, name: str) -> RankPart:
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(f"no ranking part {name!r}; parts: {', '.join(PARTS)}")

    def explain(self) -> str:
        """One line: the score as the sum of its parts, each with its raw measure."""
        units = {
            "outlets": "outlets",
            "languages": "languages",
            "articles": "articles",
            "recency": "h old",
            "velocity": "x mean daily rate",
        }
        shown = " + ".join(
            f"{p.name} {p.points:.2f} ({_number(p.value)} {units[p.name]})" for p in self.parts
        )
        return f"score {self.score:.2f} = {shown}"

    def to_dict(self) -> dict:
        return {
            "score": round(self.score, 4),
            "parts": [p.to_dict() for p in self.parts],
            "explanation": self.explain(),
            "reference": self.reference.isoformat() if self.reference else None,
        }


def rank_story(
    articles: Iterable[Reported],
    reference: datetime | None = None,
    weights: Mapping[str, float] | None = None,
) -> Ranking:
    """Score one story from its articles; ``reference`` is "now" for recency (UTC if naive)."""
    conf = dict(section("rank"))
    unknown = set(weights or {}) - set(conf)
    if unknown:
        raise ValueError(f"unknown ranking weight(s) {sorted(unknown)}; known: {sorted(conf)}")
    conf.update(weights or {})
    originals, duplicates, langs = [], 0, set()
    for article in articles:
        if article.lang:
            langs.add(article.lang)
        if article.duplicate_of:
            duplicates += 1
        else:
            originals.append(article)
    outlets = sorted({o for a in originals if (o := _outlet(a.source))})
    times = sorted(_utc(a.published) for a in originals if a.published is not None)
    first, last = (times[0], times[-1]) if times else (None, None)
    reference = _utc(reference) if reference is not None else None

    hours_old = 0.0
    recency = 0.0
    if last is not None:
        hours_old = max(0.0, ((reference or last) - last).total_seconds() / 3600)
        recency = 0.5 ** (hours_old / float(conf["recency_half_life_hours"]))
    ratio = _velocity(times, float(conf["velocity_window_hours"]), float(conf["velocity_cap"]))
    measures = {
        "outlets": (len(outlets), math.log2(1 + len(outlets))),
        "languages": (len(langs), max(0, len(langs) - 1)),
        "articles": (len(originals), math.log2(1 + len(originals))),
        "recency": (hours_old, recency),
        "velocity": (ratio, math.log2(1 + ratio)),
    }
    parts = tuple(
        RankPart(name, float(value), float(feature), float(conf[name]) * float(feature))
        for name, (value, feature) in measures.items()
    )
    return Ranking(
        sum(p.points for p in parts),
        parts,
        tuple(outlets),
        tuple(sorted(langs)),
        len(originals),
        duplicates,
        first,
        last,
        reference,
    )


def rank_stories(
    articles_by_story: Mapping[str, Iterable[Reported]], reference: datetime | None = None
) -> list[tuple[str, Ranking]]:
    """Stories best first; ties go to the newer story, then to the smaller id (stable output)."""
    ranked = [(story_id, rank_story(arts, reference)) for story_id, arts in articles_by_story.items()]
    oldest = datetime.min.replace(tzinfo=UTC)
    ranked.sort(key=lambda item: item[0])
    ranked.sort(key=lambda item: (item[1].score, item[1].last or oldest), reverse=True)
    return ranked


def _velocity(times: list[datetime], window_hours: float, cap: float) -> float:
    """Articles in the story's last ``window_hours`` over its mean per window across its life."""
    if not times:
        return 0.0
    window = timedelta(hours=window_hours)
    recent = sum(1 for t in times if t > times[-1] - window)
    windows = max(1.0, (times[-1] - times[0]) / window)
    return min(cap, recent / (len(times) / windows))


def _outlet(source: str | None) -> str | None:
    return " ".join(source.split()).casefold() or None if source else None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
