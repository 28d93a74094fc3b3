"""Reports of the same event in another script: what crosses from English "talks" to Ukrainian
"переговори" when no key does.

The clustering already decided which uk, ru and en articles report one event (with entity,
lemma, time and vector evidence, calibrated across languages). An article in an event that one
of the best lexical hits reports, written in a language the query's words were not read in,
is shown after the hits that match by text. Only the other script counts: Ukrainian and
Russian already meet through cognate keys, so a Russian report without the word is no match.

Dense retrieval alone cannot do this with the bundled e5-small: its vectors group by language
first (for "talks", the Ukrainian and Russian reports of the very talks the English hits are
about stand at z 0.1-0.5 among 20 articles, even with the hits' vectors added to the query).
"""

from __future__ import annotations

from storyline.search.analyse import QueryPlan
from storyline.settings import DEFAULT_LANGUAGES
from storyline.store.base import ArticleFacts, Store, TextFilters
from storyline.utc import as_utc

# The events of this many best lexical hits are expanded: as many as a search ranks, so that
# which reports come along does not hang on the ranking, which differs between SQLite (bm25)
# and PostgreSQL (ts_rank); measured on the labelled sample, 10 and 500 found the same.
EXPAND_HITS = 500
# Reports added at most (a search ranks as many text matches).
MAX_MATES = 500
# Languages written in Cyrillic among those storyline tells apart; the keys already bridge
# Ukrainian and Russian, so only a report in the other script is added.
CYRILLIC_LANGS = frozenset({"uk", "ru", "be", "bg", "sr", "mk", "kk"})


def event_mates(store: Store, lexical: list[tuple[str, float]], facts: dict[str, ArticleFacts],
                plan: QueryPlan, filters: TextFilters) -> list[tuple[int, ArticleFacts]]:
    """(rank of the lexical hit it comes from, facts) of each other-script report, best first.

    The script of a query word is that of the languages it was read in (Cyrillic: uk and ru)."""
    scripts = {_script(lang) for word in plan.words for lang in word.langs}
    anchors: dict[str, int] = {}
    for rank, (article_id, _) in enumerate(lexical[:EXPAND_HITS], 1):
        fact = facts.get(article_id)
        # Only a hit in the query's own script: one that a name's key already carried across
        # (Putin -> Путін) would carry its whole event into the query's script again.
        if fact and fact.event_id and fact.lang and _script(fact.lang) in scripts:
            anchors.setdefault(fact.event_id, rank)
    if not anchors:
        return []
    matched = {article_id for article_id, _ in lexical}
    own = [lang for lang in _LANGS if _script(lang) in scripts]
    found = [(anchors[f.event_id], f) for f in store.event_facts(anchors, skip_langs=own)
             if f.id not in matched and f.lang and _script(f.lang) not in scripts and passes(f, filters)]
    return sorted(found, key=lambda pair: (pair[0], pair[1].id))[:MAX_MATES]


def passes(fact: ArticleFacts, filters: TextFilters) -> bool:
    """The store's search filters, for rows that did not come through its match query."""
    if filters.langs and fact.lang not in filters.langs:
        return False
    if filters.sources and fact.source not in filters.sources:
        return False
    if filters.since is None and filters.until is None:
        return True
    if fact.published is None:
        return False
    moment = as_utc(fact.published)
    return (filters.since is None or moment >= as_utc(filters.since)) and \
        (filters.until is None or moment < as_utc(filters.until))


# The languages storyline tells apart by default, to skip a script's articles in the query.
_LANGS = tuple(sorted(CYRILLIC_LANGS | set(DEFAULT_LANGUAGES)))


def _script(lang: str) -> str:
    return "cyrillic" if lang in CYRILLIC_LANGS else "latin"
