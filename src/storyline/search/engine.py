"""``search(store, query)``: keys from the index and meaning from the vectors, fused by rank,
then a page of article hits with snippets and the stories the hits belong to."""

from __future__ import annotations

import math
from dataclasses import dataclass

from storyline.search.analyse import QueryPlan, analyse_query
from storyline.search.dense import DenseHit, DenseResult, dense_search
from storyline.search.expand import event_mates
from storyline.search.results import ArticleHit, SearchQuery, SearchResults
from storyline.search.snippet import mark_text, snippet
from storyline.search.stories import story_hits
from storyline.store.base import ArticleFacts, Store, TextFilters

# Lexical matches ranked and fused (the total still counts every match).
LEXICAL_CANDIDATES = 500
DENSE_CANDIDATES = 50
# Reciprocal rank fusion: score = sum over lists of weight / (RRF_K + rank).
RRF_K = 60
DENSE_WEIGHT = 1.0
# An other-script report of a hit's event counts less than the hit itself (expand.py).
EVENT_WEIGHT = 0.5
# z-scores (how far a cosine stands above the query's cosines with every article) a hit needs:
# to move a lexical hit up; to be shown when it is in the story of one of the best lexical hits;
# to be shown on its own: the expected best z of n random articles, sqrt(2 ln n), plus a margin.
# Tuned on a labelled query set over the sample corpus (docs/search.md); the margin keeps
# nonsense queries empty on the 1,000-article benchmark store too.
Z_SUPPORT = 1.0
Z_ANCHORED = 1.25
Z_ALONE_MARGIN = 0.7
# The stories of this many best lexical hits anchor the dense hits.
ANCHOR_HITS = 20
# The vectors of this many best lexical hits join the query vector (dense.py).
FEEDBACK_HITS = 3


@dataclass(slots=True)
class Ranked:
    id: str
    score: float
    lexical: bool
    dense: DenseHit | None = None
    event: bool = False  # reports the event of a lexical hit, in another script

    @property
    def matched_by(self) -> tuple[str, ...]:
        ways = (("text", self.lexical), ("event", self.event), ("meaning", self.dense is not None))
        return tuple(name for name, on in ways if on)


def search(store: Store, query: SearchQuery) -> SearchResults:
    """Articles and stories for ``query``, best first; raises InvalidQuery for a blank query or
    a limit, offset or date range out of bounds."""
    query = query.checked()
    plan = analyse_query(query.text)
    empty = SearchResults(query, 0, (), (), plan.terms)
    filters = _filters(store, query)
    if not plan.words or filters is None:
        return empty
    lexical, total, relaxed = _lexical(store, plan, filters)
    anchors = _anchors(store, plan, filters, lexical, relaxed)
    def allowed() -> set[str] | None:
        return store.filtered_ids(filters) if filters.active else None

    dense = dense_search(store, query.text, allowed, DENSE_CANDIDATES,
                         feedback=[i for i, _ in anchors[:FEEDBACK_HITS]])
    facts = store.facts_of([i for i, _ in lexical + anchors] + [h.id for h in dense.hits])
    mates = event_mates(store, anchors, facts, plan, filters)
    facts.update((f.id, f) for _, f in mates)
    ranked = fuse(lexical, anchors, mates, dense, facts)
    if not ranked:
        return SearchResults(query, 0, (), (), plan.terms, relaxed, dense.model)
    page = ranked[query.offset:query.offset + query.limit]
    lang = query.langs[0] if len(query.langs) == 1 else None
    return SearchResults(
        query=query,
        total=total + sum(1 for r in ranked if not r.lexical),
        articles=_article_hits(store, page, plan),
        stories=story_hits(store, [(r.id, r.score) for r in ranked], facts, lang, query.limit),
        terms=plan.terms,
        relaxed=relaxed,
        dense_model=dense.model,
    )


