"""Stories of the article hits: each story scored by its best matching articles, headlined the
way ``storyline stories`` headlines it."""

from __future__ import annotations

from collections import defaultdict

from storyline.search.results import StoryHit
from storyline.store.base import ArticleFacts, Store
from storyline.stories.headline import choose_headline

# A story scores the sum of its best few article hits: several matching articles beat one, but
# a huge story with many weak matches does not bury a small one with the best match.
BEST_HITS = 3


def story_hits(store: Store, ranked: list[tuple[str, float]], facts: dict[str, ArticleFacts],
               lang: str | None, limit: int) -> tuple[StoryHit, ...]:
    """The ``limit`` best stories of ``ranked`` (article id, score) hits, best first."""
    members: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for article_id, score in ranked:
        story = facts[article_id].story_id if article_id in facts else None
        if story:
            members[story].append((article_id, score))
    scored = sorted(((sum(s for _, s in hits[:BEST_HITS]), sid) for sid, hits in members.items()),
                    key=lambda pair: (-pair[0], pair[1]))[:limit]
    if not scored:
        return ()
    # The same helpers `storyline stories` uses, so a story has one headline everywhere.
    from storyline.stories.view import _default_model, _fact_candidates, _outlets, _top_keys, _vectors

    ids = [sid for _, sid in scored]
    everything: dict[str, list[ArticleFacts]] = defaultdict(list)
    for fact in store.article_facts(ids):
        everything[fact.story_id].append(fact)
    rows = {r.id: r for r in store.load_clusters("story", ids=ids)}
    vectors = _vectors(store, _default_model(store), [f.id for sid in ids for f in everything[sid]])
    out = []
    for score, sid in scored:
        matched = [facts[i] for i, _ in members[sid]]
        headline = choose_headline(_fact_candidates(everything[sid]), lang, vectors=vectors,
                                   top_keys=_top_keys(rows.get(sid)))
        title = headline.text if headline else next((f.title for f in matched if f.title), sid)
        out.append(StoryHit(
            id=sid, headline=title, score=round(score, 6), articles=len(matched),
            langs=tuple(sorted({f.lang for f in matched if f.lang})), outlets=_outlets(matched),
            size=len(everything[sid]) or len(matched), article_ids=tuple(f.id for f in matched),
            headline_lang=headline.lang if headline else None,
        ))
    return tuple(out)
