"""Stories of the article hits: each story scored by its best matching articles, headlined the
way ``storyline stories`` headlines it."""

from __future__ import annotations

from collections import defaultdict

from storyline.search.memo import Memo, store_key
from storyline.search.results import StoryHit
from storyline.store.base import ArticleFacts, ClusterRow, Store
from storyline.stories.headline import Headline, choose_headline

# A story scores the sum of its best few article hits: several matching articles beat one, but
# a huge story with many weak matches does not bury a small one with the best match.
BEST_HITS = 3
# Stories shown at most, whatever the page size: a headline reads every title of its story.
MAX_STORIES = 10
# Headlines by story state: measured on 10k articles, choosing them was three quarters of a
# search (every title of the stories lemmatised, their vectors read).
_HEADLINES = Memo(20_000)


def story_hits(store: Store, ranked: list[tuple[str, float]], facts: dict[str, ArticleFacts],
               lang: str | None, limit: int) -> tuple[StoryHit, ...]:
    """The best stories (at most ``limit`` and ``MAX_STORIES``) of ``ranked`` (article id,
    score) hits, best first."""
    members: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for article_id, score in ranked:
        story = facts[article_id].story_id if article_id in facts else None
        if story:
            members[story].append((article_id, score))
    scored = sorted(((sum(s for _, s in hits[:BEST_HITS]), sid) for sid, hits in members.items()),
                    key=lambda pair: (-pair[0], pair[1]))[:min(limit, MAX_STORIES)]
    if not scored:
        return ()
    from storyline.stories.view import _outlets

    rows = {r.id: r for r in store.load_clusters("story", ids=[sid for _, sid in scored])}
    headlines, sizes = _headlines(store, [sid for _, sid in scored], rows, lang)
    out = []
    for score, sid in scored:
        matched = [facts[i] for i, _ in members[sid]]
        headline = headlines.get(sid)
        out.append(StoryHit(
            id=sid, headline=headline.text if headline else _fallback(matched, sid),
            score=round(score, 6), articles=len(matched),
            langs=tuple(sorted({f.lang for f in matched if f.lang})), outlets=_outlets(matched),
            size=sizes.get(sid) or len(matched), article_ids=tuple(f.id for f in matched),
            headline_lang=headline.lang if headline else None,
        ))
    return tuple(out)


def _headlines(store: Store, ids: list[str], rows: dict[str, ClusterRow],
               lang: str | None) -> tuple[dict[str, Headline | None], dict[str, int]]:
    """Each story's headline and size, from the memo while the story has not changed."""
    # The same helpers `storyline stories` uses, so a story has one headline everywhere.
    from storyline.stories.view import _default_model, _fact_candidates, _top_keys, _vectors

    keys = {sid: (store_key(store), sid, lang, _state(rows.get(sid))) for sid in ids}
    found = {sid: _HEADLINES.get(key) for sid, key in keys.items()}
    missing = [sid for sid, entry in found.items() if entry is None]
    if missing:
        members: dict[str, list[ArticleFacts]] = defaultdict(list)
        for fact in store.article_facts(missing):
            members[fact.story_id].append(fact)
        vectors = _vectors(store, _default_model(store), [f.id for sid in missing for f in members[sid]])
        for sid in missing:
            headline = choose_headline(_fact_candidates(members[sid]), lang, vectors=vectors,
                                       top_keys=_top_keys(rows.get(sid)))
            found[sid] = (headline, len(members[sid]))
            if sid in rows:  # a story without a row has no state to tell a change by
                _HEADLINES.put(store, keys[sid], found[sid])
    return ({sid: entry[0] for sid, entry in found.items()},
            {sid: entry[1] for sid, entry in found.items()})


def _state(row: ClusterRow | None) -> tuple | None:
    """What changes whenever a story gains, loses or changes articles."""
    return None if row is None else (row.size, row.articles, row.first, row.last, hash(row.vector_sum))


def _fallback(matched: list[ArticleFacts], story_id: str) -> str:
    return next((f.title for f in matched if f.title), story_id)