def fuse(lexical: list[tuple[str, float]], anchors: list[tuple[str, float]],
         mates: list[tuple[int, ArticleFacts]], dense: DenseResult,
         facts: dict[str, ArticleFacts]) -> list[Ranked]:
    """Reciprocal rank fusion: the lexical ranking; each other-script report of a hit's event
    ranked as that hit, weighted down; the dense hits strong enough to count (near the query
    and in the story of an anchor, or far above every other article)."""
    found: dict[str, Ranked] = {}
    for rank, (article_id, _) in enumerate(lexical, 1):
        found[article_id] = Ranked(article_id, 1.0 / (RRF_K + rank), True)
    for rank, fact in mates:
        found[fact.id] = Ranked(fact.id, EVENT_WEIGHT / (RRF_K + rank), False, event=True)
    stories = {facts[i].story_id for i, _ in anchors[:ANCHOR_HITS] if i in facts and facts[i].story_id}
    alone = z_alone(dense.size)
    for rank, hit in enumerate((h for h in dense.hits if h.z >= Z_SUPPORT), 1):
        known = found.get(hit.id)
        story = facts[hit.id].story_id if hit.id in facts else None
        if known is None and not (hit.z >= alone or (hit.z >= Z_ANCHORED and story in stories)):
            continue
        if known is None:
            known = found[hit.id] = Ranked(hit.id, 0.0, False)
        known.dense = hit
        known.score += DENSE_WEIGHT / (RRF_K + rank)
    return sorted(found.values(), key=lambda r: (-r.score, r.id))


def z_alone(size: int) -> float:
    """The z-score a hit found by meaning alone needs among ``size`` articles."""
    return math.sqrt(2 * math.log(max(size, 2))) + Z_ALONE_MARGIN


def _lexical(store: Store, plan: QueryPlan, filters: TextFilters) -> tuple[list, int, bool]:
    """Articles with every word; when none has all of them (and there are several), those with
    any, marked as relaxed."""
    hits, total = store.match_articles(plan.groups, filters, limit=LEXICAL_CANDIDATES)
    if hits or len(plan.words) < 2:
        return hits, total, False
    hits, total = store.match_articles(plan.groups, filters, require_all=False, limit=LEXICAL_CANDIDATES)
    return hits, total, bool(hits)


def _anchors(store: Store, plan: QueryPlan, filters: TextFilters, lexical: list,
             relaxed: bool) -> list[tuple[str, float]]:
    """The text matches whose events and vectors lead to other-script reports. A language or
    outlet filter limits what is shown, not the evidence: "talks" in Ukrainian articles only
    still starts from the English articles that say "talks"."""
    if not (filters.langs or filters.sources):
        return lexical
    dates = TextFilters(since=filters.since, until=filters.until)
    found, _ = store.match_articles(plan.groups, dates, require_all=not relaxed, limit=LEXICAL_CANDIDATES)
    return found


def _filters(store: Store, query: SearchQuery) -> TextFilters | None:
    """The query's filters with outlets spelled as stored; None when no stored outlet matches."""
    sources: tuple[str, ...] = ()
    if query.outlets:
        wanted = {_outlet_key(o) for o in query.outlets}
        sources = tuple(n for n in store.outlet_names() if _outlet_key(n) in wanted)
        if not sources:
            return None
    return TextFilters(query.langs, sources, query.since, query.until)


def _outlet_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _article_hits(store: Store, page: list[Ranked], plan: QueryPlan) -> tuple[ArticleHit, ...]:
    texts = store.article_texts(r.id for r in page)
    hits = []
    for r in page:
        found = texts.get(r.id)
        if found is None:  # deleted between the match and now
            continue
        f = found.facts
        hits.append(ArticleHit(
            id=f.id, title=f.title, source=f.source, lang=f.lang, published=f.published,
            url=found.url, event_id=f.event_id, story_id=f.story_id, score=round(r.score, 6),
            snippet=snippet(found.paragraphs, f.lang, plan),
            title_snippet=mark_text(f.title, f.lang, plan) if f.title else (),
            duplicate_of=f.duplicate_of,
            matched_by=r.matched_by,
        ))
    return tuple(hits)

