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
from storyline.utc import as_utc

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


@dataclass(frozen=True, slots=True)
class Measures:
    """Everything a story's rank is computed from except "now": what a listing stores per story
    (``storyline.stories.listing``) so that ranking a page does not read the stories' articles."""

    outlets: tuple[str, ...]  # distinct outlets of the originals, case and spaces folded
    languages: tuple[str, ...]  # of every article, duplicates included
    articles: int  # originals only
    duplicates: int
    first: datetime | None  # the originals' first and last publication, UTC
    last: datetime | None
    velocity: float  # articles in the last window over the mean per window, capped

    def to_dict(self) -> dict:
        return {
            "outlets": list(self.outlets),
            "languages": list(self.languages),
            "articles": self.articles,
            "duplicates": self.duplicates,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "velocity": self.velocity,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Measures:
        return cls(
            tuple(data["outlets"]),
            tuple(data["languages"]),
            int(data["articles"]),
            int(data["duplicates"]),
            _parse(data["first"]),
            _parse(data["last"]),
            float(data["velocity"]),
        )


def rank_story(
    articles: Iterable[Reported],
    reference: datetime | None = None,
    weights: Mapping[str, float] | None = None,
) -> Ranking:
    """Score one story from its articles; ``reference`` is "now" for recency (UTC if naive)."""
    conf = _conf(weights)
    return score_measures(measure(articles, conf), reference, conf)


def measure(articles: Iterable[Reported], conf: Mapping[str, float] | None = None) -> Measures:
    """What ``score_measures`` needs of a story's articles (``conf``: the ``[rank]`` section)."""
    conf = conf or section("rank")
    originals, duplicates, langs = [], 0, set()
    for article in articles:
        if article.lang:
            langs.add(article.lang)
        if article.duplicate_of:
            duplicates += 1
        else:
            originals.append(article)
    outlets = sorted({o for a in originals if (o := _outlet(a.source))})
    times = sorted(as_utc(a.published) for a in originals if a.published is not None)
    first, last = (times[0], times[-1]) if times else (None, None)
    ratio = _velocity(times, float(conf["velocity_window_hours"]), float(conf["velocity_cap"]))
    return Measures(tuple(outlets), tuple(sorted(langs)), len(originals), duplicates, first, last, ratio)


def score_measures(
    measures: Measures, reference: datetime | None = None, conf: Mapping[str, float] | None = None
) -> Ranking:
    """The ranking of a story with these measures when "now" is ``reference``."""
    conf = conf or section("rank")
    reference = as_utc(reference) if reference is not None else None
    last = measures.last
    hours_old = 0.0
    recency = 0.0
    if last is not None:
        hours_old = max(0.0, ((reference or last) - last).total_seconds() / 3600)
        recency = 0.5 ** (hours_old / float(conf["recency_half_life_hours"]))
    outlets, langs, ratio = len(measures.outlets), len(measures.languages), measures.velocity
    values = {
        "outlets": (outlets, math.log2(1 + outlets)),
        "languages": (langs, max(0, langs - 1)),
        "articles": (measures.articles, math.log2(1 + measures.articles)),
        "recency": (hours_old, recency),
        "velocity": (ratio, math.log2(1 + ratio)),
    }
    parts = tuple(
        RankPart(name, float(value), float(feature), float(conf[name]) * float(feature))
        for name, (value, feature) in values.items()
    )
    return Ranking(
        sum(p.points for p in parts),
        parts,
        measures.outlets,
        measures.languages,
        measures.articles,
        measures.duplicates,
        measures.first,
        last,
        reference,
    )


def recency_settled(ranking: Ranking) -> bool:
    """True when the recency part no longer changes the score at float precision. It then never
    will again as "now" moves on: float addition is monotone, so a smaller recency is absorbed
    too. A stored score of a settled story needs no update when the reference time advances."""
    return ranking.score == sum(0.0 if p.name == "recency" else p.points for p in ranking.parts)


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


def _conf(weights: Mapping[str, float] | None) -> dict:
    conf = dict(section("rank"))
    unknown = set(weights or {}) - set(conf)
    if unknown:
        raise ValueError(f"unknown ranking weight(s) {sorted(unknown)}; known: {sorted(conf)}")
    conf.update(weights or {})
    return conf


def _outlet(source: str | None) -> str | None:
    return " ".join(source.split()).casefold() or None if source else None


def _parse(text: str | None) -> datetime | None:
    return as_utc(datetime.fromisoformat(text)) if text else None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
