"""What a reader sees of a story or an event, built from the store: headline, summary, ranking,
timeline of events, articles by language, top entities, quotes by speaker, and why the articles
are together. Plain dataclasses; ``render.py`` turns them into text, Markdown or JSON."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations

import numpy as np

from storyline.errors import NotFound
from storyline.model import Article
from storyline.nlp.embed import Embedder
from storyline.store.base import ClusterRow, ListingFilters, ListingRow, Store
from storyline.stories.headline import (
    Headline,
    centroid_of,
    cluster_headline,
    majority_lang,
)
from storyline.stories.listing import StoryFacts, outlet_key, outlets_of
from storyline.stories.rank import Measures, Ranking, rank_story, score_measures
from storyline.stories.summary import Summary, summarise
from storyline.utc import as_utc

TOP_ENTITIES = 12
SHARED_SHOWN = 8
# Language order for names shown side by side ("Путін / Путин / Putin"), after the reader's.
LANG_ORDER = ("uk", "ru", "en")


@dataclass(frozen=True, slots=True)
class ArticleRef:
    id: str
    title: str | None
    source: str | None
    published: datetime | None
    url: str | None
    lang: str | None
    event_id: str | None
    duplicate_of: str | None


@dataclass(frozen=True, slots=True)
class EntitySummary:
    key: str
    type: str
    mentions: int  # articles that mention it
    forms: tuple[tuple[str, str], ...]  # (lang, most common surface form in that language)

    @property
    def display(self) -> str:
        return " / ".join(dict.fromkeys(form for _, form in self.forms))


@dataclass(frozen=True, slots=True)
class QuoteRef:
    text: str
    article_id: str
    lang: str | None


@dataclass(frozen=True, slots=True)
class SpeakerQuotes:
    key: str | None  # the speaker's entity key; None for quotes nobody is named for
    names: tuple[tuple[str, str], ...]  # (lang, name as written in that language)
    quotes: tuple[QuoteRef, ...]

    @property
    def display(self) -> str:
        return " / ".join(dict.fromkeys(n for _, n in self.names)) or "(unattributed)"


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why these articles are together: what most events (or articles) share, and how close."""

    text: str
    basis: str  # "events" (keys present in most events) or "articles" (a one-event cluster)
    units: int
    shared_entities: tuple[EntitySummary, ...]
    shared_terms: tuple[str, ...]
    mean_cosine: float | None  # between event centroids, or articles to their event's centroid


@dataclass(frozen=True, slots=True)
class EventSummary:
    """One event on a story's timeline."""

    id: str
    headline: Headline | None
    first: datetime | None
    last: datetime | None
    articles: int
    outlets: tuple[str, ...]
    languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoryView:
    id: str
    headline: Headline | None
    summary: Summary
    ranking: Ranking
    first: datetime | None
    last: datetime | None
    articles: int
    duplicates: int
    outlets: tuple[str, ...]
    languages: tuple[str, ...]
    timeline: tuple[EventSummary, ...]
    articles_by_lang: dict[str, tuple[ArticleRef, ...]]
    entities: tuple[EntitySummary, ...]
    quotes: tuple[SpeakerQuotes, ...]
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class EventView:
    id: str
    story_id: str | None
    headline: Headline | None
    summary: Summary
    first: datetime | None
    last: datetime | None
    articles: int
    duplicates: int
    outlets: tuple[str, ...]
    languages: tuple[str, ...]
    articles_by_lang: dict[str, tuple[ArticleRef, ...]]
    entities: tuple[EntitySummary, ...]
    quotes: tuple[SpeakerQuotes, ...]
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class StorySummary:
    """One line of a story listing."""

    id: str
    headline: Headline | None
    ranking: Ranking
    first: datetime | None
    last: datetime | None
    articles: int
    outlets: tuple[str, ...]
    languages: tuple[str, ...]
    events: int
    # The summary sentence shown under the headline (not repeating it), and its language.
    line: str | None = None
    line_lang: str | None = None


# -- building views ----------------------------------------------------------------------------


