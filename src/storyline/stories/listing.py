"""What a story listing shows of each story, computed when the story changes instead of on every
listing: the measures its rank is computed from, its headline for each reader language, the
summary line under the headline, outlets, languages and counts.

The store keeps these facts beside the story (``storyline.store.listing``) and rewrites them in
the transaction that changes the story, so a page of the listing reads one row per story shown,
whatever the size of the store. ``list_stories`` and ``story_view`` both take a story's headline
from here: the front page, the story page, the API and the CLI cannot disagree on it."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from storyline.model import Article
from storyline.store.base import ClusterRow
from storyline.stories.digest import Digest
from storyline.stories.headline import Headline, cluster_headlines
from storyline.stories.params import load_params
from storyline.stories.rank import Measures, measure
from storyline.stories.summary import summarise

# Bump when what ``story_facts`` computes changes: a store whose listing was computed by another
# version (or with other parameters, see ``params_fingerprint``) rebuilds it when opened.
LISTING_VERSION = 1
# The key of the headline in the story's own main language (no reader language asked for).
MAIN = ""


@dataclass(frozen=True, slots=True)
class StoryFacts:
    id: str
    measures: Measures
    articles: int  # duplicates included
    events: int
    outlets: tuple[str, ...]  # each under its most common spelling
    outlet_keys: tuple[str, ...]  # what an outlet filter matches (case and spaces folded)
    languages: tuple[str, ...]
    # MAIN and every language of the story -> its headline for a reader of that language.
    headlines: Mapping[str, Headline | None]
    # The same keys -> (summary sentence, its language) shown under that headline, or None.
    lines: Mapping[str, tuple[str, str | None] | None]

    def headline(self, lang: str | None) -> Headline | None:
        return self.headlines.get(lang or MAIN)

    def line(self, lang: str | None) -> tuple[str, str | None] | None:
        return self.lines.get(lang or MAIN)

    def knows(self, lang: str | None) -> bool:
        """True when this story's headline for ``lang`` readers was chosen here."""
        return (lang or MAIN) in self.headlines

    def to_json(self) -> str:
        return json.dumps(
            {
                "articles": self.articles,
                "events": self.events,
                "outlets": list(self.outlets),
                "outlet_keys": list(self.outlet_keys),
                "languages": list(self.languages),
                "headlines": {k: _headline_dict(h) for k, h in self.headlines.items()},
                "lines": {k: list(v) if v else None for k, v in self.lines.items()},
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, story_id: str, measures: Measures, text: str) -> StoryFacts:
        data = json.loads(text)
        return cls(
            story_id,
            measures,
            data["articles"],
            data["events"],
            tuple(data["outlets"]),
            tuple(data["outlet_keys"]),
            tuple(data["languages"]),
            {k: _headline(v) for k, v in data["headlines"].items()},
            {k: tuple(v) if v else None for k, v in data["lines"].items()},
        )


def story_facts(
    story_id: str,
    articles: Sequence[Article],
    row: ClusterRow | None,
    vectors: Mapping[str, np.ndarray],
    digests: Mapping[str, Digest] | None = None,
) -> StoryFacts:
    """The listing facts of one story from all its articles (in published order), its stored
    row and its articles' vectors (of the store's most used embedder, as ``story_view`` reads).
    With ``digests`` (article id -> stored digest) the articles may come without their text
    (paragraphs, entities, quotes), as long as the story's row holds its top terms and entities
    (``needs_full_articles``)."""
    languages = tuple(sorted({a.lang for a in articles if a.lang}))
    headlines = cluster_headlines(articles, [None, *languages], vectors, row, digests)
    headlines = {lang or MAIN: h for lang, h in headlines.items()}
    lines: dict[str, tuple[str, str | None] | None] = {}
    made: dict[tuple, tuple[str, str | None] | None] = {}
    for key, headline in headlines.items():
        lang = headline.lang if headline else (key or None)
        # Most languages fall back to the same headline: one summary for each that differs.
        wanted = (lang, headline.text if headline else None)
        if wanted not in made:
            made[wanted] = lead_line(articles, headline, lang, row, digests)
        lines[key] = made[wanted]
    return StoryFacts(
        story_id,
        measure(articles),
        len(articles),
        len({a.event_id for a in articles if a.event_id}),
        outlets_of(articles),
        tuple(sorted({k for a in articles if (k := outlet_key(a.source))})),
        languages,
        headlines,
        lines,
    )


def lead_line(
    articles: Sequence[Article],
    headline: Headline | None,
    lang: str | None,
    row: ClusterRow | None,
    digests: Mapping[str, Digest] | None = None,
) -> tuple[str, str | None] | None:
    """The summary sentence that stands best for the story, not merely repeating its headline,
    and the language it is in; None when the summary has no other sentence."""
    state = row.state if row is not None else {}
    summary = summarise(
        articles,
        lang,
        top_terms=state.get("terms") or None,
        top_entities=state.get("entities") or None,
        digests=digests,
    )
    repeated = _fold(headline.text) if headline else ""
    candidates = [s for s in summary.sentences if _fold(s.text) != repeated]
    if not candidates:
        return None
    return max(candidates, key=lambda s: s.score).text, summary.lang


def needs_full_articles(row: ClusterRow | None) -> bool:
    """True when a story's summary counts its terms or entities over its articles' own lemmas
    and entities (its row holds none), which a digest does not carry."""
    state = row.state if row is not None else {}
    return not state.get("terms") or not state.get("entities")


def outlets_of(articles: Iterable) -> tuple[str, ...]:
    """Distinct outlets, each under its most common spelling."""
    spellings: dict[str, Counter] = defaultdict(Counter)
    for a in articles:
        if a.source and a.source.strip():
            name = " ".join(a.source.split())
            spellings[name.casefold()][name] += 1
    return tuple(sorted(c.most_common(1)[0][0] for c in spellings.values()))


def outlet_key(name: str | None) -> str:
    """What two spellings of one outlet share (the grouping ``outlets_of`` makes)."""
    return " ".join((name or "").split()).casefold()


def params_fingerprint() -> str:
    """Changes whenever stored facts would come out differently: the code's version or the
    ranking, headline and summary parameters."""
    blob = json.dumps([LISTING_VERSION, load_params()], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold().rstrip(".")


def _headline_dict(headline: Headline | None) -> dict | None:
    if headline is None:
        return None
    # Headline.to_dict rounds the score for readers; the stored one must come back exact.
    return {
        "text": headline.text,
        "lang": headline.lang,
        "article_id": headline.article_id,
        "preferred_lang": headline.preferred_lang,
        "score": headline.score,
        "penalties": list(headline.penalties),
        "method": headline.method,
    }


def _headline(data: dict | None) -> Headline | None:
    if data is None:
        return None
    return Headline(
        data["text"],
        data["lang"],
        data["article_id"],
        data["preferred_lang"],
        data["score"],
        tuple(data["penalties"]),
        data["method"],
    )
