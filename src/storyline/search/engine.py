"""``search(store, query)``: keys from the index and meaning from the vectors, fused by rank,
then a page of article hits with snippets and the stories the hits belong to."""

from __future__ import annotations

import math
from dataclasses import dataclass

from storyline.search.analyse import QueryPlan, analyse_query
from storyline.search.dense import DenseHit, DenseResult, dense_search
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


@dataclass(slots=True)
class Ranked:
    id: str
    score: float
    lexical: bool
    dense: DenseHit | None


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
    allowed = store.filtered_ids(filters) if filters.active else None
    dense = dense_search(store, query.text, allowed, DENSE_CANDIDATES)
    model = dense.model
    facts = store.facts_of([i for i, _ in lexical] + [h.id for h in dense.hits])
    ranked = fuse(lexical, dense, facts)
    extra = sum(1 for r in ranked if not r.lexical)
    if not ranked:
        return SearchResults(query, 0, (), (), plan.terms, relaxed, model)
    page = ranked[query.offset:query.offset + query.limit]
    lang = query.langs[0] if len(query.langs) == 1 else None
    return SearchResults(
        query=query,
        total=total + extra,
        articles=_article_hits(store, page, plan),
        stories=story_hits(store, [(r.id, r.score) for r in ranked], facts, lang, query.limit),
        terms=plan.terms,
        relaxed=relaxed,
        dense_model=model,
    )


def fuse(lexical: list[tuple[str, float]], dense: DenseResult,
         facts: dict[str, ArticleFacts]) -> list[Ranked]:
    """Reciprocal rank fusion of the lexical ranking and the dense hits strong enough to count."""
    found: dict[str, Ranked] = {}
    for rank, (article_id, _) in enumerate(lexical, 1):
        found[article_id] = Ranked(article_id, 1.0 / (RRF_K + rank), True, None)
    anchors = {facts[i].story_id for i, _ in lexical[:ANCHOR_HITS] if i in facts and facts[i].story_id}
    alone = z_alone(dense.size)
    for rank, hit in enumerate((h for h in dense.hits if h.z >= Z_SUPPORT), 1):
        known = found.get(hit.id)
        story = facts[hit.id].story_id if hit.id in facts else None
        if known is None and not (hit.z >= alone or (hit.z >= Z_ANCHORED and story in anchors)):
            continue
        if known is None:
            known = found[hit.id] = Ranked(hit.id, 0.0, False, None)
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
            matched_by=tuple(name for name, on in (("text", r.lexical), ("meaning", r.dense)) if on),
        ))
    return tuple(hits)