def story_view(
    store: Store,
    story_id: str,
    lang: str | None = None,
    *,
    now: datetime | None = None,
    model: str | None = None,
    embed: bool = True,
) -> StoryView:
    """The whole story ``story_id``; raises NotFound (with a hint) for an unknown id.

    ``lang`` is the reader's language for headlines and summary (default: the story's main one);
    ``now`` the reference time for recency (default: the newest article in the store); ``model``
    the embedder whose stored vectors to use (default: the store's most used); ``embed=False``
    keeps the summary lexical (no model is run)."""
    rows = store.load_clusters("story", ids=[story_id])
    if not rows:
        raise NotFound(f"no story with id {story_id!r}", hint=_hint_for(store, story_id))
    articles = store.articles_of(story_id=story_id)
    model = model or _default_model(store)
    vectors = _vectors(store, model, [a.id for a in articles])
    reference = now or store.latest_cluster_time("story")
    ranking = rank_story(articles, reference)
    by_event = _group_by_event(articles)
    event_rows = {r.id: r for r in store.load_clusters("event", ids=list(by_event))}
    # Every headline on the page in one language: the reader's, else the story's main one.
    reading = lang or majority_lang(a.lang for a in articles if not a.duplicate_of)
    timeline = [
        _event_summary(event_id, members, reading, vectors, event_rows.get(event_id))
        for event_id, members in by_event.items()
    ]
    oldest = datetime.max.replace(tzinfo=UTC)
    timeline.sort(key=lambda e: (as_utc(e.first) if e.first else oldest, e.id))
    core = _core(articles, lang, vectors, model if embed else None, rows[0])
    # The listing's headline (chosen when the story last changed, by the same function) for a
    # language the story has: the story page and the listings cannot disagree.
    listed = store.listing_rows(story_ids=[story_id])
    facts = _facts(listed[0]) if listed else None
    if facts and facts.knows(lang):
        headline = facts.headline(lang)
    else:
        headline = cluster_headline(articles, lang, vectors, rows[0])
    event_centroids = [
        _centroid([vectors.get(a.id) for a in by_event[e.id]], event_rows.get(e.id)) for e in timeline
    ]
    events = [by_event[e.id] for e in timeline]
    explanation = _explain(articles, events, event_centroids, vectors, reading, rows[0])
    return StoryView(
        id=story_id,
        headline=headline,
        summary=core["summary"],
        ranking=ranking,
        first=core["first"],
        last=core["last"],
        articles=len(articles),
        duplicates=core["duplicates"],
        outlets=core["outlets"],
        languages=core["languages"],
        timeline=tuple(timeline),
        articles_by_lang=core["by_lang"],
        entities=core["entities"],
        quotes=core["quotes"],
        explanation=explanation,
    )


def event_view(
    store: Store, event_id: str, lang: str | None = None, *, model: str | None = None, embed: bool = True
) -> EventView:
    """One event, like ``story_view`` without ranking and timeline; raises NotFound."""
    rows = store.load_clusters("event", ids=[event_id])
    if not rows:
        raise NotFound(f"no event with id {event_id!r}", hint="`storyline story ID` shows a story's events")
    articles = store.articles_of(event_id=event_id)
    model = model or _default_model(store)
    vectors = _vectors(store, model, [a.id for a in articles])
    core = _core(articles, lang, vectors, model if embed else None, rows[0])
    explanation = _explain(
        articles,
        [articles],
        [_centroid([vectors.get(a.id) for a in articles], rows[0])],
        vectors,
        lang,
        rows[0],
    )
    return EventView(
        id=event_id,
        story_id=rows[0].parent_id,
        headline=cluster_headline(articles, lang, vectors, rows[0]),
        summary=core["summary"],
        first=core["first"],
        last=core["last"],
        articles=len(articles),
        duplicates=core["duplicates"],
        outlets=core["outlets"],
        languages=core["languages"],
        articles_by_lang=core["by_lang"],
        entities=core["entities"],
        quotes=core["quotes"],
        explanation=explanation,
    )


def list_stories(
    store: Store,
    limit: int = 20,
    lang: str | None = None,
    since: datetime | None = None,
    *,
    until: datetime | None = None,
    outlet: str | None = None,
    offset: int = 0,
    now: datetime | None = None,
) -> list[StorySummary]:
    """The ``limit`` best stories, best first, after skipping the ``offset`` best: with an
    article in ``lang`` (when given; it is also the headline language), a last article not
    before ``since``, a first article not after ``until`` and an article from ``outlet`` (any
    spelling of its name's case and spaces), each when given.

    Recency is measured against ``now`` (default: the newest article in the store). The store
    keeps every story ranked against its newest article, so a page reads only its own stories;
    another ``now`` ranks every story that passes the filters from its stored measures."""
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a whole number >= 1, got {limit!r}")
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a whole number >= 0, got {offset!r}")
    filters = ListingFilters(
        lang=lang or None,
        outlet=outlet_key(outlet) if outlet else None,
        since=as_utc(since) if since is not None else None,
        until=as_utc(until) if until is not None else None,
    )
    stored, rows = store.listing_page(filters, limit, offset)
    reference = as_utc(now) if now is not None else store.latest_cluster_time("story")
    if reference != stored:
        # Also when a batch was stored between the two reads: its page is ranked afresh.
        rows = _rank_rows(store.listing_rows(filters), reference)[offset : offset + limit]
    return [_summary(_facts(row), lang, reference) for row in rows]


def story_summaries(
    store: Store, story_ids: Iterable[str], lang: str | None = None
) -> dict[str, StorySummary]:
    """The listing's line of each of these stories (unlisted ids are left out): the headline
    ``list_stories`` shows for ``lang`` readers (the story's main one when it has no article in
    ``lang``), counts, and the ranking against the newest article in the store."""
    reference = store.latest_cluster_time("story")
    found = {}
    for row in store.listing_rows(story_ids=story_ids):
        facts = _facts(row)
        found[row.story_id] = _summary(facts, lang if facts.knows(lang) else None, reference)
    return found


def _summary(facts: StoryFacts, lang: str | None, reference: datetime | None) -> StorySummary:
    ranking = score_measures(facts.measures, reference)
    line = facts.line(lang)
    return StorySummary(
        facts.id,
        facts.headline(lang),
        ranking,
        ranking.first,
        ranking.last,
        facts.articles,
        facts.outlets,
        facts.languages,
        facts.events,
        line[0] if line else None,
        line[1] if line else None,
    )


def _rank_rows(rows: list[ListingRow], reference: datetime | None) -> list[ListingRow]:
    """``rows`` in ``rank_stories``' order at ``reference``: score, newer last article, id."""
    oldest = datetime.min.replace(tzinfo=UTC)
    scored = [(score_measures(Measures.from_dict(r.measures), reference), r) for r in rows]
    scored.sort(key=lambda pair: pair[1].story_id)
    scored.sort(key=lambda pair: (pair[0].score, pair[0].last or oldest), reverse=True)
    return [r for _, r in scored]


def _facts(row: ListingRow) -> StoryFacts:
    return StoryFacts.from_json(row.story_id, Measures.from_dict(row.measures), row.facts)


# -- parts -------------------------------------------------------------------------------------


def _core(
    articles: list[Article],
    lang: str | None,
    vectors: dict[str, np.ndarray],
    model: str | None,
    row: ClusterRow,
) -> dict:
    """What a story view and an event view both show."""
    originals = [a for a in articles if not a.duplicate_of] or articles
    centroid = _centroid([vectors.get(a.id) for a in originals], row)
    embedder = _embedder_for(model) if model else None
    summary = summarise(
        articles,
        lang,
        top_terms=row.state.get("terms") or None,
        top_entities=row.state.get("entities") or None,
        centroid=centroid if embedder else None,
        embedder=embedder,
    )
    dated = sorted(a.published for a in articles if a.published)
    preferred = lang or majority_lang(a.lang for a in originals)
    return {
        "summary": summary,
        "first": dated[0] if dated else None,
        "last": dated[-1] if dated else None,
        "duplicates": sum(1 for a in articles if a.duplicate_of),
        "outlets": _outlets(articles),
        "languages": tuple(sorted({a.lang for a in articles if a.lang})),
        "by_lang": _by_lang(articles, preferred),
        "entities": top_entities(articles, preferred),
        "quotes": quotes_by_speaker(articles, preferred),
    }


def top_entities(
    articles: Sequence[Article], lang: str | None = None, limit: int = TOP_ENTITIES
) -> tuple[EntitySummary, ...]:
    """Entities by the number of articles mentioning them, one per cross-lingual key, each with
    its most common surface form per language (the reader's language first)."""
    mentions: Counter = Counter()
    types: dict[str, Counter] = defaultdict(Counter)
    forms: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for article in articles:
        for key in {e.key for e in article.entities if e.key}:
            mentions[key] += 1
        for ent in article.entities:
            if ent.key and ent.text:
                types[ent.key][ent.type] += 1
                forms[ent.key][article.lang or "?"][ent.text] += 1
    ranked = sorted(mentions, key=lambda k: (-mentions[k], k))[:limit]
    return tuple(
        EntitySummary(k, types[k].most_common(1)[0][0], mentions[k], _forms(forms[k], lang)) for k in ranked
    )


def quotes_by_speaker(articles: Sequence[Article], lang: str | None = None) -> tuple[SpeakerQuotes, ...]:
    """Quotes grouped by speaker (cross-lingual key), most quoted first; unattributed ones last."""
    quotes: dict[str | None, list[QuoteRef]] = defaultdict(list)
    names: dict[str | None, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    seen: set[str] = set()
    for article in articles:
        for quote in article.quotes:
            text = " ".join(quote.text.split())
            if not text or text.casefold() in seen:
                continue
            seen.add(text.casefold())
            key = quote.speaker_key or (quote.speaker.casefold() if quote.speaker else None)
            quotes[key].append(QuoteRef(text, article.id, article.lang))
            if quote.speaker:
                names[key][article.lang or "?"][quote.speaker] += 1
    order = sorted(quotes, key=lambda k: (k is None, -len(quotes[k]), k or ""))
    # The fullest name a language uses ("Ірина Гордієнко" over "Гордієнко") names the speaker.
    return tuple(SpeakerQuotes(k, _forms(names[k], lang, longest=True), tuple(quotes[k])) for k in order)


def _explain(
    articles: Sequence[Article],
    events: Sequence[Sequence[Article]],
    event_centroids: Sequence[np.ndarray | None],
    vectors: dict[str, np.ndarray],
    lang: str | None = None,
    row: ClusterRow | None = None,
) -> Explanation:
    originals = [a for a in articles if not a.duplicate_of] or list(articles)
    if len(events) >= 2:
        basis, units = "events", [list(e) for e in events]
    else:
        basis, units = "articles", [[a] for a in originals]
    need = len(units) // 2 + 1  # "most": more than half
    # The clustering's own top terms per article: common words ("два", "слово") are not among them.
    salient = set((row.state.get("terms") or {}) if row is not None else ())
    ent_units: Counter = Counter()
    term_units: Counter = Counter()
    for unit in units:
        ent_units.update({e.key for a in unit for e in a.entities if e.key})
        term_units.update(
            {t for a in unit for t in a.lemmas if t in salient}
            if salient
            else {t for a in unit for t in a.lemmas}
        )
    entities = {e.key: e for e in top_entities(articles, lang, limit=len(ent_units) or 1)}
    ranked_keys = sorted(ent_units, key=lambda k: (-ent_units[k], -_mentions(entities, k), k))
    shared_keys = [k for k in ranked_keys if ent_units[k] >= need and len(units) > 1][:SHARED_SHOWN]
    shared = tuple(entities[k] for k in shared_keys if k in entities)
    terms_total = Counter(t for a in articles for t in a.lemmas)
    shared_terms = tuple(
        sorted(
            (t for t, n in term_units.items() if n >= need and len(units) > 1),
            key=lambda t: (-term_units[t], -terms_total[t], t),
        )[:SHARED_SHOWN]
    )
    if basis == "events":
        known = [c for c in event_centroids if c is not None]
        pairs = [float(np.dot(a, b)) for a, b in combinations(known, 2)]
    else:
        centroid = event_centroids[0] if event_centroids else None
        pairs = [
            float(np.dot(vectors[a.id], centroid))
            for a in originals
            if centroid is not None and a.id in vectors
        ]
    mean_cosine = sum(pairs) / len(pairs) if pairs else None
    outlets = _outlets(articles)
    langs = sorted({a.lang for a in articles if a.lang})
    parts = [
        f"{_plural(len(articles), 'article')} from {_plural(len(outlets), 'outlet')} in "
        f"{_plural(len(langs), 'language')} ({', '.join(langs) or '?'})"
        + (f", {len(events)} events" if basis == "events" else "")
    ]
    most = "most events" if basis == "events" else "most articles"
    if shared:
        parts.append(f"{most} name {', '.join(e.display for e in shared)}")
    if shared_terms:
        parts.append(f"common terms: {', '.join(shared_terms)}")
    if mean_cosine is not None:
        what = "between event centroids" if basis == "events" else "of articles to their centroid"
        parts.append(f"mean cosine {what}: {mean_cosine:.2f}")
    return Explanation("; ".join(parts) + ".", basis, len(units), shared, shared_terms, mean_cosine)


def _mentions(entities: dict[str, EntitySummary], key: str) -> int:
    return entities[key].mentions if key in entities else 0


def _event_summary(
    event_id: str,
    members: list[Article],
    lang: str | None,
    vectors: dict[str, np.ndarray],
    row: ClusterRow | None,
) -> EventSummary:
    headline = cluster_headline(members, lang, vectors, row)
    dated = sorted(a.published for a in members if a.published)
    return EventSummary(
        event_id,
        headline,
        dated[0] if dated else None,
        dated[-1] if dated else None,
        len(members),
        _outlets(members),
        tuple(sorted({a.lang for a in members if a.lang})),
    )


def _group_by_event(articles: Iterable[Article]) -> dict[str, list[Article]]:
    groups: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        groups[article.event_id or f"(no event) {article.id}"].append(article)
    return dict(groups)


def _by_lang(articles: Iterable[Article], lang: str | None) -> dict[str, tuple[ArticleRef, ...]]:
    groups: dict[str, list[ArticleRef]] = defaultdict(list)
    for a in articles:
        groups[a.lang or "?"].append(
            ArticleRef(a.id, a.title, a.source, a.published, a.url, a.lang, a.event_id, a.duplicate_of)
        )
    order = sorted(groups, key=lambda k: (k != lang, -len(groups[k]), _lang_rank(k)))
    return {k: tuple(groups[k]) for k in order}


def _forms(
    by_lang: dict[str, Counter], lang: str | None, longest: bool = False
) -> tuple[tuple[str, str], ...]:
    order = sorted(by_lang, key=lambda k: (k != lang, _lang_rank(k), -sum(by_lang[k].values())))
    if longest:
        return tuple((k, max(by_lang[k], key=lambda n: (len(n), by_lang[k][n], n))) for k in order)
    return tuple((k, min(by_lang[k], key=lambda n: (-by_lang[k][n], n))) for k in order)


# Shared with storyline.search under their old names.
_outlets = outlets_of
_outlet_key = outlet_key
_centroid = centroid_of


def _default_model(store: Store) -> str | None:
    models = store.vector_models()
    return models[0] if models else None


def _vectors(store: Store, model: str | None, ids: Sequence[str]) -> dict[str, np.ndarray]:
    if not model or not ids:
        return {}
    return {k: np.frombuffer(v, dtype=np.float32) for k, v in store.get_vectors(model, ids).items()}


def _embedder_for(model: str) -> Embedder | None:
    """The embedder that made the stored vectors, if it is one storyline can run offline."""
    from storyline.nlp.embed import get_embedder

    for choice in ("e5", "lexical"):
        embedder = get_embedder(choice)
        if embedder.name == model:
            return embedder
    return None


def _hint_for(store: Store, story_id: str) -> str:
    events = store.load_clusters("event", ids=[story_id])
    if events and events[0].parent_id:
        return f"{story_id} is an event; its story is {events[0].parent_id}"
    return "`storyline stories` lists story ids"


def _lang_rank(lang: str) -> int:
    return LANG_ORDER.index(lang) if lang in LANG_ORDER else len(LANG_ORDER)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
